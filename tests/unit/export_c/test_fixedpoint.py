"""The integer arithmetic shared by the C library and the reference, against exact rationals."""

from fractions import Fraction

import numpy as np
import pytest

from edgekd.errors import EdgekdError
from export.c.fixedpoint import multiplier, requantize, rne_shift


def test_multiplier_is_exact_for_float32_ratios_and_normalised():
    rng = np.random.default_rng(0)
    for r in rng.uniform(1e-6, 50, 500).astype(np.float32):
        m, n = multiplier(float(r))
        assert Fraction(m, 2 ** n) == Fraction(float(r))
        assert 2 ** 30 <= m < 2 ** 31


def test_multiplier_gives_the_fast_path_shift_below_one_half():
    assert multiplier(0.49)[1] >= 32 and multiplier(0.5)[1] == 31


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan"), 1e-30, 1e12])
def test_multiplier_refuses_what_int64_cannot_hold(bad):
    with pytest.raises(EdgekdError):
        multiplier(bad)


def test_rne_shift_ties_to_even_by_hand():
    p = np.array([5, 7, -5, -7, 6, -6, 3, -3])
    assert rne_shift(p, 1).tolist() == [2, 4, -2, -4, 3, -3, 2, -2]
    assert rne_shift(np.array([10, 11, 12, 13, 14]), 2).tolist() == [2, 3, 3, 3, 4]


def test_rne_shift_matches_exact_rounding():
    rng = np.random.default_rng(1)
    p = rng.integers(-2 ** 61, 2 ** 61, 2000)
    n = rng.integers(1, 62, 2000)
    p[::7] = (p[::7] >> n[::7] << n[::7]) + (np.int64(1) << (n[::7] - 1))   # exact ties
    got = rne_shift(p, n)
    want = [round(Fraction(int(a), 2 ** int(b))) for a, b in zip(p, n)]   # ties to even
    assert got.tolist() == want


def test_requantize_clamps_after_rounding():
    m, n = multiplier(0.25)
    out = requantize(np.array([2, 6, 1000, -1000]), m, n, 3, 0, 255)
    assert out.tolist() == [3, 5, 253, 0]       # 0.5→0, 1.5→2, 250, -250
