"""``edgekd export`` as named steps: choose the checkpoint, rebuild its split (training windows
for calibration, held-out test windows for parity), export, quantize, attach metadata, check
parity against torch through the torch-free runtime, and only then move the artifact in place."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekd import __version__
from edgekd.atomic import write_json_atomic
from edgekd.errors import ConfigError, EdgekdError
from export import metadata as md
from export.formats import FORMATS, ExportFormat, check_options

log = logging.getLogger("edgekd.export")

DEFAULT_MIN_AGREEMENT = {"onnx": 0.999, "onnx-fp16": 0.99, "onnx-int8": 0.97, "tensorrt": 0.97}


@dataclass
class ExportRequest:
    run_dir: Path
    format: str
    out: Path | None = None
    split: str | None = None
    data: Path | None = None          # where the run's recordings are now, if moved
    calib_windows: int | None = None
    calib_method: str | None = None
    precision: str | None = None
    symmetric: bool | None = None
    min_agreement: float | None = None
    force: bool = False
    sample_bits: int | None = None    # c: ADC bits of the samples pushed (default 16)
    sample_scale: float | None = None  # c: physical units per ADC count (default 1)
    float_filters: bool | None = None  # c: float32 filters (FPU targets)


N_STEPS = 5


def export_run(req: ExportRequest, on_step=None) -> dict:
    """Export, check parity, embed the self-check; ``on_step(i, n, description)`` is called as
    each of the ``N_STEPS`` steps starts (the CLI shows it as a progress bar)."""
    fmt = FORMATS.get(req.format)
    check_options(fmt, {"calib_windows": req.calib_windows, "calib_method": req.calib_method,
                        "precision": req.precision, "symmetric": req.symmetric,
                        "sample_bits": req.sample_bits, "sample_scale": req.sample_scale,
                        "float_filters": req.float_filters})
    if fmt.name == "tensorrt" and req.precision is None:
        raise ConfigError("format tensorrt needs --precision fp16|int8")
    if fmt.missing():
        from edgekd.extras import install_hint
        missing = fmt.missing()
        raise EdgekdError(f"format {fmt.name!r} needs {', '.join(missing)}, which is not "
                          f"installed: {install_hint(missing)}")
    if fmt.name == "c":
        from export.c.pipeline import export_c
        return export_c(req)
    step = _stepper(on_step)
    step("load the checkpoint and rebuild its split")
    ckpt_path, split_name = choose_checkpoint(req.run_dir, req.split)
    model, ck, prepared = _load_split(ckpt_path, split_name, req.data)
    out = req.out or req.run_dir / "export" / f"{_safe(split_name)}{fmt.suffix}"
    threshold = req.min_agreement or DEFAULT_MIN_AGREEMENT[fmt.name]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        artifact, quant = _build(fmt, req, model, prepared, tmp, step)
        meta = _metadata(fmt, ck, ckpt_path, quant)
        _attach(artifact, meta)
        step("check parity with the torch checkpoint on held-out windows")
        ref = torch_logits(model, prepared.test.x)
        report = parity_report(model, artifact, prepared, fmt.name, tmp / "fp32.onnx", ref)
        report.update({"artifact": str(out), "format": fmt.name, "checkpoint": str(ckpt_path),
                       "split": split_name, "quantization": quant, "min_agreement": threshold})
        step("embed the self-check and replay it")
        report["self_check"] = embed_self_check(model, artifact, meta, prepared, ref, threshold,
                                                tmp)
        report["passed"] = (report["top1_agreement"] >= threshold
                            and report["self_check"]["status"] == "passed")
        # the size ratio compares models; the self-check record is a fixed extra (~10 KiB)
        report["model_bytes"], report["size_bytes"] = report["size_bytes"], _size(artifact)
        placed = _place(artifact, out, report["passed"] or req.force)
    report["written"] = placed
    if placed:   # the model card travels with the artifact (export/model_card.py)
        from export.model_card import write_model_card
        report["model_card"] = str(write_model_card(out, meta, report, req.run_dir))
    _save_report(out.parent / "export_report.json", out.name, report)
    if not report["passed"] and not req.force:
        raise EdgekdError(_failure(report, out))
    return report


def _stepper(on_step):
    count = iter(range(1, N_STEPS + 1))

    def step(description: str) -> None:
        i = next(count)
        log.info("export step %d/%d: %s", i, N_STEPS, description)
        if on_step:
            on_step(i, N_STEPS, description)
    return step


def _failure(report: dict, out: Path) -> str:
    where = f"artifact not written (report: {out.parent / 'export_report.json'}; --force writes it)"
    if report["top1_agreement"] < report["min_agreement"]:
        return (f"parity check failed: top-1 agreement {report['top1_agreement']:.4f} < "
                f"{report['min_agreement']} with the torch checkpoint; {where}")
    sc = report["self_check"]
    return (f"self-check failed on this machine: relative logit error {sc['rel_error']:.4f} "
            f"(allowed {sc['max_rel_error']:.4f}), top-1 agreement {sc['agreement']:.3f} on "
            f"{sc['n_windows']} reference windows; {where}")


def choose_checkpoint(run_dir: Path, split: str | None) -> tuple[Path, str]:
    from edgekd.train.runs import split_models
    models = split_models(run_dir)
    if split is None:
        if len(models) > 1:
            raise ConfigError(f"{run_dir} has {len(models)} models (one per split); pick one "
                              f"with --split (e.g. {sorted(models)[0]})")
        split = next(iter(models))
    if split not in models:
        raise ConfigError(f"{run_dir}: no split {split!r} (have {sorted(models)})")
    return models[split], split


def _load_split(ckpt_path: Path, split_name: str, data: Path | None):
    from edgekd.train.config import resolve
    from edgekd.train.run import build_splits, load_training_data
    from edgekd.train.runs import load_model

    model, ck = load_model(ckpt_path)
    cfg = resolve(base=ck["train_config"], overrides={"data.path": str(data) if data else None})
    if not Path(cfg.data.path).exists():
        raise EdgekdError(f"the run's data {cfg.data.path} is not here; pass --data PATH")
    dataset, _ = load_training_data(cfg)
    ck = with_recording_channels(ck, cfg, dataset)
    for prepared in build_splits(cfg, dataset):
        if prepared.split.name == split_name:
            saved = ck["preprocess"]["normalizer"]
            if not np.allclose(prepared.spec.normalizer.mean, saved["mean"], rtol=1e-4, atol=1e-4):
                raise EdgekdError(f"{cfg.data.path}: the data differ from what {ckpt_path} was "
                                  "trained on (normalisation statistics do not match)")
            return model, ck, prepared
    raise EdgekdError(f"split {split_name!r} cannot be rebuilt from {cfg.data.path}")


def with_recording_channels(ck: dict, cfg, dataset) -> dict:
    """Checkpoints do not store channel names; the recordings do (after channel selection)."""
    return {**ck, "recording_channels": dataset.channels(cfg.data.modality
                                                         or dataset.primary_modality)}


def _build(fmt: ExportFormat, req: ExportRequest, model, prepared, tmp: Path,
           step=lambda description: None, probabilities: bool = True):
    """The artifact in ``tmp``; ``probabilities`` appends the in-graph softmax the runtime
    binds (the C export reads the bare integer graph instead)."""
    from export.onnx_export import INPUT_NAME, add_probabilities, export_onnx
    from export.quantize import convert_fp16, quantize_int8

    spec = prepared.spec
    step("export the model to ONNX (opset 18)")
    fp32 = export_onnx(model, spec.n_chans, spec.window.window, tmp / "fp32.onnx")
    calib = _calibration_windows(prepared, req.calib_windows or 512)
    artifact = tmp / "artifact.onnx"
    if fmt.name == "onnx":
        step("copy the fp32 graph")
        shutil.copy(fp32, artifact)
        quant = {"precision": "fp32"}
    elif fmt.name == "onnx-fp16":
        step("convert to fp16")
        quant = convert_fp16(fp32, artifact)
    elif fmt.name == "onnx-int8":
        step(f"quantize to INT8 ({len(calib)} calibration windows)")
        quant = quantize_int8(fp32, artifact, calib, INPUT_NAME, req.calib_method or "minmax",
                              bool(req.symmetric))
    else:
        step(f"build a TensorRT {req.precision} engine")
        return _build_tensorrt(req, fp32, calib, spec, tmp)
    if probabilities:
        add_probabilities(artifact)
    return artifact, quant


def _build_tensorrt(req: ExportRequest, fp32: Path, calib, spec, tmp: Path):
    from export.onnx_export import INPUT_NAME
    from export.quantize import convert_fp16, quantize_int8
    from export.tensorrt_export import build_engine, tensorrt_module, trt_major

    trt = tensorrt_module()
    if req.precision == "int8":
        source, quant = tmp / "qdq.onnx", None
        quant = quantize_int8(fp32, source, calib, INPUT_NAME, req.calib_method or "minmax",
                              symmetric=True, recipe="static-qdq",  # TensorRT reads Q/DQ only
                              full_range_weights=True)  # GPU int8 kernels do not saturate
    elif trt_major(trt) >= 11:  # strongly typed: the ONNX model must carry fp16 itself
        source, quant = tmp / "fp16.onnx", convert_fp16(fp32, tmp / "fp16.onnx")
    else:
        source, quant = fp32, {"precision": "fp16", "recipe": "TensorRT 10 FP16 builder flag"}
    engine = tmp / "artifact.plan"
    built = build_engine(source, engine, req.precision, spec.n_chans, spec.window.window)
    return engine, {**quant, "tensorrt": built}


def _calibration_windows(prepared, n: int) -> np.ndarray:
    """Training windows (the same windowing and normalisation as training), a seeded sample."""
    x = prepared.train.x
    idx = np.random.default_rng(0).permutation(len(x))[:n]
    return np.ascontiguousarray(x[np.sort(idx)])


def _metadata(fmt: ExportFormat, ck: dict, ckpt_path: Path, quant: dict) -> dict:
    from edgekd.provenance import provenance
    from edgekd.train.checkpoint import file_sha256
    from export.onnx_export import INPUT_NAME, OUTPUT_NAME

    pre = ck["preprocess"]
    channels = _channel_names(ck)
    return {"format_version": md.FORMAT_VERSION, "edgekd_version": __version__,
            "format": fmt.name, "model": ck["model_config"], "label_names": ck["label_names"],
            "fs": pre["fs"], "window": pre["window"], "hop": pre["hop"], "channels": channels,
            "modality": ck["train_config"]["data"]["modality"], "preprocess": pre,
            "quantization": quant, "source_checkpoint": str(ckpt_path),
            "source_checkpoint_sha256": file_sha256(ckpt_path), "split": ck.get("split"),
            "test_metrics": ck.get("extra", {}).get("test_metrics", {}).get("accuracy"),
            "input_name": INPUT_NAME, "output_name": OUTPUT_NAME,
            "provenance": provenance()}   # code commit, package versions, machine


def _channel_names(ck: dict) -> list[str]:
    names = list(ck["recording_channels"])
    if len(names) != int(ck["preprocess"]["n_chans"]):
        raise EdgekdError(f"the recordings have {len(names)} channels, the checkpoint "
                          f"{ck['preprocess']['n_chans']}")
    return names


def _attach(artifact: Path, meta: dict, record: dict | None = None) -> None:
    from export.onnx_export import attach_metadata
    from export.selfcheck import KEY
    if artifact.suffix == ".plan":
        doc = {**meta, **({"self_check": record} if record else {})}
        artifact.with_suffix(".plan.json").write_text(json.dumps(doc, sort_keys=True))
    else:
        attach_metadata(artifact, md.encode(meta),
                        {KEY: json.dumps(record, sort_keys=True)} if record else None)


def torch_logits(model, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    """The checkpoint's float32 logits ``[N, K]`` for windows ``[N, C, T]``."""
    import torch
    model = model.eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(np.ascontiguousarray(x[i:i + batch])))
                               .numpy() for i in range(0, len(x), batch)])


def parity_report(model, artifact: Path, prepared, fmt: str, fp32: Path,
                  ref: np.ndarray | None = None) -> dict:
    """Torch checkpoint vs artifact on the split's held-out test windows (``ref``: the
    checkpoint's logits for them, when already computed)."""
    from export.runtime import load

    x, y = prepared.test.x, prepared.test.y
    ref = torch_logits(model, x) if ref is None else ref
    got = load(artifact, cache_dir=artifact.parent / "cache", self_check=False).logits(x)
    agree = float((ref.argmax(1) == got.argmax(1)).mean())
    acc_torch = float((ref.argmax(1) == y).mean())
    acc_art = float((got.argmax(1) == y).mean())
    size = _size(artifact)
    return {"n_windows": int(len(x)), "max_abs_logit_diff": float(np.abs(ref - got).max()),
            "top1_agreement": agree, "accuracy_torch": acc_torch, "accuracy_artifact": acc_art,
            "accuracy_delta": acc_art - acc_torch, "size_bytes": size,
            "fp32_onnx_bytes": fp32.stat().st_size,
            "size_ratio_vs_fp32": fp32.stat().st_size / size}


def embed_self_check(model, artifact: Path, meta: dict, prepared, ref: np.ndarray,
                     min_agreement: float, tmp: Path) -> dict:
    """Pick reference windows, store them with the checkpoint's logits in the artifact, then
    load it as a user would (self-check on) and return what the replay measured here."""
    from export import selfcheck
    from export.isa import int8_isa
    from export.runtime import load

    x = prepared.test.x
    q, scale = selfcheck.quantize_windows(x[selfcheck.pick_windows(x, ref)])
    windows = selfcheck.decode_windows(q, scale)
    expected = torch_logits(model, windows)
    host = load(artifact, cache_dir=tmp / "cache", self_check=False).logits(windows)
    graph = graph_semantics_logits(artifact, windows)
    graph = host if graph is None else graph
    measured = {"host_agreement": selfcheck.agreement(host, expected),
                "host_rel_error": selfcheck.rel_error(host, expected),
                "graph_agreement": selfcheck.agreement(graph, expected),
                "graph_rel_error": selfcheck.rel_error(graph, expected), "host": int8_isa()}
    # a reference window the graph itself flips would fail every machine: gate on the lower
    record = selfcheck.encode(q, scale, expected, selfcheck.gates(
        min(min_agreement, measured["graph_agreement"]), measured["graph_rel_error"]), measured)
    _attach(artifact, meta, record)
    try:
        result = load(artifact, cache_dir=tmp / "cache").self_check
    except selfcheck.SelfCheckError as err:
        result = err.result
    return {**result.to_dict(), "graph_rel_error": measured["graph_rel_error"],
            "bytes": len(json.dumps(record, sort_keys=True))}


def graph_semantics_logits(artifact: Path, x: np.ndarray) -> np.ndarray | None:
    """The artifact's logits with onnxruntime's graph optimisation off: Q/DQ pairs run as
    dequantize → float op → quantize, which is what an int8 kernel that does not saturate
    computes (VNNI, ARM dot product); None for TensorRT engines."""
    if artifact.suffix != ".onnx":
        return None
    from export.ortlib import onnxruntime
    ort = onnxruntime()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads, opts.log_severity_level = 1, 3
    session = ort.InferenceSession(str(artifact), opts, providers=["CPUExecutionProvider"])
    return session.run([session.get_outputs()[0].name], {session.get_inputs()[0].name: x})[0]


def _size(artifact: Path) -> int:
    side = artifact.with_suffix(".plan.json")
    return artifact.stat().st_size + (side.stat().st_size if side.exists() else 0)


def _place(artifact: Path, out: Path, accept: bool) -> bool:
    if not accept:
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(f".{out.name}.tmp")
    shutil.copyfile(artifact, tmp_out)
    tmp_out.replace(out)
    side = artifact.with_suffix(".plan.json")
    if side.exists():
        shutil.copyfile(side, out.with_suffix(".plan.json"))
    return True


def _save_report(path: Path, name: str, report: dict) -> None:
    existing = json.loads(path.read_text()) if path.is_file() else {}
    existing[name] = report
    write_json_atomic(path, existing)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
