"""The TensorRT build and run paths, driven through fakes of `tensorrt` and cuda-python (see
tests/fake_tensorrt.py) on machines that have neither. What is checked is edgekd's side: which
builder flags each TensorRT major gets, which ONNX model it is handed, the sidecar metadata, and
the runtime's buffers, dtypes and batch chunking. TensorRT's own numerics are not (the fake
engine is onnxruntime running the ONNX model it was given)."""

import gc
import json
import sys

import numpy as np
import pytest

from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.train.config import resolve
from edgekd.train.run import train_run
from export import runtime
from export.pipeline import ExportRequest, export_run
from tests import fake_tensorrt


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("trt")
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=3)),
                         root / "data")
    cfg = resolve(overrides={"data.path": str(root / "data"), "model": "cnn_tiny",
                             "data.hop": 10, "optim.epochs": 2, "device": "cpu"})
    train_run(cfg, root / "run")
    return root / "run"


@pytest.fixture
def fake_trt(monkeypatch):
    def install(version, max_batch_cap=None):
        log = fake_tensorrt.CallLog()
        monkeypatch.setitem(sys.modules, "tensorrt",
                            fake_tensorrt.make_tensorrt(version, log, max_batch_cap))
        cu = fake_tensorrt.make_cudart(log)
        monkeypatch.setattr("export.tensorrt_runtime.cudart", lambda: cu)
        return log
    return install


@pytest.mark.parametrize("version", ["10.9.0", "11.2.0"])
@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_engine_build_per_tensorrt_major(run_dir, tmp_path, fake_trt, version, precision):
    log = fake_trt(version)
    out = tmp_path / f"student.{precision}.plan"
    gate = 0.9 if precision == "int8" else None   # 2-epoch tiny model: near-tied logits
    report = export_run(ExportRequest(run_dir, "tensorrt", out=out, precision=precision,
                                      min_agreement=gate))
    assert report["passed"] and out.is_file()
    meta = json.loads(out.with_suffix(".plan.json").read_text())
    built = meta["quantization"]["tensorrt"]
    assert built["tensorrt_version"] == version
    if version.startswith("10"):
        assert log.flags == (["FP16", "INT8"] if precision == "int8" else ["FP16"])
        assert built["strongly_typed"] is False
    else:  # 11: no precision flags exist; the ONNX model carries the precision
        assert log.flags == [] and built["strongly_typed"] is True
        recipe = meta["quantization"]["recipe"]
        assert ("float16" in recipe) if precision == "fp16" else ("QDQ" in recipe.upper())


def test_runtime_reuses_buffers_and_chunks_beyond_the_profile(run_dir, tmp_path, fake_trt):
    log = fake_trt("10.9.0", max_batch_cap=4)
    plan = tmp_path / "student.plan"
    export_run(ExportRequest(run_dir, "tensorrt", out=plan, precision="fp16"))
    onnx = tmp_path / "student.onnx"
    export_run(ExportRequest(run_dir, "onnx", out=onnx))
    # unchecked: the self-check's replay would allocate the buffers before the count starts
    engine, reference = runtime.load(plan, self_check=False), runtime.load(onnx)
    x = np.random.default_rng(0).standard_normal((10, reference.spec.n_chans, reference.spec.window.window), dtype=np.float32)
    gc.collect()   # the export's parity check loaded (and dropped) its own engine
    log.mallocs, log.frees, log.batches = 0, 0, []
    for _ in range(3):
        got = engine.logits(x)
    np.testing.assert_allclose(got, reference.logits(x), rtol=1e-5, atol=1e-5)
    assert log.batches == [4, 4, 2] * 3          # the profile's max batch is 4
    assert log.mallocs == 2                       # one input and one output buffer, reused
    engine.backend.close()
    assert log.frees == log.mallocs


def test_int8_engine_of_a_recurrent_student_gets_qdq_not_dynamic_ops(data_dir_lstm, tmp_path,
                                                                      fake_trt):
    """ORT's default INT8 recipe for an LSTM is dynamic quantization (integer ops TensorRT's
    parser rejects); the TensorRT path must hand it a Q/DQ model instead."""
    fake_trt("11.2.0")
    out = tmp_path / "lstm.int8.plan"
    report = export_run(ExportRequest(data_dir_lstm, "tensorrt", out=out, precision="int8",
                                      min_agreement=0.9))
    q = report["quantization"]
    assert q["recipe"] == "static-qdq"
    assert "DynamicQuantizeLSTM" not in q["ops"]["int8"] and q["ops"]["float"].get("LSTM")


@pytest.fixture(scope="module")
def data_dir_lstm(run_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("trt_lstm")
    cfg = resolve(overrides={"data.path": str(run_dir.parent / "data"), "model": "lstm_tiny",
                             "data.hop": 10, "optim.epochs": 2, "device": "cpu"})
    train_run(cfg, root / "run")
    return root / "run"
