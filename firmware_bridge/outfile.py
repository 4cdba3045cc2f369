"""A file that a stream writes (``--decisions-json``, ``--record``): its path is checked as soon as it is
given, so a bad path fails before the device is started, but the file is only created or
replaced once the device is up. A start that fails (no such port, no answer) leaves whatever
was there before, and leaves nothing where there was nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from edgekd.errors import EdgekdError


class OutputFile:
    """``open()`` creates or truncates ``path`` (mode ``"w"`` or ``"wb"``) and returns the
    file; until then nothing on disk changes. ``option`` names the flag in error messages."""

    def __init__(self, path: str | Path, option: str, mode: str = "w"):
        self.path, self.option, self.mode = Path(path), option, mode
        self.file: IO | None = None
        existed = self.path.exists()
        try:
            with open(self.path, "ab"):   # appending changes nothing: a check that cannot lie
                pass
        except OSError as err:
            raise EdgekdError(f"{option} {path}: cannot write ({err.strerror})") from None
        if not existed:
            os.unlink(self.path)

    def open(self) -> IO:
        if self.file is None:
            try:
                self.file = open(self.path, self.mode)
            except OSError as err:
                raise EdgekdError(f"{self.option} {self.path}: cannot write "
                                  f"({err.strerror})") from None
        return self.file

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
