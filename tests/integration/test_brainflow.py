"""BrainFlow on this machine: its synthetic board feeds the live path (in-process and through
``edgekd stream --port brainflow://synthetic``), and BrainFlow's own OpenBCI Cyton driver talks
to ``edgekd simulate --protocol cyton`` over a pty: the samples it reads are the recording's,
and ``edgekd stream --port brainflow://cyton?serial_port=PTY`` decides on them as the offline
pipeline does. Skips with the reason when BrainFlow (the brainflow extra) is absent."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("brainflow", reason="brainflow (the brainflow extra) is not installed")

from edgekd.data import native  # noqa: E402
from edgekd.data.synth import SynthConfig, synthesize  # noqa: E402
from firmware_bridge.brainflow_source import import_board_shim  # noqa: E402
from firmware_bridge.runner import StreamOptions, run_stream  # noqa: E402
from tests.unit.firmware.fakes import centroid_model, recording  # noqa: E402

FS = 250.0   # the Cyton's rate, and the synthetic board's


def test_synthetic_board_feeds_the_live_path():
    rec, names = recording(fs=FS, channels=8)
    model = centroid_model(rec, names, hop=25)
    decided = []
    report = run_stream(StreamOptions(port="brainflow://synthetic?channels=8", duration=2.0,
                                      sinks=[decided.append]), model)
    assert report["device"].startswith("BrainFlow Synthetic") and report["samples"] >= 250
    assert report["samples_missing"] == 0 and report["decisions"] == len(decided) > 0
    ends = [d.end_sample for d in decided]
    assert ends == list(range(ends[0], ends[-1] + 1, 25))
    lag = np.array([d.receive_time_ns - d.acquired_ns for d in decided]) / 1e9
    assert (lag >= -0.01).all() and (lag < 1.0).all()   # acquired before it was received


def _simulate(data, *args):
    proc = subprocess.Popen([sys.executable, "-m", "edgekd", "simulate", "--protocol", "cyton",
                             "--source", str(data), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url, proc.stderr.read()
    return proc, url


@pytest.fixture(scope="module")
def cyton_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cyton")
    ds = synthesize(SynthConfig(people=1, sessions=1, repetitions=2, hold_s=2.0, seed=4,
                                fs=FS, channels=8))
    native.write_dataset(ds, root / "data")
    return root, native.read_dataset(root / "data").recordings[0]


def test_brainflow_cyton_driver_reads_the_emulated_board(cyton_data):
    root, rec = cyton_data
    bs = import_board_shim()
    sim, url = _simulate(root / "data", "--speed", "0")
    params = bs.BrainFlowInputParams()
    params.serial_port = url
    board = bs.BoardShim(bs.BoardIds.CYTON_BOARD.value, params)
    board.prepare_session()          # BrainFlow: 'v', waits for '$$$'
    board.start_stream()             # BrainFlow: 'b'
    deadline = time.monotonic() + 60
    while board.get_board_data_count() < len(rec.signals) and time.monotonic() < deadline:
        time.sleep(0.1)
    data = board.get_board_data()
    assert sim.wait(timeout=30) == 0       # the recording ended: the emulator has left
    with pytest.raises(bs.BrainFlowError):  # so BrainFlow's stop command ('s') cannot be sent
        board.stop_stream()
    board.release_session()
    rows = bs.BoardShim.get_eeg_channels(bs.BoardIds.CYTON_BOARD.value)
    x = data[rows].T
    assert len(x) == len(rec.signals)
    # the same µV, to half a count of the 24-bit ADC (0.0224 µV/count at gain 24) plus the
    # float32 rounding of the recording (~1e-4 µV at its ~800 µV peaks)
    assert np.abs(x - rec.signals).max() <= 0.5 * 4.5 / 24 / (2 ** 23 - 1) * 1e6 + 1e-4
    assert (np.diff(data[0]) % 256 == 1).all()      # BrainFlow saw every packet counter


@pytest.fixture(scope="module")
def artifact(cyton_data):
    from edgekd.train.config import resolve
    from edgekd.train.run import train_run
    from export.pipeline import ExportRequest, export_run
    root, _ = cyton_data
    cfg = resolve(overrides={"data.path": str(root / "data"), "model": "cnn_tiny",
                             "data.hop": 25, "optim.epochs": 3, "device": "cpu"})
    train_run(cfg, root / "run")
    export_run(ExportRequest(root / "run", "onnx", out=root / "student.onnx"))
    return root / "student.onnx"


def _stream(model, port, summary, *args):
    result = subprocess.run([sys.executable, "-m", "edgekd", "stream", "--model", str(model),
                             "--port", port, "--no-view", "--summary-json", str(summary),
                             *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(summary.read_text())


@pytest.mark.slow
def test_edgekd_stream_from_the_synthetic_board(artifact, tmp_path):
    report = _stream(artifact, "brainflow://synthetic?channels=8", tmp_path / "s.json",
                     "--duration", "3", "--json", str(tmp_path / "d.jsonl"))
    lines = (tmp_path / "d.jsonl").read_text().splitlines()
    assert report["decisions"] == len(lines) > 0 and report["samples_missing"] == 0
    assert report["ended_by"] == "duration reached"


@pytest.mark.slow
def test_edgekd_stream_through_brainflows_cyton_driver(artifact, cyton_data, tmp_path):
    from export.runtime import load
    from edgekd.data.windowing import recording_windows
    root, rec = cyton_data
    sim, url = _simulate(root / "data", "--speed", "0", "--ground-truth", str(tmp_path / "gt"))
    report = _stream(artifact, f"brainflow://cyton?serial_port={url}", tmp_path / "s.json",
                     "--duration", "12", "--ground-truth", str(tmp_path / "gt"), "--vote", "1")
    assert sim.wait(timeout=30) == 0
    assert report["samples"] == len(rec.signals) and report["samples_missing"] == 0
    predictor = load(artifact)
    ws = recording_windows(rec, predictor.spec)
    offline = float((predictor.predict_windows(ws.x).argmax(1) == ws.y).mean())
    assert abs(report["online_accuracy"] - offline) <= 0.01, (report["online_accuracy"], offline)
