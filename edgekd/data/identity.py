"""Which data a trained model has seen, recorded by content so that ``edgekd evaluate`` never
scores it, whatever folder, format or name the data comes back under.

A recording is cut into *blocks*: maximal runs of one repetition id, each with the unlabelled
stretch before it (the rule windows use: a window never crosses a change of this backfilled
repetition, see :mod:`edgekd.signal.windows`). Every window lies inside one block, and every
split assigns whole blocks to one side (repetitions, sessions and people are unions of blocks),
so "this window overlaps training or validation data" is "its block's content was in a training
or validation window". A block is identified by the SHA-256 of its raw float32 samples, all
channels, before any channel selection; blocks recorded at the same time in another modality
(paired recordings: same person, session and sample range) are seen together.

A run directory holds ``identity.json``: the recordings (person, session, modality, size,
source), the blocks, and per split the blocks its training and validation windows came from
(``seen``) and its test blocks. A run started from another run's weights (``init_from``) or
distilled from teachers also inherits what those saw.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from edgekd.data.recording import Dataset, Recording
from edgekd.data.windowing import WindowSet
from edgekd.signal.windows import _backfill  # the very rule that keeps windows inside a block

IDENTITY_FILE = "identity.json"
FORMAT = "edgekd-data-identity"
HASH = "sha256 of each block's raw float32 samples (all channels), first 128 bits"


@dataclass
class Blocks:
    """The blocks of every recording of a dataset, in recording order.

    rec/rep/start/stop: int ``[n_blocks]`` (recording index, backfilled repetition id, sample
    range); hashes: str ``[n_blocks]``; first: ``[n_recordings + 1]`` offsets into the arrays.
    """

    rec: np.ndarray
    rep: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    hashes: np.ndarray
    first: np.ndarray

    def of_windows(self, ws: WindowSet) -> np.ndarray:
        """Block index of each window of ``ws`` (whose ``recording`` indexes this dataset)."""
        out = np.empty(len(ws), dtype=np.int64)
        for r in np.unique(ws.recording):
            lo, hi = self.first[r], self.first[r + 1]
            mine = ws.recording == r
            out[mine] = lo + np.searchsorted(self.start[lo:hi], ws.end[mine], side="right") - 1
        return out


def recording_blocks(rec: Recording) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(starts, backfilled repetition ids, content hashes) of one recording's blocks."""
    if rec.n_samples == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), []
    rep = _backfill(rec.repetition)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(rep) != 0) + 1]).astype(np.int64)
    stops = np.append(starts[1:], rec.n_samples)
    hashes = [hashlib.sha256(np.ascontiguousarray(rec.signals[a:b]).tobytes()).hexdigest()[:32]
              for a, b in zip(starts, stops)]
    return starts, rep[starts], hashes


def dataset_blocks(dataset: Dataset) -> Blocks:
    """Blocks of every recording (every modality) of ``dataset``; hash the full recordings,
    before channel selection, so a 4-electrode student and its 8-electrode teacher agree."""
    parts, first = [], [0]
    for i, rec in enumerate(dataset.recordings):
        starts, reps, hashes = recording_blocks(rec)
        stops = np.append(starts[1:], rec.n_samples)
        parts.append((np.full(len(starts), i), reps, starts, stops, np.array(hashes, dtype=object)))
        first.append(first[-1] + len(starts))
    cols = [np.concatenate([p[k] for p in parts]) if parts else np.empty(0) for k in range(5)]
    return Blocks(*(c.astype(np.int64) for c in cols[:4]), cols[4].astype(object),
                  np.array(first, dtype=np.int64))


def paired_groups(dataset: Dataset, blocks: Blocks) -> list[np.ndarray]:
    """For each block, the blocks recorded at the same time (same person, session and sample
    range) in every modality, itself included."""
    groups = defaultdict(list)
    keys = [(*dataset.recordings[r].key, a, b)
            for r, a, b in zip(blocks.rec, blocks.start, blocks.stop)]
    for b, key in enumerate(keys):
        groups[key].append(b)
    return [np.array(groups[key], dtype=np.int64) for key in keys]


def block_label(rec: Recording, rep: int) -> tuple[str, int]:
    """('person/session modality', repetition): how messages name a block."""
    return f"{rec.person}/{rec.session} {rec.modality}", int(rep)


def summarize_labels(labels) -> str:
    """[('P00/S0 emg', 0), ('P00/S0 emg', 1)] -> 'P00/S0 emg repetitions 0, 1'."""
    reps = defaultdict(set)
    for where, rep in labels:
        reps[where].add(rep)
    return "; ".join(f"{where} repetition{'s' if len(r) > 1 else ''} "
                     f"{', '.join(map(str, sorted(r)))}" for where, r in sorted(reps.items()))
