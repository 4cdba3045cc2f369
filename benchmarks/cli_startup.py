"""How long the CLI takes to answer: `edgekd --help`, `edgekd models` (cached catalog) and, for
comparison, `edgekd models --n-channels 4` (builds and counts every listed model: torch imported).

    python -m benchmarks.cli_startup                        # writes results/cli_startup.json
    python -m benchmarks.cli_startup --baseline ../main     # also times another checkout

Each command runs as a fresh process (what a user waits for), ``--repeats`` times; the median
and the range are recorded with the load average before and after, since a loaded machine
slows start-up (re-run on a quiet machine before quoting the numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import machine_info

RESULTS = Path(__file__).parent / "results"
COMMANDS = {"edgekd --help": ["--help"], "edgekd models": ["models"],
            "edgekd models --n-channels 4 (counted, not cached)": ["models", "--n-channels", "4"]}


def time_command(args: list[str], repeats: int, checkout: Path) -> list[float]:
    """Wall seconds of ``python -m edgekd ARGS`` from ``checkout`` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        # cwd is a neutral folder: `python -m` puts the cwd before PYTHONPATH on sys.path
        subprocess.run([sys.executable, "-m", "edgekd", *args], check=True, env=env,
                       cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def time_checkout(checkout: Path, repeats: int) -> dict:
    rows = {}
    for name, argv in COMMANDS.items():
        try:
            times = time_command(argv, repeats, checkout)
        except subprocess.CalledProcessError:
            rows[name] = {"error": "command failed (an option this checkout lacks?)"}
            continue
        rows[name] = {"median_s": round(statistics.median(times), 3),
                      "min_s": round(min(times), 3), "max_s": round(max(times), 3)}
        print(f"{checkout.name}: {name}: median {rows[name]['median_s']:.2f} s "
              f"(min {rows[name]['min_s']:.2f}, max {rows[name]['max_s']:.2f})")
    return {"checkout": str(checkout), "commit": _commit(checkout), "commands": rows}


def _commit(checkout: Path) -> str | None:
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to time the same way")
    args = parser.parse_args()
    load_before = os.getloadavg()
    here = Path(__file__).resolve().parents[1]
    command = f"python -m benchmarks.cli_startup --repeats {args.repeats}" + (
        f" --baseline {args.baseline}" if args.baseline else "")
    result = {"command": command, "repeats": args.repeats,
              "this": time_checkout(here, args.repeats),
              "baseline": time_checkout(args.baseline.resolve(), args.repeats)
              if args.baseline else None,
              "load_avg_before": [round(x, 2) for x in load_before],
              "load_avg_after": [round(x, 2) for x in os.getloadavg()],
              "machine": machine_info(("numpy", "scipy", "torch", "typer", "rich", "edgekd"))}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cli_startup.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
