"""Leakage-free splits (DESIGN §4.1–4.2).

Every split assigns whole groups — repetitions, sessions or people — to one side, so no window
crosses a boundary (windows never span two repetitions, see ``edgekd.signal.windows``). The
validation part used for model selection is carved from the training part only:

* ``val="tail"``: the last ``val_fraction`` of each contiguous training segment (one label in one
  repetition), with the training windows that overlap it in time purged;
* ``val="group"``: one whole training group (e.g. the last training repetition).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from edgekd.data.windowing import WindowSet
from edgekd.errors import ConfigError

Scheme = Literal["repetition", "session", "person", "kfold"]
SCHEMES = ("repetition", "session", "person", "kfold")


@dataclass
class SplitConfig:
    """How to split. ``test`` lists the held-out groups (repetition ids, session names);
    empty = the last group, or every group not in ``train``. ``train`` (repetition and
    session schemes) lists the groups to train on (validation is carved from them); empty =
    every group not held out. ``per_person`` makes one split per person (not for ``person``)."""

    scheme: Scheme = "repetition"
    test: list = field(default_factory=list)
    train: list = field(default_factory=list)
    per_person: bool = True
    k: int = 4
    kfold_by: Literal["repetition", "session", "person"] = "repetition"
    val: Literal["tail", "group"] = "tail"
    val_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ConfigError(f"unknown split scheme {self.scheme!r} (valid: {', '.join(SCHEMES)})")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction={self.val_fraction} must lie in (0, 1)")
        if self.train and self.scheme not in ("repetition", "session"):
            raise ConfigError(f"--train-on applies to --scheme repetition or session, not "
                              f"{self.scheme}")
        both = {str(t) for t in self.train} & {str(t) for t in self.test}
        if both:
            raise ConfigError(f"groups {sorted(both)} are both in --train-on and --test")


@dataclass
class Split:
    """Index arrays into one WindowSet; ``name`` identifies the person and/or fold."""

    name: str
    person: str | None
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def make_splits(ws: WindowSet, cfg: SplitConfig, window: int) -> list[Split]:
    """All splits that ``cfg`` asks for, ``window`` (samples) being the window length."""
    scopes: list[tuple[str | None, np.ndarray]]
    if cfg.per_person and cfg.scheme != "person":
        scopes = [(p, np.flatnonzero(ws.person == p)) for p in sorted(set(ws.person))]
    else:
        scopes = [(None, np.arange(len(ws)))]
    splits = []
    for person, idx in scopes:
        for fold, (train, test) in _person_folds(ws, idx, cfg, person):
            train, val = carve_validation(ws, train, cfg, window)
            name = "/".join(x for x in (person, fold) if x)
            splits.append(Split(name or "all", person, train, val, test))
    return splits


def group_key(ws: WindowSet, by: str) -> np.ndarray:
    if by == "repetition":
        return ws.repetition.astype(str)
    if by == "session":
        return ws.session.astype(str)
    if by == "person":
        return ws.person.astype(str)
    raise ConfigError(f"cannot group by {by!r}")


def _person_folds(ws: WindowSet, idx: np.ndarray, cfg: SplitConfig, person: str | None):
    """The folds of one person (or of everyone); errors name the person they are about."""
    try:
        return list(_folds(ws, idx, cfg))
    except ConfigError as err:
        raise ConfigError(f"person {person}: {err}" if person else str(err)) from None


def _folds(ws: WindowSet, idx: np.ndarray, cfg: SplitConfig):
    by = cfg.kfold_by if cfg.scheme == "kfold" else cfg.scheme
    keys = group_key(ws, by)[idx]
    groups = sorted({str(k) for k in keys}, key=natural_key)
    if len(groups) < 2:
        raise ConfigError(f"split by {by} needs at least 2 {by} groups, found {groups}")
    if cfg.scheme == "kfold":
        if cfg.k < 2 or cfg.k > len(groups):
            raise ConfigError(f"k={cfg.k} folds need 2..{len(groups)} {by} groups")
        for f, held in enumerate(np.array_split(np.array(groups, dtype=object), cfg.k)):
            yield f"fold{f}", _by_groups(idx, keys, set(held))
    elif cfg.scheme == "person":
        for p in groups:
            yield f"test-{p}", _by_groups(idx, keys, {p})
    else:
        yield "", _by_groups(idx, keys, *_held_and_trained(cfg, by, groups))


def _held_and_trained(cfg: SplitConfig, by: str, groups: list[str]) -> tuple[set, set | None]:
    """(test groups, training groups or None = every group not held out)."""
    trained = {str(t) for t in cfg.train} or None
    held = {str(t) for t in cfg.test} or (set(groups) - trained if trained else {groups[-1]})
    for role, named in (("test", held), ("train", trained or set())):
        unknown = named - set(groups)
        if unknown:
            raise ConfigError(f"{role} {by} {sorted(unknown, key=natural_key)} not found "
                              f"(have {groups})")
    if not held:
        raise ConfigError(f"--train-on names every {by} ({groups}): none is left to test")
    return held, trained


def _by_groups(idx: np.ndarray, keys: np.ndarray, held: set,
               trained: set | None = None) -> tuple[np.ndarray, np.ndarray]:
    is_test = np.isin(keys, list(held))
    is_train = ~is_test if trained is None else np.isin(keys, list(trained))
    return idx[is_train], idx[is_test]


def natural_key(s: str):
    """Sort key: integer ids by value (2 before 10), then names."""
    return (0, int(s)) if s.lstrip("-").isdigit() else (1, s)


def carve_validation(ws: WindowSet, train: np.ndarray, cfg: SplitConfig,
                     window: int) -> tuple[np.ndarray, np.ndarray]:
    """Split training indices into (train, val) without temporal overlap between them."""
    if cfg.val == "group":
        by = "person" if cfg.scheme == "person" else ("session" if cfg.scheme == "session"
                                                     else "repetition")
        keys = group_key(ws, by)[train]
        groups = sorted({str(k) for k in keys}, key=natural_key)
        if len(groups) < 2:
            raise ConfigError(f"val='group' needs 2+ training {by} groups, found {groups}")
        is_val = keys == groups[-1]
        return train[~is_val], train[is_val]
    keep_train, val = [], []
    segments = ws.segment[train]
    for seg in np.unique(segments):
        members = train[segments == seg]
        members = members[np.argsort(ws.end[members])]
        n_val = max(1, int(round(cfg.val_fraction * len(members))))
        if len(members) - n_val < 1:
            keep_train.append(members)  # too short to carve; keep for training
            continue
        seg_val = members[-n_val:]
        first_val_start = ws.end[seg_val[0]] - window + 1
        keep_train.append(members[:-n_val][ws.end[members[:-n_val]] < first_val_start])
        val.append(seg_val)
    cat = lambda parts: np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int64)  # noqa: E731
    return cat(keep_train), cat(val)
