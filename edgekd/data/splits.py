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
    empty = the last group. ``per_person`` makes one split per person (not for ``person``)."""

    scheme: Scheme = "repetition"
    test: list = field(default_factory=list)
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
        for fold, (train, test) in _folds(ws, idx, cfg):
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


def _folds(ws: WindowSet, idx: np.ndarray, cfg: SplitConfig):
    by = cfg.kfold_by if cfg.scheme == "kfold" else cfg.scheme
    keys = group_key(ws, by)[idx]
    groups = sorted(set(keys), key=_natural)
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
        held = {str(t) for t in cfg.test} or {groups[-1]}
        unknown = held - set(groups)
        if unknown:
            raise ConfigError(f"test {by} {sorted(unknown)} not found (have {groups})")
        yield "", _by_groups(idx, keys, held)


def _by_groups(idx: np.ndarray, keys: np.ndarray, held: set) -> tuple[np.ndarray, np.ndarray]:
    is_test = np.isin(keys, list(held))
    return idx[~is_test], idx[is_test]


def _natural(s: str):
    return (0, int(s)) if s.lstrip("-").isdigit() else (1, s)


def carve_validation(ws: WindowSet, train: np.ndarray, cfg: SplitConfig,
                     window: int) -> tuple[np.ndarray, np.ndarray]:
    """Split training indices into (train, val) without temporal overlap between them."""
    if cfg.val == "group":
        by = "person" if cfg.scheme == "person" else ("session" if cfg.scheme == "session"
                                                     else "repetition")
        keys = group_key(ws, by)[train]
        groups = sorted(set(keys), key=_natural)
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
