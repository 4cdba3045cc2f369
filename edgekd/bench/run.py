"""``edgekd bench``: per input (a run directory or an exported artifact) and per format —
export status, size, accuracy on held-out windows, batch-1 and batch-N latency — plus MACs,
the machine, and the figures. Results are plain dicts (JSON)."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekd.bench.latency import pin_cores, summarize, time_calls
from edgekd.errors import ConfigError, EdgekdError

log = logging.getLogger("edgekd.bench")
DEFAULT_FORMATS = ("torch", "onnx", "onnx-int8", "onnx-fp16")
# status legend (ultralytics-style)
OK, FAILED_VALIDATION, FAILED_EXPORT = "ok", "exported, failed validation", "failed to export"


@dataclass
class BenchOptions:
    inputs: list[Path]
    formats: tuple[str, ...] = DEFAULT_FORMATS
    data: Path | None = None
    split: str | None = None
    batch: int = 64
    threads: int = 1
    cores: int | None = None
    warmup: int = 50
    runs: int = 500
    floor: float | None = None
    work: Path | None = None
    extra_formats: list[str] = field(default_factory=list)
    device: str = "cpu"   # cuda: torch on the GPU, onnxruntime's CUDA provider, TensorRT as is
    self_check: bool = True   # replay each artifact's reference windows at load (issue 13)


CUDA_PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]


def check_device(opts: BenchOptions) -> None:
    """Refuse a device the requested formats cannot run on, before any work starts."""
    if opts.device == "cpu":
        return
    if opts.device != "cuda":
        raise ConfigError(f"--device {opts.device!r}: expected cpu or cuda")
    runs = any(Path(p).is_dir() for p in opts.inputs)
    if runs and "torch" in opts.formats:
        import torch
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda: torch sees no CUDA GPU")
    onnx_rows = runs and any(f.startswith("onnx") for f in opts.formats)
    if onnx_rows or any(Path(p).suffix == ".onnx" for p in opts.inputs):
        from export.ortlib import onnxruntime
        ort = onnxruntime()
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ConfigError("--device cuda: this onnxruntime has no CUDA provider (install "
                              "onnxruntime-gpu), or bench only --formats torch,tensorrt")


def require_providers(predictor, providers: list[str] | None) -> None:
    """onnxruntime falls back to the CPU when a provider fails to load; a GPU latency measured
    on the CPU would be a wrong number, so that is an error here."""
    if providers and providers[0] not in predictor.backend.providers \
            and predictor.backend.providers != ["TensorRT"]:
        raise EdgekdError(f"{predictor.path}: onnxruntime did not start {providers[0]} "
                          f"(it runs on {predictor.backend.providers})")


def _providers(opts: BenchOptions) -> list[str] | None:
    return CUDA_PROVIDERS if opts.device == "cuda" else None


def bench(opts: BenchOptions, on_row=None) -> dict:
    if "c" in opts.formats:   # a C library runs on a microcontroller, not through a runtime here
        raise ConfigError("--formats c: edgekd bench times artifacts on this machine; the C "
                          "library's sizes and instruction counts come from its export report "
                          "(and python -m benchmarks.mcu_export)")
    check_device(opts)
    cores = pin_cores(opts.cores)
    work = opts.work or Path(tempfile.mkdtemp(prefix="edgekd-bench-"))
    entries = []
    for path in opts.inputs:
        entries.append(bench_input(Path(path), opts, work, on_row))
    result = {"entries": entries, "cores": cores, "threads": opts.threads,
              "batch": opts.batch, "warmup": opts.warmup, "runs": opts.runs,
              "machine": machine(), "floor": opts.floor, "device": opts.device}
    if opts.device == "cuda":
        import torch
        result["gpu"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    result["floor_failures"] = floor_failures(result, opts.floor)
    return result


def bench_input(path: Path, opts: BenchOptions, work: Path, on_row) -> dict:
    """One run directory (every requested format) or one artifact (as it is)."""
    if path.is_dir():
        return _bench_run(path, opts, work, on_row)
    return _bench_artifact(path, opts, on_row)


def _bench_run(run_dir: Path, opts: BenchOptions, work: Path, on_row) -> dict:
    from edgekd.profiling import count_macs, count_parameters
    from export.pipeline import ExportRequest, _load_split, choose_checkpoint, export_run

    ckpt, split = choose_checkpoint(run_dir, opts.split or _first_split(run_dir))
    model, ck, prepared = _load_split(ckpt, split, opts.data)
    x, y = prepared.test.x, prepared.test.y
    spec = prepared.spec
    entry = {"input": str(run_dir), "split": split, "model": ck["model_config"]["name"],
             "role": ck["model_config"]["role"], "parameters": count_parameters(model),
             "macs": count_macs(model, (spec.n_chans, spec.window.window)),
             "n_test_windows": int(len(y)), "rows": []}
    for fmt in opts.formats:
        if fmt == "torch":
            row = _torch_row(model, x, y, opts)
        else:
            out = work / f"{_safe(run_dir.name)}-{_safe(split)}{_suffix(fmt)}"
            try:
                report = export_run(ExportRequest(run_dir, fmt, out=out, split=split,
                                                  data=opts.data, force=True,
                                                  precision="fp16" if fmt == "tensorrt" else None))
            except EdgekdError as err:
                row = {"format": fmt, "status": FAILED_EXPORT, "error": str(err)}
            else:
                row = _artifact_row(out, x, y, opts, fmt)
                if not report["passed"] and row["status"] == OK:
                    row["status"] = FAILED_VALIDATION
                    row["error"] = f"top-1 agreement {report['top1_agreement']:.4f} with torch"
        entry["rows"].append(row)
        if on_row:
            on_row(entry, row)
    return entry


def _bench_artifact(path: Path, opts: BenchOptions, on_row) -> dict:
    """An artifact as given: loads it (a broken one is a failed row), evaluates on --data."""
    entry = {"input": str(path), "split": None, "model": None, "role": None, "rows": []}
    fmt = "artifact"
    try:
        predictor, refused = _load_checked(path, opts)
        entry["model"] = predictor.metadata["model"]["name"]
        entry["role"] = predictor.metadata["model"].get("role")
        fmt = predictor.metadata["format"]
        x, y = _artifact_data(predictor, opts.data)
        row = _artifact_row(path, x, y, opts, fmt, (predictor, refused))
    except EdgekdError as err:
        row = {"format": fmt, "status": FAILED_EXPORT, "error": str(err)}
    entry["rows"].append(row)
    if on_row:
        on_row(entry, row)
    return entry


def _artifact_data(predictor, data: Path | None):
    if data is None:
        raise EdgekdError("benchmarking an artifact needs --data PATH to measure accuracy")
    from edgekd.data.readers import read_dataset
    from edgekd.data.windowing import dataset_windows
    ws = dataset_windows(read_dataset(data), predictor.spec)   # normalised by the artifact
    return ws.x, ws.y


def _torch_row(model, x, y, opts: BenchOptions) -> dict:
    import torch
    torch.set_num_threads(opts.threads)
    dev = torch.device(opts.device)
    model = model.eval().to(dev)

    def probs(batch: np.ndarray) -> np.ndarray:
        # numpy in, numpy out, as the live path sees it: on a GPU the copies count (and the
        # copy back waits for the kernels, so each timed call is complete)
        return torch.softmax(model(torch.from_numpy(batch).to(dev)), 1).cpu().numpy()

    with torch.no_grad():
        pred = np.concatenate([probs(x[i:i + 512]).argmax(1) for i in range(0, len(x), 512)])
        one, many = np.ascontiguousarray(x[:1]), _batch(x, opts.batch)
        lat1 = time_calls(lambda: probs(one), opts.warmup, opts.runs)
        latn = time_calls(lambda: probs(many), max(5, opts.warmup // 5),
                          max(20, opts.runs // 5))
    backend = "PyTorch eager fp32" + (" on CUDA" if dev.type == "cuda" else "")
    return {"format": "torch", "status": OK, "backend": backend,
            "size_bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
            "accuracy": float((pred == y).mean()), "latency_batch1": summarize(lat1, 1),
            "latency_batchN": summarize(latn, opts.batch), "latency_us": lat1.tolist()}


def _load_checked(path: Path, opts: BenchOptions):
    """(predictor, the self-check refusal or None): a refused artifact is still measured,
    unchecked, so its row can show what it does; its status says it was refused."""
    from export.runtime import load
    from export.selfcheck import SelfCheckError
    refused = None
    try:
        predictor = load(path, threads=opts.threads, providers=_providers(opts),
                         self_check=opts.self_check)
    except SelfCheckError as err:
        refused = err
        predictor = load(path, threads=opts.threads, providers=_providers(opts),
                         self_check=False)
    require_providers(predictor, _providers(opts))
    return predictor, refused


def _artifact_row(path: Path, x, y, opts: BenchOptions, fmt: str, loaded=None) -> dict:
    """Accuracy and latency of an artifact through edgekd's runtime: a prepared window in,
    class probabilities out (what one decision costs)."""
    predictor, refused = loaded or _load_checked(path, opts)
    pred = np.concatenate([predictor.logits(x[i:i + 512]).argmax(1)
                           for i in range(0, len(x), 512)])
    one, many = np.ascontiguousarray(x[:1]), _batch(x, opts.batch)
    lat1 = time_calls(lambda: predictor.predict_windows(one), opts.warmup, opts.runs)
    latn = time_calls(lambda: predictor.predict_windows(many), max(5, opts.warmup // 5),
                      max(20, opts.runs // 5))
    row = {"format": fmt, "status": OK, "backend": " + ".join(predictor.backend.providers),
           "artifact": str(path), "size_bytes": path.stat().st_size,
           "accuracy": float((pred == y).mean()), "latency_batch1": summarize(lat1, 1),
           "latency_batchN": summarize(latn, opts.batch), "latency_us": lat1.tolist(),
           "self_check": (refused.result if refused else predictor.self_check).to_dict()}
    if refused:
        row["status"], row["error"] = FAILED_VALIDATION, str(refused)
    return row


def _batch(x: np.ndarray, n: int) -> np.ndarray:
    reps = int(np.ceil(n / len(x)))
    return np.ascontiguousarray(np.concatenate([x] * reps)[:n])


def floor_failures(result: dict, floor: float | None) -> list[str]:
    """Rows that fail the gate: any failed status, or accuracy below ``floor``."""
    if floor is None:
        return []
    bad = []
    for e in result["entries"]:
        for r in e["rows"]:
            if r["status"] != OK or r.get("accuracy", 0.0) < floor:
                bad.append(f"{e['input']} [{r['format']}]: {r['status']}"
                           + (f", accuracy {r['accuracy']:.4f} < {floor}" if "accuracy" in r
                              else f" ({r.get('error', '')})"))
    return bad


def machine() -> dict:
    import importlib.metadata
    import os
    import platform
    versions = {}
    for name in ("torch", "onnxruntime", "onnx", "numpy", "edgekd", "tensorrt"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    cpu = platform.processor()
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "packages": versions}


def _first_split(run_dir: Path) -> str:
    from edgekd.train.runs import split_models
    return sorted(split_models(run_dir))[0]


def _suffix(fmt: str) -> str:
    from export.formats import FORMATS
    return FORMATS.get(fmt).suffix


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
