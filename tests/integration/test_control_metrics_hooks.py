"""The control metrics where users read results: a run's metrics.json (LibEMG's active error and
instability per split), `edgekd evaluate` (every control metric, decided as `edgekd stream
--threshold --vote` would), `edgekd compare --metric active_error`."""

import json

import pytest

from edgekd.cli import main
from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.distill.compare import compare_runs
from edgekd.errors import EdgekdError
from edgekd.train.config import resolve
from edgekd.train.evaluate import evaluate_run
from edgekd.train.run import train_run
from firmware_bridge.decision import DEFAULT_VOTE


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("control")
    native.write_dataset(synthesize(SynthConfig(people=2, sessions=1, repetitions=3, gestures=3,
                                                hold_s=2.0, seed=9)), root / "data")
    for name, seed in (("a", 0), ("b", 1)):
        train_run(resolve(overrides={"data.path": str(root / "data"), "model": "cnn_tiny",
                                     "data.hop": 10, "optim.epochs": 8, "device": "cpu",
                                     "seed": seed}), root / name)
    return root


def test_runs_record_libemg_metrics_and_compare_uses_them(runs, tmp_path):
    metrics = json.loads((runs / "a" / "metrics.json").read_text())
    for split in metrics["splits"].values():
        assert 0 <= split["active_error"] <= 1 and split["instability"] >= 0
    assert "active_error" in metrics["summary"]
    result = compare_runs([runs / "a", runs / "b"], "active_error")
    assert result["metric"] == "active_error" and len(result["splits"]) == 2
    old = tmp_path / "old"
    old.mkdir()
    legacy = json.loads((runs / "b" / "metrics.json").read_text())
    for split in legacy["splits"].values():
        del split["active_error"]
    (old / "metrics.json").write_text(json.dumps(legacy))
    with pytest.raises(EdgekdError, match="has no active_error"):
        compare_runs([runs / "a", old], "active_error")


def test_evaluate_reports_control_metrics_side_by_side(runs, capsys):
    plain = evaluate_run(runs / "a", runs / "data")
    for m in plain["splits"].values():
        c = m["control"]
        assert c["accuracy_accepted"] == pytest.approx(m["accuracy"])   # no rejection at 0
        assert c["rejection_rate"] == 0 and c["active_error"] == pytest.approx(m["active_error"])
        assert c["onsets"] > 0
    strict = evaluate_run(runs / "a", runs / "data", threshold=0.9)
    s, p = strict["control_summary"], plain["control_summary"]
    assert s["rejection_rate"] > 0 and s["availability"] < p["availability"]
    assert s["accuracy_rejections_as_rest"] is not None
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["evaluate", str(runs / "a"), "--data", str(runs / "data"), "--threshold", "0.5"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"decided as edgekd stream --threshold 0.5 --vote {DEFAULT_VOTE}" in out  # stream's
    assert "accuracy (rejections as rest)" in out and "onset → first correct" in out
