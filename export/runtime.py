"""Load an exported artifact and predict, without torch (the edge host has numpy, scipy,
onnxruntime and pyserial only).

    predictor = export.runtime.load("student.int8.onnx")
    probs = predictor.predict(raw_window)          # [n_chans, window] in physical units
    stream = predictor.stream()                    # carries filter state across chunks
    ends, probs = stream.push(samples)             # [n, n_chans] as they arrive

``predict`` filters each raw window on its own, from its first sample, so the first few samples
carry a filter transient; ``stream`` reproduces the training windows exactly (same causal
filter, same carried state) and is what ``edgekd stream`` uses.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError
from edgekd.signal import Preprocessor, PreprocessSpec
from export import metadata as md


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class OrtBackend:
    """An ONNX Runtime session tuned for batch-1 latency: sequential execution, full graph
    optimisation, few threads (small models lose time to thread hand-offs), and the optimised
    graph cached on disk so the next start skips optimisation."""

    def __init__(self, path: Path, threads: int = 1, providers: list[str] | None = None,
                 cache_dir: Path | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # the cache below is keyed on ORT, providers and CPU
        providers = providers or ["CPUExecutionProvider"]
        source = path
        cached = _cache_path(path, providers, cache_dir)
        if cached is not None:
            if cached.is_file():
                source = cached
            else:
                cached.parent.mkdir(parents=True, exist_ok=True)
                opts.optimized_model_filepath = str(cached)
        try:
            self.session = ort.InferenceSession(str(source), opts, providers=providers)
        except Exception as err:  # onnxruntime raises its own exception types
            raise EdgekdError(f"{path}: onnxruntime cannot load it ({err})") from None
        self.providers = self.session.get_providers()
        self.input_name = self.session.get_inputs()[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x})[0]


def _cache_path(path: Path, providers: list[str], cache_dir: Path | None) -> Path | None:
    if cache_dir is None:
        env = os.environ.get("EDGEKD_CACHE")
        if env == "0":
            return None
        cache_dir = Path(env) if env else Path.home() / ".cache" / "edgekd"
    import onnxruntime as ort
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    # a fully optimised graph may use this CPU's kernels (NCHWc): key the cache on the CPU too
    key = f"{digest}-ort{ort.__version__}-{'+'.join(providers)}-{_cpu_fingerprint()}"
    return cache_dir / f"{key}.onnx"


def _cpu_fingerprint() -> str:
    import platform
    text = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))][:2]
        text += "".join(lines)
    except OSError:
        text += platform.processor()
    return hashlib.sha256(text.encode()).hexdigest()[:8]


class Predictor:
    """A loaded artifact: its metadata, its preprocessing and a backend."""

    def __init__(self, path: Path, meta: dict, backend):
        self.path, self.metadata, self.backend = path, meta, backend
        self.spec = PreprocessSpec.from_dict(meta["preprocess"])
        self.label_names: list[str] = meta["label_names"]

    def predict_windows(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities ``[B, n_classes]`` for windows ``[B, C, T]`` already filtered and
        normalised (as the training pipeline makes them)."""
        return softmax(self.logits(windows))

    def logits(self, windows: np.ndarray) -> np.ndarray:
        x = np.asarray(windows, dtype=np.float32)
        expected = (self.spec.n_chans, self.spec.window.window)
        if x.ndim != 3 or x.shape[1:] != expected:
            raise EdgekdError(f"expected windows [batch, {expected[0]}, {expected[1]}], got "
                              f"{x.shape}")
        return self.backend.run(np.ascontiguousarray(x))

    def predict(self, window_raw: np.ndarray) -> np.ndarray:
        """Raw window(s) in physical units, ``[C, T]`` or ``[B, C, T]`` → probabilities. Each
        window is filtered on its own (see the module doc); use ``stream()`` for signals."""
        raw = np.asarray(window_raw, dtype=np.float32)
        single = raw.ndim == 2
        batch = raw[None] if single else raw
        prepared = np.stack([self._prepare_one(w) for w in batch])
        probs = self.predict_windows(prepared)
        return probs[0] if single else probs

    def _prepare_one(self, window: np.ndarray) -> np.ndarray:
        spec = PreprocessSpec(self.spec.fs, self.spec.n_chans, type(self.spec.window)(
            window.shape[-1], window.shape[-1]), self.spec.filters, self.spec.normalizer)
        out, _ = Preprocessor(spec).push(window.T)
        if len(out) != 1:
            raise EdgekdError(f"expected a window [{self.spec.n_chans}, "
                              f"{self.spec.window.window}], got {window.shape}")
        return out[0]

    def stream(self) -> "StreamingPredictor":
        return StreamingPredictor(self)


class StreamingPredictor:
    """Carries filter state across chunks: the live path's preprocessing is the training one."""

    def __init__(self, predictor: Predictor, hop: int | None = None):
        self.predictor = predictor
        spec = predictor.spec
        if hop is not None:
            spec = PreprocessSpec(spec.fs, spec.n_chans, type(spec.window)(spec.window.window, hop),
                                  spec.filters, spec.normalizer)
        self.preprocessor = Preprocessor(spec)

    def push(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Samples ``[n, C]`` (physical units) → (end sample indices, probabilities)."""
        windows, ends = self.preprocessor.push(samples)
        if len(windows) == 0:
            return ends, np.empty((0, len(self.predictor.label_names)), dtype=np.float32)
        return ends, self.predictor.predict_windows(windows)


def read_metadata(path: str | Path) -> dict:
    """The validated metadata of an artifact (ONNX metadata_props or engine sidecar)."""
    path = Path(path)
    if not path.is_file():
        raise EdgekdError(f"{path}: artifact not found")
    if path.suffix == ".plan":
        side = path.with_suffix(".plan.json")
        if not side.is_file():
            raise EdgekdError(f"{path}: TensorRT engine without its metadata sidecar {side.name}")
        return md.decode(side.read_text(), str(side))
    return md.decode(_onnx_metadata(path), str(path))


def _onnx_metadata(path: Path) -> str:
    import onnxruntime as ort
    try:
        meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
    except Exception as err:
        raise EdgekdError(f"{path}: not a loadable ONNX model ({err})") from None
    text = meta.custom_metadata_map.get(md.METADATA_KEY)
    if text is None:
        raise EdgekdError(f"{path}: not an edgekd artifact (no '{md.METADATA_KEY}' metadata); "
                          "export it with `edgekd export`")
    return text


def load(path: str | Path, threads: int = 1, providers: list[str] | None = None,
         cache_dir: str | Path | None = None) -> Predictor:
    """Load an artifact (``.onnx`` or TensorRT ``.plan`` with its JSON sidecar)."""
    path = Path(path)
    meta = read_metadata(path)
    if path.suffix == ".plan":
        from export.tensorrt_runtime import TensorRTBackend
        backend = TensorRTBackend(path)
    else:
        backend = OrtBackend(path, threads, providers, Path(cache_dir) if cache_dir else None)
    return Predictor(path, meta, backend)


__all__ = ["Predictor", "StreamingPredictor", "load", "read_metadata", "softmax"]
