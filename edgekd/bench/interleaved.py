"""Latencies of several callables measured interleaved, in one process.

On a shared machine a one-after-the-other comparison mostly measures what the neighbours did in
the meantime (two runs of one benchmark gave 6.5x and 18.2x for the same pair of rows). Taking
the calls in short alternating blocks puts every contender under the same load, and a ratio
taken block by block (then its median) cancels the load that the blocks share.
"""

from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np


def load_average() -> list[float] | None:
    """1-, 5- and 15-minute load averages (None where the OS has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def time_interleaved(fns: dict[str, Callable[[], object]], blocks: int = 30,
                     block_calls: int = 200, warmup: int = 200) -> dict:
    """Per-call wall times (µs) of each callable, taken in ``blocks`` rounds of ``block_calls``
    calls each, the callables alternating round by round (their order rotating, so none always
    follows the same neighbour). Returns ``{"samples": {name: array}, "block_p50": {name:
    array [blocks]}, "load_before", "load_after"}``."""
    names = list(fns)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {n: np.empty(blocks * block_calls) for n in names}
    block_p50 = {n: np.empty(blocks) for n in names}
    load_before = load_average()
    clock = time.perf_counter_ns
    for b in range(blocks):
        for n in names[b % len(names):] + names[:b % len(names)]:
            fn, out = fns[n], samples[n][b * block_calls:(b + 1) * block_calls]
            for i in range(block_calls):
                start = clock()
                fn()
                out[i] = clock() - start
            out /= 1e3
            block_p50[n][b] = np.median(out)
    return {"samples": samples, "block_p50": block_p50, "load_before": load_before,
            "load_after": load_average()}


def block_ratio(result: dict, slow: str, fast: str) -> dict:
    """``slow``/``fast`` p50 ratio per block: median, min and max."""
    r = result["block_p50"][slow] / result["block_p50"][fast]
    return {"median": float(np.median(r)), "min": float(r.min()), "max": float(r.max())}


def ort_iobinding_call(path, window: np.ndarray, threads: int = 1) -> Callable[[], object]:
    """The tuned-ORT baseline: the artifact in a plain onnxruntime session set up as a careful
    user would (one thread, sequential, full optimisation), the window already in a bound
    input buffer, the logits written into a preallocated bound output: one call is one
    ``run_with_iobinding``, no edgekd code on the path."""
    from export.ortlib import onnxruntime
    ort = onnxruntime()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(window, dtype=np.float32)
    out_meta = session.get_outputs()[0]
    out = np.empty((x.shape[0], int(out_meta.shape[-1])), dtype=np.float32)
    binding = session.io_binding()
    binding.bind_cpu_input(session.get_inputs()[0].name, x)
    binding.bind_output(out_meta.name, "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
    keep = (x, out)   # the bound buffers must outlive the binding

    def call():
        session.run_with_iobinding(binding)
        return keep[1]
    return call
