"""`edgekd stream` replays the artifact's self-check before it opens the port, shows the
result, and refuses an artifact that does not reproduce its checkpoint (--no-self-check
overrides). In-process and on loop://, so it needs no emulator."""

import pytest

from edgekd.cli import main
from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.train.config import resolve
from edgekd.train.run import train_run
from export.pipeline import ExportRequest, export_run

onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream_sc")
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=3)),
                         root / "data")
    train_run(resolve(overrides={"data.path": str(root / "data"), "model": "cnn_tiny",
                                 "data.hop": 10, "optim.epochs": 2, "device": "cpu"}),
              root / "run")
    good = root / "m.onnx"
    export_run(ExportRequest(root / "run", "onnx", out=good))
    from onnx import numpy_helper
    proto = onnx.load(str(good))
    head = next(t for t in proto.graph.initializer if "head.weight" in t.name)
    head.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(head), head.name))
    onnx.save(proto, str(root / "tampered.onnx"))
    return good, root / "tampered.onnx"


def _stream(capsys, model, *args):
    with pytest.raises(SystemExit) as exit_:
        main(["stream", "--model", str(model), "--port", "loop://", "--duration", "0.5",
              "--no-view", "--no-reconnect", *args])
    return exit_.value.code, capsys.readouterr().err


@pytest.fixture(autouse=True)
def _restore_env(monkeypatch):
    # the command hands its choice to firmware_bridge through the process environment
    monkeypatch.delenv("EDGEKD_SELF_CHECK", raising=False)


def test_stream_shows_a_passed_self_check(artifacts, capsys):
    code, err = _stream(capsys, artifacts[0])
    assert code == 0 and "self-check passed" in err


def test_stream_refuses_a_tampered_artifact_unless_told(artifacts, capsys):
    code, err = _stream(capsys, artifacts[1])
    assert code == 1 and "does not reproduce its checkpoint" in err and "--no-self-check" in err
    code, err = _stream(capsys, artifacts[1], "--no-self-check")
    assert code == 0 and "self-check skipped" in err
