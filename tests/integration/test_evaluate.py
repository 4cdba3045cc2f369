"""`edgekd evaluate` never scores data a model trained or validated on (checked by content, for
every split scheme), evaluates the people present, and still reads runs from before it
recorded what they saw."""

import json
import re
import shutil
from dataclasses import replace

import numpy as np
import pytest

from edgekd.cli import main
from edgekd.data import native
from edgekd.data.identity import IDENTITY_FILE
from edgekd.data.importing import import_dataset
from edgekd.data.readers import ReaderOptions, read_dataset
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.errors import EdgekdError
from edgekd.train.config import resolve
from edgekd.train.evaluate import evaluate_run
from edgekd.train.run import train_run

SCHEMES = {"repetition": {}, "session": {}, "person": {},
           "kfold": {"split.k": 3}, "pooled": {"split.per_person": False},
           "channel-subset": {"data.channels": [0, 2, 4, 6]}}  # hashed before selection


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
    """--windows all on the run's own data: each split keeps exactly its test part."""
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


def _reannotated(rec, how):
    """The same samples with other repetition ids: rest forward-filled with the repetition
    before it (a forward-filled CSV column), ids permuted, or none at all."""
    rep = rec.repetition.copy()
    if how == "forward-filled":
        for i in range(1, len(rep)):
            if rep[i] < 0 and rep[i - 1] >= 0:
                rep[i] = rep[i - 1]
    elif how == "permuted":
        rep = np.where(rep >= 0, 2 - rep, rep)
    else:
        rep[:] = -1
    return replace(rec, repetition=rep, session=f"re-{rec.session}")


@pytest.mark.parametrize("scheme", ["repetition", "session"])
@pytest.mark.parametrize("how", ["forward-filled", "permuted", "none"])
def test_identity_does_not_depend_on_repetition_annotation(lab, tmp_path, scheme, how):
    """Review item 1: the very samples the run trained on, re-annotated and renamed, are
    still recognised; the windows of the held-out part are kept, exactly."""
    root, metrics = lab
    ds = read_dataset(root / "data")
    data = _write(tmp_path / how, [_reannotated(r, how) for r in ds.recordings], ds)
    result = evaluate_run(root / scheme, data, "all")
    for name, trained in metrics[scheme]["splits"].items():
        assert result["excluded"][name]["kept"] == trained["n"], name
        assert result["splits"][name]["confusion"] == trained["confusion"]


def test_csv_export_and_import_of_the_same_samples_is_recognised(lab, tmp_path):
    """Review item 1: written out as CSV text, each session in two files cut inside a gesture
    hold, with a label column and no repetition column (the reader numbers repetitions its
    own way, and a file boundary ends a run), then imported: the training sessions are still
    recognised, and the test session's windows are all kept."""
    root, _ = lab
    ds = read_dataset(root / "data")
    for rec in ds.recordings:
        rows = np.column_stack([rec.signals, rec.labels])
        folder = tmp_path / "csv" / rec.person / rec.session
        folder.mkdir(parents=True)
        for i, part in enumerate(np.split(rows, [1200])):    # 1200: inside a hold
            np.savetxt(folder / f"{i}.csv", part, delimiter=",",
                       fmt=["%.9g"] * rec.n_chans + ["%d"])   # 9 digits: float32 round-trips
    opts = ReaderOptions(fs=ds.fs, label_column="-1",
                         path_regex="(?P<person>[^/]+)/(?P<session>[^/]+)/")
    imported, _, _ = import_dataset(tmp_path / "csv", tmp_path / "imported", "csv", opts)
    assert [r.repetition.tolist() for r in imported.recordings] != \
        [r.repetition.tolist() for r in ds.recordings]      # annotated otherwise
    only_test = _write(tmp_path / "s2", [r for r in imported.recordings if r.session == "S2"],
                       imported)
    honest = evaluate_run(root / "session", only_test, "all")
    assert honest["excluded"] == {}
    result = evaluate_run(root / "session", tmp_path / "imported", "all")
    for name, kept in honest["splits"].items():
        assert result["excluded"][name]["in_data"] == f"{name}/S0, {name}/S1"
        assert result["excluded"][name]["kept"] == kept["n"]


MISMATCH = {"fs": ({"fs": 250.0}, "its models take 8 channels at 200 Hz; .*npz has 8 channels "
                                   "at 250 Hz$"),
            "channels": ({"channels": 4}, "its models take 8 channels at 200 Hz; .*npz has 4 "
                                          "channels at 200 Hz$"),
            "modality": ({}, r"trained on modality 'emg'; .* has none \(it has hd-emg\)$"),
            "selection": ({"channels": 4}, r"the run selects channels \[0, 2, 4, 6\]; .*npz "
                                           "has 4 channels$")}


@pytest.mark.parametrize("what", MISMATCH)
def test_data_the_run_cannot_take_is_one_clear_error(lab, tmp_path, capsys, what):
    """Review item 8: another rate, channel count or modality is an EdgekdError naming the run
    and the file (exit 1, one line), not a traceback."""
    root, _ = lab
    over, message = MISMATCH[what]
    ds = synthesize(SynthConfig(people=1, sessions=1, repetitions=2, gestures=3, hold_s=2.0,
                                seed=5, **over))
    if what == "modality":
        ds = replace(ds, recordings=[replace(r, modality="hd-emg") for r in ds.recordings])
    native.write_dataset(ds, tmp_path / what)
    run = root / ("channel-subset" if what == "selection" else "repetition")
    with pytest.raises(EdgekdError, match=f"^evaluate {re.escape(str(run))}: " + message):
        evaluate_run(run, tmp_path / what, "all")
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["evaluate", str(run), "--data", str(tmp_path / what), "--windows", "all"])
    err = capsys.readouterr().err
    assert done.value.code == 1 and "Traceback" not in err
    assert str(tmp_path / what) in err.replace("\n", "")


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


def _unchecked_copy(lab, tmp_path, how):
    """A copy of the repetition run whose identity record cannot vouch for what it saw."""
    root, _ = lab
    old = tmp_path / f"run-{how}"
    shutil.copytree(root / "repetition", old)
    path = old / IDENTITY_FILE
    if how == "missing":
        path.unlink()
    elif how == "version 1":
        record = json.loads(path.read_text())
        path.write_text(json.dumps({"format": record["format"], "version": 1,
                                    "recordings": record["recordings"], "blocks": [],
                                    "splits": {}}))
    else:
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "recorded_on_resume": True}))
    return old


WHY = {"missing": "has no identity.json", "version 1": "is format version 1",
       "on resume": "was written when the run was resumed"}


@pytest.mark.parametrize("how", WHY)
def test_split_all_on_an_unchecked_run_is_refused_unless_allowed(lab, tmp_path, capsys, how):
    """Review items 11 and 12: no record, an old one, or one written on resume cannot say what
    the models saw; --windows all refuses, says why and how to go on; --allow-unchecked scores
    (screened by the record when there is one) with the reason as a warning; --windows test
    scores the rebuilt test part with the warning."""
    root, metrics = lab
    run = _unchecked_copy(lab, tmp_path, how)
    with pytest.raises(EdgekdError, match=f"{WHY[how]}.*--windows test.*--allow-unchecked"):
        evaluate_run(run, root / "data", "all")
    result = evaluate_run(run, root / "data", "all", allow_unchecked=True)
    assert any(WHY[how] in w for w in result["warnings"]) and result["unchecked"]
    n = result["splits"]["P00"]["n"]
    trained = metrics["repetition"]["splits"]["P00"]["n"]
    assert n == trained if how == "on resume" else n > trained   # screened only by a v2 record
    result = evaluate_run(run, root / "data", "test")
    assert result["splits"]["P00"]["n"] == trained and result["unchecked"]
    capsys.readouterr()
    for extra, code in (([], 1), (["--allow-unchecked"], 0)):
        with pytest.raises(SystemExit) as done:
            main(["evaluate", str(run), "--data", str(root / "data"), "--windows", "all", *extra])
        assert done.value.code == code
    err = capsys.readouterr().err.replace("\n", "")
    assert "--allow-unchecked" in err and "Traceback" not in err


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
    test; evaluate --windows all then scores exactly S1 and S2."""
    root, _ = lab
    with pytest.raises(SystemExit) as done:
        main(["train", "--data", str(root / "data"), "--model", "cnn_tiny", "--scheme", "session",
              "--train-on", "S0", "--out", str(tmp_path / "by-session"), "--epochs", "1",
              "--hop", "10", "--device", "cpu"])
    assert done.value.code == 0
    metrics = json.loads((tmp_path / "by-session/metrics.json").read_text())
    record = json.loads((tmp_path / "by-session" / IDENTITY_FILE).read_text())
    sessions = lambda ranges: {record["recordings"][r]["session"]  # noqa: E731
                               for r, *_ in ranges}
    for person in ("P00", "P01"):
        assert sessions(record["splits"][person]["seen"]) == {"S0"}
        assert sessions(record["splits"][person]["test"]) == {"S1", "S2"}
        reps = {rep for _, rep, _, _ in record["splits"][person]["seen"]}
        assert reps == {0, 1, 2}                      # every repetition of S0 trains
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["evaluate", str(tmp_path / "by-session"), "--data", str(root / "data"),
              "--windows", "all"])
    out = capsys.readouterr()
    assert done.value.code == 0
    assert "P00: excluded" in out.err and "P00/S0 emg repetitions 0, 1, 2" in out.err
    assert f"{metrics['splits']['P00']['accuracy']:.4f}" in out.out
