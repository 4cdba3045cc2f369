"""The only place that prints: rich consoles and progress bars for the CLI."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)


def print_error(message: str) -> None:
    """One ``error: ...`` line on stderr. The message is escaped: error text quotes user input
    and Python lists (``['4']``), which rich would otherwise eat as markup tags."""
    err_console.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False,
                      soft_wrap=True)


def print_warning(message: str) -> None:
    """One ``warning: ...`` line on stderr, printed literally (see :func:`print_error`)."""
    err_console.print(f"[bold yellow]warning:[/] {escape(str(message))}", highlight=False,
                      soft_wrap=True)


def live_progress(*columns):
    """A rich ``Progress`` on stderr when it is a terminal; else plain progress lines (rich
    would print nothing until the end, so a redirected run looked stuck)."""
    if not err_console.is_terminal:
        from edgekd.cli.plain_progress import PlainProgress
        return PlainProgress(err_console)
    from rich.progress import Progress
    return Progress(*columns, console=err_console, transient=False)


@contextlib.contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (plain lines when not a terminal); yields ``advance(n=1)``."""
    from rich.progress import (BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with live_progress(*columns) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


@contextlib.contextmanager
def working(what: str) -> Iterator[None]:
    """A stage with no steps to count: a spinner on a terminal, else a line every 10 s and
    one at the end."""
    if err_console.is_terminal:
        with err_console.status(what):
            yield
        return
    from edgekd.cli.plain_progress import heartbeat
    with heartbeat(err_console, what):
        yield
