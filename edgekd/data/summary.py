"""What is in a dataset, and everything wrong with it, as one JSON-able dict."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from edgekd.data.recording import UNLABELLED, Dataset, Problem, Recording
from edgekd.data.splits import natural_key


def summarize(dataset: Dataset) -> dict:
    recs = dataset.recordings
    found = list(dataset.problems) + _consistency_problems(dataset)
    problems = [p for p in found if p.severity != "info"]
    modalities = {}
    for m in dataset.modalities:
        of_m = dataset.of_modality(m)
        modalities[m] = {"channels": of_m[0].channels, "n_channels": of_m[0].n_chans,
                         "unit": of_m[0].unit, "recordings": len(of_m)}
    values = [(float(r.signals.min()), float(r.signals.max())) for r in recs if r.n_samples]
    return {
        "source": dataset.source,
        "format": dataset.format,
        "fs": sorted({r.fs for r in recs}),
        "n_people": len(dataset.people),
        "people": dataset.people,
        "n_sessions": len({r.key for r in recs}),
        "sessions": sessions_by_person(dataset),
        "n_recordings": len(recs),
        "duration_s": round(sum(r.duration_s for r in dataset.of_modality(
            dataset.primary_modality)), 3),
        "modalities": modalities,
        "n_channels": modalities[dataset.primary_modality]["n_channels"] if recs else 0,
        "gestures": _gesture_totals(dataset),
        "value_range": [min(v[0] for v in values), max(v[1] for v in values)] if values else None,
        "n_problems": len(problems),
        "problems": [p.to_dict() for p in problems],
        "skipped_files": [p.to_dict() for p in found if p.severity == "info"],
    }


def sessions_by_person(dataset: Dataset) -> dict[str, list[str]]:
    """{person: session names in natural order}: what ``--scheme session --test`` and
    ``--train`` take."""
    out: dict[str, set[str]] = defaultdict(set)
    for r in dataset.recordings:
        out[r.person].add(r.session)
    return {p: sorted(out[p], key=natural_key) for p in sorted(out, key=natural_key)}


def _gesture_totals(dataset: Dataset) -> list[dict]:
    samples, seconds = defaultdict(int), defaultdict(float)
    segments, people = defaultdict(int), defaultdict(set)
    for rec in dataset.of_modality(dataset.primary_modality):
        counts = np.bincount(rec.labels[rec.labels >= 0], minlength=len(dataset.label_names))
        for label, n in enumerate(counts):
            if n:
                samples[label] += int(n)
                seconds[label] += n / rec.fs
                people[label].add(rec.person)
        for label in _run_labels(rec):
            segments[label] += 1
    return [{"label": i, "name": name, "samples": samples[i], "seconds": round(seconds[i], 3),
             "segments": segments[i], "people": len(people[i])}
            for i, name in enumerate(dataset.label_names)]


def _run_labels(rec: Recording) -> list[int]:
    """The label of each contiguous labelled run (a repetition change also starts a run)."""
    if rec.n_samples == 0:
        return []
    change = np.flatnonzero((np.diff(rec.labels) != 0) | (np.diff(rec.repetition) != 0)) + 1
    starts = np.concatenate([[0], change])
    return [int(rec.labels[s]) for s in starts if rec.labels[s] != UNLABELLED]


def _consistency_problems(dataset: Dataset) -> list[Problem]:
    problems = []
    n_labels = len(dataset.label_names)
    for m in dataset.modalities:
        recs = dataset.of_modality(m)
        counts = [r.n_chans for r in recs]
        usual = max(set(counts), key=counts.count)
        problems += [Problem(r.source, f"{r.n_chans} channels, but most {m} recordings have "
                                       f"{usual}") for r in recs if r.n_chans != usual]
    rates = sorted({r.fs for r in dataset.recordings})
    if len(rates) > 1:
        problems.append(Problem(dataset.source, f"several sampling rates {rates}: resample "
                                                "before training", severity="warning"))
    for r in dataset.recordings:
        if r.labels.size and r.labels.max() >= n_labels:
            problems.append(Problem(r.source, f"label {int(r.labels.max())} has no name "
                                              f"({n_labels} label names)"))
        if not np.isfinite(r.signals).all():
            row = int(np.argwhere(~np.isfinite(r.signals))[0][0])
            problems.append(Problem(r.source, f"NaN/inf at sample {row}"))
        if (r.labels == UNLABELLED).all():
            problems.append(Problem(r.source, "no labelled samples", severity="warning"))
    return problems
