"""The ``edgekd`` command line. Commands are thin: they parse options and call library code.
Domain errors become one line on stderr and exit code 1, here and only here."""

from __future__ import annotations

import sys

import typer

from edgekd import __version__
from edgekd.cli import bench, data, demo, distill, export, stream, train
from edgekd.cli.aliases import command_of, rewrite
from edgekd.cli.console import err_console, print_error, print_warning
from edgekd.errors import EdgekdError
from edgekd.extras import missing_extra_message

app = typer.Typer(name="edgekd", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False,
                  help="Train, distill, export and stream compact EMG gesture models.")
app.add_typer(data.app, name="data")
app.command()(train.train)
app.command()(train.evaluate)
app.command()(train.models)
app.command()(distill.distill)
app.command()(distill.compare)
app.command()(export.export)
app.command()(bench.bench)
app.command()(stream.stream)
app.command()(stream.simulate)
app.command()(demo.demo)


def _version(value: bool) -> None:
    if value:
        print(f"edgekd {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """edgekd: from EMG recordings to a distilled student running next to the armband."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point. Typer (standalone mode) handles --help, usage errors and
    exits; domain errors are turned into one line and exit code 1 here."""
    argv, renamed = rewrite(sys.argv[1:] if argv is None else list(argv))
    for note in renamed:
        print_warning(note)
    try:
        app(args=argv, prog_name="edgekd")
    except EdgekdError as err:
        print_error(str(err))
        sys.exit(1)
    except ModuleNotFoundError as err:  # a command that needs an extra this install lacks
        message = missing_extra_message(err.name, f"edgekd {command_of(argv)}")
        if message is None:
            raise
        print_error(message)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
