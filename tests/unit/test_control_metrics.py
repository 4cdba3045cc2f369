"""The online control metrics against hand computations (and against LibEMG's own formulas,
libemg 2.0.3 offline_metrics.py: get_CA lines 131-152, get_AER 154-175, get_INS 177-197,
get_REJ_RATE 199-214)."""

import numpy as np
import pytest

from edgekd.control_metrics import control_metrics, onset_latency, rest_class, stream_metrics

# rest = 0; window 7 is unscored (it spans a label change); -1 in `decided` = rejected
Y = [0, 0, 1, 1, 1, 2, 2, -1, 2, 0]
D = [0, -1, 1, 2, 1, -1, 2, 1, 2, 0]


def test_by_hand():
    m = control_metrics(Y, D, rest=0, n_labelled=12)
    # scored: y = 0 0 1 1 1 2 2 2 0, d = 0 -1 1 2 1 -1 2 2 0
    assert m["windows_scored"] == 9 and m["windows_labelled"] == 12
    assert m["accuracy_accepted"] == pytest.approx(6 / 7)        # 7 accepted, one 1→2 wrong
    assert m["rejection_rate"] == pytest.approx(2 / 9)
    assert m["rejection_rate_gesture"] == pytest.approx(1 / 6)   # 6 gesture windows, 1 rejected
    assert m["accuracy_rejections_as_rest"] == pytest.approx(7 / 9)
    assert m["active_error"] == pytest.approx(1 / 5)             # 5 accepted non-rest, 1 wrong
    assert m["instability"] == pytest.approx((7 - 3) / 9)        # 7 decision changes, 3 true
    assert m["availability"] == pytest.approx(7 / 12)


def test_agrees_with_libemgs_formulas():
    y, d = np.array(Y), np.array(D)
    y, d = y[y >= 0], d[y >= 0]
    valid = d != -1                                   # LibEMG's _ignore_rejected
    ca = sum(d[valid] == y[valid]) / len(y[valid])
    dv, yv = d[valid], y[valid]
    nm = [i for i, x in enumerate(dv) if x == 0]
    aer = 1 - sum(np.delete(dv, nm) == np.delete(yv, nm)) / len(np.delete(yv, nm))
    ins = (np.count_nonzero(d[:-1] != d[1:]) - np.count_nonzero(y[:-1] != y[1:])) / len(d)
    rej = sum(d == -1) / len(d)
    m = control_metrics(Y, D, rest=0)
    assert (m["accuracy_accepted"], m["active_error"], m["instability"], m["rejection_rate"]) \
        == pytest.approx((ca, aer, max(ins, 0.0), rej))


def test_without_a_rest_class_rest_metrics_are_none_and_empty_input_is_safe():
    m = control_metrics(Y, D, rest=None)
    assert m["accuracy_rejections_as_rest"] is None and m["rejection_rate_gesture"] is None
    assert m["active_error"] == pytest.approx(1 / 7)  # every accepted decision is "active"
    empty = control_metrics([], [], rest=0)
    assert empty["accuracy_accepted"] is None and empty["instability"] is None
    assert rest_class(["Neutral", "fist"]) == 0 and rest_class(["fist", "open"]) is None


def test_onset_latency_by_hand():
    labels = [-1] * 10 + [1] * 20 + [0] * 10 + [2] * 20 + [-1] * 5 + [1] * 10
    ends = np.arange(4, 75, 5)                       # 4, 9, ..., 74
    decided = np.full(len(ends), 0)
    decided[ends == 19] = -1
    decided[(ends == 24) | (ends == 29)] = 1          # onset at 10 → first correct at 24
    decided[(ends >= 44) & (ends < 60)] = 2           # onset at 40 → at 44
    # onset at 65 (class 1): decided 0 at 69 and 74 → missed
    m = onset_latency(labels, ends, decided, fs=100.0, rest=0)
    assert (m["onsets"], m["onsets_missed"]) == (3, 1)
    assert m["onset_latency_ms_p50"] == pytest.approx(90.0)       # median of 140 and 40 ms
    assert m["onset_latency_ms_p90"] == pytest.approx(130.0)
    assert m["onset_latency_ms_mean"] == pytest.approx(90.0)


def test_stream_metrics_score_windows_as_offline_and_count_gap_windows():
    labels = np.array([0] * 20 + [1] * 20)
    # window 7, hop 5: grid ends 6, 11, ..., 36 (7 windows); 21 spans the change (unscored)
    ends = np.array([6, 11, 21, 26, 31])               # 16 and 36 lost in a gap
    decided = np.array([0, -1, 1, 1, 0])
    m = stream_metrics(labels, ends, decided, window=7, hop=5, fs=100.0, rest=0)
    assert m["windows_scored"] == 4 and m["windows_labelled"] == 6
    assert m["accuracy_accepted"] == pytest.approx(2 / 3)
    assert m["availability"] == pytest.approx(3 / 6)   # accepted (right or wrong): 6, 26, 31
    assert m["onset_latency_ms_p50"] == pytest.approx(10.0)   # onset 20, decided at 21
