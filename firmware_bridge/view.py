"""The live terminal view (rich): current gesture, per-class confidence bars, latency
percentiles, losses and CPU use; decisions the armband makes itself on a line of their own.
rich is imported here only. ``tick`` runs in the consumer thread ~10 times a second, so it
only reads what is cheap to read (bounded percentile tracking: :mod:`firmware_bridge.latency`)."""

from __future__ import annotations

import time

import numpy as np

from firmware_bridge.latency import RECENT
from firmware_bridge.sinks import label_name


class TerminalView:
    def __init__(self, label_names: list[str]):
        from rich.console import Console
        from rich.live import Live
        self.label_names = label_names
        self.live = Live(console=Console(stderr=True), refresh_per_second=10, transient=False)
        self._cpu0, self._wall0 = time.process_time(), time.monotonic()
        self.last = None           # this host's latest decision (or the device's, without one)
        self.last_device = None

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
        self.last = decision

    def tick(self, session) -> None:
        from rich.markup import escape
        from rich.panel import Panel
        d = self.last
        n = len(d.probs) if d is not None and len(d.probs) else len(self.label_names)
        names = [label_name(self.label_names, i) for i in range(n)]
        r = session.report()
        cpu = 100 * (time.process_time() - self._cpu0) / max(time.monotonic() - self._wall0, 1e-9)
        current = ("—" if d is None else "(rejected)" if d.label is None
                   else label_name(self.label_names, d.label))
        recent = session.summary.latency     # the newest decisions: what the wearer feels now
        p50, p99 = recent.recent_ms(50, 99)
        footer = (f"arrival→decision (last {min(recent.count, RECENT)}) p50 {p50 or 0:.2f} ms "
                  f"p99 {p99 or 0:.2f} ms | decisions "
                  f"{r['decisions']} rejected {r['rejected']} | frames missing "
                  f"{r['frames_missing']} crc errors {r['crc_errors']} outages {r['outages']} | "
                  f"CPU {cpu:.0f} %")
        title = f"[bold]{escape(str(current))}"
        if self.last_device is not None:
            dd = self.last_device
            title += escape(f"   on the device: {label_name(self.label_names, dd.label)} "
                            f"({dd.confidence:.2f})")
        self.live.update(Panel(self._bars(d, names), title=title, subtitle=escape(footer)))

    def _bars(self, d, names: list[str]):
        from rich.markup import escape
        from rich.table import Table
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right")
        table.add_column()
        table.add_column(justify="right")
        probs = d.probs if d is not None and len(d.probs) else np.zeros(len(names))
        for i, name in enumerate(names):
            bar = "█" * int(round(float(probs[i]) * 30))
            style = "bold green" if d is not None and d.label == i else ""
            table.add_row(escape(name), f"[{style}]{bar:<30}[/]" if style else f"{bar:<30}",
                          f"{float(probs[i]):.2f}")
        return table
