"""Which samples a trained model has seen, recorded by content alone, so that ``edgekd evaluate``
never scores them again, whatever folder, file name, format, session name or repetition
annotation they come back under.

Identity is the raw samples as read (float32, every channel, before any channel selection or
filtering), cut into *shingles*: ``SHINGLE`` consecutive rows, one at every sample position,
each hashed to 64 bits. Nothing else enters the hash, so re-annotated repetitions, renamed
sessions or a CSV export imported again hash the same; a re-scaled copy (other units) does not.

What a split's model saw is the raw sample range of each of its training and validation
windows, merged into ranges. Storing every shingle of them would cost 8 bytes per sample, so
they are *winnowed* (Schleimer, Wilkerson & Aiken, SIGMOD 2003, the MOSS fingerprints): of every
``WINNOW`` consecutive shingles inside a seen range the smallest hash is kept. The choice
depends on content only, and it guarantees:

    an evaluation window that shares ``GUARANTEED_ROWS`` (= SHINGLE + WINNOW - 1) or more
    consecutive raw rows with data a model saw contains a kept fingerprint and is excluded.

An evaluation window is excluded when any of its shingles is a kept fingerprint, so shorter
shared stretches (>= ``SHINGLE`` rows) are usually caught too. Shingles whose rows are all equal
(a flat line, zero padding, a saturated stretch) say nothing about which recording they came
from; they are never fingerprints, so two recordings are not confused by shared silence.

Cost (``python -m benchmarks.identity_cost``): hashing is vectorised, a few passes over the
samples; about one fingerprint per 4.5 seen samples, ~2.1 bytes per sample in the compressed
``identity.npz``, whatever the channel count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekd.data.recording import Dataset, Recording
from edgekd.signal.windows import _backfill  # the repetition a window is labelled with

IDENTITY_FILE = "identity.json"
FINGERPRINTS_FILE = "identity.npz"
FORMAT = "edgekd-data-identity"
VERSION = 2
SHINGLE = 8          # rows per shingle: 8 rows x 8 channels of noisy EMG do not recur
WINNOW = 8           # shingles per winnowing window: ~22 % of positions are fingerprints
GUARANTEED_ROWS = SHINGLE + WINNOW - 1
BLANK = np.uint64(2**64 - 1)   # the hash of a shingle that identifies nothing (all rows equal)
HASH = (f"splitmix64-mixed sum over {SHINGLE}-row shingles of the raw float32 samples (all "
        f"channels, as read); per seen range the minimum of every {WINNOW} consecutive "
        "shingle hashes (winnowing)")

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_CHUNK = 1 << 20     # values hashed at once: bounded memory on long, many-channel recordings


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 (wrapping arithmetic). Written here
    because hashlib takes one buffer per call: a Python call per shingle would cost seconds per
    recording, where this is a few vectorised passes."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _salts(n: int) -> np.ndarray:
    """One pseudo-random constant per position, so that order matters in a sum of hashes."""
    return _mix(np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)


def row_hashes(signals: np.ndarray) -> np.ndarray:
    """uint64 ``[n_samples]``: a hash of each row of float32 ``[n_samples, n_chans]``."""
    x = np.ascontiguousarray(signals, dtype=np.float32) + np.float32(0.0)   # -0.0 -> +0.0
    bits = x.view(np.uint32)
    salts = _salts(x.shape[1])
    out = np.empty(len(x), dtype=np.uint64)
    step = max(1, _CHUNK // max(1, x.shape[1]))
    with np.errstate(over="ignore"):
        for a in range(0, len(x), step):
            out[a:a + step] = _mix(bits[a:a + step].astype(np.uint64) + salts).sum(axis=1)
    return out


def shingle_hashes(signals: np.ndarray) -> np.ndarray:
    """uint64 ``[max(0, n_samples - SHINGLE + 1)]``: hash of rows ``i .. i+SHINGLE-1`` at
    position ``i``; ``BLANK`` where those rows are all equal."""
    rows = row_hashes(signals)
    n = len(rows) - SHINGLE + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    out = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j, salt in enumerate(_salts(SHINGLE)):
            out += _mix(rows[j:j + n] + salt)
        out = _mix(out)
    changes = np.concatenate([[0], np.cumsum(rows[1:] != rows[:-1])])
    out[changes[SHINGLE - 1:] == changes[:n]] = BLANK
    return out


@dataclass
class Fingerprints:
    """Winnowed shingle hashes of some recordings, as runs: for recording ``r``, runs
    ``first[r] .. first[r+1]-1``; run ``k`` holds the minimum of the ``WINNOW`` shingle hashes
    starting at every position from the previous run's ``end`` (0 for the first) up to
    ``end[k] - 1``. Recordings with no stored runs have ``first[r] == first[r+1]``."""

    first: np.ndarray    # int64 [n_recordings + 1]
    end: np.ndarray      # uint32 [n_runs]
    hash: np.ndarray     # uint64 [n_runs]

    def in_range(self, rec: int, start: int, stop: int) -> np.ndarray:
        """Fingerprint hashes (BLANK removed) of raw rows ``start .. stop-1`` of ``rec``: the
        minima of the winnowing windows lying wholly inside the range."""
        last = stop - GUARANTEED_ROWS          # last window start inside the range
        lo, hi = int(self.first[rec]), int(self.first[rec + 1])
        if last < start or lo == hi:
            return np.empty(0, dtype=np.uint64)
        ends = self.end[lo:hi]
        a = lo + np.searchsorted(ends, start, side="right")
        b = lo + np.searchsorted(ends, last, side="right")
        h = self.hash[a:b + 1]
        return h[h != BLANK]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"first": self.first, "end": self.end, "hash": self.hash}


def winnow(shingles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(run ends uint32, run minima uint64) of the minimum of every ``WINNOW`` consecutive
    shingle hashes (see :class:`Fingerprints`)."""
    if len(shingles) < WINNOW:
        return np.empty(0, np.uint32), np.empty(0, np.uint64)
    minima = np.lib.stride_tricks.sliding_window_view(shingles, WINNOW).min(axis=1)
    ends = np.append(np.flatnonzero(minima[1:] != minima[:-1]) + 1, len(minima))
    return ends.astype(np.uint32), minima[ends - 1]


def fingerprint(dataset: Dataset, keep: set[int]) -> Fingerprints:
    """Fingerprints of the recordings of ``dataset`` whose index is in ``keep``."""
    first, ends, hashes = [0], [np.empty(0, np.uint32)], [np.empty(0, np.uint64)]
    for i, rec in enumerate(dataset.recordings):
        if i in keep:
            e, h = winnow(shingle_hashes(rec.signals))
            ends.append(e)
            hashes.append(h)
        first.append(first[-1] + (len(ends[-1]) if i in keep else 0))
    return Fingerprints(np.array(first, np.int64), np.concatenate(ends), np.concatenate(hashes))


def window_ranges(dataset: Dataset, recording: np.ndarray, end: np.ndarray,
                  window: int) -> np.ndarray:
    """int64 ``[n_ranges, 4]`` of (recording, repetition, start, stop): the raw sample ranges
    of windows (``recording`` indexes ``dataset``, ``end`` is each window's last sample),
    merged per recording and repetition (backfilled, for messages only), and the same ranges
    in every recording made at the same time (same person and session, other modality)."""
    if len(end) == 0:
        return np.empty((0, 4), np.int64)
    reps = np.empty(len(end), np.int64)
    for r in np.unique(recording):
        mine = recording == r
        reps[mine] = _backfill(dataset.recordings[r].repetition)[end[mine]]
    rows = np.stack([recording, reps, end - window + 1, end + 1], axis=1).astype(np.int64)
    rows = np.concatenate([rows, *_paired(dataset, rows)])
    return _merge(rows)


def _paired(dataset: Dataset, rows: np.ndarray) -> list[np.ndarray]:
    out = []
    for r in np.unique(rows[:, 0]):
        rec = dataset.recordings[r]
        for j, other in enumerate(dataset.recordings):
            if j != r and other.key == rec.key and other.modality != rec.modality:
                mine = rows[rows[:, 0] == r].copy()
                mine[:, 0] = j
                mine[:, 2:] = np.minimum(mine[:, 2:], other.n_samples)
                out.append(mine[mine[:, 2] < mine[:, 3]])
    return out


def _merge(rows: np.ndarray) -> np.ndarray:
    """Merge overlapping or touching ranges of one recording and repetition."""
    _, group = np.unique(rows[:, :2], axis=0, return_inverse=True)
    span = int(rows[:, 3].max()) + 1          # groups laid end to end on one axis
    start = group.reshape(-1) * span + rows[:, 2]
    order = np.argsort(start, kind="stable")
    rows, start = rows[order], start[order]
    stop = np.maximum.accumulate(start + rows[:, 3] - rows[:, 2])
    new = np.concatenate([[True], start[1:] > stop[:-1]])
    last = np.append(np.flatnonzero(new)[1:], len(rows)) - 1
    out = rows[new].copy()
    out[:, 3] = stop[last] - start[new] + out[:, 2]
    return out


def seen_in_windows(shingles: np.ndarray, seen: np.ndarray, end: np.ndarray,
                    window: int) -> tuple[np.ndarray, np.ndarray]:
    """(bool per window, index into sorted ``seen`` per matching shingle position or -1):
    whether any shingle inside each window (``end``: its last sample) is in ``seen``."""
    pos = np.searchsorted(seen, shingles)
    hit = (pos < len(seen)) & (seen[np.minimum(pos, len(seen) - 1)] == shingles) \
        if len(seen) else np.zeros(len(shingles), bool)
    hit &= shingles != BLANK
    count = np.concatenate([[0], np.cumsum(hit)])
    lo = np.clip(end - window + 1, 0, len(shingles))
    hi = np.clip(end - SHINGLE + 2, 0, len(shingles))
    return count[np.maximum(hi, lo)] > count[lo], np.where(hit, pos, -1)


def where(rec: Recording | dict) -> str:
    """'person/session modality': how messages name a recording."""
    get = rec.get if isinstance(rec, dict) else lambda k: getattr(rec, k)
    return f"{get('person')}/{get('session')} {get('modality')}"


def summarize_labels(labels) -> str:
    """[('P00/S0 emg', 0), ('P00/S0 emg', 1)] -> 'P00/S0 emg repetitions 0, 1'."""
    reps: dict[str, set] = {}
    for place, rep in labels:
        reps.setdefault(place, set()).add(int(rep))
    return "; ".join(f"{place} repetition{'s' if len(r) > 1 else ''} "
                     f"{', '.join(map(str, sorted(r)))}" for place, r in sorted(reps.items()))
