"""Atomic writes keep the permissions a plain write would give (issue 20: datasets were 0700)."""

import os
import stat

import pytest

from edgekd.atomic import atomic_directory, write_text_atomic


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_atomic_directory_respects_umask(tmp_path, umask_022):
    with atomic_directory(tmp_path / "ds") as tmp:
        (tmp / "a.txt").write_text("x")
    mode = stat.S_IMODE((tmp_path / "ds").stat().st_mode)
    assert mode == 0o755, oct(mode)


def test_atomic_file_respects_umask(tmp_path, umask_022):
    write_text_atomic(tmp_path / "f.json", "{}")
    assert stat.S_IMODE((tmp_path / "f.json").stat().st_mode) == 0o644
