"""What a run's numbers depend on besides its config: wall time across resumes and the torch
thread count.

The wall time of a run that was killed and resumed is the sum of its parts. Each part is kept
in ``wall.json`` and rewritten after every epoch, so a killed part counts up to its last
finished epoch (the epoch it was in when killed is redone, and counted, by the resumed part).

Float sums inside torch's CPU kernels are split across intra-op threads, so the thread count
changes the rounding of every step and, over an epoch, which window is predicted how: the same
data, config, seed, versions and thread count reproduce a run exactly; another thread count
gives slightly different numbers. Each part records the count it ran with.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from edgekd.atomic import write_json_atomic

log = logging.getLogger("edgekd.train")

WALL_FILE = "wall.json"
REPRODUCIBLE = ("metrics are reproduced exactly by the same data, config (seed included), "
                "edgekd/torch versions, device and torch thread count; another thread count "
                "changes float rounding and so, slightly, the results")


def threads() -> dict:
    return {"torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads()}


class RunClock:
    """Wall time of a run over all its parts (first run and every ``--resume``)."""

    def __init__(self, out: Path, resume: bool, write: bool = True):
        self.path, self.write = out / WALL_FILE, write
        self.start = time.perf_counter()
        self.parts = self._previous() if resume else []
        self.unknown_before = resume and not self.path.is_file()  # resumed a run from before
        self.parts.append({"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "seconds": 0.0, **threads()})
        log.info("torch threads: %d intra-op, %d inter-op (results depend on the intra-op "
                 "count)", *threads().values())
        self.tick()

    def _previous(self) -> list[dict]:
        try:
            return json.loads(self.path.read_text())["parts"]
        except FileNotFoundError:
            return []

    def tick(self) -> None:
        """Update this part's elapsed time (and thread count) on disk."""
        self.parts[-1].update(seconds=round(time.perf_counter() - self.start, 2), **threads())
        if self.write:
            write_json_atomic(self.path, {"parts": self.parts})

    def total(self) -> float:
        self.tick()
        return round(sum(p["seconds"] for p in self.parts), 2)

    def record(self) -> dict:
        """For metrics.json: thread counts (one value, or one per part when they differ),
        the parts' wall times and what reproduces the run."""
        counts = sorted({p["torch_threads"] for p in self.parts})
        out = {"torch_threads": counts[0] if len(counts) == 1 else
               [p["torch_threads"] for p in self.parts],
               "wall_s_parts": [p["seconds"] for p in self.parts], "reproducible_with": REPRODUCIBLE}
        if self.unknown_before:
            out["wall_s_note"] = ("resumed a run started before edgekd kept wall.json: its "
                                  "earlier parts' time is unknown and not counted")
        if len(counts) > 1:
            out["threads_note"] = "parts ran with different torch thread counts: not reproducible"
        return out

    def wrap(self, reporter):
        """The same progress reporter, ticking the clock after every epoch and split."""
        def on_epoch(name, stats, inner=reporter.on_epoch):
            self.tick()
            inner(name, stats)

        def on_result(result, inner=reporter.on_result):
            self.tick()
            inner(result)

        return dataclasses.replace(reporter, on_epoch=on_epoch, on_result=on_result)
