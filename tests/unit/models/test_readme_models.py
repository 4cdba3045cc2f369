"""The README's "Choosing a model" table names every registered model with its role, and the
numbers it quotes for the students are what `edgekd models` computes for the default input."""

import re
from pathlib import Path

import pytest

from edgekd.models import MODELS, create_model
from edgekd.profiling import count_macs, count_parameters

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()
TABLE = README.split("## Choosing a model", 1)[1].split("\n## ", 1)[0]
ROWS = [ln.split("|")[1:-1] for ln in TABLE.splitlines() if ln.startswith("| `")]


def _names(cell: str) -> list[str]:
    return re.findall(r"`([a-z0-9_]+)`", cell)


def test_every_registered_model_is_in_the_table_with_its_role():
    listed = {name: row[1].strip() for row in ROWS for name in _names(row[0])}
    registered = {n for n in MODELS.names() if not n.endswith("_tiny")}
    assert set(listed) == registered
    for name, role in listed.items():
        assert MODELS.get(name).role == role, name


@pytest.mark.parametrize("row", [r for r in ROWS if r[1].strip() == "student"],
                         ids=lambda r: r[0].strip())
def test_student_numbers_are_computed(row):
    params = [int(p.replace(",", "")) for p in row[2].split("/")]
    macs = [int(m.replace(",", "")) for m in row[3].split("/")]
    for name, p, m in zip(_names(row[0]), params, macs, strict=True):
        model = create_model(name, n_chans=8, n_times=52, n_outputs=7, sfreq=200.0)
        assert count_parameters(model) == p, name
        assert count_macs(model, (8, 52)) == m, name
