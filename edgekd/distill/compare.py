"""Paired comparison of runs over the same splits (DESIGN §4.5): per-split table, mean ± sd,
win/tie/loss and a Wilcoxon signed-rank test against the first run, with its n."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

from edgekd.errors import EdgekdError

METRIC_KEYS = ("accuracy", "balanced_accuracy", "macro_f1", "kappa", "active_error",
               "instability")   # the last two: LibEMG's control metrics (lower is better)


def _load(run: str | Path) -> dict:
    path = Path(run) / "metrics.json"
    if not path.is_file():
        raise EdgekdError(f"{run}: no metrics.json (is the run finished?)")
    return json.loads(path.read_text())


def compare_runs(runs: list[str | Path], metric: str = "accuracy") -> dict:
    """Compare every run with the first (the baseline) on the splits they share."""
    if len(runs) < 2:
        raise EdgekdError("compare needs at least two run directories")
    if metric not in METRIC_KEYS:
        raise EdgekdError(f"--metric {metric!r}: expected one of {METRIC_KEYS}")
    loaded = [_load(r) for r in runs]
    shared = sorted(set.intersection(*(set(m["splits"]) for m in loaded)))
    if not shared:
        raise EdgekdError("the runs share no split (were they trained on the same data/splits?)")
    for run, m in zip(runs, loaded):
        if any(m["splits"][s].get(metric) is None for s in shared):
            raise EdgekdError(f"{run}: metrics.json has no {metric} (trained before edgekd "
                              "recorded it); compare on accuracy, balanced_accuracy, macro_f1 or "
                              "kappa")
    values = np.array([[m["splits"][s][metric] for s in shared] for m in loaded])
    names = [Path(r).name or str(r) for r in runs]
    return {"metric": metric, "runs": [str(r) for r in runs], "names": names, "splits": shared,
            "values": values.tolist(),
            "mean": values.mean(1).tolist(),
            "sd": (values.std(1, ddof=1) if len(shared) > 1 else np.zeros(len(runs))).tolist(),
            "versus_baseline": [_paired(values[0], v) for v in values[1:]]}


def _paired(base: np.ndarray, other: np.ndarray) -> dict:
    diff = other - base
    wins, losses = int((diff > 1e-12).sum()), int((diff < -1e-12).sum())
    nonzero = diff[np.abs(diff) > 1e-12]
    p = float(wilcoxon(nonzero).pvalue) if len(nonzero) > 0 else 1.0
    return {"mean_diff": float(diff.mean()), "wins": wins, "ties": len(diff) - wins - losses,
            "losses": losses, "wilcoxon_p": p, "n": int(len(diff)),
            "n_nonzero": int(len(nonzero))}


def to_markdown(result: dict) -> str:
    names, metric = result["names"], result["metric"]
    lines = [f"| split | {' | '.join(names)} |", "|---" * (len(names) + 1) + "|"]
    for i, split in enumerate(result["splits"]):
        lines.append(f"| {split} | " + " | ".join(f"{v[i]:.4f}" for v in result["values"]) + " |")
    lines.append("| **mean ± sd** | " + " | ".join(
        f"{m:.4f} ± {s:.4f}" for m, s in zip(result["mean"], result["sd"])) + " |")
    lines.append("")
    for name, vs in zip(names[1:], result["versus_baseline"]):
        lines.append(f"- {name} vs {names[0]} ({metric}): mean difference "
                     f"{vs['mean_diff']:+.4f}, win/tie/loss {vs['wins']}/{vs['ties']}/"
                     f"{vs['losses']}, Wilcoxon signed-rank p = {vs['wilcoxon_p']:.4g} "
                     f"(n = {vs['n']}, {vs['n_nonzero']} non-zero differences)")
    return "\n".join(lines) + "\n"


def paired_plot(result: dict, path: str | Path) -> Path:
    """Paired dot plot: one line per split across runs."""
    from edgekd.plots import _pyplot, save_figure
    plt = _pyplot()
    values = np.array(result["values"])
    fig, ax = plt.subplots(figsize=(max(5.5, 2 + 1.6 * len(values)), 5))
    x = np.arange(len(values))
    for j in range(values.shape[1]):
        ax.plot(x, values[:, j], color="grey", alpha=0.4, marker="o", markersize=3)
    ax.errorbar(x, values.mean(1), yerr=result["sd"], color="black", marker="s", capsize=4,
                linewidth=2, label="mean ± sd")
    ax.set_xticks(x, [textwrap.fill(n, 14) for n in result["names"]])
    ax.set_ylabel(result["metric"])
    base = result["names"][0]
    pairs = [f"{name} vs {base}: Wilcoxon p = {v['wilcoxon_p']:.3g} (n = {v['n']})"
             for name, v in zip(result["names"][1:], result["versus_baseline"])]
    ax.set_title("paired by split (grey: one split)\n" + "\n".join(pairs), fontsize=9)
    ax.legend()
    return save_figure(fig, path)
