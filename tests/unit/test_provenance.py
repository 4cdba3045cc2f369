"""Provenance records: the data hash follows content (not folders or file names), the git commit
is the checkout's, the machine and package versions are there."""

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np

from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.provenance import dataset_hash, git_state, provenance

REPO = Path(__file__).resolve().parents[2]


def test_data_hash_follows_content_not_location(tmp_path):
    ds = synthesize(SynthConfig(people=1, sessions=1, repetitions=1, gestures=2, hold_s=2.0))
    native.write_dataset(ds, tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "elsewhere")
    a = dataset_hash(native.read_dataset(tmp_path / "a"))
    b = dataset_hash(native.read_dataset(tmp_path / "elsewhere"))
    assert a == b and a["recordings"] == len(ds.recordings) and len(a["sha256"]) == 64
    rec = ds.recordings[0]
    signals = rec.signals.copy()
    signals[100, 0] += 1e-3
    changed = replace(ds, recordings=[replace(rec, signals=signals), *ds.recordings[1:]])
    assert dataset_hash(changed)["sha256"] != dataset_hash(ds)["sha256"]
    relabelled = replace(ds, label_names=list(reversed(ds.label_names)))
    assert dataset_hash(relabelled)["sha256"] != dataset_hash(ds)["sha256"]


def test_record_has_commit_versions_and_machine(tmp_path):
    record = provenance()
    assert record["packages"]["numpy"] == np.__version__ and record["machine"]["cores"] >= 1
    git = git_state()
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        assert git is None           # not a checkout (or no git): recorded as such
        return
    assert git["commit"] == head and isinstance(git["dirty"], bool)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert git_state(tmp_path) is None        # another repository is not edgekd's code
