"""Progress as plain lines, for output that is not a terminal (a log file, CI, a pipe).

rich draws nothing until the end when stderr is not a terminal, so a redirected ``edgekd demo``
was silent for minutes per stage. :class:`PlainProgress` takes the part of rich's ``Progress``
API the CLI uses (``add_task``, ``update``, ``advance``, ``reset``) and prints one line per task
when it starts, at each further tenth of its total, at its end, and otherwise at most every
``every_s`` seconds. :func:`heartbeat` does the same for a stage with no steps to count.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

from rich.console import Console
from rich.markup import escape

EVERY_S = 5.0  # a line at least this often while a task moves, if no tenth was crossed


@dataclass
class _Task:
    description: str
    total: float | None
    fields: dict
    completed: float = 0.0
    started: float = field(default_factory=time.monotonic)
    printed_at: float = float("-inf")
    tenth: int = -1  # last tenth of the total printed


class PlainProgress:
    """Plain-line stand-in for ``rich.progress.Progress`` (the calls the CLI makes)."""

    def __init__(self, console: Console, every_s: float = EVERY_S):
        self.console, self.every_s = console, every_s
        self._tasks: list[_Task] = []

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def add_task(self, description: str, total: float | None = None, **fields) -> int:
        self._tasks.append(_Task(description, total, fields))
        return len(self._tasks) - 1

    def reset(self, task: int, total: float | None = None, **fields) -> None:
        self._tasks[task] = _Task(self._tasks[task].description, total,
                                  {**self._tasks[task].fields, **fields})

    def advance(self, task: int, advance: float = 1) -> None:
        self.update(task, advance=advance)

    def update(self, task: int, *, total: float | None = None, completed: float | None = None,
               advance: float | None = None, description: str | None = None, **fields) -> None:
        t = self._tasks[task]
        t.total = t.total if total is None else total
        t.completed = t.completed if completed is None else completed
        t.completed += advance or 0
        t.description = description or t.description
        t.fields.update(fields)
        self._maybe_print(t)

    def _maybe_print(self, t: _Task) -> None:
        now = time.monotonic()
        tenth = int(10 * t.completed / t.total) if t.total else -1
        if tenth > t.tenth or now - t.printed_at >= self.every_s:
            t.tenth, t.printed_at = max(tenth, t.tenth), now
            self.console.print(escape(_line(t, now)), highlight=False, soft_wrap=True)


def _line(t: _Task, now: float) -> str:
    done = f"{t.completed:g}/{t.total:g} ({100 * t.completed / t.total:.0f}%)" if t.total else (
        f"{t.completed:g}")
    info = f" {t.fields['info']}" if t.fields.get("info") else ""
    return f"{t.description}: {done}{info} [{now - t.started:.0f} s]"


@contextlib.contextmanager
def heartbeat(console: Console, what: str, every_s: float = 10.0) -> Iterator[None]:
    """``what: still working [N s]`` every ``every_s`` seconds from a daemon thread, and
    ``what: done [N s]`` at the end. Nothing before the first beat, so a stage that fails at
    once leaves only its one-line error, and nothing at the end if it raised."""
    start, stop = time.monotonic(), threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            console.print(escape(f"{what}: still working [{time.monotonic() - start:.0f} s]"),
                          highlight=False, soft_wrap=True)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    console.print(escape(f"{what}: done [{time.monotonic() - start:.0f} s]"), highlight=False,
                  soft_wrap=True)
