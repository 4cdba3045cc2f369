import numpy as np
import pytest

from edgekd.errors import ConfigError
from edgekd.signal import CausalFilter, FilterSpec


def _tone_gain(spec, fs, f0, n=4000):
    t = np.arange(n) / fs
    x = np.sin(2 * np.pi * f0 * t)[:, None].astype(np.float32)
    y = CausalFilter(spec, fs, 1).process(x)
    return y[n // 2:].std() / x[n // 2:].std()


def test_notch_removes_mains_and_harmonic_keeps_emg_band():
    spec = FilterSpec(highpass_hz=20, notch_hz=50, notch_harmonics=True)
    assert _tone_gain(spec, 1000, 50) < 0.05
    assert _tone_gain(spec, 1000, 150) < 0.05
    assert 0.9 < _tone_gain(spec, 1000, 90) < 1.1


def test_highpass_removes_offset_and_wander():
    spec = FilterSpec(highpass_hz=20, notch_hz=None)
    assert _tone_gain(spec, 200, 0.5) < 0.01


def test_chunked_filtering_is_identical_to_one_call():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4)) * 50 + 300  # a large DC offset exercises the initial state
    whole = CausalFilter(FilterSpec(), 200, 4).process(x)
    filt = CausalFilter(FilterSpec(), 200, 4)
    cuts = np.sort(rng.integers(0, len(x), size=40))
    pieces = [filt.process(c) for c in np.split(x, cuts)]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


@pytest.mark.parametrize("spec", [FilterSpec(highpass_hz=120), FilterSpec(lowpass_hz=100),
                                  FilterSpec(highpass_hz=60, lowpass_hz=40)])
def test_impossible_edges_refused(spec):
    with pytest.raises(ConfigError):
        CausalFilter(spec, 200, 8)


def test_wrong_channel_count_refused():
    with pytest.raises(ValueError, match=r"expected \[n_samples, 8\]"):
        CausalFilter(FilterSpec(), 200, 8).process(np.zeros((10, 4)))


def test_the_private_scipy_kernel_is_used_only_when_it_gives_sosfilt_bits():
    """Review item 16: the filters call scipy's private _sosfilt kernel; a scipy whose kernel
    changed its signature or layout would have raised or filtered wrongly. It is checked once
    against the public sosfilt; anything that raises or differs is refused."""
    from edgekd.signal import filters

    def does_nothing(sos, x, zi):
        pass

    def wrong_signature(sos, x):
        raise AssertionError("never reached")

    assert filters._verified_kernel(None) is None
    assert filters._verified_kernel(does_nothing) is None
    assert filters._verified_kernel(wrong_signature) is None
    real = filters._verified_kernel(filters._load_kernel())
    assert real is None or real is filters._sos_kernel


def test_the_public_sosfilt_fallback_gives_the_same_bits(monkeypatch):
    from edgekd.signal import filters
    rng = np.random.default_rng(1)
    x = rng.normal(size=(900, 3)) * 40 + 120
    cuts = np.sort(rng.integers(0, len(x), size=20))
    fast = CausalFilter(FilterSpec(), 200, 3)
    fast_out = np.concatenate([fast.process(c) for c in np.split(x, cuts)])
    monkeypatch.setattr(filters, "_sos_kernel", None)
    slow = CausalFilter(FilterSpec(), 200, 3)
    slow_out = np.concatenate([slow.process(c) for c in np.split(x, cuts)])
    np.testing.assert_array_equal(slow_out, fast_out)
    np.testing.assert_array_equal(slow_out, CausalFilter(FilterSpec(), 200, 3).process(x))
