"""How long `edgekd data synth` takes for 10 people (target: under 10 s on 2 CPU cores).

    python -m benchmarks.synth_speed   # writes benchmarks/results/synth_speed.json
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from benchmarks.machine import machine_info
from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    cfg = SynthConfig(people=10)
    start = time.perf_counter()
    dataset = synthesize(cfg)
    generated = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        native.write_dataset(dataset, Path(tmp) / "ds")
    total = time.perf_counter() - start
    result = {"people": cfg.people, "sessions": cfg.sessions, "channels": cfg.channels,
              "fs": cfg.fs, "recorded_seconds": sum(r.duration_s for r in dataset.recordings),
              "generate_s": round(generated, 3), "generate_and_write_s": round(total, 3),
              "target_s": 10.0, "machine": machine_info(("numpy", "scipy", "edgekd"))}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "synth_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
