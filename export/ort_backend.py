"""An ONNX Runtime session tuned for batch-1 decisions (torch-free).

Where the time goes for a 600k-MAC int8 student on one x86 core (issue 13): ``session.run``
wraps every call in input validation, allocates the output OrtValue and converts it to a new
numpy array (~10 µs of ~30); a numpy softmax over 7 logits costs several µs more. So:

* inputs and outputs are bound once per batch size (``IOBinding`` over preallocated numpy
  buffers), a call copies the windows in and runs; nothing is allocated but the returned copy;
* ``run_with_iobinding`` is called without ``RunOptions`` (with one, onnxruntime 1.2x looks up
  a graph-capture key that raises and catches an exception inside every call: ~100 µs) and,
  on the CPU provider, on the session's C++ object directly (see ``_direct_run``);
* the softmax runs inside the graph when the artifact has a ``probs`` output (every artifact
  edgekd >= 0.1 exports), else in numpy;
* sequential execution, full graph optimisation, one thread: a compact model loses more to
  thread hand-offs than it gains;
* the optimised graph is cached on disk (keyed on the artifact's bytes, onnxruntime version,
  providers and CPU), written atomically; a cache file that does not load (truncated by a
  crash, damaged) is deleted and rebuilt from the artifact, never trusted over it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError
from export.ortlib import onnxruntime

log = logging.getLogger("edgekd.export")
PROBS_NAME = "probs"
_MAX_BINDINGS = 8   # batch sizes kept bound; a stream uses one or two


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class _Bound:
    """One batch size's preallocated input and output buffers, bound to the session, and the
    call that runs it."""

    def __init__(self, session, input_name: str, output_name: str, shape: tuple, n_out: int):
        self.x = np.zeros(shape, dtype=np.float32)
        self.out = np.zeros((shape[0], n_out), dtype=np.float32)
        self.binding = session.io_binding()
        self.binding.bind_cpu_input(input_name, self.x)
        self.binding.bind_output(output_name, "cpu", 0, np.float32, list(self.out.shape),
                                 self.out.ctypes.data)
        self.run = _direct_run(session, self.binding)


def _direct_run(session, binding):
    """``session.run_with_iobinding(binding)`` without the Python wrapper's per-call checks
    (onnxruntime 1.2x validates WebGPU graph-capture state on every call: ~3 µs of a ~20 µs
    run); the wrapper is used where the underlying objects are not where onnxruntime 1.18-1.31
    keep them."""
    inner, inner_binding = getattr(session, "_sess", None), getattr(binding, "_iobinding", None)
    if inner is None or inner_binding is None or not hasattr(inner, "run_with_iobinding") \
            or session.get_providers()[0] != "CPUExecutionProvider":
        return lambda: session.run_with_iobinding(binding)
    return lambda: inner.run_with_iobinding(inner_binding, None)


class OrtBackend:
    """``logits(x)`` / ``probs(x)``: windows ``[B, C, T]`` float32 → ``[B, K]`` float32 (new
    arrays; the bound buffers are reused)."""

    def __init__(self, path: Path, threads: int = 1, providers: list[str] | None = None,
                 cache_dir: Path | None = None, n_classes: int | None = None,
                 refresh_cache: bool = False):
        self.path = Path(path)
        self.threads = threads
        self.requested = providers or ["CPUExecutionProvider"]
        self.cache = _cache_path(self.path, self.requested, cache_dir)
        if refresh_cache and self.cache is not None:
            self.cache.unlink(missing_ok=True)
        self.session, self.from_cache = self._open()
        self.providers = self.session.get_providers()
        self.input_name = self.session.get_inputs()[0].name
        outputs = [o.name for o in self.session.get_outputs()]
        self.output_name = outputs[0]
        self.probs_name = PROBS_NAME if PROBS_NAME in outputs[1:] else None
        self.n_classes = n_classes or int(self.session.get_outputs()[0].shape[-1])
        self._bound: dict[str, dict[int, _Bound]] = {}   # output -> batch size -> buffers

    def _options(self):
        ort = onnxruntime()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # the cache below is keyed on ORT, providers and CPU
        return opts

    def _open(self):
        ort = onnxruntime()
        cache = self.cache
        if cache is not None and cache.is_file():
            try:
                return ort.InferenceSession(str(cache), self._options(),
                                            providers=self.requested), True
            except Exception as err:  # truncated or damaged: rebuild from the artifact
                log.warning("%s: optimised-graph cache %s does not load (%s); rebuilding it",
                            self.path, cache, str(err).splitlines()[0][:200])
                cache.unlink(missing_ok=True)
        opts, tmp = self._options(), None
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            # written under a private name and renamed: a crash cannot leave half a cache
            tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
            opts.optimized_model_filepath = str(tmp)
        try:
            session = ort.InferenceSession(str(self.path), opts, providers=self.requested)
        except Exception as err:  # onnxruntime raises its own exception types
            raise EdgekdError(f"{self.path}: onnxruntime cannot load it ({err})") from None
        finally:
            if tmp is not None and tmp.is_file():
                os.replace(tmp, cache)
        return session, False

    def _binding(self, shape: tuple, output: str) -> _Bound:
        bound = _Bound(self.session, self.input_name, output, shape, self.n_classes)
        cache = self._bound.setdefault(output, {})
        if len(cache) >= _MAX_BINDINGS:
            cache.pop(next(iter(cache)))
        cache[shape[0]] = bound
        return bound

    def _run(self, x: np.ndarray, output: str) -> np.ndarray:
        # the hot path: a dict lookup, one copy in, one run (no allocation, no validation)
        bound = self._bound.get(output, {}).get(x.shape[0])
        if bound is None or bound.x.shape != x.shape:
            bound = self._binding(x.shape, output)
        bound.x[...] = x
        bound.run()
        return bound.out

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self._run(x, self.output_name).copy()

    def probs(self, x: np.ndarray) -> np.ndarray:
        if self.probs_name is None:
            return softmax(self._run(x, self.output_name))
        return self._run(x, self.probs_name).copy()

    run = logits   # the backend protocol shared with TensorRTBackend


def _cache_path(path: Path, providers: list[str], cache_dir: Path | None) -> Path | None:
    if cache_dir is None:
        env = os.environ.get("EDGEKD_CACHE")
        if env == "0":
            return None
        cache_dir = Path(env) if env else Path.home() / ".cache" / "edgekd"
    ort = onnxruntime()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    # a fully optimised graph may use this CPU's kernels (NCHWc): key the cache on the CPU too
    key = f"{digest}-ort{ort.__version__}-{'+'.join(providers)}-{_cpu_fingerprint()}"
    return Path(cache_dir) / f"{key}.onnx"


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
