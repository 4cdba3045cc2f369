"""Domain errors: the CLI turns every :class:`EdgekdError` into one line and exit code 1."""

from __future__ import annotations

from pathlib import Path


class EdgekdError(Exception):
    """An error the user can act on; its message is printed without a traceback."""


class ConfigError(EdgekdError):
    """An option or option combination that cannot work, refused before any work starts."""


def format_location(path: str | Path, line: int | None = None, offset: int | None = None) -> str:
    """``path``, ``path:line 12`` or ``path:byte 640``: how every data error is located."""
    where = str(path)
    if line is not None:
        where += f":line {line}"
    if offset is not None:
        where += f":byte {offset}"
    return where


class DataFormatError(EdgekdError):
    """Bad input data, located as precisely as we can: file, line or byte offset.

    ``str(err)`` reads ``path:line 12: expected 8 numeric columns, got 7``.
    """

    def __init__(self, path: str | Path, detail: str, *, line: int | None = None,
                 offset: int | None = None):
        self.path = str(path)
        self.detail = detail
        self.line = line
        self.offset = offset
        super().__init__(self.location + ": " + detail)

    @property
    def location(self) -> str:
        return format_location(self.path, self.line, self.offset)
