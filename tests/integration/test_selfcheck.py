"""Self-checking artifacts (issue 13): the reference windows an artifact carries are replayed at
load; a tampered, damaged or mismatching artifact is refused with the measured numbers, and the
optimised-graph cache never breaks an intact artifact. Nothing here depends on the CPU's
instruction set: the tampering is large and deterministic."""

import json
import shutil

import numpy as np
import pytest

from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.errors import EdgekdError
from edgekd.train.config import resolve
from edgekd.train.run import train_run
from export import runtime, selfcheck
from export.pipeline import ExportRequest, export_run

onnx = pytest.importorskip("onnx")
from onnx import numpy_helper  # noqa: E402


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """Two cnn_tiny runs that differ only in their seed, each exported fp32 and INT8."""
    root = tmp_path_factory.mktemp("selfcheck")
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=5)),
                         root / "data")
    out = {}
    for seed in (0, 1):
        cfg = resolve(overrides={"data.path": str(root / "data"), "model": "cnn_tiny",
                                 "data.hop": 10, "optim.epochs": 3, "device": "cpu",
                                 "seed": seed})
        train_run(cfg, root / f"run{seed}")
        for fmt, suffix in (("onnx", ".onnx"), ("onnx-int8", ".int8.onnx")):
            path = root / f"s{seed}{suffix}"
            out[(seed, fmt)] = (path, export_run(ExportRequest(root / f"run{seed}", fmt,
                                                               out=path, min_agreement=0.9)))
    return out


def _copy(src, dst_dir, name="a.onnx"):
    dst = dst_dir / name
    shutil.copyfile(src, dst)
    return dst


def test_artifacts_carry_a_self_check_that_passes_here(artifacts, tmp_path):
    for (_, fmt), (path, report) in artifacts.items():
        sc = report["self_check"]
        assert sc["status"] == "passed" and sc["n_windows"] == selfcheck.N_WINDOWS, fmt
        # the default recipe cannot saturate on any CPU: the kernels here reproduce the graph's
        # reference semantics (dequantize → float op), whatever this CPU's int8 instructions
        assert sc["export_rel_error"] <= sc["graph_rel_error"] + 5e-3, fmt
        predictor = runtime.load(path, cache_dir=tmp_path / "cache")
        assert predictor.self_check.passed and predictor.self_check.ms < 1000
        assert predictor.self_check.agreement >= predictor.self_check.min_agreement
        assert "self_check" not in predictor.metadata      # the arrays stay out of metadata


def test_altered_weights_are_refused_with_the_measured_numbers(artifacts, tmp_path):
    path, _ = artifacts[(0, "onnx")]
    proto = onnx.load(str(path))
    head = next(t for t in proto.graph.initializer if "head.weight" in t.name)
    w = numpy_helper.to_array(head)
    head.CopyFrom(numpy_helper.from_array(-w[::-1].copy(), head.name))   # a different classifier
    onnx.save(proto, str(tmp_path / "w.onnx"))
    with pytest.raises(selfcheck.SelfCheckError,
                       match=r"does not reproduce its checkpoint on this machine: top-1 "
                             r"agreement .* relative logit error .*--no-self-check") as err:
        runtime.load(tmp_path / "w.onnx", cache_dir=tmp_path / "cache")
    assert not err.value.result.passed and err.value.result.rel_error > 0.1
    unchecked = runtime.load(tmp_path / "w.onnx", cache_dir=tmp_path / "cache", self_check=False)
    assert unchecked.self_check.status == "skipped"


def test_altered_int8_weights_are_refused(artifacts, tmp_path):
    path, _ = artifacts[(0, "onnx-int8")]
    proto = onnx.load(str(path))
    weights = [t for t in proto.graph.initializer if t.data_type == onnx.TensorProto.INT8
               and len(t.dims) == 3]                           # the conv kernels
    for t in weights:
        t.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(t), t.name))
    onnx.save(proto, str(tmp_path / "w.int8.onnx"))
    with pytest.raises(selfcheck.SelfCheckError, match="does not reproduce its checkpoint"):
        runtime.load(tmp_path / "w.int8.onnx", cache_dir=tmp_path / "cache")


def _edit_record(path, dst, edit):
    proto = onnx.load(str(path))
    entry = next(p for p in proto.metadata_props if p.key == selfcheck.KEY)
    entry.value = edit(entry.value)
    onnx.save(proto, str(dst))
    return dst


def test_altered_reference_outputs_are_refused(artifacts, tmp_path):
    path, _ = artifacts[(0, "onnx-int8")]

    def roll_classes(text):
        rec = json.loads(text)
        info, _, logits = selfcheck.decode(text, "x")
        rec["logits"] = selfcheck._b85(np.roll(logits, 1, axis=1))
        return json.dumps(rec)

    bad = _edit_record(path, tmp_path / "r.int8.onnx", roll_classes)
    with pytest.raises(selfcheck.SelfCheckError, match="does not reproduce its checkpoint"):
        runtime.load(bad, cache_dir=tmp_path / "cache")


def test_a_damaged_record_is_a_clear_error(artifacts, tmp_path):
    path, _ = artifacts[(0, "onnx")]
    bad = _edit_record(path, tmp_path / "d.onnx", lambda text: text[:len(text) // 2])
    with pytest.raises(EdgekdError, match=r"d.onnx: the self-check record is damaged .*re-export"):
        runtime.load(bad, cache_dir=tmp_path / "cache")
    assert runtime.load(bad, cache_dir=tmp_path / "cache", self_check=False)


def test_a_mismatching_artifact_is_refused(artifacts, tmp_path):
    """The graph of one checkpoint under the metadata and reference of another."""
    (a, _), (b, _) = artifacts[(0, "onnx-int8")], artifacts[(1, "onnx-int8")]
    graph = onnx.load(str(b))
    del graph.metadata_props[:]
    graph.metadata_props.extend(onnx.load(str(a)).metadata_props)
    onnx.save(graph, str(tmp_path / "m.int8.onnx"))
    with pytest.raises(selfcheck.SelfCheckError, match="does not reproduce its checkpoint"):
        runtime.load(tmp_path / "m.int8.onnx", cache_dir=tmp_path / "cache")


def test_an_artifact_without_reference_loads_as_unavailable(artifacts, tmp_path):
    path, _ = artifacts[(0, "onnx")]
    proto = onnx.load(str(path))
    keep = [p for p in proto.metadata_props if p.key != selfcheck.KEY]
    del proto.metadata_props[:]
    proto.metadata_props.extend(keep)
    onnx.save(proto, str(tmp_path / "old.onnx"))
    predictor = runtime.load(tmp_path / "old.onnx", cache_dir=tmp_path / "cache")
    assert predictor.self_check.status == "unavailable"
    assert "re-export" in predictor.self_check.summary()


def test_environment_switch_turns_the_check_off(artifacts, tmp_path, monkeypatch):
    path, _ = artifacts[(0, "onnx")]
    monkeypatch.setenv("EDGEKD_SELF_CHECK", "0")
    assert runtime.load(path, cache_dir=tmp_path / "cache").self_check.status == "skipped"


def test_a_truncated_cache_file_is_rebuilt(artifacts, tmp_path):
    path, _ = artifacts[(0, "onnx-int8")]
    art = _copy(path, tmp_path)
    cache = tmp_path / "cache"
    first = runtime.load(art, cache_dir=cache)
    assert not first.backend.from_cache
    (cached,) = cache.glob("*.onnx")
    intact = cached.read_bytes()
    cached.write_bytes(intact[: len(intact) // 3])           # a crash mid-write, a full disk
    again = runtime.load(art, cache_dir=cache)
    assert again.self_check.passed and not again.backend.from_cache
    assert cached.read_bytes() == intact                       # rebuilt, not left broken
    assert runtime.load(art, cache_dir=cache).backend.from_cache
    assert not list(cache.glob(".*.tmp"))                     # no half-written leftovers


def test_a_loadable_but_wrong_cache_file_is_rebuilt(artifacts, tmp_path):
    """A cache file that loads but holds another graph: the self-check catches it and the
    loader rebuilds the cache from the (intact) artifact instead of refusing it."""
    (a, _), (b, _) = artifacts[(0, "onnx-int8")], artifacts[(1, "onnx-int8")]
    art = _copy(a, tmp_path)
    cache = tmp_path / "cache"
    runtime.load(art, cache_dir=cache)
    (cached,) = cache.glob("*.onnx")
    shutil.copyfile(b, cached)
    again = runtime.load(art, cache_dir=cache)
    assert again.self_check.passed and not again.backend.from_cache
