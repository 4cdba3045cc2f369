import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.train.config import resolve
from edgekd.train.evaluate import evaluate_run
from edgekd.train.run import train_run
from edgekd.train.runs import load_model, split_models


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "synth"
    native.write_dataset(synthesize(SynthConfig(people=2, sessions=1, hold_s=2.0, seed=5)), path)
    return path


def _cfg(data, **over):
    base = {"data.path": str(data), "model": "cnn_tiny", "data.hop": 10, "optim.epochs": 4,
            "device": "cpu", "optim.patience": 0}
    return resolve(overrides={**base, **over})


def test_train_writes_run_directory_and_learns(synth_dir, tmp_path):
    metrics = train_run(_cfg(synth_dir, **{"optim.epochs": 8, "model": "cnn"}), tmp_path / "run")
    for name in ("config.yaml", "metrics.json", "confusion.png", "curves.png", "train.log"):
        assert (tmp_path / "run" / name).is_file(), name
    assert set(metrics["splits"]) == {"P00", "P01"}
    assert metrics["summary"]["accuracy"]["mean"] > 0.4   # chance is 1/7
    assert (tmp_path / "run/confusion.png").read_bytes()[:4] == b"\x89PNG"
    ck = torch.load(split_models(tmp_path / "run")["P00"], weights_only=True)  # no pickled code
    assert ck["format"] == "edgekd-checkpoint"


def test_evaluate_reproduces_test_metrics(synth_dir, tmp_path):
    metrics = train_run(_cfg(synth_dir), tmp_path / "run")
    again = evaluate_run(tmp_path / "run", synth_dir, "test")
    for name, m in metrics["splits"].items():
        assert again["splits"][name]["accuracy"] == pytest.approx(m["accuracy"], abs=1e-6)
        assert again["splits"][name]["confusion"] == m["confusion"]


def test_init_from_with_frozen_trunk_changes_only_the_head(synth_dir, tmp_path):
    train_run(_cfg(synth_dir, **{"split.per_person": False}), tmp_path / "pre")
    train_run(_cfg(synth_dir, **{"init_from": str(tmp_path / "pre"), "freeze_trunk": True,
                                 "optim.epochs": 2}), tmp_path / "fine")
    pre, _ = load_model(split_models(tmp_path / "pre")["all"])
    fine, _ = load_model(split_models(tmp_path / "fine")["P01"])
    for (name, a), b in zip(pre.state_dict().items(), fine.state_dict().values()):
        if name.startswith("head."):
            assert not torch.equal(a, b), name
        elif "running" not in name and "num_batches" not in name:  # BN statistics do update
            assert torch.equal(a, b), name


def test_resumed_run_counts_all_its_wall_time_and_records_threads(synth_dir, tmp_path):
    first = train_run(_cfg(synth_dir, **{"optim.epochs": 1, "data.people": ["P00"]}),
                      tmp_path / "run")
    assert first["torch_threads"] == torch.get_num_threads()
    assert "thread count" in first["reproducible_with"]
    again = train_run(None, tmp_path / "run", resume=True)   # every split done: metrics only
    assert len(again["wall_s_parts"]) == 2
    assert again["wall_s_parts"][0] >= first["wall_s"] - 0.05   # last tick is at the very end
    assert again["wall_s"] == pytest.approx(sum(again["wall_s_parts"]), abs=0.02)
    assert again["splits"] == first["splits"]


def test_existing_run_refused_without_resume(synth_dir, tmp_path):
    from edgekd.errors import EdgekdError
    train_run(_cfg(synth_dir, **{"optim.epochs": 1}), tmp_path / "run")
    with pytest.raises(EdgekdError, match="--resume"):
        train_run(_cfg(synth_dir), tmp_path / "run")


def _cli(data, out, *extra):
    return [sys.executable, "-m", "edgekd", "train", "--data", str(data), "--reader", "npz",
            "--model", "cnn_tiny",
            "--out", str(out), "--hop", "10", "--epochs", "12", "--patience", "0",
            "--device", "cpu", *extra]


@pytest.mark.slow
def test_killed_run_resumes_to_identical_metrics(synth_dir, tmp_path):
    subprocess.run(_cli(synth_dir, tmp_path / "whole"), check=True, capture_output=True)
    proc = subprocess.Popen(_cli(synth_dir, tmp_path / "killed"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    state = tmp_path / "killed/splits/P00/state.pt"
    deadline = time.time() + 120
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    # at once: P00 has just finished an epoch (maybe mid-way through writing its state) and
    # most epochs are still to come; a fixed delay here outran the run on a quiet machine
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed/metrics.json").exists(), "killed too late to test resume"
    subprocess.run([sys.executable, "-m", "edgekd", "train", "--out", str(tmp_path / "killed"),
                    "--resume"], check=True, capture_output=True)
    whole = json.loads((tmp_path / "whole/metrics.json").read_text())
    resumed = json.loads((tmp_path / "killed/metrics.json").read_text())
    assert resumed["splits"] == whole["splits"]
    assert len(resumed["wall_s_parts"]) == 2 and resumed["wall_s_parts"][0] > 0  # killed part
    assert resumed["wall_s"] == pytest.approx(sum(resumed["wall_s_parts"]), abs=0.02)


@pytest.mark.slow
def test_ddp_two_gloo_processes_match_one_process(synth_dir, tmp_path):
    """torchrun, 2 CPU processes (gloo): same global batches, averaged gradients. The model has
    no BatchNorm or dropout (both are per-process in DDP), so only float reduction order
    differs."""
    args = ["--data", str(synth_dir), "--model", "lstm_tiny", "--hop", "10", "--epochs", "3",
            "--patience", "0", "--device", "cpu", "--people", "P00"]
    subprocess.run([sys.executable, "-m", "edgekd", "train", "--out", str(tmp_path / "one"),
                    *args], check=True, capture_output=True)
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                          "--nproc_per_node", "2", "-m", "edgekd", "train", "--out",
                          str(tmp_path / "two"), *args], capture_output=True, text=True)
    assert ddp.returncode == 0, ddp.stderr[-2000:]
    one = json.loads((tmp_path / "one/metrics.json").read_text())
    two = json.loads((tmp_path / "two/metrics.json").read_text())
    assert two["processes"] == 2 and one["processes"] == 1
    hist = lambda run: json.loads((tmp_path / run / "splits/P00/result.json").read_text())["history"]  # noqa: E731
    assert hist("two")[0]["windows"] * 2 == pytest.approx(hist("one")[0]["windows"], abs=2)
    assert two["splits"]["P00"]["accuracy"] == pytest.approx(one["splits"]["P00"]["accuracy"],
                                                             abs=0.01)
    a = torch.load(tmp_path / "one/splits/P00/model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "two/splits/P00/model.pt", weights_only=True)["state_dict"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-3, rtol=1e-3)


@pytest.mark.slow
def test_compiled_training_saves_plain_checkpoints(synth_dir, tmp_path):
    """``--compile`` wraps the task in torch.compile; the checkpoint must still hold the plain
    model's parameter names (no ``_orig_mod.`` prefix) and evaluate to the same metrics."""
    metrics = train_run(_cfg(synth_dir, **{"compile": True, "optim.epochs": 1,
                                           "data.people": ["P00"]}), tmp_path / "run")
    ck = torch.load(split_models(tmp_path / "run")["P00"], weights_only=True)
    assert not [k for k in ck["state_dict"] if "_orig_mod" in k]
    again = evaluate_run(tmp_path / "run", synth_dir, "test")
    assert again["splits"]["P00"]["accuracy"] == pytest.approx(
        metrics["splits"]["P00"]["accuracy"], abs=1e-6)
