"""Cross-fitted soft targets: each training window's teacher logits come from a teacher fold
that never trained on that window's repetition (or session).

A teacher scores ~100 % on its own training windows, so its temperature-softened outputs there
are close to one-hot and carry little beyond the labels (``benchmarks/kd_diagnostics.py``
measures it). Out-of-fold outputs show the teacher's real uncertainty, as stacking does for
meta-learners. The folds are ordinary teacher runs whose ``split.test`` holds out one more
training group each, e.g. ``--test 3,0``, ``--test 3,1``, ``--test 3,2`` for a student that
tests on repetition 3.
Measured on the Myo recordings (``benchmarks/distill_crossfit.py``), it hurt the student: folds
trained on less data are wrong on a share of the windows they teach. It is a tool to try, not a
default.
"""

from __future__ import annotations

import numpy as np
import torch

from edgekd.data.prepare import PreparedSplit
from edgekd.data.splits import group_key
from edgekd.errors import ConfigError
from edgekd.train.checkpoint import load_checkpoint
from edgekd.train.config import TrainConfig
from edgekd.train.runs import model_for


def held_out_groups(run: str, prepared: PreparedSplit) -> set[str]:
    """The groups a teacher fold's split for this person held out of its training."""
    ck = load_checkpoint(model_for(run, prepared.split.name, prepared.split.person))
    return {str(g) for g in ck["train_config"]["split"]["test"]}


def cross_fit_logits(cfg: TrainConfig, prepared: PreparedSplit, runs: list[str],
                     logits: list[torch.Tensor | None]) -> torch.Tensor:
    """``[1, n_train, K]``: for every training window, the logits of the one fold in ``runs``
    that held its group out. ``logits[i]`` are fold ``i``'s logits on all training windows."""
    by = cfg.split.scheme
    if by not in ("repetition", "session"):
        raise ConfigError(f"cross-fitted targets need a split by repetition or session, not {by!r}")
    if any(lg is None for lg in logits):
        raise ConfigError("cross-fitted targets are computed once per training window: turn "
                          "augmentation off, or use teachers that read another modality or "
                          "other channels")
    keys = group_key(prepared.train, by)
    own_test = {str(g) for g in cfg.split.test}
    out = torch.empty_like(logits[0])
    owner = np.full(len(keys), -1)
    for i, (run, lg) in enumerate(zip(runs, logits)):
        held = held_out_groups(run, prepared) - own_test
        mask = np.isin(keys, sorted(held))
        taken = mask & (owner >= 0)
        if taken.any():
            clash = ", ".join(sorted({str(k) for k in keys[taken]}))
            raise ConfigError(f"teacher folds {runs[owner[taken][0]]} and {run} both hold out "
                              f"{by} {clash}: each training {by} must be held out by exactly "
                              "one fold")
        owner[mask] = i
        rows = torch.from_numpy(mask).to(lg.device)
        out[rows] = lg[rows]
    missing = sorted({str(k) for k in keys[owner < 0]})
    if missing:
        raise ConfigError(f"{prepared.split.name}: no teacher fold holds out training {by} "
                          f"{', '.join(missing)}; train one with --test "
                          f"{','.join(sorted(own_test) + missing[:1])}")
    return out[None]
