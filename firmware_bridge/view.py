"""The live terminal view (rich): current gesture, per-class confidence bars, latency
percentiles, losses and CPU use. rich is imported here only."""

from __future__ import annotations

import time

import numpy as np


class TerminalView:
    def __init__(self, label_names: list[str]):
        from rich.console import Console
        from rich.live import Live
        self.label_names = label_names
        self.live = Live(console=Console(stderr=True), refresh_per_second=10, transient=False)
        self._cpu0, self._wall0 = time.process_time(), time.monotonic()
        self.last = None

    def __enter__(self) -> "TerminalView":
        self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.live.__exit__(*exc)

    def sink(self, decision) -> None:
        self.last = decision

    def tick(self, session) -> None:
        from rich.panel import Panel
        from rich.table import Table
        d = self.last
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right")
        table.add_column()
        table.add_column(justify="right")
        probs = d.probs if d is not None else np.zeros(len(self.label_names))
        for i, name in enumerate(self.label_names):
            bar = "█" * int(round(float(probs[i]) * 30))
            style = "bold green" if d is not None and d.label == i else ""
            table.add_row(name, f"[{style}]{bar:<30}[/]" if style else f"{bar:<30}",
                          f"{float(probs[i]):.2f}")
        r = session.report()
        cpu = 100 * (time.process_time() - self._cpu0) / max(time.monotonic() - self._wall0, 1e-9)
        current = ("—" if d is None else "(rejected)" if d.label is None
                   else self.label_names[d.label])
        p50, p99 = r["latency_ms_p50"], r["latency_ms_p99"]
        footer = (f"latency p50 {p50 or 0:.2f} ms  p99 {p99 or 0:.2f} ms | decisions "
                  f"{r['decisions']} rejected {r['rejected']} | frames missing "
                  f"{r['frames_missing']} crc errors {r['crc_errors']} outages {r['outages']} | "
                  f"CPU {cpu:.0f} %")
        self.live.update(Panel(table, title=f"[bold]{current}", subtitle=footer))
