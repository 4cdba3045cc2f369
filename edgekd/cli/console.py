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


@contextlib.contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields ``advance(n=1)``."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)

    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
