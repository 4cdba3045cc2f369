"""The C reference firmware encoders (v1 and v2), compiled with the host compiler, against
Python."""

import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.protocols import edgekd_v1 as v1
from firmware_bridge.protocols import edgekd_v2 as v2
from firmware_bridge.types import DecisionFrame, DeviceInfo, EndFrame

FIRMWARE = Path(__file__).resolve().parents[3] / "firmware_bridge" / "firmware"
VERSIONS = {"v1": v1, "v2": v2}


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler on this machine")
    exe = tmp_path_factory.mktemp("c") / "harness"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-o",
                    str(exe), str(FIRMWARE / "test_harness.c"), str(FIRMWARE / "edgekd_v1.c"),
                    str(FIRMWARE / "edgekd_v2.c")], check=True)
    return exe


def _run(harness, *args) -> bytes:
    return subprocess.run([str(harness), *map(str, args)], capture_output=True,
                          check=True).stdout


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("fmt,lim", [(1, 2 ** 15), (2, 2 ** 23)])
def test_data_frames_identical_to_python(harness, version, fmt, lim):
    mod = VERSIONS[version]
    rng = np.random.default_rng(fmt)
    for _ in range(10):
        c, s = int(rng.integers(1, 17)), int(rng.integers(1, 9))
        x = rng.integers(-lim, lim, size=(s, c))
        seq = int(rng.integers(0, 65536 if version == "v1" else 2 ** 32))
        t = int(rng.integers(0, 2 ** 32))
        out = _run(harness, version, "data", seq, t, c, s, fmt, *x.reshape(-1))
        assert out == mod.encode_data(seq, t, x, fmt)
        (frame,) = EdgekdFramer(version).feed(out)
        np.testing.assert_array_equal(frame.samples, x)
        assert frame.seq == seq and frame.device_time_us == t


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_info_frame_identical_to_python(harness, version):
    mod = VERSIONS[version]
    out = _run(harness, version, "info")
    assert out == mod.encode_info(DeviceInfo(8, 200.0, 0.5, "1.2.3", "armband"))
    (frame,) = EdgekdFramer(version).feed(out)
    assert (frame.info.n_chans, frame.info.fs, frame.info.firmware, frame.info.name) == \
        (8, 200.0, "1.2.3", "armband")


def EdgekdFramer(version):  # noqa: N802
    return v1.EdgekdV1Framer() if version == "v1" else v2.EdgekdV2Framer()


def test_v2_crc_is_zlib_crc32(harness):
    out = _run(harness, "v2", "end")
    assert out == v2.encode_end()
    assert int.from_bytes(out[-4:], "little") == zlib.crc32(out[2:-4])
    assert v2.crc32(b"123456789") == 0xCBF43926  # the published CRC-32 check value
    assert isinstance(v2.EdgekdV2Framer().feed(out)[0], EndFrame)


@pytest.mark.parametrize("probs,cls", [([0.1, 0.7, 0.2], 1), ([], 4), ([0.5, 0.5], 0xFF)])
def test_v2_decision_frames_identical_to_python(harness, probs, cls):
    out = _run(harness, "v2", "decision", 7, 123456, cls, 0.75, *probs)
    assert out == v2.encode_decision(7, 123456, None if cls == 0xFF else cls, 0.75, probs)
    (frame,) = v2.EdgekdV2Framer().feed(out)
    assert isinstance(frame, DecisionFrame)
    assert (frame.seq, frame.sample_index, frame.confidence) == (7, 123456, 0.75)
    assert frame.class_index == (None if cls == 0xFF else cls)
    np.testing.assert_allclose(frame.probs, probs, rtol=1e-7)


@pytest.mark.parametrize("args", [("decision", 1, 2, 3, 1.5), ("decision", 1, 2, 5, 0.5, 0.2,
                                                                  0.8)])
def test_v2_decision_encoder_refuses_bad_arguments(harness, args):
    result = subprocess.run([str(harness), "v2", *map(str, args)], capture_output=True)
    assert result.returncode == 1 and result.stdout == b""


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_command_parsing(harness, version):
    mod = VERSIONS[version]
    overhead = 8 if version == "v1" else 10
    stream = b"\x00\x13" + mod.encode_command(mod.CMD_SET_RATE if version == "v1" else 3, 2048) \
        + mod.encode_command(mod.CMD_START)
    op, arg, used = subprocess.run([str(harness), version, "command", stream.hex()],
                                   capture_output=True, check=True, text=True).stdout.split()
    assert (int(op), int(arg), int(used)) == (3, 2048, 2 + overhead + 5)  # garbage + frame
    broken = bytearray(mod.encode_command(mod.CMD_START))
    broken[-1] ^= 1
    op, arg, used = subprocess.run([str(harness), version, "command", bytes(broken).hex()],
                                   capture_output=True, check=True, text=True).stdout.split()
    assert int(used) == 0  # a bad CRC is never a command
