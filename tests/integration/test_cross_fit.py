"""Cross-fitted soft targets (edgekd.distill.cross_fit): three teacher folds, each holding out
one more training repetition, and a student whose every training window is taught by the fold
that never saw it."""

import numpy as np
import pytest
import torch

from edgekd.data import native
from edgekd.data.splits import group_key
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.distill.cross_fit import cross_fit_logits
from edgekd.errors import ConfigError
from edgekd.train.config import resolve
from edgekd.train.run import build_splits, load_training_data, train_run


@pytest.fixture(scope="module")
def folds(tmp_path_factory):
    root = tmp_path_factory.mktemp("xfit")
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=11)),
                         root / "data")
    for rep in (0, 1, 2):
        train_run(_cfg(root, **{"split.test": [3, rep], "optim.epochs": 2}), root / f"fold{rep}")
    return root


def _cfg(root, **over):
    base = {"data.path": str(root / "data"), "model": "cnn_tiny", "data.hop": 10,
            "optim.epochs": 2, "device": "cpu", "optim.patience": 0, "split.test": [3]}
    return resolve(overrides={**base, **over})


def _prepared(cfg):
    dataset, _ = load_training_data(cfg)
    return build_splits(cfg, dataset)[0]


def test_each_window_gets_the_logits_of_the_fold_that_held_it_out(folds):
    cfg = _cfg(folds)
    prepared = _prepared(cfg)
    reps = group_key(prepared.train, "repetition")
    assert sorted(set(reps)) == ["0", "1", "2"]
    per_fold = [torch.full((len(reps), 7), float(i)) for i in range(3)]   # fold i says "i"
    runs = [str(folds / f"fold{i}") for i in range(3)]
    got = cross_fit_logits(cfg, prepared, runs, per_fold)
    assert got.shape == (1, len(reps), 7)
    np.testing.assert_array_equal(got[0, :, 0].numpy(), reps.astype(float))
    # order of the folds does not matter
    again = cross_fit_logits(cfg, prepared, runs[::-1], per_fold[::-1])
    assert torch.equal(got, again)


def test_uncovered_or_doubly_covered_repetitions_are_refused(folds):
    cfg = _cfg(folds)
    prepared = _prepared(cfg)
    n = len(prepared.train)
    logits = [torch.zeros(n, 7)] * 3
    with pytest.raises(ConfigError, match="no teacher fold holds out training repetition 2; train one with --test 3,2"):
        cross_fit_logits(cfg, prepared, [str(folds / "fold0"), str(folds / "fold1")], logits[:2])
    with pytest.raises(ConfigError, match=r"fold0 and .*fold0 both hold out repetition 0: "):
        cross_fit_logits(cfg, prepared, [str(folds / "fold0"), str(folds / "fold0"),
                                         str(folds / "fold1")], logits)


def test_cross_fit_distillation_runs_and_differs_from_the_ensemble(folds, tmp_path):
    teachers = [str(folds / f"fold{i}") for i in range(3)]
    common = {"kd.teachers": teachers, "kd.alpha": 0.7, "kd.temperature": 4.0}
    crossfit = train_run(_cfg(folds, **common, **{"kd.cross_fit": True}), tmp_path / "xfit")
    ensemble = train_run(_cfg(folds, **common), tmp_path / "ens")
    assert crossfit["kd"]["cross_fit"] is True and "cross_fit" in ensemble["kd"]
    a, b = crossfit["splits"]["P00"], ensemble["splits"]["P00"]
    assert a["confusion"] != b["confusion"] or a["accuracy"] != b["accuracy"]


def test_cross_fit_config_is_checked_up_front(folds):
    with pytest.raises(ConfigError, match="two or more offline teacher folds"):
        _cfg(folds, **{"kd.teachers": [str(folds / "fold0")], "kd.cross_fit": True})
