"""Fuzzing the edgekd framers (issue 12): millions of frames, a fifth of them damaged (bit
flips, heavy flips, dropped, inserted or truncated bytes), some repeated, random garbage between
them, fed in random pieces. Counts exceptions, intact frames lost/repeated/reordered, frames
returned with wrong content, and counter mismatches (all must be 0).

Two ablations measure what each defence buys, on the same kind of streams:
* ``no overlap check``: accept a CRC-valid frame even when an intact frame starts inside it;
* ``no CRC``: every CRC passes, so only the structural checks (sync, version, type, length,
  overlap, payload layout) stand between damage and the model. The frames that get through
  here would need a CRC collision as well: their rate times 2^-16 (v1) or 2^-32 (v2) is the
  residual rate of silently wrong frames quoted in PROTOCOL.md.

    python -m benchmarks.framing_fuzz              # 10^6 cases per protocol (~2-4 min)
    python -m benchmarks.framing_fuzz --cases 20000    # a quick look

Not part of the test suite (tests/unit/firmware/test_framing.py runs a CI-sized version).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

from benchmarks.machine import machine_info
from benchmarks.framing_faults import DAMAGE, FuzzResult, check_case, make_case
from firmware_bridge.protocols import PROTOCOLS

HERE = Path(__file__).parent
SLOTS = 200                      # frames per stream: one case each
P_DAMAGE, P_DUP, P_GARBAGE = 0.2, 0.03, 0.2
CRC_BITS = {"edgekd-v1": 16, "edgekd-v2": 32}


class _Ablated:
    """A protocol whose framer lacks one defence (measurement only)."""

    def __init__(self, protocol, without: str):
        self.protocol, self.without = protocol, without

    def __getattr__(self, name):       # everything but the framer: the protocol's own
        return getattr(self.protocol, name)

    def framer(self):
        framer = self.protocol.framer()
        if self.without == "overlap":
            framer._frame_inside = lambda view, pos, end: 0
        else:
            framer._crc_ok = lambda view, pos, total: True
        return framer


def run(protocol, cases: int, seed: int, label: str) -> dict:
    rng = random.Random(seed)
    result, damaged, kinds = FuzzResult(), 0, dict.fromkeys(DAMAGE, 0)
    streams = max(1, cases // SLOTS)
    start = time.perf_counter()
    for i in range(streams):
        case = make_case(rng, protocol, SLOTS, P_DAMAGE, P_DUP, P_GARBAGE,
                         seq0=rng.randrange(protocol.seq_modulus))
        damaged += case.damaged
        for k, n in case.kinds.items():
            kinds[k] += n
        check_case(protocol, case, rng, result)
        if (i + 1) % max(1, streams // 10) == 0:
            print(f"  {label}: {(i + 1) * SLOTS:,} cases, {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)
    return {"cases": streams * SLOTS, "damaged_frames": damaged, "damage_kinds": kinds,
            "exceptions": result.exceptions, "intact_lost_or_repeated": result.lost_intact,
            "wrong_frames": result.wrong_frames, "restored_by_chance": result.restored,
            "counter_mismatches": result.counter_mismatches, "first_messages": result.messages[:5],
            "seconds": round(time.perf_counter() - start, 1)}


def residual(name: str, no_crc: dict) -> dict:
    """Silently wrong frames per damaged frame: what the structural checks let through, times
    the chance that the damaged bytes also match their CRC."""
    through = no_crc["wrong_frames"] / max(no_crc["damaged_frames"], 1)
    rate = through * 2.0 ** -CRC_BITS[name]
    # an example link: 8 ch @ 200 Hz, 4 samples per frame (50 frames/s), one byte in a million
    # damaged (a noisy UART): frames damaged per hour, then silently wrong frames per hour
    frame_bytes = len(PROTOCOLS.get(name).encode_frame(0, 0, [[0] * 8] * 4))
    damaged_per_hour = 50 * 3600 * frame_bytes * 1e-6
    return {"structural_pass_per_damaged_frame": through, "crc_bits": CRC_BITS[name],
            "wrong_frames_per_damaged_frame": rate,
            "example": {"link": "8 ch @ 200 Hz, 4 samples/frame, byte error rate 1e-6",
                        "frame_bytes": frame_bytes, "damaged_frames_per_hour": damaged_per_hour,
                        "wrong_frames_per_hour": damaged_per_hour * rate,
                        "hours_per_wrong_frame": 1 / (damaged_per_hour * rate) if rate else None}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000, help="frames per protocol")
    ap.add_argument("--ablation-cases", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "framing_fuzz.json")
    args = ap.parse_args(argv)
    rows = {}
    for name in ("edgekd-v1", "edgekd-v2"):
        wire = PROTOCOLS.get(name)
        rows[name] = {"full": run(wire, args.cases, args.seed, name)}
        for without in ("overlap", "crc"):
            rows[name][f"no_{without}_check"] = run(_Ablated(wire, without), args.ablation_cases,
                                                    args.seed + 1, f"{name} without {without}")
        rows[name]["residual"] = residual(name, rows[name]["no_crc_check"])
        print(json.dumps({name: rows[name]["full"]}), flush=True)
    result = {"command": "python -m benchmarks.framing_fuzz" + (
                  f" {' '.join(argv or sys.argv[1:])}" if (argv or sys.argv[1:]) else ""),
              "stream": {"frames_per_stream": SLOTS, "p_damage": P_DAMAGE, "p_duplicate": P_DUP,
                         "p_garbage": P_GARBAGE, "samples_per_frame": "1-4",
                         "channels": "1-8"},
              "load_avg": os.getloadavg(), "machine": machine_info(("numpy",)), "results": rows}
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(rows))
    print(markdown(rows))


def markdown(rows: dict) -> str:
    lines = ["| protocol | cases (damaged) | exceptions | intact lost | wrong frames | counter "
             "errors | without the overlap check: intact lost | without the CRC: wrong per "
             "damaged frame | residual wrong per damaged frame |", "|---|---|---|---|---|---|---|"
             "---|---|"]
    for name, r in rows.items():
        f, no, res = r["full"], r["no_overlap_check"], r["residual"]
        lines.append(
            f"| {name} | {f['cases']:,} ({f['damaged_frames']:,}) | {f['exceptions']} | "
            f"{f['intact_lost_or_repeated']} | {f['wrong_frames']} | {f['counter_mismatches']} | "
            f"{no['intact_lost_or_repeated']} of {no['cases']:,} | "
            f"{res['structural_pass_per_damaged_frame']:.2g} | "
            f"{res['wrong_frames_per_damaged_frame']:.1e} (2^-{res['crc_bits']}) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
