import itertools
import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edgekd.signal import (ChannelNormalizer, FilterSpec, Preprocessor, PreprocessSpec,
                           WindowSpec)

RNG = np.random.default_rng(42)
SIGNAL = (RNG.normal(size=(2500, 8)) * 40 + RNG.normal(size=8) * 100).astype(np.float32)


def _spec(norm=True):
    n = ChannelNormalizer(RNG.normal(size=8).astype(np.float32),
                          RNG.uniform(1, 3, size=8).astype(np.float32)) if norm else None
    return PreprocessSpec(200.0, 8, WindowSpec(52, 5), FilterSpec(), n)


SPEC = _spec()
WHOLE, WHOLE_ENDS = Preprocessor(SPEC).push(SIGNAL)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 300), min_size=1, max_size=60).filter(lambda s: sum(s) > 0))
def test_random_chunking_gives_identical_windows(chunk_sizes):
    pre = Preprocessor(SPEC)
    out, ends, i = [], [], 0
    sizes = itertools.cycle(chunk_sizes)  # zero-length chunks included on purpose
    while i < len(SIGNAL):
        n = next(sizes)
        w, e = pre.push(SIGNAL[i:i + n])
        out.append(w)
        ends.append(e)
        i += n
    np.testing.assert_array_equal(np.concatenate(ends), WHOLE_ENDS)
    np.testing.assert_allclose(np.concatenate(out), WHOLE, rtol=0, atol=1e-5)


def test_spec_round_trips_through_json():
    back = PreprocessSpec.from_dict(json.loads(json.dumps(SPEC.to_dict())))
    w, _ = Preprocessor(back).push(SIGNAL)
    np.testing.assert_array_equal(w, WHOLE)


def test_normaliser_fitted_values():
    x = np.stack([np.full((2, 10), 3.0), np.full((2, 10), 5.0)])  # [2 windows, 2 ch, 10]
    norm = ChannelNormalizer.fit(x)
    np.testing.assert_allclose(norm.mean, [4.0, 4.0])
    np.testing.assert_allclose(norm.std, [1.0, 1.0])
    np.testing.assert_allclose(norm.transform(x)[0], -1.0)
