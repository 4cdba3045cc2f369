"""The integer arithmetic that the C library and the numpy reference share, defined once.

Requantisation ``y = clamp(rne(acc · M / 2^n) + z, lo, hi)``: ``acc`` an int32 accumulator,
``M`` an integer multiplier below 2^31, ``n`` a right shift in [1, 62], ``rne`` rounding to
nearest with ties to even (what ONNX QuantizeLinear specifies). The product is formed in int64,
so nothing saturates before the final clamp. For a float32 ratio (the requantisation scale that
onnxruntime's fused QLinearConv/QGemm kernels compute in float32), ``M / 2^n`` equals the float32
value exactly: float32 has a 24-bit mantissa.

Right shifts of negative int64 values are arithmetic (floor) in numpy and in every C compiler
edgekd targets (GCC, Clang, Arm Compiler: implementation-defined in C99, checked by a
``#error`` in the generated code).
"""

from __future__ import annotations

import math

import numpy as np

from edgekd.errors import EdgekdError

MAX_SHIFT = 62


def multiplier(ratio: float, bits: int = 31) -> tuple[int, int]:
    """``(M, n)`` with ``M / 2^n`` ≈ ``ratio`` (> 0) and ``2^(bits−1) <= M < 2^bits``: exact for
    any ratio whose mantissa fits in ``bits`` bits (every float32)."""
    if not ratio > 0 or not math.isfinite(ratio):
        raise EdgekdError(f"requantisation scale {ratio!r} is not a positive finite number")
    mant, exp = math.frexp(ratio)          # ratio = mant * 2^exp, mant in [0.5, 1)
    m = round(mant * (1 << bits))
    n = bits - exp
    if m == 1 << bits:                     # mant rounded up to 1.0
        m, n = m >> 1, n - 1
    # M in [2^30, 2^31): n >= 32 for every ratio below 1/2, the fast path of ek_requant
    if not 1 <= n <= MAX_SHIFT:
        raise EdgekdError(f"requantisation scale {ratio:.3e} is outside what an int64 "
                          f"fixed-point multiplier represents (shift {n} not in 1..{MAX_SHIFT})")
    return m, n


def rne_shift(p, n):
    """``round(p / 2^n)``, ties to even, for int64 ``p`` (array or int) and shift ``n`` >= 1."""
    p = np.asarray(p, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    q = p >> n
    r = p & ((np.int64(1) << n) - 1)
    half = np.int64(1) << (n - 1)
    return q + ((r > half) | ((r == half) & ((q & 1) == 1)))


def requantize(acc, m, n, zero_point: int, lo: int, hi: int) -> np.ndarray:
    """``clamp(rne(acc · m / 2^n) + zero_point, lo, hi)`` as int32; ``m``/``n`` broadcast."""
    p = np.asarray(acc, dtype=np.int64) * np.asarray(m, dtype=np.int64)
    return np.clip(rne_shift(p, n) + zero_point, lo, hi).astype(np.int32)
