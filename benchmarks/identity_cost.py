"""What recording training-data identity costs (edgekd.data.identity): hashing time and the
size of a run's identity.npz, on the 22-person Myo set (every recording fingerprinted, as a
k-fold run would) and on long synthetic recordings.

    python -m benchmarks.identity_cost [--myo PATH]   # writes benchmarks/results/identity_cost.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from edgekd.data.identity import GUARANTEED_ROWS, SHINGLE, WINNOW, fingerprint, shingle_hashes
from edgekd.data.readers import read_dataset
from edgekd.data.recording import Dataset, Recording

RESULTS = Path(__file__).parent / "results"
MYO = Path(__file__).resolve().parents[2] / "shared/data/myo-armband-7g/PreTrainingDataset"


def measure(dataset: Dataset) -> dict:
    n = sum(r.n_samples for r in dataset.recordings)
    start = time.perf_counter()
    for rec in dataset.recordings:
        shingle_hashes(rec.signals)
    hashed = time.perf_counter() - start
    start = time.perf_counter()
    prints = fingerprint(dataset, set(range(len(dataset.recordings))))
    fingerprinted = time.perf_counter() - start
    buf = io.BytesIO()
    np.savez_compressed(buf, **prints.arrays())
    return {"recordings": len(dataset.recordings), "samples": n,
            "channels": dataset.recordings[0].n_chans, "hash_s": round(hashed, 3),
            "fingerprint_s": round(fingerprinted, 3), "fingerprints": int(len(prints.hash)),
            "fingerprints_per_sample": round(len(prints.hash) / n, 4),
            "npz_bytes": buf.tell(), "npz_bytes_per_sample": round(buf.tell() / n, 3)}


def long_recording(seconds: float, fs: float, chans: int) -> Dataset:
    n = int(seconds * fs)
    x = np.random.default_rng(0).integers(-128, 128, (n, chans)).astype(np.float32)
    rec = Recording(x, fs, np.zeros(n), np.zeros(n), [f"c{i}" for i in range(chans)], "p", "s")
    return Dataset([rec], ["a"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--myo", type=Path, default=MYO)
    args = parser.parse_args(argv)
    cases = {}
    if args.myo.is_dir():
        cases["myo_22_people"] = measure(read_dataset(args.myo))
    cases["1h_2kHz_8ch"] = measure(long_recording(3600, 2000, 8))
    cases["10min_2kHz_64ch"] = measure(long_recording(600, 2000, 64))
    result = {"command": "python -m benchmarks.identity_cost " + " ".join(sys.argv[1:]),
              "shingle_rows": SHINGLE, "winnow": WINNOW, "guaranteed_rows": GUARANTEED_ROWS,
              "cases": cases, "loadavg_1_5_15": os.getloadavg(),
              "note": "timings taken on a shared machine; see loadavg",
              "machine": machine_info(("numpy", "edgekd"))}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "identity_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
