"""The live view fits an 80-column terminal and, with ground truth, shows the true gesture and
the running online accuracy, scored by the same rule as the end-of-run online accuracy."""

from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console

from edgekd.signal import window_labels
from firmware_bridge.decision import Decision
from firmware_bridge.latency import LatencyStats
from firmware_bridge.truth import GroundTruth, RunningAccuracy
from firmware_bridge.view import TerminalView

NAMES = ["rest", "radial deviation", "wrist flexion", "ulnar deviation", "wrist extension",
         "hand close", "hand open"]
REPORT = {"decisions": 123456, "rejected": 7890, "frames_missing": 12345, "crc_errors": 678,
          "outages": 9}


def _session():
    return SimpleNamespace(report=lambda: REPORT, summary=SimpleNamespace(latency=LatencyStats()))


def _decision(end, label, probs=None, source="host"):
    probs = np.full(7, 1 / 7, np.float32) if probs is None else probs
    return Decision(end_sample=end, label=label, confidence=0.9, raw=label or 0, probs=probs,
                    source=source)


def _render(view) -> list[str]:
    console = Console(width=80, record=True, color_system=None)
    console.print(view.render(_session()))
    return console.export_text().splitlines()


def test_view_fits_80_columns_and_shows_truth_and_online_accuracy():
    labels = np.repeat([0, 1, 2], 100)
    view = TerminalView(NAMES, GroundTruth(labels), window=20)
    view.sink(_decision(150, 1))          # true: radial deviation, correct
    view.sink(_decision(250, 0))          # true: wrist flexion, wrong
    view.sink(_decision(260, None))       # rejected: not scored
    view.sink(_decision(262, 5, source="device"))
    lines = _render(view)
    text = "\n".join(lines)
    assert max(len(ln) for ln in lines) <= 80
    assert "true gesture: wrist flexion" in text
    assert "online accuracy: 0.500 (2 scored)" in text
    assert "on the device: hand close (0.90)" in text
    for value in ("123456", "7890", "12345", "678", "outages 9", "p99"):
        assert value in text, value
    for name in NAMES:
        assert name in text


def test_view_without_ground_truth_has_no_truth_line():
    view = TerminalView(NAMES)
    view.sink(_decision(150, 1))
    text = "\n".join(_render(view))
    assert "true gesture" not in text and "decisions 123456" in text


def test_running_accuracy_uses_the_offline_window_rule():
    rng = np.random.default_rng(0)
    labels = np.repeat(rng.integers(-1, 4, 40), rng.integers(5, 30, 40))
    ends = np.arange(25, len(labels) + 10, 3)
    pred = rng.integers(0, 4, len(ends))
    score = RunningAccuracy(GroundTruth(labels), window=25)
    for e, p in zip(ends, pred):
        score.add(int(e), int(p))
    inside = ends < len(labels)
    y, keep = window_labels(labels, np.zeros_like(labels), ends[inside], 25)
    assert score.scored == keep.sum() > 0
    assert score.accuracy == pytest.approx((pred[inside][keep] == y[keep]).mean())
