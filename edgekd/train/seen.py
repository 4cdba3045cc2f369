"""What each split's model has seen: written to ``identity.json`` + ``identity.npz`` when a run
starts, read by ``edgekd evaluate`` to keep training and validation data out of every score
(hashing and its guarantee are in :mod:`edgekd.data.identity`).

``identity.json`` lists the recordings, and per split the raw sample ranges its training and
validation windows came from (``seen``: recording, repetition, start, stop), its test ranges,
and what it inherited from the runs it started from or was taught by; ``identity.npz`` holds
the fingerprints of the seen ranges (and the inherited ones). A record that cannot vouch for
what the models saw (none at all, an older format, or one written when the run was resumed)
is *unchecked*: ``evaluate --windows all`` refuses such a run unless told otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekd.atomic import atomic_path, write_json_atomic
from edgekd.data.identity import (BLANK, FINGERPRINTS_FILE, FORMAT, GUARANTEED_ROWS, HASH,
                                  IDENTITY_FILE, SHINGLE, VERSION, WINNOW, Fingerprints,
                                  fingerprint, seen_in_windows, summarize_labels, where,
                                  window_ranges)
from edgekd.data.prepare import PreparedSplit
from edgekd.data.recording import Dataset
from edgekd.errors import EdgekdError

log = logging.getLogger("edgekd.train")

NOT_RECORDED = ("{run} has no " + IDENTITY_FILE + " (trained before edgekd recorded the data "
                "its models saw): overlap with its training and validation data cannot be "
                "checked")
OLD_FORMAT = ("{run}'s " + IDENTITY_FILE + " is format version {version}, which identified data "
              "by repetition-annotated blocks and misses the same samples annotated otherwise: "
              "overlap with its training and validation data cannot be checked")
ON_RESUME = ("{run}'s " + IDENTITY_FILE + " was written when the run was resumed, from the data "
             "as it was then, not when training started: if the data changed in between, it "
             "does not say what the models saw")
SHORT_WINDOWS = ("windows of {window} samples are shorter than the {rows} rows that identity "
                 "fingerprints need: overlap with training data cannot be checked")


def record_identity(out: Path, cfg, full: Dataset, splits: list[PreparedSplit],
                    resume: bool = False) -> None:
    """Write ``out/identity.json`` (+ ``identity.npz``) for ``splits`` of ``full`` (every
    modality and channel as read, the recordings in the order the splits' windows index them).
    A resumed run keeps the record made when it started."""
    path = out / IDENTITY_FILE
    if path.is_file():
        return
    entries = {p.split.name: _split_ranges(full, p) for p in splits}
    keep = {int(r) for e in entries.values() for r in e["seen"][:, 0]}
    prints = fingerprint(full, keep)
    arrays = prints.arrays()
    record_splits = {}
    for k, p in enumerate(splits):
        record_splits[p.split.name] = _split_record(cfg, full, p, entries[p.split.name], k, arrays)
    with atomic_path(out / FINGERPRINTS_FILE, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    record = {
        "format": FORMAT, "version": VERSION, "hash": HASH, "shingle_rows": SHINGLE,
        "winnow": WINNOW, "guaranteed_rows": GUARANTEED_ROWS, "data": cfg.data.path,
        "modality": cfg.data.modality or full.primary_modality,  # what the models read
        "recorded_on_resume": resume,
        "fingerprints": {"file": FINGERPRINTS_FILE, "sha256": _sha256(out / FINGERPRINTS_FILE),
                         "count": int(len(prints.hash))},
        "recordings": [{"person": r.person, "session": r.session, "modality": r.modality,
                        "n_samples": r.n_samples, "n_channels": r.n_chans, "source": r.source}
                       for r in full.recordings],
        "splits": record_splits,
    }
    write_json_atomic(path, record)
    log.info("recorded the identity of %d recordings (%d fingerprints) in %s",
             len(full.recordings), len(prints.hash), path)


def _split_ranges(full: Dataset, prepared: PreparedSplit) -> dict:
    w = prepared.spec.window.window
    seen = window_ranges(full, np.concatenate([prepared.train.recording, prepared.val.recording]),
                         np.concatenate([prepared.train.end, prepared.val.end]), w)
    test = window_ranges(full, prepared.test.recording, prepared.test.end, w)
    return {"seen": seen, "test": test, "window": w}


def _split_record(cfg, full: Dataset, prepared: PreparedSplit, ranges: dict, k: int,
                  arrays: dict) -> dict:
    def readable(rows: np.ndarray) -> str:
        return summarize_labels((where(full.recordings[r]), rep) for r, rep, _, _ in rows)

    labels, hashes, label_of, unchecked = [], [], [], []
    for run in ancestors(cfg):
        got, note = ancestor_seen(run, prepared.split.name, prepared.split.person)
        unchecked += [note] if note else []
        if got is not None:
            h, lab, names = got
            hashes.append(h)
            label_of.append(lab + len(labels))
            labels += [[f"{place} (via {run})", rep] for place, rep in names]
    if ranges["window"] < GUARANTEED_ROWS:
        unchecked.append(SHORT_WINDOWS.format(window=ranges["window"], rows=GUARANTEED_ROWS))
    if hashes:
        arrays[f"inherited{k}_hash"] = np.concatenate(hashes)
        arrays[f"inherited{k}_label"] = np.concatenate(label_of).astype(np.int32)
    seen, test = ranges["seen"], ranges["test"]
    return {"person": prepared.split.person, "trained_on": readable(seen),
            "tested_on": readable(test), "seen": seen.tolist(), "test": test.tolist(),
            "inherited": labels, "inherited_key": k if hashes else None,
            "unchecked": unchecked}


def ancestors(cfg) -> list[str]:
    """Runs whose models shaped this one: its ``init_from`` weights and offline teachers (not
    for the alpha=0 baseline, which never runs them)."""
    kd = cfg.kd
    taught = kd.mode == "offline" and (kd.alpha > 0 or kd.feature_student)
    teachers = list(kd.teachers) if taught else []
    return ([cfg.init_from] if cfg.init_from else []) + teachers


def ancestor_seen(run: str, split_name: str, person: str | None):
    """((hashes, label index per hash, [(where, repetition)]) seen by the model of ``run``
    used for this split, or None; a note when it cannot be fully known)."""
    from edgekd.train.runs import model_for
    path = model_for(run, split_name, person)
    their = json.loads((path.parent / "result.json").read_text())["name"]
    identity = load_identity(run)
    if identity is None:
        return None, NOT_RECORDED.format(run=run)
    reasons = identity.unchecked()
    if identity.prints is None:
        return None, "; ".join(reasons)
    return identity.seen(their), ("; ".join(reasons) or None)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Identity:
    """A run's identity record; ``prints`` is None for a record in an older format."""

    run: str
    record: dict
    prints: Fingerprints | None
    extra: dict

    def unchecked(self) -> list[str]:
        """Why this record cannot vouch for what the run's models saw (empty when it can)."""
        if self.prints is None:
            return [OLD_FORMAT.format(run=self.run, version=self.record.get("version", 1))]
        notes = [ON_RESUME.format(run=self.run)] if self.record.get("recorded_on_resume") else []
        return notes + sorted({n for e in self.record["splits"].values()
                               for n in e.get("unchecked", [])})

    def seen(self, split_name: str) -> tuple[np.ndarray, np.ndarray, list]:
        """(sorted fingerprint hashes, label index per hash, [(where, repetition)]) of what
        the split's model trained or validated on, inherited data included."""
        if split_name not in self.record["splits"]:
            raise EdgekdError(f"split {split_name!r} is missing from {self.run}'s "
                              f"{IDENTITY_FILE}")
        entry = self.record["splits"][split_name]
        recs = self.record["recordings"]
        labels = [(where(recs[r]), rep) for r, rep, _, _ in entry["seen"]]
        hashes = [self.prints.in_range(r, a, b) for r, _, a, b in entry["seen"]]
        label_of = [np.full(len(h), i, np.int32) for i, h in enumerate(hashes)]
        if entry.get("inherited_key") is not None:
            k = entry["inherited_key"]
            hashes.append(self.extra[f"inherited{k}_hash"])
            label_of.append(self.extra[f"inherited{k}_label"] + len(labels))
            labels += [tuple(lab) for lab in entry["inherited"]]
        h = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
        lab = np.concatenate(label_of) if label_of else np.empty(0, np.int32)
        order = np.argsort(h, kind="stable")
        return h[order], lab[order], labels

    def trained_names(self) -> set[tuple[str, str, str]]:
        """(person, session, modality) of every recording some split trained on."""
        recs = self.record["recordings"]
        return {(recs[r]["person"], recs[r]["session"], recs[r]["modality"])
                for e in self.record["splits"].values() for r, *_ in e["seen"]}


def load_identity(run_dir: str | Path) -> Identity | None:
    """The run's identity record, or None for a run trained before it was recorded."""
    path = Path(run_dir) / IDENTITY_FILE
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if record.get("format") != FORMAT:
        raise EdgekdError(f"{path}: not an edgekd identity record (no format={FORMAT!r})")
    version = record.get("version", 1)
    if version == 1:
        return Identity(str(run_dir), record, None, {})
    if version != VERSION:
        raise EdgekdError(f"{path}: identity format version {version} is newer than this "
                          f"edgekd reads ({VERSION}); upgrade edgekd")
    npz = Path(run_dir) / record["fingerprints"]["file"]
    if not npz.is_file() or _sha256(npz) != record["fingerprints"]["sha256"]:
        raise EdgekdError(f"{npz}: missing or not the fingerprint file {path} was written with "
                          "(sha256 differs): the run's identity record is incomplete")
    with np.load(npz) as z:
        arrays = {k: z[k] for k in z.files}
    prints = Fingerprints(arrays.pop("first"), arrays.pop("end"), arrays.pop("hash"))
    return Identity(str(run_dir), record, prints, arrays)


def screen(identity: Identity, split_name: str, shingles_of, ws, idx: np.ndarray,
           window: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Split window indices ``idx`` of ``ws`` into (kept, overlapping): a window overlaps when
    any shingle of its raw samples is a fingerprint of what the split's model trained or
    validated on (``shingles_of(recording index)`` gives a recording's shingle hashes); the
    third item names the training data the overlapping windows match."""
    hashes, label_of, labels = identity.seen(split_name)
    overlap, matched = np.zeros(len(idx), bool), set()
    for r in np.unique(ws.recording[idx]):
        mine = np.flatnonzero(ws.recording[idx] == r)
        shingles = shingles_of(int(r))
        hit, pos = seen_in_windows(shingles, hashes, ws.end[idx[mine]], window)
        overlap[mine] = hit
        covered = np.zeros(len(shingles) + 1, np.int64)      # shingles of overlapping windows
        ends = ws.end[idx[mine[hit]]]
        np.add.at(covered, np.clip(ends - window + 1, 0, len(shingles)), 1)
        np.add.at(covered, np.clip(ends - SHINGLE + 2, 0, len(shingles)), -1)
        inside = (np.cumsum(covered)[:-1] > 0) & (pos >= 0)
        matched |= {labels[i] for i in np.unique(label_of[pos[inside]])}
    return idx[~overlap], idx[overlap], summarize_labels(matched)


def name_clashes(identity: Identity, dataset: Dataset, shingles_of) -> list[str]:
    """Recordings named like ones the run trained on (person, session, modality) whose content
    matches none of the run's fingerprints: compared by content they count as new data; the
    user should know, in case they are the same recording re-scaled or re-exported."""
    known = np.unique(identity.prints.hash[identity.prints.hash != BLANK])
    trained = identity.trained_names()
    out = []
    for i, rec in enumerate(dataset.recordings):
        if (rec.person, rec.session, rec.modality) in trained:
            ends = np.array([rec.n_samples - 1])
            hit, _ = seen_in_windows(shingles_of(i), known, ends, rec.n_samples)
            if not hit[0]:
                out.append(where(rec))
    return out
