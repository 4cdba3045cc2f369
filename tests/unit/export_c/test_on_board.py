"""A device that decides on board: firmware_bridge/firmware/on_board_example.c, built with a
generated library and the edgekd-v2 encoder, streams frames that the Python decoder and
`edgekd stream` (no model on the host) turn back into exactly the library's decisions."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import firmware_bridge
from export.c import toolchain
from export.c.graph import read_qdq
from firmware_bridge.consumer import LiveSession
from firmware_bridge.decision import DecisionPolicy
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.transport import RECORD_MAGIC, _REC
from tests.unit.export_c.qmodels import N_CHANS, quantized, student
from tests.unit.export_c.test_graph_and_c import _counts, _library

FIRMWARE = Path(firmware_bridge.__file__).parent / "firmware"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cc = toolchain.find_tools().host_cc
    if cc is None:
        pytest.skip("no C compiler (cc or gcc) on this machine")
    tmp = tmp_path_factory.mktemp("onboard")
    model = read_qdq(quantized(student("micro_cnn_tiny"), tmp / "q"))
    _library(None, model, tmp=tmp / "lib")
    harness = toolchain.build_host(tmp / "lib", tmp / "build", cc)
    device = {}
    for raw in (1, 0):
        device[raw] = tmp / f"device_raw{raw}"
        subprocess.run([cc, *toolchain.HOST_FLAGS, "-DEK_HOST_STDIO", f"-DEK_STREAM_RAW={raw}",
                        f"-I{tmp / 'lib'}", f"-I{FIRMWARE}", str(FIRMWARE / "on_board_example.c"),
                        str(tmp / "lib" / "edgekd.c"), str(FIRMWARE / "edgekd_v2.c"),
                        "-o", str(device[raw])], check=True, capture_output=True)
    return harness, device


def _device_bytes(exe: Path, counts: np.ndarray) -> bytes:
    return subprocess.run([str(exe)], input=counts.astype(np.int16).tobytes(),
                          capture_output=True, check=True).stdout


@pytest.mark.parametrize("raw", [1, 0])
def test_device_decisions_reach_the_host_exactly(built, raw):
    harness, device = built
    counts = _counts(16, n=403)          # not a multiple of the 4-sample frames
    expected = toolchain.run_host(harness, "stream", counts.astype(np.int16))
    wire = _device_bytes(device[raw], counts)
    session = LiveSession(PROTOCOLS.get("edgekd-v2"), None, DecisionPolicy())
    got = []
    for k in range(0, len(wire), 61):    # pieces that cut frames anywhere
        got += session.on_bytes(wire[k:k + 61])
    assert session.ended and len(got) == len(expected.labels) > 0
    assert [d.source for d in got] == ["device"] * len(got)
    assert [d.end_sample for d in got] == expected.ends.tolist()
    assert [d.label for d in got] == expected.labels.tolist()
    probs = np.array([d.probs for d in got])
    assert np.allclose(probs, expected.probs / 32768.0, atol=1e-7)
    report = session.report()
    assert report["device_decisions"] == len(got) and report["decisions_missing"] == 0
    assert report["samples"] == (len(counts) if raw else 0)
    assert report["crc_errors"] == report["garbage_bytes"] == report["frames_missing"] == 0


def test_edgekd_stream_shows_the_device_decisions(built, tmp_path):
    from typer.testing import CliRunner

    from edgekd.cli import app
    harness, device = built
    counts = _counts(16, n=300, seed=5)
    expected = toolchain.run_host(harness, "stream", counts.astype(np.int16))
    wire = _device_bytes(device[1], counts)
    rec = tmp_path / "device.rec"
    rec.write_bytes(RECORD_MAGIC + _REC.pack(0, len(wire)) + wire)
    out, summary = tmp_path / "decisions.jsonl", tmp_path / "summary.json"
    result = CliRunner().invoke(app, ["stream", "--port", f"replay://{rec}?speed=0",
                                      "--decisions-json", str(out), "--no-view",
                                      "--summary-json", str(summary)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["label_index"] for d in lines] == expected.labels.tolist()
    assert {d["source"] for d in lines} == {"device"}
    report = json.loads(summary.read_text())
    assert report["device_decisions"] == len(lines) and report["samples"] == len(counts)
