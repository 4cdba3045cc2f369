"""The live terminal view (rich): current gesture, per-class confidence bars, latency
percentiles, losses and CPU use; decisions the armband makes itself on a line of their own.
rich is imported here only. ``tick`` runs in the consumer thread ~10 times a second, so it
only reads what is cheap to read (bounded percentile tracking: :mod:`firmware_bridge.latency`)."""

from __future__ import annotations

import time

import numpy as np

from firmware_bridge.latency import RECENT
from firmware_bridge.sinks import label_name
from firmware_bridge.truth import GroundTruth, RunningAccuracy


# Bars and status lines fit an 80-column terminal: panel border and padding take 4 columns,
# the longest built-in gesture name 16, the probability 4.
BAR_WIDTH = 30


class TerminalView:
    """``truth`` (with the model's ``window`` in samples): score each decision of this host
    as it comes and show the true gesture and the online accuracy so far."""

    def __init__(self, label_names: list[str], truth: GroundTruth | None = None,
                 window: int | None = None):
        from rich.console import Console
        from rich.live import Live
        self.label_names = label_names
        self.live = Live(console=Console(stderr=True), refresh_per_second=10, transient=False)
        self._cpu0, self._wall0 = time.process_time(), time.monotonic()
        self.last = None           # this host's latest decision (or the device's, without one)
        self.last_device = None
        self.score = RunningAccuracy(truth, window) if truth is not None and window else None

    def __enter__(self) -> "TerminalView":
        self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.live.__exit__(*exc)

    def sink(self, decision) -> None:
        if decision.source == "device":
            self.last_device = decision
            if self.label_names and self.last is not None and self.last.source == "host":
                return
        elif self.score is not None:
            self.score.add(decision.end_sample, decision.label)
        self.last = decision

    def tick(self, session) -> None:
        self.live.update(self.render(session))

    def render(self, session):
        """The panel: confidence bars, then short status lines (each under 76 columns)."""
        from rich.console import Group
        from rich.markup import escape
        from rich.panel import Panel
        d = self.last
        n = len(d.probs) if d is not None and len(d.probs) else len(self.label_names)
        names = [label_name(self.label_names, i) for i in range(n)]
        current = ("—" if d is None else "(rejected)" if d.label is None
                   else label_name(self.label_names, d.label))
        return Panel(Group(self._bars(d, names), *self._status(session)),
                     title=f"[bold]{escape(str(current))}", title_align="left")

    def _status(self, session) -> list:
        from rich.text import Text
        r = session.report()
        cpu = 100 * (time.process_time() - self._cpu0) / max(time.monotonic() - self._wall0, 1e-9)
        recent = session.summary.latency     # the newest decisions: what the wearer feels now
        p50, p99 = recent.recent_ms(50, 99)
        lines = []
        if self.score is not None:
            truth, acc = self.score.last_truth, self.score.accuracy
            shown = "—" if truth is None else label_name(self.label_names, truth)
            lines.append(f"true gesture: {shown}   online accuracy: "
                         f"{'—' if acc is None else f'{acc:.3f}'} ({self.score.scored} scored)")
        if self.last_device is not None:
            dd = self.last_device
            lines.append(f"on the device: {label_name(self.label_names, dd.label)} "
                         f"({dd.confidence:.2f})")
        lines += [f"arrival→decision p50 {p50 or 0:.2f} ms  p99 {p99 or 0:.2f} ms "
                  f"(last {min(recent.count, RECENT)})",
                  f"decisions {r['decisions']}  rejected {r['rejected']}  CPU {cpu:.0f} %",
                  f"frames missing {r['frames_missing']}  CRC errors {r['crc_errors']}  "
                  f"outages {r['outages']}"]
        return [Text(line, style="dim" if i else "", overflow="fold")
                for i, line in enumerate(lines)]

    def _bars(self, d, names: list[str]):
        from rich.markup import escape
        from rich.table import Table
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right", overflow="fold", max_width=24)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        probs = d.probs if d is not None and len(d.probs) else np.zeros(len(names))
        for i, name in enumerate(names):
            bar = "█" * int(round(float(probs[i]) * BAR_WIDTH))
            style = "bold green" if d is not None and d.label == i else ""
            table.add_row(escape(name), f"[{style}]{bar:<{BAR_WIDTH}}[/]" if style
                          else f"{bar:<{BAR_WIDTH}}", f"{float(probs[i]):.2f}")
        return table
