"""PNG figures (matplotlib, headless Agg backend), written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekd.atomic import atomic_path


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path: str | Path) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    _pyplot().close(fig)
    return Path(path)


def readable_log_axis(axis) -> None:
    """Log-scale ticks written as plain short numbers (200, 1k, 5M), with no labelled minor
    ticks: matplotlib labels minor ticks of a short range as 3×10², 4×10², which overlap.
    Call after plotting: ticks at 1, 2, 5 per decade over ≤ 2 decades, else one per decade."""
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    lo, hi = sorted(axis.get_view_interval())
    decades = math.log10(hi / lo) if lo > 0 else 99
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2 else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: _short_number(v)))
    axis.set_minor_formatter(NullFormatter())


def _short_number(v: float) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= scale:
            return f"{v / scale:g}{unit}"
    return f"{v:g}"


def confusion_png(cm: np.ndarray, labels: list[str], path: str | Path, title: str) -> Path:
    """Row-normalised confusion matrix (recall per true class) with counts."""
    plt = _pyplot()
    cm = np.asarray(cm, dtype=float)
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = max(4.0, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(rates, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{rates[i, j]:.2f}\n({int(cm[i, j])})", ha="center", va="center",
                    fontsize=7, color="white" if rates[i, j] > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    return save_figure(fig, path)


def curves_png(histories: dict[str, list[dict]], path: str | Path, title: str = "") -> Path:
    """Training loss and validation accuracy per epoch, one line per split; ``title`` names
    the run."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    if title:
        fig.suptitle(title)
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    for name, hist in histories.items():
        epochs = [h["epoch"] for h in hist]
        ax1.plot(epochs, [h["train_loss"] for h in hist], alpha=0.7, label=name)
        ax2.plot(epochs, [h["val_acc"] for h in hist], alpha=0.7, label=name)
    ax1.set(xlabel="epoch", ylabel="training loss", title="training loss")
    ax2.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy (selection)")
    if len(histories) <= 12:
        ax2.legend(fontsize=7)
    return save_figure(fig, path)
