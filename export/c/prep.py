"""The C library's preprocessing, planned at generation time and referenced in numpy.

The same causal filter bank as :mod:`edgekd.signal.filters` (the artifact's second-order
sections), one per channel, started at the steady state of the first sample as the offline
path does, then the training normalisation and the network's input quantisation folded into
one fixed-point multiply-add per channel, then windows every hop.

Integer mode (the default; any Cortex-M): direct-form-I biquads. Samples are integers (ADC
counts, ``physical = counts · sample_scale``) of at most ``sample_bits`` bits, held with
``frac_bits`` fractional bits in int32; coefficients are Q28; each section's sum is formed in
int64 and rounded (ties to even) back to the signal format. ``frac_bits`` is the largest that
keeps every section's output below 2^29 for any input in range (the L1 norm of each partial
cascade's impulse response bounds it), so nothing can overflow.

Float mode (``float_filters``, for an FPU such as the Cortex-M4F's): transposed direct-form-II
biquads in float32, the structure of ``scipy.signal.sosfilt``, started from
``sosfilt_zi · x0``; the output is rounded (half away from zero) into the same fixed-point
format, after which both modes are identical.

Input quantisation: ``q = clamp(rne((f · A_c + B_c) / 2^n_c) + z_x)`` with
``A_c / 2^n_c = sample_scale / (2^frac_bits · std_c · s_x)`` and
``B_c / 2^n_c = −mean_c / (std_c · s_x)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from edgekd.errors import ConfigError, EdgekdError
from edgekd.signal import FilterSpec, PreprocessSpec, design_sos
from export.c.fixedpoint import rne_shift
from export.c.layers import QTensor

COEF_SHIFT = 28            # Q28 coefficients: |coefficient| < 8
SIGNAL_LIMIT_BITS = 29     # every section's output stays below 2^29
NORM_BITS = 30             # the normalisation multiplier A_c lies in [2^30, 2^31)


@dataclass
class PrepPlan:
    """Everything the generated preprocessing needs (arrays are per section or per channel)."""

    n_chans: int
    window: int
    hop: int
    sample_bits: int
    sample_scale: float
    float_filters: bool
    frac_bits: int
    coef: np.ndarray          # int64 [S, 5]: b0 b1 b2 a1 a2 in Q28 (integer mode)
    dc_gain: np.ndarray       # int64 [S]: each section's DC gain in Q28 (integer mode start)
    sos32: np.ndarray         # float32 [S, 5]: b0 b1 b2 a1 a2 (float mode)
    zi32: np.ndarray          # float32 [S, 2]: sosfilt_zi for a unit step (float mode start)
    norm_m: np.ndarray        # int64 [C]
    norm_b: np.ndarray        # int64 [C]
    norm_n: np.ndarray        # int64 [C]
    zero_point: int
    lo: int
    hi: int

    @property
    def sections(self) -> int:
        return len(self.coef)


def plan_prep(spec: PreprocessSpec, x_q: QTensor, lo: int, hi: int, sample_bits: int = 16,
              sample_scale: float = 1.0, float_filters: bool = False) -> PrepPlan:
    """Plan the fixed-point preprocessing for ``spec`` feeding the input tensor ``x_q``."""
    if not 2 <= sample_bits <= 24:
        raise ConfigError(f"--sample-bits {sample_bits}: expected 2..24 (int16 or int32 "
                          "samples as the ADC delivers them)")
    if not sample_scale > 0:
        raise ConfigError(f"--sample-scale {sample_scale}: expected a positive number "
                          "(physical units per ADC count)")
    if spec.normalizer is None:
        raise EdgekdError("the artifact has no normalisation statistics")
    sos = design_sos(spec.filters, spec.fs) if _has_filters(spec.filters) else np.empty((0, 6))
    frac = _frac_bits(sos, sample_bits)
    coef = np.rint(sos[:, [0, 1, 2, 4, 5]] * 2.0 ** COEF_SHIFT).astype(np.int64)
    if np.any(np.abs(sos[:, [0, 1, 2, 4, 5]]) >= 2.0 ** (31 - COEF_SHIFT)):
        raise EdgekdError("a filter coefficient exceeds the Q28 range (|c| < 8)")
    gain = sos[:, :3].sum(axis=1) / (1.0 + sos[:, 4] + sos[:, 5])
    dc_gain = np.rint(gain * 2.0 ** COEF_SHIFT).astype(np.int64)
    zi = sps.sosfilt_zi(sos) if len(sos) else np.empty((0, 2))
    norm_m, norm_b, norm_n = _norm(spec, x_q, frac, sample_scale, sample_bits)
    return PrepPlan(spec.n_chans, spec.window.window, spec.window.hop, sample_bits,
                    float(sample_scale), float_filters, frac, coef, dc_gain,
                    sos[:, [0, 1, 2, 4, 5]].astype(np.float32), zi.astype(np.float32),
                    norm_m, norm_b, norm_n, x_q.zero_point, lo, hi)


def _has_filters(f: FilterSpec) -> bool:
    return bool(f.highpass_hz or f.lowpass_hz or f.notch_hz)


def _frac_bits(sos: np.ndarray, sample_bits: int) -> int:
    """Fractional bits such that |every section's output| < 2^29 for |input| ≤ 2^(bits−1)."""
    gain = 1.0
    if len(sos):
        impulse = np.zeros(1 << 14)
        impulse[0] = 1.0
        h = impulse
        for section in sos:   # L1 norm of the cascade up to each section
            h = sps.sosfilt(section[None, :], h)
            gain = max(gain, float(np.abs(h).sum()))
    frac = SIGNAL_LIMIT_BITS - (sample_bits - 1) - math.ceil(math.log2(gain * 1.01))
    if frac < 0:
        raise ConfigError(f"--sample-bits {sample_bits} leaves no headroom in 32 bits for "
                          f"these filters (gain {gain:.1f}); pass fewer bits")
    return min(frac, 16)


def _norm(spec: PreprocessSpec, x_q: QTensor, frac: int, sample_scale: float, bits: int):
    mean = spec.normalizer.mean.astype(np.float64)
    std = spec.normalizer.std.astype(np.float64)
    a = sample_scale / (2.0 ** frac * std * x_q.scale)
    b = -mean / (std * x_q.scale)
    n = NORM_BITS - np.floor(np.log2(a)).astype(np.int64)
    m = np.rint(a * 2.0 ** n).astype(np.int64)
    bb = np.rint(b * 2.0 ** n)
    if np.any(n < 1) or np.any(n > 62) or np.any(np.abs(bb) >= 2.0 ** 61):
        raise EdgekdError("the normalisation cannot be represented in 64-bit fixed point "
                          f"(mean {mean}, std {std}, input scale {x_q.scale})")
    return m, bb.astype(np.int64), n


def filter_int(plan: PrepPlan, samples: np.ndarray) -> np.ndarray:
    """Integer-mode filter of a whole stream: counts ``[N, C]`` → int64 ``[N, C]`` in the
    fixed-point format (``frac_bits``), exactly as the C library computes it."""
    x = clip_samples(plan, samples) << plan.frac_bits
    if plan.sections == 0 or len(x) == 0:
        return x
    out = np.empty_like(x)
    states = _int_start(plan, x[0])
    c = plan.coef
    for i in range(len(x)):
        u = x[i]
        for s, (x1, x2, y1, y2) in enumerate(states):
            acc = c[s, 0] * u + c[s, 1] * x1 + c[s, 2] * x2 - c[s, 3] * y1 - c[s, 4] * y2
            y = rne_shift(acc, COEF_SHIFT)
            states[s] = (u, x1, y, y1)
            u = y
        out[i] = u
    return out


def _int_start(plan: PrepPlan, u: np.ndarray) -> list:
    states = []
    for s in range(plan.sections):
        y = rne_shift(u * plan.dc_gain[s], COEF_SHIFT)
        states.append((u, u, y, y))
        u = y
    return states


def filter_float(plan: PrepPlan, samples: np.ndarray) -> np.ndarray:
    """Float-mode filter (float32 operations in the C library's order), then rounded half away
    from zero into the fixed-point format: ``[N, C]`` → int64 ``[N, C]``."""
    f32 = np.float32
    x = clip_samples(plan, samples).astype(f32)
    if plan.sections and len(x):
        z = [(plan.zi32[s, 0] * x[0], plan.zi32[s, 1] * x[0]) for s in range(plan.sections)]
        out = np.empty_like(x)
        for i in range(len(x)):
            u = x[i]
            for s in range(plan.sections):
                b0, b1, b2, a1, a2 = plan.sos32[s]
                y = f32(b0 * u + z[s][0])
                z[s] = (f32((b1 * u - a1 * y) + z[s][1]), f32(b2 * u - a2 * y))
                u = y
            out[i] = u
        x = out
    v = x * f32(2.0 ** plan.frac_bits)
    v = np.clip(v, f32(-2.0 ** 30), f32(2.0 ** 30))
    t = v.astype(np.int64)                        # truncation toward zero, like the C cast
    frac = v - t.astype(f32)                      # exact for |v| < 2^24; 0 above
    return t + (frac >= f32(0.5)) - (frac <= f32(-0.5))


def clip_samples(plan: PrepPlan, samples: np.ndarray) -> np.ndarray:
    """Samples saturated to the declared ``sample_bits`` (as ``edgekd_push`` does)."""
    limit = 1 << (plan.sample_bits - 1)
    return np.clip(np.asarray(samples, dtype=np.int64), -limit, limit - 1)


def quantize_samples(plan: PrepPlan, f: np.ndarray) -> np.ndarray:
    """Filtered fixed-point samples ``[N, C]`` → the network's quantized input ``[N, C]``."""
    p = f.astype(np.int64) * plan.norm_m[None, :] + plan.norm_b[None, :]
    return np.clip(rne_shift(p, plan.norm_n[None, :]) + plan.zero_point, plan.lo,
                   plan.hi).astype(np.int32)


def window_ends(n_samples: int, window: int, hop: int) -> np.ndarray:
    """Last-sample indices of the windows a stream of ``n_samples`` yields (the rule of
    :mod:`edgekd.signal.windows`, counted from the first sample)."""
    return np.arange(window - 1, n_samples, hop, dtype=np.int64)


def stream_inputs(plan: PrepPlan, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A whole stream of counts ``[N, C]`` → (window ends ``[K]``, quantized windows
    ``[K, C, window]``), as ``edgekd_push`` builds them."""
    f = filter_float(plan, samples) if plan.float_filters else filter_int(plan, samples)
    q = quantize_samples(plan, f)
    ends = window_ends(len(q), plan.window, plan.hop)
    idx = ends[:, None] + np.arange(1 - plan.window, 1)[None, :]
    return ends, np.ascontiguousarray(q[idx].transpose(0, 2, 1))
