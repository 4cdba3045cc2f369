"""Load an exported artifact and predict, without torch (the edge host has numpy, scipy,
onnxruntime and pyserial only).

    predictor = export.runtime.load("student.int8.onnx")   # replays its self-check first
    probs = predictor.predict(raw_window)          # [n_chans, window] in physical units
    stream = predictor.stream()                    # carries filter state across chunks
    ends, probs = stream.push(samples)             # [n, n_chans] as they arrive

``predict`` filters each raw window on its own, from its first sample, so the first few samples
carry a filter transient; ``stream`` reproduces the training windows exactly (same causal
filter, same carried state) and is what ``edgekd stream`` uses.

``load`` runs the artifact's reference windows on this machine and refuses an artifact that
does not reproduce its checkpoint here (``export.selfcheck``); ``self_check=False`` (or the
environment variable ``EDGEKD_SELF_CHECK=0``) loads it unchecked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError
from edgekd.signal import Preprocessor, PreprocessSpec
from export import metadata as md
from export import selfcheck
from export.ort_backend import OrtBackend, softmax
from export.ortlib import onnxruntime

_F32 = np.dtype(np.float32)


class Predictor:
    """A loaded artifact: its metadata, its preprocessing, a backend and its self-check.

    The backend reuses preallocated input/output buffers between calls (results are returned
    as fresh arrays), so one Predictor serves one thread: load one per thread to run several.
    """

    def __init__(self, path: Path, meta: dict, backend,
                 self_check: selfcheck.SelfCheckResult | None = None):
        self.path, self.metadata, self.backend = path, meta, backend
        self.spec = PreprocessSpec.from_dict(meta["preprocess"])
        self.label_names: list[str] = meta["label_names"]
        self.self_check = self_check or selfcheck.SelfCheckResult("skipped")
        self._shape = (self.spec.n_chans, self.spec.window.window)
        # TensorRT engines have no probs output and no probs(): softmax in numpy there
        self._probs = getattr(backend, "probs", None) or (lambda x: softmax(backend.run(x)))

    def predict_windows(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities ``[B, n_classes]`` for windows ``[B, C, T]`` already filtered and
        normalised (as the training pipeline makes them)."""
        return self._probs(self._checked(windows))

    def logits(self, windows: np.ndarray) -> np.ndarray:
        """Logits ``[B, n_classes]`` for prepared windows ``[B, C, T]``."""
        return self.backend.run(self._checked(windows))

    def _checked(self, windows: np.ndarray) -> np.ndarray:
        # written for speed: this runs once per decision (~1 µs of a ~25 µs call)
        x = windows if type(windows) is np.ndarray and windows.dtype is _F32 \
            else np.asarray(windows, dtype=np.float32)
        shape = x.shape
        if len(shape) != 3 or shape[1] != self._shape[0] or shape[2] != self._shape[1]:
            raise EdgekdError(f"expected windows [batch, {self._shape[0]}, {self._shape[1]}], "
                              f"got {x.shape}")
        return x

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
        self._probs = predictor._probs     # the preprocessor's windows need no shape check
        self._none = np.empty((0, len(predictor.label_names)), dtype=np.float32)

    def push(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Samples ``[n, C]`` (physical units) → (end sample indices ``[k]``, probabilities
        ``[k, n_classes]``); most pushes of a live stream complete no window (k = 0)."""
        windows, ends = self.preprocessor.push(samples)
        if len(windows) == 0:
            return ends, self._none
        return ends, self._probs(windows)


def read_metadata(path: str | Path) -> dict:
    """The validated metadata of an artifact (ONNX metadata_props or engine sidecar)."""
    return _read(Path(path))[0]


def _read(path: Path) -> tuple[dict, str | None]:
    """(validated metadata, the self-check record's JSON or None)."""
    if not path.is_file():
        raise EdgekdError(f"{path}: artifact not found")
    if path.suffix == ".plan":
        side = path.with_suffix(".plan.json")
        if not side.is_file():
            raise EdgekdError(f"{path}: TensorRT engine without its metadata sidecar {side.name}")
        try:
            doc = json.loads(side.read_text())
        except json.JSONDecodeError as err:
            raise EdgekdError(f"{side}: artifact metadata is not valid JSON ({err.msg})") from None
        record = doc.pop("self_check", None) if isinstance(doc, dict) else None
        return md.decode(json.dumps(doc), str(side)), \
            (json.dumps(record) if record is not None else None)
    props = _onnx_metadata(path)
    return md.decode(props[md.METADATA_KEY], str(path)), props.get(selfcheck.KEY)


def _onnx_metadata(path: Path) -> dict:
    ort = onnxruntime()
    opts = ort.SessionOptions()
    # only the metadata is wanted: no graph optimisation (the backend's session does that)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    try:
        meta = ort.InferenceSession(str(path), opts,
                                    providers=["CPUExecutionProvider"]).get_modelmeta()
    except Exception as err:
        raise EdgekdError(f"{path}: not a loadable ONNX model ({err})") from None
    props = dict(meta.custom_metadata_map)
    if md.METADATA_KEY not in props:
        raise EdgekdError(f"{path}: not an edgekd artifact (no '{md.METADATA_KEY}' metadata); "
                          "export it with `edgekd export`")
    return props


def load(path: str | Path, threads: int = 1, providers: list[str] | None = None,
         cache_dir: str | Path | None = None, self_check: bool | None = None) -> Predictor:
    """Load an artifact (``.onnx`` or TensorRT ``.plan`` with its JSON sidecar) and replay its
    self-check on this machine; raises ``selfcheck.SelfCheckError`` when it fails.
    ``self_check=None`` follows ``EDGEKD_SELF_CHECK`` (default on)."""
    path = Path(path)
    meta, record = _read(path)
    if self_check is None:
        self_check = os.environ.get("EDGEKD_SELF_CHECK", "1") != "0"
    cache = Path(cache_dir) if cache_dir else None
    backend = _backend(path, meta, threads, providers, cache)
    if not self_check:
        return Predictor(path, meta, backend, selfcheck.SelfCheckResult(
            "skipped", note="self_check=False / --no-self-check"))
    if record is None:
        return Predictor(path, meta, backend, selfcheck.SelfCheckResult(
            "unavailable", note="the artifact carries no reference windows (exported by an "
                                "older edgekd); re-export it to get a self-check"))
    info, windows, ref = selfcheck.decode(record, str(path))
    result = selfcheck.replay(backend.run, info, windows, ref)
    if not result.passed and getattr(backend, "from_cache", False):
        # the cached optimised graph may be the damaged part: rebuild it from the artifact
        backend = _backend(path, meta, threads, providers, cache, refresh=True)
        result = selfcheck.replay(backend.run, info, windows, ref)
    if not result.passed:
        raise selfcheck.refusal(str(path), result, info.get("export", {}).get("host"))
    return Predictor(path, meta, backend, result)


def _backend(path: Path, meta: dict, threads: int, providers: list[str] | None,
             cache: Path | None, refresh: bool = False):
    if path.suffix == ".plan":
        from export.tensorrt_runtime import TensorRTBackend
        return TensorRTBackend(path)
    return OrtBackend(path, threads, providers, cache, len(meta["label_names"]), refresh)


__all__ = ["OrtBackend", "Predictor", "StreamingPredictor", "load", "read_metadata", "softmax"]
