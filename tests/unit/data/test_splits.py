import numpy as np
import pytest

from edgekd.data.prepare import prepare_splits
from edgekd.data.recording import Dataset, Recording
from edgekd.data.splits import SplitConfig, make_splits
from edgekd.data.windowing import dataset_windows
from edgekd.errors import ConfigError
from edgekd.signal import FilterSpec, PreprocessSpec, WindowSpec

W = WindowSpec(20, 2)
NO_FILTER = FilterSpec(highpass_hz=None, notch_hz=None)


def _leaky_dataset(n_reps=4, seg=200, seed=0):
    """Labels carry no information except through slow, segment-specific drift: a 1-NN that
    sees windows of the same segment on both sides of a split scores far above chance, one that
    does not sees chance. This is exactly what a window-level split leaks."""
    rng = np.random.default_rng(seed)
    signals, labels, reps = [], [], []
    for r in range(n_reps):
        for g in range(4):
            walk = np.cumsum(rng.normal(size=(seg, 2)), axis=0)  # unique slow signature
            signals.append(walk + 0.1 * rng.normal(size=(seg, 2)))
            labels.append(np.full(seg, g))
            reps.append(np.full(seg, r))
    rec = Recording(np.concatenate(signals), 100.0, np.concatenate(labels), np.concatenate(reps),
                    ["a", "b"], "p", "s")
    return Dataset([rec], ["g0", "g1", "g2", "g3"])


def _one_nn_accuracy(train_x, train_y, test_x, test_y):
    a = train_x.reshape(len(train_x), -1)
    b = test_x.reshape(len(test_x), -1)
    d = (b ** 2).sum(1)[:, None] - 2 * b @ a.T + (a ** 2).sum(1)[None]
    return float((train_y[d.argmin(1)] == test_y).mean())


def test_window_level_split_leaks_and_repetition_split_does_not():
    ds = _leaky_dataset()
    ws = dataset_windows(ds, PreprocessSpec(100.0, 2, W, NO_FILTER))
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(ws))
    leaky_train, leaky_test = perm[: len(perm) * 3 // 4], perm[len(perm) * 3 // 4:]
    leaky = _one_nn_accuracy(ws.x[leaky_train], ws.y[leaky_train], ws.x[leaky_test],
                             ws.y[leaky_test])
    split = make_splits(ws, SplitConfig(scheme="repetition"), W.window)[0]
    honest = _one_nn_accuracy(ws.x[split.train], ws.y[split.train], ws.x[split.test],
                              ws.y[split.test])
    assert leaky > 0.9          # the research code's mistake, made visible
    assert honest < 0.5         # chance is 0.25; no segment is on both sides


def test_no_window_overlaps_another_part_in_time():
    ds = _leaky_dataset()
    ws = dataset_windows(ds, PreprocessSpec(100.0, 2, W, NO_FILTER))
    split = make_splits(ws, SplitConfig(scheme="repetition", val_fraction=0.25), W.window)[0]
    span = lambda idx: {(int(ws.recording[i]), t) for i in idx  # noqa: E731
                        for t in range(ws.end[i] - W.window + 1, ws.end[i] + 1)}
    train, val, test = span(split.train), span(split.val), span(split.test)
    assert not train & val and not train & test and not val & test
    assert set(ws.repetition[split.test]) == {3}
    assert set(ws.repetition[split.val]) <= {0, 1, 2}


def test_normalisation_fitted_on_training_part_only():
    ds = _leaky_dataset()
    rec = ds.recordings[0]
    rec.signals[rec.repetition == 3] += 1000.0  # the test repetition is far off
    prepared = prepare_splits(ds, W, NO_FILTER, SplitConfig(scheme="repetition"))[0]
    train_raw = dataset_windows(ds, PreprocessSpec(100.0, 2, W, NO_FILTER)).x[prepared.split.train]
    np.testing.assert_allclose(prepared.spec.normalizer.mean, train_raw.mean(axis=(0, 2)),
                               rtol=1e-5)
    assert abs(prepared.spec.normalizer.mean).max() < 100  # the +1000 never reached the stats
    assert prepared.test.x.mean() > 10                     # and the test part shows it


def test_schemes_on_synthetic_people(small_synth):
    ws = dataset_windows(small_synth, PreprocessSpec(200.0, 8, WindowSpec(52, 10), FilterSpec()))
    lopo = make_splits(ws, SplitConfig(scheme="person", val="group"), 52)
    assert [s.name for s in lopo] == ["test-P00", "test-P01", "test-P02"]
    for s in lopo:
        held = s.name.removeprefix("test-")
        assert set(ws.person[s.test]) == {held} and held not in set(ws.person[s.train])
        assert held not in set(ws.person[s.val]) and len(set(ws.person[s.val])) == 1
    sess = make_splits(ws, SplitConfig(scheme="session"), 52)
    assert len(sess) == 3 and all(set(ws.session[s.test]) == {"S1"} for s in sess)
    kfold = make_splits(ws, SplitConfig(scheme="kfold", k=2, per_person=False), 52)
    tests = [set(ws.repetition[s.test]) for s in kfold]
    assert tests == [{0, 1}, {2, 3}]
    every = np.sort(np.concatenate([s.test for s in kfold]))
    np.testing.assert_array_equal(every, np.arange(len(ws)))


def test_bad_split_requests_refused(small_synth):
    ws = dataset_windows(small_synth, PreprocessSpec(200.0, 8, WindowSpec(52, 10), FilterSpec()))
    with pytest.raises(ConfigError, match=r"test repetition \['9'\] not found"):
        make_splits(ws, SplitConfig(test=[9]), 52)
    with pytest.raises(ConfigError, match="k=9 folds"):
        make_splits(ws, SplitConfig(scheme="kfold", k=9), 52)
    with pytest.raises(ConfigError, match="unknown split scheme"):
        SplitConfig(scheme="window")
