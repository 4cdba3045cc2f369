"""Recompute metrics of a trained run on any dataset the readers know, honestly: windows whose
content a split's model trained or validated on are excluded (by content, see
:mod:`edgekd.data.identity`), splits whose people are not in the data are listed as absent,
and ``--windows all`` on a run that cannot say what it saw is refused unless allowed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from edgekd.control_metrics import libemg_metrics, policy_metrics, rest_class
from edgekd.data.channels import select_channels
from edgekd.data.identity import shingle_hashes
from edgekd.data.readers import read_dataset
from edgekd.data.splits import make_splits
from edgekd.data.windowing import WindowSet, dataset_windows
from edgekd.errors import ConfigError, EdgekdError
from edgekd.signal import PreprocessSpec
from edgekd.train.config import TrainConfig, load_yaml, resolve
from edgekd.train.loop import predict_logits
from edgekd.train.metrics import classification_metrics, mean_sd
from edgekd.train.runs import checkpoint_spec, load_model, split_models
from edgekd.train.seen import NOT_RECORDED, Identity, load_identity, name_clashes, screen
from edgekd.decision_policy import DecisionPolicy

PARTS = ("test", "all")


def evaluate_run(run_dir: str | Path, data: str | Path, part: str = "test",
                 format: str | None = None, threshold: float = 0.0, vote: int = 1,
                 allow_unchecked: bool = False) -> dict:
    """``part='test'`` rebuilds each split's test part on ``data`` (same split rules as the
    run); ``part='all'`` takes every window of the split's person (e.g. other sessions).

    Either way, windows whose content the split's model trained or validated on are excluded
    (``excluded``), splits with nothing left are ``refused``, splits whose people or groups are
    not in ``data`` are ``absent``; raises when no split is left to score.

    A run whose identity record cannot vouch for what its models saw (``unchecked``: none, an
    older format, written on resume) is refused for ``part='all'`` unless
    ``allow_unchecked``.

    Each split also gets ``control``: the online control metrics (:mod:`edgekd.control_metrics`)
    of its windows decided as ``edgekd stream --threshold --vote`` would decide them."""
    if part not in PARTS:
        raise EdgekdError(f"--windows {part!r}: expected one of {PARTS}")
    DecisionPolicy(threshold, vote)   # refuses bad values before any work
    cfg = resolve(base=load_yaml(Path(run_dir) / "config.yaml"))
    full = read_dataset(data, format)
    ev = _Evaluation(str(run_dir), cfg, full, load_identity(run_dir), part)
    if ev.unchecked and part == "all" and not allow_unchecked:
        raise EdgekdError(f"evaluate {run_dir} --windows all: {'; '.join(ev.unchecked)}. Every "
                          "window could include data its models trained on: use --windows test "
                          "(each split's test part, rebuilt by the run's split rules), retrain "
                          "the run, or pass --allow-unchecked to score anyway (the result "
                          "lists these reasons)")
    ev.policy = (threshold, vote)
    out = {"run": str(run_dir), "data": str(data), "part": part, "splits": {}, "excluded": {},
           "refused": {}, "absent": {}, "unchecked": ev.unchecked, "warnings": ev.warnings()}
    for name, path in split_models(run_dir).items():
        ev.score(name, path, out)
    out["people_without_model"] = ev.people_without_model(out)
    if not out["splits"]:
        reasons = [f"{n}: {why}" for key in ("refused", "absent") for n, why in out[key].items()]
        raise EdgekdError(f"nothing honest to evaluate in {data}: " + "; ".join(reasons))
    out["summary"] = mean_sd(list(out["splits"].values()))
    out["control_summary"] = control_summary([m["control"] for m in out["splits"].values()])
    return out


def control_summary(per_split: list[dict]) -> dict:
    """Mean of each control metric over the splits that have it."""
    keys = [k for k in per_split[0] if k not in ("threshold", "vote")] if per_split else []
    out = {}
    for key in keys:
        values = [m[key] for m in per_split if m.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    return out


class _Evaluation:
    """One evaluation's data, windows (cached per preprocessing) and identity record."""

    def __init__(self, run: str, cfg: TrainConfig, full, identity: Identity | None, part: str):
        self.run, self.cfg, self.full, self.part = run, cfg, full, part
        # an older record cannot vouch by content: evaluated as unrecorded, with its reason
        self.identity = identity if identity is not None and identity.prints is not None else None
        self.unchecked = identity.unchecked() if identity is not None else \
            [NOT_RECORDED.format(run=run)]
        recorded = identity.record.get("modality") if identity is not None else None
        self.modality = cfg.data.modality or recorded or full.primary_modality
        self.dataset = self._selected()
        self._windows: dict[str, WindowSet] = {}
        self._shingles: dict[int, np.ndarray] = {}
        self._tests: dict[int, tuple[dict, dict]] = {}
        self.policy = (0.0, 1)   # (threshold, vote) of the decisions scored in ``control``

    def shingles_of(self, r: int) -> np.ndarray:
        """Shingle hashes of recording ``r`` as read (every channel, before selection)."""
        if r not in self._shingles:
            self._shingles[r] = shingle_hashes(self.full.recordings[r].signals)
        return self._shingles[r]

    def warnings(self) -> list[str]:
        if self.identity is None:
            return [why + "; scores may include them" for why in self.unchecked]
        notes = list(self.unchecked)
        clashes = name_clashes(self.identity, self.full, self.shingles_of)
        if clashes:
            notes.append(f"{', '.join(clashes)}: named like recordings this run trained on but "
                         "with other content, so not excluded (data is compared by content); if "
                         "they are the same recordings re-scaled or re-exported, this "
                         "evaluation is not honest")
        return notes

    def windows(self, spec: PreprocessSpec) -> WindowSet:
        """Windows of the data for this preprocessing (no normaliser)."""
        raw = PreprocessSpec(spec.fs, spec.n_chans, spec.window, spec.filters)
        key = json.dumps(raw.to_dict(), sort_keys=True)
        if key not in self._windows:
            self._check(spec)
            self._windows[key] = dataset_windows(self.dataset, raw, self.modality)
        return self._windows[key]

    def _selected(self):
        """The data as the run's models take it: its modality, its channel selection."""
        mine = self.full.of_modality(self.modality)
        if not mine:
            raise EdgekdError(f"evaluate {self.run}: trained on modality {self.modality!r}; "
                              f"{self.full.source} has none (it has "
                              f"{', '.join(self.full.modalities)})")
        picked = self.cfg.data.channels
        if picked is None:
            return self.full
        for rec in mine:
            if not all(-rec.n_chans <= i < rec.n_chans for i in picked):
                raise EdgekdError(f"evaluate {self.run}: the run selects channels {picked}; "
                                  f"{rec.source} has {rec.n_chans} channels")
        return select_channels(self.full, picked, self.modality)

    def _check(self, spec: PreprocessSpec) -> None:
        """Every recording the run's models would read has their channel count and rate."""
        for rec in self.dataset.of_modality(self.modality):
            if rec.n_chans != spec.n_chans or rec.fs != spec.fs:
                raise EdgekdError(f"evaluate {self.run}: its models take {spec.n_chans} "
                                  f"channels at {spec.fs:g} Hz; {rec.source} has "
                                  f"{rec.n_chans} channels at {rec.fs:g} Hz")

    def score(self, name: str, path: Path, out: dict) -> None:
        model, ck = load_model(path)
        spec = checkpoint_spec(ck)
        ws = self.windows(spec)
        idx, absent = self.candidates(ws, name, ck.get("split", name))
        if idx is None or len(idx) == 0:
            out["absent"][name] = absent or "no labelled windows in the data"
            return
        if self.identity is not None:
            idx, dropped, matches = screen(self.identity, name, self.shingles_of, ws, idx,
                                           spec.window.window)
            if len(dropped):
                out["excluded"][name] = {
                    "windows": len(dropped), "of": len(idx) + len(dropped), "kept": len(idx),
                    "in_data": ", ".join(sorted({f"{p}/{s}" for p, s in
                                                 zip(ws.person[dropped], ws.session[dropped])})),
                    "matches": matches}
        if len(idx) == 0:
            out["refused"][name] = ("every window overlaps data this model was trained or "
                                    f"validated on ({out['excluded'][name]['matches']})")
            return
        x = torch.from_numpy(spec.normalizer.transform(ws.x[idx]))
        logits = predict_logits(model, x)
        pred = logits.argmax(1).numpy()
        rest = rest_class(ck["label_names"])
        m = classification_metrics(ws.y[idx], pred, len(ck["label_names"]))
        m.update(libemg_metrics(ws.y[idx], pred, rest))
        m["control"] = policy_metrics(ws.y[idx], ws.recording[idx], ws.end[idx],
                                      torch.softmax(logits.float(), 1).numpy(),
                                      lambda r: self.dataset.recordings[r].labels, spec.fs, rest,
                                      *self.policy)
        out["splits"][name] = m

    def candidates(self, ws: WindowSet, name: str, split_name: str):
        """(window indices, None) for this split, or (None, why it is absent)."""
        person = self._person(name)
        if person is not None and not (ws.person == person).any():
            return None, f"person {person} is not in the data"
        if self.part == "all":
            return (np.flatnonzero(ws.person == person) if person else np.arange(len(ws))), None
        tests, failed = self._rebuilt_tests(ws)
        if split_name in tests:
            return tests[split_name], None
        return None, failed.get(person, f"split {split_name!r} cannot be rebuilt on this data")

    def _person(self, name: str) -> str | None:
        per_person = self.cfg.split.per_person and self.cfg.split.scheme != "person"
        return name.split("/")[0] if per_person else None

    def _rebuilt_tests(self, ws: WindowSet) -> tuple[dict, dict]:
        """({split name: test indices}, {person: why not}) by the run's split rules, person by
        person so that one person's missing session does not stop the others."""
        key = id(ws)
        if key not in self._tests:
            per_person = self.cfg.split.per_person and self.cfg.split.scheme != "person"
            scopes = ([(p, np.flatnonzero(ws.person == p)) for p in sorted(set(ws.person))]
                      if per_person else [(None, np.arange(len(ws)))])
            tests, failed = {}, {}
            for person, idx in scopes:
                try:
                    for split in make_splits(ws.subset(idx), self.cfg.split, self.cfg.data.window):
                        tests[split.name] = idx[split.test]
                except ConfigError as err:
                    failed[person] = f"its test part cannot be rebuilt ({err}); try --windows all"
            self._tests[key] = (tests, failed)
        return self._tests[key]

    def people_without_model(self, out: dict) -> list[str]:
        """People in the data that no per-person model of the run covers."""
        if not (self.cfg.split.per_person and self.cfg.split.scheme != "person"):
            return []
        covered = {self._person(n) for key in ("splits", "excluded", "refused", "absent")
                   for n in out[key]}
        return sorted(set(self.dataset.people) - covered)
