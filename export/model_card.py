"""The model card written beside every exported artifact (``<artifact>.md``): what the model
was trained on (data, its content hash, the people), how well it does per person on held-out
data, the preprocessing it expects, the parity of the artifact with its checkpoint, what it is
for and what it is not, and where it came from (code commit, package versions, machine).

Everything is read from what the export already has: the artifact's metadata, the parity
report, and the run directory (``config.yaml``, ``metrics.json`` with its provenance record,
``identity.json``). Torch-free.
"""

from __future__ import annotations

import json
from pathlib import Path

from edgekd.provenance import provenance

INTENDED_USE = (
    "Recognising the gestures listed above from the same kind of armband, with the electrodes "
    "in the same places and order, streamed through `edgekd stream` (which refuses a device "
    "whose channel count or rate differs). A per-person model is meant for the person it was "
    "trained on. A research and prototyping component of an EMG interface (a game, a cursor, "
    "a prosthesis under supervision).")
LIMITS = [
    "The accuracies above are on held-out windows of the recordings listed; other sessions "
    "(electrode shift, sweat, fatigue, arm position) and other people usually score lower, and "
    "are not measured here unless the split tested them (`edgekd evaluate` measures them).",
    "Offline accuracy is not what a user feels: rejections, instability and the delay from "
    "the onset of a gesture to its first correct decision are reported by `edgekd evaluate` "
    "and the stream summary.",
    "Not a medical device; it has not been validated for clinical use or for controlling "
    "anything that can hurt someone without a human able to stop it.",
    "The preprocessing (filters, window, normalisation statistics) is part of the model: feed "
    "it raw samples in the unit it was trained on, at the rate above.",
]


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _per_person_rows(metrics: dict, split: str | None) -> list[str]:
    rows = []
    for name, m in sorted(metrics.get("splits", {}).items()):
        mark = " (this model)" if name == split else ""
        ae = m.get("active_error")
        rows.append(f"| {name}{mark} | {m.get('person') or '-'} | {m['accuracy']:.4f} | "
                    f"{m.get('balanced_accuracy', float('nan')):.4f} | "
                    f"{m.get('macro_f1', float('nan')):.4f} | "
                    f"{'n/a' if ae is None else f'{ae:.4f}'} | {m.get('n', '')} |")
    return rows


def _data_lines(run_dir: Path, metrics: dict) -> list[str]:
    prov = metrics.get("provenance", {})
    identity = _load(run_dir / "identity.json")
    recs = identity.get("recordings", [])
    people = sorted({r["person"] for r in recs})
    sessions = sorted({f"{r['person']}/{r['session']}" for r in recs})
    data = prov.get("data", {})
    lines = [f"- recordings: `{prov.get('data_path') or identity.get('data', 'unknown')}`"]
    if data:
        lines.append(f"- content hash (sha256 of the data as read): `{data['sha256']}` "
                     f"({data['recordings']} recordings, {data['samples']:,} samples)")
    else:
        lines.append("- content hash: not recorded (run trained before edgekd recorded it)")
    if people:
        lines.append(f"- people ({len(people)}): {', '.join(people)}")
        lines.append(f"- sessions ({len(sessions)}): {', '.join(sessions[:30])}"
                     + (" …" if len(sessions) > 30 else ""))
    return lines


def model_card(artifact: Path, meta: dict, report: dict, run_dir: Path) -> str:
    """The card's markdown."""
    metrics = _load(run_dir / "metrics.json")
    pre = meta["preprocess"]
    model = meta.get("model", {})
    summary = metrics.get("summary", {}).get("accuracy", {})
    here = provenance()
    trained = metrics.get("provenance", {})
    lines = [
        f"# Model card: {artifact.name}", "",
        f"{model.get('name', 'model')} exported as `{meta['format']}` from run "
        f"`{run_dir}`, split `{meta.get('split')}`.", "",
        "## What it recognises", "",
        f"- classes: {', '.join(meta['label_names'])}",
        f"- input: {len(meta['channels'])} channels ({', '.join(meta['channels'])}) at "
        f"{meta['fs']:g} Hz, windows of {meta['window']} samples "
        f"({meta['window'] / meta['fs'] * 1e3:.0f} ms) every {meta['hop']} samples",
        f"- preprocessing: filters {json.dumps(pre.get('filters'))}; per-channel "
        "normalisation with statistics fitted on the training part only",
        f"- quantization: {json.dumps(meta.get('quantization'))}", "",
        "## Data", "", *_data_lines(run_dir, metrics), "",
        "## Accuracy per person (held-out test part of each split)", "",
        "| split | person | accuracy | balanced acc. | macro-F1 | active error | windows |",
        "|---|---|---|---|---|---|---|", *_per_person_rows(metrics, meta.get("split")), "",
    ]
    if summary:
        lines += [f"Mean accuracy {summary['mean']:.4f} ± {summary.get('sd', 0):.4f} over "
                  f"{metrics.get('n_splits', '?')} split(s).", ""]
    lines += [
        "## This artifact against its checkpoint", "",
        f"- top-1 agreement {report.get('top1_agreement', float('nan')):.4f}, accuracy "
        f"{report.get('accuracy_artifact', float('nan')):.4f} (checkpoint "
        f"{report.get('accuracy_torch', float('nan')):.4f}), max |Δlogit| "
        f"{report.get('max_abs_logit_diff', float('nan')):.3g}, "
        f"{report.get('size_bytes', 0):,} bytes", "",
        "## Intended use", "", INTENDED_USE, "",
        "## Limits", "", *[f"- {x}" for x in LIMITS], "",
        "## Provenance", "",
        f"- checkpoint sha256 `{meta.get('source_checkpoint_sha256')}`",
        f"- trained with: {_env(trained)}",
        f"- exported with: {_env(here)}", "",
    ]
    return "\n".join(lines)


def _env(p: dict) -> str:
    if not p:
        return "not recorded"
    git = p.get("git") or {}
    commit = (f"commit {git['commit'][:12]}{' (uncommitted changes)' if git.get('dirty') else ''}"
              if git else "not a git checkout")
    pkgs = ", ".join(f"{k} {v}" for k, v in p.get("packages", {}).items() if v)
    m = p.get("machine", {})
    return (f"{commit}; {pkgs}; {m.get('cpu')} ({m.get('cores')} cores), {m.get('platform')}; "
            f"{p.get('created')}")


def write_model_card(artifact: Path, meta: dict, report: dict, run_dir: Path) -> Path:
    """Write ``<artifact>.md`` atomically; returns its path."""
    from edgekd.atomic import write_text_atomic
    path = artifact.with_name(artifact.name + ".md")
    write_text_atomic(path, model_card(artifact, meta, report, run_dir))
    return path
