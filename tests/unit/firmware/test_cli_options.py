"""Every bad option or device answer of `edgekd stream` / `edgekd simulate` ends in one clear
line and exit code 1, never a traceback (issue 12)."""

import pytest

from edgekd.cli import main


def _fails(capsys, argv, expected):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 1, err
    assert "Traceback" not in err and err.count("error:") == 1
    assert expected in " ".join(err.split()), err


@pytest.mark.parametrize("argv,expected", [
    (["--samples-per-frame", "0"], "--samples-per-frame 0: edgekd-v2 with 8 channels takes 1..255"),
    (["--samples-per-frame", "1000"], "--samples-per-frame 1000"),
    (["--protocol", "edgekd-v1", "--samples-per-frame", "300"], "edgekd-v1 with 8 channels"),
    (["--speed", "-1"], "--speed -1.0: must be >= 0"),
    (["--faults", "bitflip=2"], "--faults: bitflip=2.0 must lie in [0, 1]"),
    (["--faults", "flip=0.1"], "unknown fault 'flip'"),
    (["--faults", "drop=x"], "drop='x' is not a number"),
    (["--faults", "disconnect=5"], "only over TCP"),
    (["--tcp", "70000"], "--tcp 70000: must lie in 0..65535"),
    (["--protocol", "edgekd-v3"], "unknown protocol 'edgekd-v3'"),
    (["--wait", "0.3"], "no host sent the start command within 0.3 s"),
    (["--wait", "0"], "--wait 0.0: must be > 0"),
])
def test_simulate_refuses_bad_options(capsys, argv, expected):
    _fails(capsys, ["simulate", *argv], expected)


@pytest.mark.parametrize("argv,expected", [
    (["--udp", "127.0.0.1:70000"], "--udp '127.0.0.1:70000': expected HOST:PORT with PORT in"),
    (["--udp", "nohost"], "expected HOST:PORT"),
    (["--vote", "0"], "--vote 0: must be >= 1"),
    (["--threshold", "1"], "--threshold 1.0: must lie in [0, 1)"),
    (["--protocol", "cytn"], "did you mean 'cyton'"),
    (["--duration", "0"], "--duration 0.0: must be > 0"),
    (["--baud", "-5"], "--baud -5: must be > 0"),
    (["--ground-truth", "nope"], "--ground-truth nope: nope.npz not found"),
    (["--model", "missing.onnx"], "missing.onnx: artifact not found"),
    (["--decisions-json", "/nonexistent-dir/d.jsonl"],
     "--decisions-json /nonexistent-dir/d.jsonl: cannot write"),
])
def test_stream_refuses_bad_options(capsys, argv, expected):
    _fails(capsys, ["stream", "--port", "loop://", "--no-view", *argv], expected)


@pytest.mark.parametrize("port,expected", [
    ("socket://127.0.0.1:99999", "PORT in 1..65535"),
    ("replay://missing.rec", "missing.rec: cannot read the recording"),
    ("replay://x.rec?speed=-2", "expected ?speed=X with X >= 0"),
    ("/dev/no-such-armband", "cannot open '/dev/no-such-armband'"),
])
def test_stream_refuses_bad_ports(capsys, port, expected):
    _fails(capsys, ["stream", "--port", port, "--no-view"], expected)


def test_a_silent_cyton_is_one_line(capsys, monkeypatch):
    from firmware_bridge.protocols import cyton
    monkeypatch.setattr(cyton.Cyton, "handshake",
                        lambda self: cyton.Handshake(b"v", b"$$$", b"b", timeout_s=0.3))
    _fails(capsys, ["stream", "--port", "loop://", "--protocol", "cyton", "--no-view"],
           "loop://: the device did not answer b'v' with b'$$$' within 0.3 s")


def test_a_lossy_run_says_so(capsys):
    from edgekd.cli.stream import print_summary
    print_summary({"decisions": 10, "online_accuracy": 0.9, "lossy": True,
                   "lossy_because": "host_dropped_bytes=4096"})
    err = " ".join(capsys.readouterr().err.split())
    assert "a lossy run (host_dropped_bytes=4096); figures above were computed on what arrived" \
        in err


def test_simulate_never_picks_one_of_several_sessions_silently(capsys, tmp_path):
    from edgekd.data import native
    from edgekd.data.synth import SynthConfig, synthesize
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=2, hold_s=2.0, repetitions=1,
                                                gestures=2)), tmp_path / "d")
    _fails(capsys, ["simulate", "--source", str(tmp_path / "d")],
           "2 recordings match; choose one with --person and --session, ideally a session the "
           "model was not trained on (have P00/S0, P00/S1)")
    _fails(capsys, ["simulate", "--source", str(tmp_path / "d"), "--session", "S7"],
           "no recording for person=None session=S7 (have P00/S0, P00/S1)")


@pytest.mark.parametrize("argv,expected", [
    (["--port", "lsl://x", "--protocol", "cyton"], "--protocol: lsl:// delivers decoded samples"),
    (["--port", "brainflow://synthetic", "--record", "x.rec"], "--record: brainflow:// delivers"),
    (["--port", "brainflow://synthetc"], "did you mean 'synthetic'"),
    (["--port", "brainflow://synthetic?serial_prt=/dev/x"], "did you mean 'serial_port'"),
    (["--port", "lsl://", ], "expected lsl://NAME"),
    (["--port", "loop://", "--udp", "127.0.0.1:9", "--udp-format", "json"],
     "--udp-format 'json': expected one of predictions, probabilities"),
])
def test_stream_refuses_bad_sources(capsys, argv, expected):
    if "brainflow://" in argv[1]:
        pytest.importorskip("brainflow", reason="brainflow (the brainflow extra) is not installed")
    if argv[1].startswith("lsl://") and "--protocol" not in argv:
        pytest.importorskip("pylsl", reason="pylsl (the lsl extra) is not installed")
    _fails(capsys, ["stream", "--no-view", *argv], expected)
