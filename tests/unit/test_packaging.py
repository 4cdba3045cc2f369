"""The distribution lists its packages explicitly; an unlisted subpackage would be missing from a
regular (non-editable) install while every editable install and test here still passed."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_source_folder_is_a_listed_package():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    found = set()
    for root in ("edgekd", "export", "firmware_bridge"):
        for py in (REPO / root).rglob("*.py"):
            folder = py.parent.relative_to(REPO)
            found.add(".".join(folder.parts))
            assert (py.parent / "__init__.py").is_file(), f"{folder} has no __init__.py"
    assert found == listed
