"""Classification metrics from labels and predictions (numpy only)."""

from __future__ import annotations

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]``."""
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes ** 2).reshape(
        n_classes, n_classes)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """Accuracy, balanced accuracy, macro-F1 and Cohen's kappa over the classes present in
    ``y_true``, plus the confusion matrix."""
    cm = confusion(np.asarray(y_true), np.asarray(y_pred), n_classes).astype(np.float64)
    n = cm.sum()
    present = cm.sum(1) > 0
    recall = np.divide(np.diag(cm), cm.sum(1), out=np.zeros(n_classes), where=cm.sum(1) > 0)
    precision = np.divide(np.diag(cm), cm.sum(0), out=np.zeros(n_classes), where=cm.sum(0) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(n_classes),
                   where=(precision + recall) > 0)
    accuracy = np.trace(cm) / n if n else 0.0
    expected = (cm.sum(0) * cm.sum(1)).sum() / n ** 2 if n else 0.0
    kappa = (accuracy - expected) / (1 - expected) if expected < 1 else 0.0
    return {"accuracy": float(accuracy), "balanced_accuracy": float(recall[present].mean()),
            "macro_f1": float(f1[present].mean()), "kappa": float(kappa), "n": int(n),
            "confusion": cm.astype(int).tolist()}


SUMMARY_KEYS = ("accuracy", "balanced_accuracy", "macro_f1", "kappa")
CONTROL_KEYS = ("active_error", "instability")   # LibEMG's (edgekd.control_metrics), when known


def mean_sd(per_split: list[dict]) -> dict:
    out = {}
    known = tuple(k for k in CONTROL_KEYS if all(m.get(k) is not None for m in per_split))
    for key in SUMMARY_KEYS + known:
        values = np.array([m[key] for m in per_split])
        out[key] = {"mean": float(values.mean()),
                    "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0}
    return out
