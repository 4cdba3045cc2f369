"""Self-checking artifacts: reference windows and the checkpoint's logits for them travel inside
the artifact, and the loader replays them on the machine it runs on (issue 13).

Why: an artifact can pass parity on the machine that exported it and still be wrong elsewhere
(int8 kernels that saturate on x86 without VNNI, a different onnxruntime, a damaged file). The
replay costs milliseconds, so every load does it.

What is stored (JSON, under the ONNX ``metadata_props`` key ``edgekd.self_check``; inside the
sidecar of a TensorRT engine):

* ``n`` windows ``[n, C, T]`` from the split's held-out test part, stratified over the
  checkpoint's classes, leaving out near ties (the lowest quarter of top-1/top-2 margins: there
  a flip is noise, not a fault); stored as 6-bit integers (±31) with one float32 scale per
  window and channel, zlib-compressed, base85: ~10 KiB for 24 windows of 8 x 52. The
  checkpoint's logits are computed on the *decoded* windows, so the replay input is
  bit-identical on every machine, and 31 levels per window and channel are finer than the
  step of an int8 model's own input quantizer (one scale for the whole calibration range).
* the checkpoint's float32 logits ``[n, K]``;
* the gates: ``min_agreement`` (the export's parity threshold, or the graph's own agreement
  on these windows if lower) and ``max_rel_error``;
* what the export measured: top-1 agreement and relative logit error on the export host and
  under the graph's reference semantics (onnxruntime with graph optimisation off: quantized
  ops run as dequantize → float op → quantize, the arithmetic an int8 kernel that does not
  saturate reproduces).

Relative logit error = mean |Δ| of class-centred logits / mean |class-centred reference logits|
(centred because softmax ignores a shift). The gate allows the graph's own error times 2, or
plus 0.02, whichever is larger: kernels that differ only in rounding (VNNI, ARM dot product,
fp16 units) stay well inside it; saturating int8 kernels, changed weights or changed reference
logits do not (benchmarks/int8_recipes measures both). Torch-free.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from edgekd.errors import EdgekdError

KEY = "edgekd.self_check"
VERSION = 1
N_WINDOWS = 24
LEVELS = 31   # 6-bit windows: see the module doc
REL_ERROR_FACTOR, REL_ERROR_SLACK = 2.0, 0.02


class SelfCheckError(EdgekdError):
    """The artifact does not reproduce its checkpoint on this machine."""

    def __init__(self, message: str, result: "SelfCheckResult"):
        super().__init__(message)
        self.result = result


def rel_error(got: np.ndarray, ref: np.ndarray) -> float:
    """Mean absolute difference of class-centred logits, relative to the reference's spread."""
    g = got - got.mean(axis=1, keepdims=True)
    r = ref - ref.mean(axis=1, keepdims=True)
    return float(np.abs(g - r).mean() / max(float(np.abs(r).mean()), 1e-12))


def agreement(got: np.ndarray, ref: np.ndarray) -> float:
    return float((got.argmax(axis=1) == ref.argmax(axis=1)).mean())


def pick_windows(x: np.ndarray, logits: np.ndarray, n: int = N_WINDOWS,
                 seed: int = 0) -> np.ndarray:
    """Indices of ``n`` windows: margins above the lowest quarter, classes taken in turn."""
    top2 = np.sort(logits, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    keep = np.flatnonzero(margin >= np.quantile(margin, 0.25))
    rng = np.random.default_rng(seed)
    pred = logits.argmax(axis=1)
    pools = [list(rng.permutation(keep[pred[keep] == c])) for c in np.unique(pred[keep])]
    chosen: list[int] = []
    while len(chosen) < min(n, len(keep)):
        for pool in pools:
            if pool and len(chosen) < n:
                chosen.append(int(pool.pop()))
    return np.sort(np.array(chosen, dtype=np.int64))


def quantize_windows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 in ±LEVELS ``[n, C, T]``, float32 scales ``[n, C, 1]``) of windows ``[n, C, T]``."""
    scale = (np.abs(x).max(axis=2, keepdims=True) / LEVELS).astype(np.float32)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(x / scale), -LEVELS, LEVELS).astype(np.int8)
    return q, scale


def decode_windows(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) * scale


def _b85(a: np.ndarray, compress: bool = False) -> str:
    # base85: 6 % smaller than base64, and its alphabet needs no escaping in JSON
    raw = np.ascontiguousarray(a).tobytes()
    return base64.b85encode(zlib.compress(raw, 9) if compress else raw).decode("ascii")


def _unb85(text: str, dtype, shape, compressed: bool = False) -> np.ndarray:
    raw = base64.b85decode(text.encode("ascii"))
    raw = zlib.decompress(raw) if compressed else raw
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def encode(q: np.ndarray, scale: np.ndarray, logits: np.ndarray, gates: dict,
           measured: dict) -> dict:
    """The stored record (see the module doc); ``logits`` are the checkpoint's on the decoded
    windows."""
    return {"version": VERSION, "shape": list(q.shape), "n_classes": int(logits.shape[1]),
            "windows_int6_zlib": _b85(q, compress=True), "scales": _b85(scale),
            "logits": _b85(logits.astype(np.float32)), **gates, "export": measured}


def decode(text: str, where: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """(record without arrays, windows float32 ``[n, C, T]``, logits ``[n, K]``)."""
    try:
        rec = json.loads(text)
        if rec.get("version", 0) > VERSION:
            raise EdgekdError(f"{where}: self-check record version {rec['version']} is newer "
                              "than this edgekd; upgrade edgekd")
        n, c, t = rec["shape"]
        q = _unb85(rec["windows_int6_zlib"], np.int8, (n, c, t), compressed=True)
        scale = _unb85(rec["scales"], np.float32, (n, c, 1))
        logits = _unb85(rec["logits"], np.float32, (n, rec["n_classes"]))
        float(rec["min_agreement"]), float(rec["max_rel_error"])
    except EdgekdError:
        raise
    except (ValueError, KeyError, TypeError, zlib.error) as err:
        raise EdgekdError(f"{where}: the self-check record is damaged ({type(err).__name__}: "
                          f"{err}); re-export the artifact") from None
    info = {k: v for k, v in rec.items() if k not in ("windows_int6_zlib", "scales", "logits")}
    return info, decode_windows(q, scale), logits


def gates(min_agreement: float, graph_rel_error: float) -> dict:
    """The load-time thresholds for an export whose graph has ``graph_rel_error``."""
    return {"min_agreement": float(min_agreement),
            "max_rel_error": float(max(REL_ERROR_FACTOR * graph_rel_error,
                                       graph_rel_error + REL_ERROR_SLACK))}


@dataclass
class SelfCheckResult:
    """What the replay measured on this machine (``status``: passed, failed, skipped,
    unavailable)."""

    status: str
    n_windows: int = 0
    agreement: float | None = None
    rel_error: float | None = None
    min_agreement: float | None = None
    max_rel_error: float | None = None
    export_agreement: float | None = None
    export_rel_error: float | None = None
    ms: float | None = None
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line for a CLI."""
        if self.status in ("skipped", "unavailable"):
            return f"self-check {self.status}" + (f": {self.note}" if self.note else "")
        return (f"self-check {self.status}: top-1 agreement {self.agreement:.3f} (needs >= "
                f"{self.min_agreement:g}), relative logit error {self.rel_error:.4f} (allowed "
                f"<= {self.max_rel_error:.4f}; export host {self.export_rel_error:.4f}) on "
                f"{self.n_windows} reference windows, {self.ms:.1f} ms")


def replay(run_logits, info: dict, windows: np.ndarray, ref: np.ndarray) -> SelfCheckResult:
    """Run ``run_logits(windows) -> logits`` and compare with the checkpoint's ``ref``."""
    start = time.perf_counter()
    got = np.asarray(run_logits(windows), dtype=np.float32)
    ms = (time.perf_counter() - start) * 1e3
    if got.shape != ref.shape:
        raise EdgekdError(f"self-check: the model returns {got.shape}, the reference has "
                          f"{ref.shape}")
    agree, err = agreement(got, ref), rel_error(got, ref)
    ok = agree >= info["min_agreement"] and err <= info["max_rel_error"]
    export = info.get("export", {})
    return SelfCheckResult("passed" if ok else "failed", len(ref), agree, err,
                           info["min_agreement"], info["max_rel_error"],
                           export.get("host_agreement"), export.get("host_rel_error"), ms)


def refusal(where: str, result: SelfCheckResult, isa: dict | None) -> SelfCheckError:
    """The error a failed self-check raises: what was measured, and what to do."""
    host = ", ".join(isa.get("int8_flags", [])) if isa else "unknown"
    return SelfCheckError(
        f"{where}: the artifact does not reproduce its checkpoint on this machine: top-1 "
        f"agreement {result.agreement:.3f} (needs >= {result.min_agreement:g}), relative logit "
        f"error {result.rel_error:.4f} (allowed <= {result.max_rel_error:.4f}; "
        f"{result.export_rel_error:.4f} where it was exported, on {host}) over "
        f"{result.n_windows} reference windows. If it is an INT8 artifact exported with "
        "full-range weights, re-export it with the default (7-bit) recipe; if the file was "
        "changed, export it again; to load it anyway pass self_check=False (CLI: "
        "--no-self-check)", result)
