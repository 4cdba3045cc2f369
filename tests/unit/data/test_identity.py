from dataclasses import replace

import numpy as np

from edgekd.data.identity import (BLANK, GUARANTEED_ROWS, SHINGLE, WINNOW, fingerprint,
                                  seen_in_windows, shingle_hashes, window_ranges)
from edgekd.data.windowing import dataset_windows
from edgekd.signal import FilterSpec, PreprocessSpec, WindowSpec


def _noise(n, chans=8, seed=0):
    return np.random.default_rng(seed).normal(0, 20, (n, chans)).astype(np.float32)


def test_shingles_follow_content_only_and_survive_an_offset():
    x = _noise(500)
    h = shingle_hashes(x)
    assert h.shape == (500 - SHINGLE + 1,) and len(np.unique(h)) == len(h)
    assert (shingle_hashes(np.vstack([_noise(37, seed=1), x]))[37:] == h).all()
    y = x.copy()
    y[100, 3] += 1e-3
    changed = np.flatnonzero(shingle_hashes(y) != h)
    assert changed.tolist() == list(range(100 - SHINGLE + 1, 101))   # only shingles over row 100
    assert not np.isin(shingle_hashes(x[:, ::-1].copy()), h).any()   # channel order matters
    assert (shingle_hashes(np.where(x == 0, np.float32(-0.0), x)) == h).all()


def test_flat_stretches_identify_nothing():
    x = _noise(100)
    x[40:60] = 5.0
    h = shingle_hashes(x)
    assert (np.flatnonzero(h == BLANK) == np.arange(40, 60 - SHINGLE + 1)).all()
    prints = fingerprint(_dataset([x]), {0})
    assert BLANK not in prints.in_range(0, 0, 100)


def _dataset(signals):
    from edgekd.data.recording import Dataset, Recording
    recs = [Recording(s, 200.0, np.zeros(len(s)), np.zeros(len(s)), [f"c{i}" for i in
                                                                      range(s.shape[1])],
                      person="p", session=f"s{k}") for k, s in enumerate(signals)]
    return Dataset(recs, ["a"])


def test_winnowing_guarantee_and_no_false_matches():
    """Any stretch of GUARANTEED_ROWS rows inside a seen range holds a fingerprint; no window
    of other data matches; fingerprints are ~2/(WINNOW+1) of the positions."""
    x, other = _noise(3000, seed=2), _noise(3000, seed=3)
    prints = fingerprint(_dataset([x]), {0})
    assert len(prints.hash) < 0.3 * len(x)
    a, b = 700, 1900
    seen = np.sort(prints.in_range(0, a, b))
    h = shingle_hashes(x)
    ends = np.arange(a + GUARANTEED_ROWS - 1, b)          # every window inside [a, b)
    hit, _ = seen_in_windows(h, seen, ends, GUARANTEED_ROWS)
    assert hit.all()
    outside = np.concatenate([np.arange(SHINGLE - 1, a), np.arange(b + SHINGLE - 1, len(x))])
    hit, _ = seen_in_windows(h, seen, outside, SHINGLE)  # windows of one shingle
    assert not hit.any()
    hit, _ = seen_in_windows(shingle_hashes(other), seen, np.arange(52, 3000), 52)
    assert not hit.any()
    assert WINNOW > 1 and len(prints.in_range(0, a, a + GUARANTEED_ROWS - 1)) == 0


def test_window_ranges_merge_per_repetition_and_pair_modalities(small_synth):
    spec = PreprocessSpec(small_synth.fs, 8, WindowSpec(52, 7), FilterSpec())
    ws = dataset_windows(small_synth, spec)
    rows = window_ranges(small_synth, ws.recording, ws.end, 52)
    emg = [i for i, r in enumerate(small_synth.recordings) if r.modality == "emg"]
    for r in emg:
        mine = rows[rows[:, 0] == r]
        starts, stops = ws.end[ws.recording == r] - 51, ws.end[ws.recording == r] + 1
        covered = np.zeros(small_synth.recordings[r].n_samples, bool)
        for a, b in zip(starts, stops):
            covered[a:b] = True
        merged = np.zeros_like(covered)
        for _, _, a, b in mine:
            merged[a:b] = True
        assert (covered == merged).all()
        assert set(mine[:, 1]) == {0, 1, 2, 3}
        twin = next(j for j, o in enumerate(small_synth.recordings)
                    if o.key == small_synth.recordings[r].key and o.modality == "hd-emg")
        assert (rows[rows[:, 0] == twin][:, 1:] == mine[:, 1:]).all()


def test_renaming_changes_nothing(small_synth):
    rec = small_synth.recordings[0]
    renamed = replace(rec, person="someone", session="else", source="elsewhere.csv",
                      repetition=np.full(rec.n_samples, -1))
    assert (shingle_hashes(renamed.signals) == shingle_hashes(rec.signals)).all()
