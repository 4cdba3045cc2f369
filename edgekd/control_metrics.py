"""Online control metrics: what a user of a myoelectric interface feels, side by side with plain
accuracy. One module, used by ``edgekd evaluate``, ``edgekd compare`` and the stream summary.
numpy only (the edge host imports it).

Inputs are per window, in time order: the true label of each window (``-1``: not scored, e.g.
a window that spans a label change or lies in an unlabelled stretch) and what was decided
(``-1``: rejected, the window got no gesture). The LibEMG offline metrics (libemg
``offline_metrics.py``: CA, AER, INS, REJ_RATE) are reproduced under their definitions:

* ``accuracy_accepted`` (LibEMG CA): correct / accepted, rejected windows ignored;
* ``rejection_rate`` (LibEMG REJ_RATE): rejected / decided; ``rejection_rate_gesture``: the
  same on windows whose true class is a gesture (not rest): the gestures a user did not get;
* ``accuracy_rejections_as_rest``: rejected windows read as rest (what a prosthesis does with
  a rejection), correct / decided;
* ``active_error`` (LibEMG AER): wrong / accepted decisions that are not rest (the decisions
  that would move something);
* ``instability`` (LibEMG INS): (changes of decision − changes of truth) / decided, floored at
  0, over the decided windows in order (a rejection counts as a change, as in LibEMG);
* ``availability``: labelled windows that got an accepted decision / all labelled windows,
  windows lost in gaps and rejected ones included;
* ``onset_latency_ms_p50/p90``: from the first sample of a gesture to the end of the first
  window decided as that gesture (``onset_latency``); ``onsets_missed``: gestures never decided
  correctly while they lasted.
"""

from __future__ import annotations

import numpy as np

REST_NAMES = ("rest", "neutral", "relax", "no movement", "nm", "none")


def rest_class(label_names) -> int | None:
    """Index of the rest / no-motion class from its name, or None."""
    for i, name in enumerate(label_names):
        if str(name).strip().lower() in REST_NAMES:
            return i
    return None


def _ratio(num, den) -> float | None:
    return float(num) / float(den) if den else None


def control_metrics(y_true, decided, rest: int | None, n_labelled: int | None = None) -> dict:
    """The metrics above for windows with true labels ``y_true`` (int [n], -1: not scored) and
    decisions ``decided`` (int [n], -1: rejected). ``n_labelled`` counts every labelled window
    of the recording, decided or not (default: the scored ones here)."""
    y, d = np.asarray(y_true, np.int64), np.asarray(decided, np.int64)
    if y.shape != d.shape:
        raise ValueError(f"y_true {y.shape} and decided {d.shape} differ")
    s = y >= 0
    y, d = y[s], d[s]
    acc = d >= 0
    gesture = y != rest if rest is not None else np.ones_like(y, bool)
    as_rest = np.where(acc, d, -2 if rest is None else rest)
    active = acc & (d != rest) if rest is not None else acc
    n_lab = len(y) if n_labelled is None else n_labelled
    changes = np.count_nonzero(d[1:] != d[:-1]) - np.count_nonzero(y[1:] != y[:-1])
    return {
        "windows_scored": int(len(y)), "windows_accepted": int(acc.sum()),
        "windows_labelled": int(n_lab),
        "accuracy_accepted": _ratio(np.count_nonzero(d[acc] == y[acc]), acc.sum()),
        "rejection_rate": _ratio(np.count_nonzero(~acc), len(y)),
        "rejection_rate_gesture": (_ratio(np.count_nonzero(~acc & gesture), gesture.sum())
                                   if rest is not None else None),
        "accuracy_rejections_as_rest": (_ratio(np.count_nonzero(as_rest == y), len(y))
                                        if rest is not None else None),
        "active_error": _ratio(np.count_nonzero(d[active] != y[active]), active.sum()),
        "instability": max(0.0, changes / len(y)) if len(y) else None,
        "availability": _ratio(np.count_nonzero(acc), n_lab),
    }


def onset_latencies(sample_labels, ends, decided, fs: float,
                    rest: int | None) -> tuple[int, list[float]]:
    """(gesture onsets, latencies in ms of those decided correctly); see :func:`onset_latency`."""
    labels = np.asarray(sample_labels, np.int64)
    ends, decided = np.asarray(ends, np.int64), np.asarray(decided, np.int64)
    change = np.flatnonzero(np.diff(labels) != 0) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(labels)]])
    latencies, onsets = [], 0
    for a, b in zip(starts, stops):
        c = labels[a]
        if c < 0 or c == rest or a == 0:   # unlabelled, rest, or a gesture already under way
            continue
        onsets += 1
        i, j = np.searchsorted(ends, [a, b])
        hit = np.flatnonzero(decided[i:j] == c)
        if len(hit):
            latencies.append(float((ends[i + hit[0]] - a) / fs * 1e3))
    return onsets, latencies


def summarize_onsets(onsets: int, latencies: list[float]) -> dict:
    lat = np.array(latencies)
    return {"onsets": onsets, "onsets_missed": onsets - len(lat),
            "onset_latency_ms_p50": float(np.percentile(lat, 50)) if len(lat) else None,
            "onset_latency_ms_p90": float(np.percentile(lat, 90)) if len(lat) else None,
            "onset_latency_ms_mean": float(lat.mean()) if len(lat) else None}


def onset_latency(sample_labels, ends, decided, fs: float, rest: int | None) -> dict:
    """For each gesture onset (a sample where the label becomes a class other than rest), the
    time to the first window decided as that class before the gesture ends. ``ends``: the last
    sample of every decided window (int [k], ascending), ``decided``: its decision (-1:
    rejected). Returns the onsets, those missed, and the latency median / 90th percentile /
    mean in ms (None without any detected onset)."""
    return summarize_onsets(*onset_latencies(sample_labels, ends, decided, fs, rest))


def libemg_metrics(y_true, predicted, rest: int | None) -> dict:
    """LibEMG's active error and instability of plain argmax predictions (no rejection), for
    a run's own test windows (in their order)."""
    m = control_metrics(y_true, predicted, rest)
    return {"active_error": m["active_error"], "instability": m["instability"]}


def policy_metrics(y, recording, ends, probs, labels_of, fs: float, rest: int | None,
                   threshold: float = 0.0, vote: int = 1) -> dict:
    """Windows of one or more recordings as the live path would decide them: per recording,
    in time order, the decision policy of ``edgekd stream`` (``threshold``, ``vote``) turns the
    probabilities ``probs`` [n, classes] into decisions; the metrics above are computed over
    all windows (``y`` [n], -1: not scored; ``recording``/``ends`` [n]), the onset latency on
    each recording's per-sample labels ``labels_of(recording)``."""
    from edgekd.decision_policy import DecisionPolicy
    y, recording, ends = (np.asarray(a, np.int64) for a in (y, recording, ends))
    ys, ds, onsets, latencies = [], [], 0, []
    for r in np.unique(recording):
        idx = np.flatnonzero(recording == r)
        idx = idx[np.argsort(ends[idx], kind="stable")]
        policy = DecisionPolicy(threshold, vote)
        d = np.array([-1 if (lab := policy.decide(int(e), p).label) is None else lab
                      for e, p in zip(ends[idx], probs[idx])], np.int64)
        ys.append(y[idx])
        ds.append(d)
        n, lat = onset_latencies(labels_of(int(r)), ends[idx], d, fs, rest)
        onsets, latencies = onsets + n, latencies + lat
    out = control_metrics(np.concatenate(ys), np.concatenate(ds), rest)
    out.update(summarize_onsets(onsets, latencies), threshold=threshold, vote=vote)
    return out


def stream_metrics(sample_labels, ends, decided, window: int, hop: int, fs: float,
                   rest: int | None, last_sample: int | None = None) -> dict:
    """All of the above for one stream: decisions (``ends``, ``decided``; -1 rejected) placed
    on a recording's per-sample labels. Windows are scored as offline (the window's last
    sample labelled, no label change inside); ``availability`` counts every labelled window of
    the decision grid up to ``last_sample``, decided or lost in a gap."""
    from edgekd.signal import window_labels
    labels = np.asarray(sample_labels, np.int64)
    ends, decided = np.asarray(ends, np.int64), np.asarray(decided, np.int64)
    inside = ends < len(labels)
    ends, decided = ends[inside], decided[inside]
    no_reps = np.zeros_like(labels)
    y, keep = window_labels(labels, no_reps, ends, window)
    top = min(len(labels) - 1, len(labels) - 1 if last_sample is None else last_sample)
    grid = np.arange(window - 1, top + 1, hop)
    _, grid_keep = window_labels(labels, no_reps, grid, window)
    out = control_metrics(np.where(keep, y, -1), decided, rest, int(grid_keep.sum()))
    out.update(onset_latency(labels, ends, decided, fs, rest))
    return out
