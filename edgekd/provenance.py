"""Where a result came from: package versions, the git commit of the code (when it runs from a
checkout), a hash of the data, and the machine. Every run (``metrics.json``), every exported
artifact (its metadata and model card) and every stream summary carries one record.

(A run's wall time and torch thread counts are kept by :mod:`edgekd.train.provenance`; which
blocks of data each model saw, by :mod:`edgekd.data.identity`.)

Library code, no torch: the edge host records it too. The data hash is of the data as read
(samples, labels, repetitions, rate and ids of every recording), so it follows the content
whatever folder, file format or name the recordings come under.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

# what edgekd's results depend on (absent ones are recorded as None)
PACKAGES = ("edgekd", "numpy", "scipy", "torch", "onnx", "onnxruntime", "onnxscript", "pyserial",
            "pylsl", "brainflow", "pyxdf", "tensorrt", "cuda-python")
SOURCE = Path(__file__).resolve().parents[1]     # the checkout, when edgekd runs from one


def package_versions(names=PACKAGES) -> dict[str, str | None]:
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(path: Path = SOURCE) -> dict | None:
    """``{"commit", "dirty"}`` of the checkout edgekd runs from; None when it is not one (an
    installed wheel) or git is absent."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    try:
        top = Path(git("rev-parse", "--show-toplevel")).resolve()
        if not (top / "edgekd" / "provenance.py").is_file():   # some other repository
            return None
        return {"commit": git("rev-parse", "HEAD"),
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    return {"hostname": platform.node(), "platform": platform.platform(), "cpu": cpu,
            "cores": os.cpu_count(), "python": platform.python_version()}


def dataset_hash(dataset) -> dict:
    """SHA-256 of a dataset's content as read: per recording (sorted by person, session,
    modality) its ids, rate, shape, float32 samples, labels and repetition ids; plus the label
    names. Returns ``{"sha256", "recordings", "samples"}``."""
    h = hashlib.sha256()
    h.update(repr(list(dataset.label_names)).encode())
    recs = sorted(dataset.recordings, key=lambda r: (r.person, r.session, r.modality))
    for r in recs:
        h.update(repr((r.person, r.session, r.modality, float(r.fs), r.signals.shape)).encode())
        for arr in (r.signals.astype(np.float32, copy=False), r.labels.astype(np.int64),
                    r.repetition.astype(np.int64)):
            h.update(np.ascontiguousarray(arr).tobytes())
    return {"sha256": h.hexdigest(), "recordings": len(recs),
            "samples": int(sum(r.n_samples for r in recs))}


def provenance(dataset=None, data_path: str | Path | None = None) -> dict:
    """The record: when, which code, which packages, which machine, which data."""
    record = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "git": git_state(), "packages": package_versions(), "machine": machine()}
    if data_path is not None:
        record["data_path"] = str(data_path)
    if dataset is not None:
        record["data"] = dataset_hash(dataset)
    return record
