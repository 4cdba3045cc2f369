import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.errors import ConfigError, EdgekdError
from edgekd.models import list_models
from edgekd.train.config import resolve
from edgekd.train.run import train_run
from edgekd.train.runs import load_model, split_models
from export import runtime
from export.tensorrt_runtime import TensorRTBackend
from export.pipeline import ExportRequest, export_run

STUDENTS = sorted(e.name for e in list_models("student") if e.name.endswith("_tiny"))
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("exp") / "data"
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=7)), path)
    return path


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name in STUDENTS:
        cfg = resolve(overrides={"data.path": str(data), "model": name, "data.hop": 10,
                                 "optim.epochs": 2, "device": "cpu"})
        train_run(cfg, root / name)
        out[name] = root / name
    return out


@pytest.mark.parametrize("fmt", ["onnx", "onnx-int8", "onnx-fp16"])
@pytest.mark.parametrize("student", STUDENTS)
def test_every_student_exports_with_parity(runs, student, fmt, tmp_path):
    out = tmp_path / f"model{fmt}.onnx"
    # 2-epoch tiny models have nearly tied logits, so int8 noise flips some argmaxes; the
    # default gate (0.97) is for real models and is measured in benchmarks/export_myo.py
    gate = 0.9 if fmt == "onnx-int8" else None
    report = export_run(ExportRequest(runs[student], fmt, out=out, min_agreement=gate))
    assert report["passed"] and out.is_file()
    assert report["top1_agreement"] >= report["min_agreement"]
    if fmt == "onnx":
        assert report["max_abs_logit_diff"] < 1e-4
    saved = json.loads((tmp_path / "export_report.json").read_text())[out.name]
    assert saved["top1_agreement"] == report["top1_agreement"]
    if fmt == "onnx-int8":
        ops = report["quantization"]["ops"]
        assert ops["int8"], "nothing was quantized"
        if student.startswith("gru"):
            assert "GRU" in ops["float"] and any("GRU" in n for n in report["quantization"]["notes"])
        if student.startswith(("cnn_tiny", "tcn")):
            assert report["quantization"]["recipe"] == "static-qdq"


def test_artifact_is_self_describing_and_runtime_matches_torch(runs, data, tmp_path):
    out = tmp_path / "cnn.onnx"
    export_run(ExportRequest(runs["cnn_tiny"], "onnx", out=out))
    predictor = runtime.load(out, cache_dir=tmp_path / "cache")
    meta = predictor.metadata
    assert meta["label_names"][0] == "rest" and meta["fs"] == 200.0 and meta["window"] == 52
    assert meta["preprocess"]["normalizer"]["mean"] and len(meta["channels"]) == 8
    rec0 = native.read_dataset(data).recordings[0]
    assert meta["channels"] == rec0.channels                   # the recordings' own names
    import onnx
    proto = onnx.load(str(out))
    from edgekd import __version__
    assert (proto.producer_name, proto.producer_version) == ("edgekd", __version__)
    assert [o.name for o in proto.graph.output] == ["logits", "probs"]
    assert len(meta["source_checkpoint_sha256"]) == 64 and meta["edgekd_version"]
    model, ck = load_model(split_models(runs["cnn_tiny"])["P00"])
    rec = native.read_dataset(data).recordings[0]
    ends, probs = predictor.stream().push(rec.signals)        # the live path
    from edgekd.signal import Preprocessor, PreprocessSpec
    windows, ends2 = Preprocessor(PreprocessSpec.from_dict(ck["preprocess"])).push(rec.signals)
    with torch.no_grad():
        ref = torch.softmax(model(torch.from_numpy(windows)), 1).numpy()
    np.testing.assert_array_equal(ends, ends2)
    np.testing.assert_allclose(probs, ref, atol=1e-5)
    assert (tmp_path / "cache").is_dir()                       # optimised graph cached
    again = runtime.load(out, cache_dir=tmp_path / "cache")    # and reused
    np.testing.assert_allclose(again.predict_windows(windows[:4]), ref[:4], atol=1e-5)
    raw = rec.signals[1000:1052].T                             # one raw window, physical units
    assert predictor.predict(raw).shape == (7,) and np.isclose(predictor.predict(raw).sum(), 1)


def test_loader_refuses_artifacts_without_metadata(tmp_path, runs):
    import onnx
    out = tmp_path / "m.onnx"
    export_run(ExportRequest(runs["cnn_tiny"], "onnx", out=out))
    proto = onnx.load(str(out))
    del proto.metadata_props[:]
    onnx.save(proto, str(tmp_path / "bare.onnx"))
    with pytest.raises(EdgekdError, match="not an edgekd artifact"):
        runtime.load(tmp_path / "bare.onnx")
    good = onnx.load(str(out))
    partial = json.loads(good.metadata_props[0].value)
    del partial["label_names"]
    good.metadata_props[0].value = json.dumps(partial)
    onnx.save(good, str(tmp_path / "partial.onnx"))
    with pytest.raises(EdgekdError, match=r"lacks \['label_names'\]"):
        runtime.load(tmp_path / "partial.onnx")


def test_unsupported_options_refused_before_work(runs, tmp_path):
    with pytest.raises(ConfigError, match="does not take --precision"):
        export_run(ExportRequest(runs["cnn_tiny"], "onnx", out=tmp_path / "x.onnx",
                                 precision="fp16"))
    with pytest.raises(ConfigError, match="does not take --calib-windows"):
        export_run(ExportRequest(runs["cnn_tiny"], "onnx-fp16", calib_windows=10))
    with pytest.raises(ConfigError, match="unknown export format 'onnx-int4'"):
        export_run(ExportRequest(runs["cnn_tiny"], "onnx-int4"))
    assert not list(tmp_path.iterdir())


def test_parity_failure_writes_nothing_unless_forced(runs, tmp_path):
    out = tmp_path / "m.int8.onnx"
    with pytest.raises(EdgekdError, match="parity check failed"):
        export_run(ExportRequest(runs["cnn_tiny"], "onnx-int8", out=out, min_agreement=1.01))
    assert not out.exists()
    report = json.loads((tmp_path / "export_report.json").read_text())[out.name]
    assert report["passed"] is False and report["written"] is False
    export_run(ExportRequest(runs["cnn_tiny"], "onnx-int8", out=out, min_agreement=1.01,
                             force=True))
    assert out.is_file()


def test_tensorrt_without_tensorrt_is_a_clear_error(runs):
    pytest.importorskip("onnx")
    try:
        import tensorrt  # noqa: F401
        pytest.skip("TensorRT is installed here; see test_tensorrt_engine")
    except ImportError:
        pass
    with pytest.raises(EdgekdError, match=r"needs tensorrt, which is not installed: "
                                          r"pip install 'edgekd\[tensorrt\]'"):
        export_run(ExportRequest(runs["cnn_tiny"], "tensorrt", precision="fp16"))
    with pytest.raises(EdgekdError, match=r"pip install 'edgekd\[tensorrt\]' \(from a clone: "
                                          r"pip install -e '\.\[tensorrt\]'"):
        TensorRTBackend(Path("x.plan"))


@pytest.mark.tensorrt
@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_tensorrt_engine(runs, tmp_path, precision):
    pytest.importorskip("tensorrt", reason="TensorRT is not installed")
    if not torch.cuda.is_available():
        pytest.skip("TensorRT engines need a CUDA GPU")
    out = tmp_path / f"m.{precision}.plan"
    report = export_run(ExportRequest(runs["cnn_tiny"], "tensorrt", out=out, precision=precision))
    assert report["passed"] and out.is_file() and out.with_suffix(".plan.json").is_file()


EDGE_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import export.runtime as rt
    p = rt.load(sys.argv[1], cache_dir=sys.argv[3])
    x = np.load(sys.argv[2])
    print(json.dumps({"classes": p.predict_windows(x).argmax(1).tolist(),
                      "torch": "torch" in sys.modules}))
""")


@pytest.mark.slow
def test_edge_venv_without_torch_predicts_the_same(runs, data, tmp_path):
    """A virtualenv with the base (edge) install from the clone, no torch, installs without a pip
    error, loads the artifact through export.runtime and predicts the same classes as the full
    install; a command that needs torch says so in one line naming the extra."""
    import tomllib
    base = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    out = tmp_path / "m.int8.onnx"
    export_run(ExportRequest(runs["cnn_tiny"], "onnx-int8", out=out))
    venv = tmp_path / "edge-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # no PYTHONPATH: the venv must run the installed package (catalog JSON included), not a checkout
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    deps = subprocess.run([py, "-m", "pip", "install", "-q", *base], capture_output=True,
                          text=True, env=env)
    if deps.returncode != 0:
        pytest.skip(f"cannot install the edge packages from the package index: {deps.stderr[-300:]}")
    install = subprocess.run([py, "-m", "pip", "install", "-q", str(REPO)], env=env,
                             capture_output=True, text=True)  # what the README shows, with deps
    assert install.returncode == 0 and "ERROR" not in install.stderr, install.stderr[-2000:]
    _edge_cli_needs_extra(venv / "bin", env)
    windows = np.random.default_rng(0).normal(size=(32, 8, 52)).astype(np.float32)
    np.save(tmp_path / "w.npy", windows)
    (tmp_path / "edge.py").write_text(EDGE_SCRIPT)
    result = subprocess.run([py, str(tmp_path / "edge.py"), str(out), str(tmp_path / "w.npy"),
                             str(tmp_path / "cache")], capture_output=True, text=True,
                            cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    edge_out = json.loads(result.stdout)
    full = runtime.load(out, cache_dir=tmp_path / "cache2").predict_windows(windows).argmax(1)
    assert edge_out["torch"] is False
    assert edge_out["classes"] == full.tolist()
    check = subprocess.run([py, "-c", "import torch"], capture_output=True)
    assert check.returncode != 0  # torch really is absent there
    _edge_cli_streams(venv / "bin", out, data, tmp_path, env)


def _edge_cli_needs_extra(bin_dir: Path, env: dict) -> None:
    """A torch-only command on the edge install: exit 1, one line naming the extra. Listing the
    models for the default input needs no torch (the cached catalog ships in the package)."""
    listing = subprocess.run([bin_dir / "edgekd", "models"], capture_output=True, text=True,
                             env=env, timeout=60)
    assert listing.returncode == 0 and "gpt2" in listing.stdout, listing.stderr[-2000:]
    result = subprocess.run([bin_dir / "edgekd", "models", "--n-channels", "4"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        "error: edgekd models needs torch, which is not installed: pip install 'edgekd[train]' "
        "(from a clone: pip install -e '.[train]')"]


def _edge_cli_streams(bin_dir: Path, artifact: Path, data: Path, tmp: Path, env: dict) -> None:
    """The edge host's own commands: an emulated armband on a pty, streamed into the artifact."""
    sim = subprocess.Popen([bin_dir / "edgekd", "simulate", "--source", str(data), "--speed", "4",
                            "--wait", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env)
    try:
        port = sim.stdout.readline().strip()
        decisions = tmp / "edge_decisions.jsonl"
        stream = subprocess.run([bin_dir / "edgekd", "stream", "--model", str(artifact), "--port",
                                 port, "--duration", "4", "--no-view", "--no-reconnect",
                                 "--decisions-json", str(decisions)], capture_output=True,
                                text=True, env=env, timeout=120)
    finally:
        sim.kill()
    assert stream.returncode == 0, stream.stderr[-2000:]
    assert decisions.read_text().count("\n") > 10


def test_readme_edge_install_names_the_base_dependencies():
    import re
    import tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=\[]", spec)[0] for spec in project["dependencies"]]
    readme = (REPO / "README.md").read_text()
    assert f"{', '.join(names[:-1])} and {names[-1]}, no\ntorch" in readme
    assert "pip install -e .          # in the edgekd clone: the edge install" in readme


def test_export_command_reports_its_steps(runs, tmp_path, capsys):
    steps = []
    export_run(ExportRequest(runs["cnn_tiny"], "onnx", out=tmp_path / "a.onnx"),
               on_step=lambda i, n, text: steps.append((i, n, text)))
    from export.pipeline import N_STEPS
    assert [(i, n) for i, n, _ in steps] == [(i, N_STEPS) for i in range(1, N_STEPS + 1)]
    assert all(text for _, _, text in steps)
    from edgekd.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(runs["cnn_tiny"]), "--out", str(tmp_path / "b.onnx")])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "self-check here" in out and "passed" in out
