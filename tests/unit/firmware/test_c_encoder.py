"""The C reference firmware encoder, compiled with the host compiler, against Python."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.protocols.edgekd_v1 import (CMD_SET_RATE, CMD_START, EdgekdV1Framer,
                                                 encode_command, encode_data, encode_info)
from firmware_bridge.types import DeviceInfo

FIRMWARE = Path(__file__).resolve().parents[3] / "firmware_bridge" / "firmware"


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler on this machine")
    exe = tmp_path_factory.mktemp("c") / "harness"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-o",
                    str(exe), str(FIRMWARE / "test_harness.c"), str(FIRMWARE / "edgekd_v1.c")],
                   check=True)
    return exe


@pytest.mark.parametrize("fmt,lim", [(1, 2 ** 15), (2, 2 ** 23)])
def test_data_frames_identical_to_python(harness, fmt, lim):
    rng = np.random.default_rng(fmt)
    for trial in range(20):
        c, s = int(rng.integers(1, 17)), int(rng.integers(1, 9))
        x = rng.integers(-lim, lim, size=(s, c))
        seq, t = int(rng.integers(0, 65536)), int(rng.integers(0, 2 ** 32))
        out = subprocess.run([str(harness), "data", str(seq), str(t), str(c), str(s), str(fmt),
                              *map(str, x.reshape(-1))], capture_output=True, check=True).stdout
        assert out == encode_data(seq, t, x, fmt)
        (frame,) = EdgekdV1Framer().feed(out)
        np.testing.assert_array_equal(frame.samples, x)


def test_info_frame_identical_to_python(harness):
    out = subprocess.run([str(harness), "info"], capture_output=True, check=True).stdout
    assert out == encode_info(DeviceInfo(8, 200.0, 0.5, "1.2.3", "armband"))
    (frame,) = EdgekdV1Framer().feed(out)
    assert frame.info.n_chans == 8 and frame.info.fs == 200.0 and frame.info.firmware == "1.2.3"


def test_command_parsing(harness):
    stream = b"\x00\x13" + encode_command(CMD_SET_RATE, 2048) + encode_command(CMD_START)
    op, arg, used = subprocess.run([str(harness), "command", stream.hex()], capture_output=True,
                                   check=True, text=True).stdout.split()
    assert (int(op), int(arg), int(used)) == (CMD_SET_RATE, 2048, 2 + 8 + 5)  # garbage + frame
    broken = bytearray(encode_command(CMD_START))
    broken[-1] ^= 1
    op, arg, used = subprocess.run([str(harness), "command", bytes(broken).hex()],
                                   capture_output=True, check=True, text=True).stdout.split()
    assert int(used) == 0  # a bad CRC is never a command
