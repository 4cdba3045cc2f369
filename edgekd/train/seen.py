"""What each split's model has seen: written to ``identity.json`` when a run starts, read by
``edgekd evaluate`` to keep training and validation data out of every score (the block rule and
hashing are in :mod:`edgekd.data.identity`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from edgekd.atomic import write_json_atomic
from edgekd.data.identity import (FORMAT, HASH, IDENTITY_FILE, Blocks, block_label,
                                  dataset_blocks, paired_groups, summarize_labels)
from edgekd.data.prepare import PreparedSplit
from edgekd.data.recording import Dataset
from edgekd.errors import EdgekdError

log = logging.getLogger("edgekd.train")

NOT_RECORDED = ("{run} has no " + IDENTITY_FILE + " (trained before edgekd recorded the data "
                "its models saw): overlap with its training and validation data cannot be "
                "checked")


def record_identity(out: Path, cfg, full: Dataset, splits: list[PreparedSplit],
                    resume: bool = False) -> None:
    """Write ``out/identity.json`` for ``splits`` of ``full`` (every modality and channel, the
    recordings in the order the splits' windows index them). A resumed run keeps the record
    made when it started."""
    path = out / IDENTITY_FILE
    if path.is_file():
        return
    blocks = dataset_blocks(full)
    groups = paired_groups(full, blocks)
    record = {
        "format": FORMAT, "version": 1, "hash": HASH, "data": cfg.data.path,
        "recorded_on_resume": resume,
        "recordings": [{"person": r.person, "session": r.session, "modality": r.modality,
                        "n_samples": r.n_samples, "n_channels": r.n_chans, "source": r.source}
                       for r in full.recordings],
        "blocks": [[int(r), int(p), int(a), int(b), h] for r, p, a, b, h in
                   zip(blocks.rec, blocks.rep, blocks.start, blocks.stop, blocks.hashes)],
        "splits": {p.split.name: _split_record(cfg, full, blocks, groups, p) for p in splits},
    }
    write_json_atomic(path, record)
    log.info("recorded the identity of %d recordings (%d blocks) in %s", len(full.recordings),
             len(blocks.rec), path)


def _split_record(cfg, full: Dataset, blocks: Blocks, groups: list[np.ndarray],
                  prepared: PreparedSplit) -> dict:
    def ids(*parts) -> list[int]:
        own = np.unique(np.concatenate([blocks.of_windows(p) for p in parts]))
        return sorted({int(g) for b in own for g in groups[b]})

    def readable(block_ids: list[int]) -> str:
        return summarize_labels(block_label(full.recordings[blocks.rec[b]], blocks.rep[b])
                                for b in block_ids)

    inherited, unchecked = {}, []
    for run in ancestors(cfg):
        labels, note = ancestor_seen(run, prepared.split.name, prepared.split.person)
        inherited.update({h: [*lab, str(run)] for h, lab in labels.items()})
        unchecked += [note] if note else []
    seen, test = ids(prepared.train, prepared.val), ids(prepared.test)
    return {"person": prepared.split.person, "trained_on": readable(seen),
            "tested_on": readable(test), "seen": seen, "test": test, "inherited": inherited,
            "unchecked": unchecked}


def ancestors(cfg) -> list[str]:
    """Runs whose models shaped this one: its ``init_from`` weights and offline teachers (not
    for the alpha=0 baseline, which never runs them)."""
    kd = cfg.kd
    taught = kd.mode == "offline" and (kd.alpha > 0 or kd.feature_student)
    teachers = list(kd.teachers) if taught else []
    return ([cfg.init_from] if cfg.init_from else []) + teachers


def ancestor_seen(run: str, split_name: str, person: str | None) -> tuple[dict, str | None]:
    """({hash: (where, repetition)} seen by the model of ``run`` used for this split, or a note
    saying why it cannot be known)."""
    from edgekd.train.runs import model_for
    path = model_for(run, split_name, person)
    their = json.loads((path.parent / "result.json").read_text())["name"]
    identity = load_identity(run)
    if identity is None:
        return {}, NOT_RECORDED.format(run=run)
    return seen_labels(identity, their), None


def load_identity(run_dir: str | Path) -> dict | None:
    """The run's identity record, or None for a run trained before it was recorded."""
    path = Path(run_dir) / IDENTITY_FILE
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if record.get("format") != FORMAT:
        raise EdgekdError(f"{path}: not an edgekd identity record (no format={FORMAT!r})")
    return record


def seen_labels(identity: dict, split_name: str) -> dict[str, tuple[str, int]]:
    """{block hash: (where, repetition)} of everything the split's model trained or validated
    on, inherited blocks included."""
    entry = identity["splits"][split_name]
    recs, blocks = identity["recordings"], identity["blocks"]
    out = {}
    for b in entry["seen"]:
        r, rep, _, _, h = blocks[b]
        rec = recs[r]
        out[h] = (f"{rec['person']}/{rec['session']} {rec['modality']}", rep)
    for h, (where, rep, via) in entry.get("inherited", {}).items():
        out.setdefault(h, (f"{where} (via {via})", rep))
    return out


def screen(identity: dict, split_name: str, hashes: np.ndarray,
           idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Split ``idx`` into (kept, overlapping) by whether the window's block hash (``hashes``,
    one per window of the whole window set) is among what the split's model trained or
    validated on; the third item names the training data the overlapping windows match."""
    if split_name not in identity["splits"]:
        raise EdgekdError(f"split {split_name!r} is missing from the run's {IDENTITY_FILE}")
    seen = seen_labels(identity, split_name)
    overlap = np.fromiter((h in seen for h in hashes[idx]), dtype=bool, count=len(idx))
    matched = {seen[h] for h in set(hashes[idx][overlap])}
    return idx[~overlap], idx[overlap], summarize_labels(matched)


def name_clashes(identity: dict, dataset: Dataset, blocks: Blocks) -> list[str]:
    """Recordings named like ones the run trained on (person, session, modality) whose content
    matches none of the run's blocks: compared by content they count as new data; the user
    should know, in case they are the same recording re-scaled or re-exported."""
    known = {b[4] for b in identity["blocks"]}
    seen_recs = {b[0] for entry in identity["splits"].values()
                 for b in (identity["blocks"][i] for i in entry["seen"])}
    trained = {(identity["recordings"][r]["person"], identity["recordings"][r]["session"],
                identity["recordings"][r]["modality"]) for r in seen_recs}
    out = []
    for i, rec in enumerate(dataset.recordings):
        own = blocks.hashes[blocks.first[i]:blocks.first[i + 1]]
        if (rec.person, rec.session, rec.modality) in trained and not known & set(own):
            out.append(block_label(rec, 0)[0])
    return out
