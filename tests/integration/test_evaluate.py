"""`edgekd evaluate` never scores data a model trained or validated on (checked by content, for
every split scheme), evaluates the people present, and still reads runs from before it
recorded what they saw."""

import json
import shutil
from dataclasses import replace

import pytest

from edgekd.cli import main
from edgekd.data import native
from edgekd.data.identity import IDENTITY_FILE
from edgekd.data.readers import read_dataset
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.errors import EdgekdError
from edgekd.train.config import resolve
from edgekd.train.evaluate import evaluate_run
from edgekd.train.run import train_run

SCHEMES = {"repetition": {}, "session": {}, "person": {},
           "kfold": {"split.k": 3}, "pooled": {"split.per_person": False}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """2 people x 3 sessions x 3 repetitions of 3 gestures, and a 1-epoch run per scheme."""
    root = tmp_path_factory.mktemp("honest")
    native.write_dataset(synthesize(SynthConfig(people=2, sessions=3, repetitions=3, gestures=3,
                                                hold_s=2.0, seed=4)), root / "data")
    metrics = {}
    for name, over in SCHEMES.items():
        scheme = name if name in ("repetition", "session", "person", "kfold") else "repetition"
        metrics[name] = train_run(_cfg(root / "data", **{"split.scheme": scheme, **over}),
                                  root / name)
    return root, metrics


def _cfg(data, **over):
    base = {"data.path": str(data), "model": "cnn_tiny", "data.hop": 10, "optim.epochs": 1,
            "device": "cpu", "optim.patience": 0}
    return resolve(overrides={**base, **over})


def _write(root, recordings, like):
    native.write_dataset(replace(like, recordings=recordings), root)
    return root


@pytest.mark.parametrize("scheme", SCHEMES)
def test_own_training_data_is_excluded_for_every_scheme(lab, scheme):
    """--split all on the run's own data: each split keeps exactly its test part."""
    root, metrics = lab
    result = evaluate_run(root / scheme, root / "data", "all")
    for name, trained in metrics[scheme]["splits"].items():
        assert result["excluded"][name]["windows"] > 0, name
        assert result["excluded"][name]["kept"] == trained["n"]
        assert result["splits"][name]["confusion"] == trained["confusion"]
    assert result["warnings"] == [] and result["absent"] == {}


def test_rebuilt_test_part_needs_no_exclusion(lab):
    root, metrics = lab
    result = evaluate_run(root / "session", root / "data", "test")
    assert result["excluded"] == {}
    assert {n: m["confusion"] for n, m in result["splits"].items()} == \
        {n: m["confusion"] for n, m in metrics["session"]["splits"].items()}


def test_identity_is_by_content_not_by_folder_or_names(lab, tmp_path):
    """The same recordings, re-written elsewhere with other session names, are still the
    training data: excluded. A session of new content under a trained name is kept, with a
    warning."""
    root, metrics = lab
    ds = read_dataset(root / "data")
    renamed = [replace(r, session={"S0": "monday", "S1": "tuesday"}.get(r.session, r.session))
               for r in ds.recordings]
    result = evaluate_run(root / "session", _write(tmp_path / "renamed", renamed, ds), "all")
    assert result["excluded"]["P00"]["in_data"] == "P00/monday, P00/tuesday"
    assert result["excluded"]["P00"]["matches"] == \
        "P00/S0 emg repetitions 0, 1, 2; P00/S1 emg repetitions 0, 1, 2"
    assert result["excluded"]["P00"]["kept"] == metrics["session"]["splits"]["P00"]["n"]
    other = synthesize(SynthConfig(people=2, sessions=1, repetitions=3, gestures=3, hold_s=2.0,
                                   seed=99)).recordings   # new content named P00/S0, P01/S0
    result = evaluate_run(root / "session", _write(tmp_path / "new", other, ds), "all")
    assert result["excluded"] == {} and len(result["splits"]) == 2
    assert any("P00/S0 emg" in w and "other content" in w for w in result["warnings"])


def test_nothing_honest_left_is_refused(lab, tmp_path):
    root, _ = lab
    ds = read_dataset(root / "data")
    trained_on = [r for r in ds.recordings if r.session in ("S0", "S1")]
    with pytest.raises(EdgekdError, match=r"nothing honest to evaluate.*P00: every window "
                                          r"overlaps data this model was trained or validated"):
        evaluate_run(root / "session", _write(tmp_path / "seen", trained_on, ds), "all")


def test_people_absent_from_the_data_are_listed_not_fatal(lab, tmp_path):
    root, metrics = lab
    ds = read_dataset(root / "data")
    only_p01 = _write(tmp_path / "p01", [r for r in ds.recordings if r.person == "P01"], ds)
    for part in ("all", "test"):
        result = evaluate_run(root / "repetition", only_p01, part)
        assert list(result["splits"]) == ["P01"]
        assert result["absent"] == {"P00": "person P00 is not in the data"}
        assert result["splits"]["P01"]["confusion"] == \
            metrics["repetition"]["splits"]["P01"]["confusion"]


def test_run_without_identity_evaluates_with_a_warning(lab, tmp_path):
    root, metrics = lab
    old = tmp_path / "old-run"
    shutil.copytree(root / "repetition", old)
    (old / IDENTITY_FILE).unlink()
    result = evaluate_run(old, root / "data", "all")
    assert result["excluded"] == {} and "cannot be checked" in result["warnings"][0]
    assert result["splits"]["P00"]["n"] > metrics["repetition"]["splits"]["P00"]["n"]


def test_fine_tuned_model_inherits_what_its_init_run_saw(lab, tmp_path):
    """Pre-trained across people on repetitions 0-1 (test 2), then fine-tuned per person
    testing on repetition 0: the init run trained on repetition 0, so nothing is honest."""
    root, _ = lab
    train_run(_cfg(root / "data", **{"init_from": str(root / "pooled"), "split.test": [0]}),
              tmp_path / "fine")
    record = json.loads((tmp_path / "fine" / IDENTITY_FILE).read_text())
    assert record["splits"]["P00"]["inherited"]
    with pytest.raises(EdgekdError, match="P00: every window overlaps .*via "):
        evaluate_run(tmp_path / "fine", root / "data", "all")


def test_train_on_one_session_test_on_the_others(lab, tmp_path, capsys):
    """The README route: every repetition of S0 trains (validation carved from it); S1 and S2
    test; evaluate --split all then scores exactly S1 and S2."""
    root, _ = lab
    with pytest.raises(SystemExit) as done:
        main(["train", "--data", str(root / "data"), "--model", "cnn_tiny", "--split", "session",
              "--train-on", "S0", "--out", str(tmp_path / "by-session"), "--epochs", "1",
              "--hop", "10", "--device", "cpu"])
    assert done.value.code == 0
    metrics = json.loads((tmp_path / "by-session/metrics.json").read_text())
    record = json.loads((tmp_path / "by-session" / IDENTITY_FILE).read_text())
    sessions = lambda ids: {record["recordings"][record["blocks"][b][0]]["session"]  # noqa: E731
                            for b in ids}
    for person in ("P00", "P01"):
        assert sessions(record["splits"][person]["seen"]) == {"S0"}
        assert sessions(record["splits"][person]["test"]) == {"S1", "S2"}
        reps = {record["blocks"][b][1] for b in record["splits"][person]["seen"]}
        assert reps == {0, 1, 2}                      # every repetition of S0 trains
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["evaluate", str(tmp_path / "by-session"), "--data", str(root / "data"),
              "--split", "all"])
    out = capsys.readouterr()
    assert done.value.code == 0
    assert "P00: excluded" in out.err and "P00/S0 emg repetitions 0, 1, 2" in out.err
    assert f"{metrics['splits']['P00']['accuracy']:.4f}" in out.out
