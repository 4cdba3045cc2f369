import json

import pytest

from edgekd.cli import main
from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.train.config import resolve
from edgekd.train.run import train_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=9)),
                         root / "data")
    train_run(resolve(overrides={"data.path": str(root / "data"), "model": "cnn",
                                 "data.hop": 10, "optim.epochs": 4, "device": "cpu"}),
              root / "run")
    return root


def _bench(capsys, *args):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", *args, "--runs", "20", "--warmup", "3", "--batch", "8"])
    capsys.readouterr()
    return exit_.value.code


def test_bench_table_json_and_figures(run_dir, tmp_path, capsys):
    code = _bench(capsys, str(run_dir / "run"), "--formats", "torch,onnx,onnx-int8",
                  "--out", str(tmp_path / "b"), "--cores", "1", "--results-json",
                  str(tmp_path / "r.json"))
    result = json.loads((tmp_path / "b/bench.json").read_text())
    assert json.loads((tmp_path / "r.json").read_text()) == result
    entry = result["entries"][0]
    assert code == 0 and result["cores"] == [0]
    assert [r["format"] for r in entry["rows"]] == ["torch", "onnx", "onnx-int8"]
    assert entry["macs"] > 0 and entry["parameters"] > 0
    for row in entry["rows"]:
        assert row["status"] == "ok" and 0 < row["latency_batch1"]["p50_us"] \
            <= row["latency_batch1"]["p99_us"] and row["latency_batchN"]["batch"] == 8
    int8 = entry["rows"][2]
    assert int8["size_bytes"] * 2.5 < entry["rows"][1]["size_bytes"]
    md = (tmp_path / "b/bench.md").read_text()
    assert "| Format | Status | Size | Accuracy | p50 µs | p99 µs |" in md
    for png in ("accuracy_vs_macs.png", "latency.png"):
        assert (tmp_path / "b" / png).read_bytes()[:4] == b"\x89PNG"


def test_floor_fails_on_a_planted_broken_artifact(run_dir, tmp_path, capsys):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an onnx model")
    args = [str(run_dir / "run"), str(broken), "--formats", "onnx", "--data",
            str(run_dir / "data"), "--out", str(tmp_path / "b")]
    assert _bench(capsys, *args) == 0                      # without a floor: reported only
    rows = [e["rows"][0] for e in json.loads((tmp_path / "b/bench.json").read_text())["entries"]]
    assert rows[0]["status"] == "ok" and rows[1]["status"] == "failed to export"
    assert _bench(capsys, *args, "--floor", "0.2") == 1    # the gate catches it
    assert _bench(capsys, str(run_dir / "run"), "--formats", "onnx", "--floor", "0.2",
                  "--out", str(tmp_path / "c")) == 0       # and passes a healthy run
    assert _bench(capsys, str(run_dir / "run"), "--formats", "onnx", "--floor", "0.9999",
                  "--out", str(tmp_path / "d")) == 1       # a floor above the accuracy fails


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_cuda_bench_without_a_gpu_is_refused_before_any_work(run_dir, tmp_path, capsys):
    code = _bench(capsys, str(run_dir / "run"), "--formats", "torch", "--device", "cuda",
                  "--out", str(tmp_path / "b"))
    assert code == 1 and not (tmp_path / "b").exists()


def test_a_provider_fallback_is_an_error_not_a_cpu_number(run_dir, tmp_path):
    """onnxruntime silently runs on the CPU when the CUDA provider cannot start; the bench must
    not report that as a GPU latency."""
    from edgekd.bench.run import CUDA_PROVIDERS, require_providers
    from edgekd.errors import EdgekdError
    from export.pipeline import ExportRequest, export_run
    from export.runtime import load
    out = tmp_path / "m.onnx"
    export_run(ExportRequest(run_dir / "run", "onnx", out=out))
    predictor = load(out)                                      # CPU provider only
    require_providers(predictor, None)                         # cpu bench: fine
    with pytest.raises(EdgekdError, match="did not start CUDAExecutionProvider"):
        require_providers(predictor, CUDA_PROVIDERS)


def test_bench_shows_the_self_check_and_marks_a_refused_artifact(run_dir, tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from export.pipeline import ExportRequest, export_run
    good = tmp_path / "m.onnx"
    export_run(ExportRequest(run_dir / "run", "onnx", out=good))
    proto = onnx.load(str(good))
    head = next(t for t in proto.graph.initializer if "head.weight" in t.name)
    head.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(head), head.name))
    onnx.save(proto, str(tmp_path / "tampered.onnx"))
    args = [str(good), str(tmp_path / "tampered.onnx"), "--data", str(run_dir / "data")]
    assert _bench(capsys, *args, "--out", str(tmp_path / "b"), "--floor", "0.0") == 1
    rows = [e["rows"][0] for e in json.loads((tmp_path / "b/bench.json").read_text())["entries"]]
    assert rows[0]["status"] == "ok" and rows[0]["self_check"]["status"] == "passed"
    assert rows[1]["status"] == "exported, failed validation"
    assert rows[1]["self_check"]["status"] == "failed" and "latency_batch1" in rows[1]
    assert "does not reproduce its checkpoint" in rows[1]["error"]
    assert "| failed, error " in (tmp_path / "b/bench.md").read_text()
    assert _bench(capsys, *args, "--out", str(tmp_path / "c"), "--floor", "0.0",
                  "--no-self-check") == 0
    rows = [e["rows"][0] for e in json.loads((tmp_path / "c/bench.json").read_text())["entries"]]
    assert [r["self_check"]["status"] for r in rows] == ["skipped", "skipped"]
