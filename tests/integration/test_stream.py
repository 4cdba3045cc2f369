"""End to end on this machine: `edgekd simulate` on a pty replays a labelled recording,
`edgekd stream` on the other end runs the exported student. The emulator runs unpaced
(--speed 0) wherever pacing is not what is tested: the stream ends with the recording."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.data.windowing import recording_windows
from edgekd.train.config import resolve
from edgekd.train.run import train_run
from export.pipeline import ExportRequest, export_run
from export.runtime import load

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=21)),
                         root / "data")
    cfg = resolve(overrides={"data.path": str(root / "data"), "model": "cnn", "data.hop": 10,
                             "optim.epochs": 6, "device": "cpu"})
    train_run(cfg, root / "run")
    export_run(ExportRequest(root / "run", "onnx-int8", out=root / "student.int8.onnx"))
    return root


def _simulate(root, *args, speed="0"):
    proc = subprocess.Popen([sys.executable, "-m", "edgekd", "simulate", "--source",
                             str(root / "data"), "--speed", speed, "--ground-truth",
                             str(root / "gt"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url, proc.stderr.read()
    return proc, url


def _stream(root, url, *args):
    summary = root / "summary.json"
    result = subprocess.run([sys.executable, "-m", "edgekd", "stream", "--model",
                             str(root / "student.int8.onnx"), "--port", url, "--no-view",
                             "--vote", "1",   # window by window, as the offline pipeline
                             "--ground-truth", str(root / "gt"), "--summary-json",
                             str(summary), *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(summary.read_text())


def _offline_accuracy(root):
    """The artifact's accuracy on the same recording through the offline pipeline."""
    predictor = load(root / "student.int8.onnx", cache_dir=root / "cache")
    rec = native.read_dataset(root / "data").recordings[0]
    ws = recording_windows(rec, predictor.spec)   # labelled, normalised windows, offline rule
    pred = predictor.predict_windows(ws.x).argmax(1)
    return float((pred == ws.y).mean())


def test_online_accuracy_matches_offline_without_losses(setup):
    sim, url = _simulate(setup)
    report = _stream(setup, url, "--decisions-json", str(setup / "decisions.jsonl"))
    assert sim.wait(timeout=60) == 0           # the emulator leaves with the host
    offline = _offline_accuracy(setup)
    assert report["ended_by"] == "the device ended the stream" and report["lossy"] is False
    assert report["frames_missing"] == 0 and report["crc_errors"] == 0
    assert report["samples_missing"] == 0 and report["device"].startswith("emulated")
    assert abs(report["online_accuracy"] - offline) <= 0.01, (report["online_accuracy"], offline)
    assert report["scored_decisions"] > 500
    lines = (setup / "decisions.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert len(lines) == report["decisions"] and first["latency_ms"] >= 0
    assert first["source"] == "host"


def test_injected_faults_are_counted_exactly(setup):
    sim, url = _simulate(setup, "--faults", "bitflip=3e-4,drop=3e-4,garbage=1", "--seed", "4")
    report = _stream(setup, url)
    sim.wait(timeout=60)
    injected = json.loads((setup / "gt.faults.json").read_text())
    assert len(injected["frames_corrupted"]) > 10 and injected["garbage_bursts"] > 10
    assert report["frames_missing"] == len(injected["frames_corrupted"])
    assert report["windows_in_gaps"] > 0 and report["online_accuracy"] > 0.5
    assert report["lossy"] is True


def test_record_and_replay_give_identical_decisions(setup):
    sim, url = _simulate(setup)
    _stream(setup, url, "--record", str(setup / "session.rec"), "--decisions-json",
            str(setup / "live.jsonl"))
    sim.wait(timeout=60)
    replay = _stream(setup, f"replay://{setup / 'session.rec'}?speed=0", "--decisions-json",
                     str(setup / "replayed.jsonl"))
    live = [json.loads(x) for x in (setup / "live.jsonl").read_text().splitlines()]
    again = [json.loads(x) for x in (setup / "replayed.jsonl").read_text().splitlines()]
    assert [(d["end_sample"], d["label_index"]) for d in live] == \
        [(d["end_sample"], d["label_index"]) for d in again]
    assert replay["host_dropped_bytes"] == 0 and replay["ended_by"] == "the device ended the stream"


def test_tcp_disconnects_lose_only_what_the_device_made_while_away(setup):
    sim, url = _simulate(setup, "--tcp", "0", "--faults", "disconnect=20,outage=0.5")
    assert url.startswith("socket://127.0.0.1:")
    report = _stream(setup, url, "--duration", "120")
    assert sim.wait(timeout=30) == 0
    injected = json.loads((setup / "gt.faults.json").read_text())
    assert injected["disconnects"] >= 3
    assert report["outages"] == report["reconnects"] == injected["disconnects"]
    assert report["frames_missing"] == injected["frames_lost_in_outages"]   # 0 extra
    assert report["duplicates"] == 0 and report["online_accuracy"] > 0.5


def test_stream_with_the_live_view_and_udp_sink(setup):
    """The default terminal view and the LibEMG UDP sink, on a real stream."""
    import socket
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    sim, url = _simulate(setup)
    report = _stream(setup, url, "--view", "--udp", f"127.0.0.1:{listener.getsockname()[1]}")
    sim.wait(timeout=30)
    label, confidence = listener.recv(100).decode().split()
    assert report["decisions"] > 0 and 0 <= int(label) < 7 and 0 < float(confidence) <= 1


def test_ctrl_c_ends_the_session_cleanly_with_a_summary(setup):
    import signal
    sim, url = _simulate(setup, "--loop", speed="1")   # paced, so there is time to interrupt
    summary, decisions = setup / "interrupted.json", setup / "interrupted.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "edgekd", "stream", "--model",
                             str(setup / "student.int8.onnx"), "--port", url, "--no-view",
                             "--decisions-json", str(decisions), "--summary-json", str(summary)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # interrupt mid-stream: once decisions flow (a fixed sleep raced start-up on a loaded machine)
    deadline = time.monotonic() + 120
    while not (decisions.exists() and decisions.read_text().count("\n") >= 3):
        assert proc.poll() is None and time.monotonic() < deadline, "no decisions streamed"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "stream summary" in err
    assert json.loads(summary.read_text())["decisions"] > 0
    assert sim.wait(timeout=30) == 0           # got the stop command, saw the host leave
    assert "the host left" in " ".join(sim.stderr.read().split())


def test_lsl_outlet_on_this_machine_only(setup, tmp_path, monkeypatch):
    pylsl = pytest.importorskip("pylsl", reason="pylsl (the lsl extra) is not installed")
    cfg = tmp_path / "lsl_api.cfg"   # discovery restricted to this machine
    cfg.write_text("[ports]\nIPv6 = disable\n[multicast]\nResolveScope = machine\n"
                   "[lab]\nKnownPeers = {127.0.0.1}\n")
    monkeypatch.setenv("LSLAPICFG", str(cfg))
    from firmware_bridge.decision import Decision
    from firmware_bridge.sinks import LslSink
    sink = LslSink("edgekd-test", ["a", "b"])
    streams = pylsl.resolve_byprop("name", "edgekd-test", timeout=5)
    assert streams and streams[0].channel_count() == 3
    inlet = pylsl.StreamInlet(streams[0])
    inlet.open_stream(timeout=5)
    sink(Decision(10, 1, 0.9, 1, np.array([0.1, 0.9])))
    sample, _ = inlet.pull_sample(timeout=5)
    assert sample[0] == 1.0
    sink.close()
