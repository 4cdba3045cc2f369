"""`edgekd models` lists from a cached catalog; the cache matches the real counts and cannot go
stale unnoticed."""

import pytest
from typer.testing import CliRunner

from edgekd import model_catalog
from edgekd.cli import app
from edgekd.models import list_models

SMALL = 1_000_000  # parameters: models up to this size are rebuilt and recounted here


@pytest.fixture(scope="module")
def catalog():
    cached, why = model_catalog.load(model_catalog.DEFAULT_INPUT)
    assert cached is not None, why  # fails after a change to edgekd/models until regenerated
    return cached


def test_catalog_lists_every_registered_model(catalog):
    assert [(r["name"], r["role"], r["description"]) for r in catalog["models"]] == [
        (e.name, e.role, e.description) for e in list_models()]


def test_catalog_counts_equal_the_real_counts_of_the_small_models(catalog):
    small = [r for r in catalog["models"] if r["parameters"] <= SMALL]
    assert len(small) >= 30  # all but the largest (gpt2, resnet1d)
    real = model_catalog.build(model_catalog.DEFAULT_INPUT, [r["name"] for r in small])
    assert real == small


def test_a_stale_catalog_is_refused_and_the_cli_counts_afresh(monkeypatch):
    monkeypatch.setattr(model_catalog, "source_digest", lambda: "changed sources")
    assert model_catalog.load(model_catalog.DEFAULT_INPUT)[0] is None
    result = CliRunner().invoke(app, ["models", "--role", "student"])
    assert result.exit_code == 0, result.output
    assert "out of date" in result.output and "32,775" in result.output  # cnn, recounted


def test_another_input_is_counted_not_taken_from_the_cache():
    result = CliRunner().invoke(app, ["models", "--role", "student", "--n-channels", "4"])
    assert result.exit_code == 0, result.output
    assert "32,135" in result.output  # cnn at 4 channels (32,775 at 8)


def test_an_unknown_role_is_an_error():
    result = CliRunner().invoke(app, ["models", "--role", "techer"])
    assert result.exit_code == 2 and "teacher or student" in result.output
