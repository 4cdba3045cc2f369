"""The C library's fixed-point preprocessing against edgekd.signal (float64)."""

import numpy as np
import pytest

from edgekd.errors import ConfigError
from edgekd.signal import (CausalFilter, ChannelNormalizer, FilterSpec, Preprocessor,
                           PreprocessSpec, WindowSpec)
from export.c.layers import QTensor
from export.c.prep import (filter_float, filter_int, plan_prep, quantize_samples,
                           stream_inputs)
from export.c.reference import quantize_input

X_Q = QTensor("x", (4, 52), 0.07, 128)


def _spec(filters=FilterSpec()):
    norm = ChannelNormalizer(np.array([3, -2, 0, 1], np.float32),
                             np.array([20, 35, 10, 50], np.float32))
    return PreprocessSpec(200.0, 4, WindowSpec(52, 5), filters, norm)


def _counts(bits: int, n: int = 3000, seed: int = 0) -> np.ndarray:
    """A drifting, noisy signal that uses most of the range (a hard case for a high-pass)."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 2 ** (bits - 7), (n, 4)), axis=0)
    x += rng.normal(0, 2 ** (bits - 6), x.shape)
    return np.rint(x).clip(-2 ** (bits - 1), 2 ** (bits - 1) - 1)


@pytest.mark.parametrize("bits", [8, 16, 24])
@pytest.mark.parametrize("float_filters", [False, True])
def test_filters_follow_the_float64_reference(bits, float_filters):
    x = _counts(bits)
    plan = plan_prep(_spec(), X_Q, 0, 255, bits, 1.0, float_filters)
    got = (filter_float if float_filters else filter_int)(plan, x) / 2.0 ** plan.frac_bits
    want = CausalFilter(FilterSpec(), 200.0, 4).process(x)
    # absolute error in counts: fixed point rounds at 2^-frac_bits, float32 keeps 24 bits
    tol = 0.01 * max(1.0, 2.0 ** (bits - 16)) * (4 if float_filters else 1)
    assert np.abs(got - want).max() < tol


def test_headroom_shrinks_with_the_sample_bits():
    f8 = plan_prep(_spec(), X_Q, 0, 255, 8).frac_bits
    f24 = plan_prep(_spec(), X_Q, 0, 255, 24).frac_bits
    assert f8 > f24 >= 0


def test_the_filter_starts_at_the_first_samples_steady_state():
    x = np.full((50, 4), 1234.0)
    plan = plan_prep(_spec(), X_Q, 0, 255, 16)
    assert np.abs(filter_int(plan, x)).max() <= 1          # a high-pass of a constant is 0


def test_no_filters_is_a_plain_scaling():
    plan = plan_prep(_spec(FilterSpec(highpass_hz=None, notch_hz=None)), X_Q, 0, 255, 16)
    x = _counts(16, 100)
    assert plan.sections == 0
    assert np.array_equal(filter_int(plan, x), x.astype(np.int64) << plan.frac_bits)


def test_windows_match_the_offline_pipeline_within_one_step():
    x = _counts(16, 1000, seed=3)
    plan = plan_prep(_spec(), X_Q, 0, 255, 16)
    ends, q = stream_inputs(plan, x)
    windows, want_ends = Preprocessor(_spec()).push(x.astype(np.float32))
    assert np.array_equal(ends, want_ends)
    want = quantize_input(windows, X_Q, 0, 255)
    assert np.abs(q - want).max() <= 1 and (q != want).mean() < 0.01


def test_sample_scale_is_folded_into_the_normalisation():
    spec, x = _spec(), _counts(16, 500, seed=4)
    f = filter_int(plan_prep(spec, X_Q, 0, 255, 16), x)
    a = quantize_samples(plan_prep(spec, X_Q, 0, 255, 16, 1.0), f)
    half = plan_prep(spec, X_Q, 0, 255, 16, 0.5)        # same counts, half the physical units
    b = quantize_samples(half, filter_int(half, x))
    phys = Preprocessor(PreprocessSpec(200.0, 4, WindowSpec(1, 1), FilterSpec(),
                                       spec.normalizer)).push((x * 0.5).astype(np.float32))[0]
    assert not np.array_equal(a, b)
    assert np.abs(b - quantize_input(phys[:, :, 0], X_Q, 0, 255)).max() <= 1


@pytest.mark.parametrize("bits,scale", [(1, 1.0), (25, 1.0), (16, 0.0), (16, -2.0)])
def test_bad_sample_options_are_refused(bits, scale):
    with pytest.raises(ConfigError, match="--sample"):
        plan_prep(_spec(), X_Q, 0, 255, bits, scale)
