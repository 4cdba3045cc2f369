"""The students on a microcontroller: ``edgekd export --format c`` for every person's split of
the per-person runs on the Myo recordings (22 people, test = repetition 4), for the cnn student
and the MCU-class students micro_cnn and micro_tcn.

For each person: top-1 agreement of the C library's decisions (raw samples through the whole
on-device path) with the INT8 ONNX artifact and with the torch checkpoint on the held-out
windows, accuracies, and bit-exactness of the host build (and of the Cortex-M4 build on QEMU)
against the integer reference. For each model: flash and RAM from ``arm-none-eabi-size``
(Cortex-M4F, -Os), and instructions per decision counted on QEMU's mps2-an386 board with
``-icount``, which counts instructions, not cycles (QEMU is not cycle-accurate). The time
estimates at 80 MHz are MACs / (1 or 2 MACs per cycle) as the issue asks, and, as a less
flattering bound, instructions / 80 MHz (one instruction per cycle; a Cortex-M4 needs more
cycles than instructions for loads and taken branches).

Runs missing under ``--work`` are trained first with the protocol of benchmarks/train_myo.py
(one torch thread, one process).

    python -m benchmarks.mcu_export
    # writes benchmarks/results/mcu_export.json and mcu_export.md
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from benchmarks.train_myo import DEFAULT_DATA, data_path

HERE = Path(__file__).parent
CLOCK_HZ = 80e6
TARGETS = {"flash_bytes": 64 * 1024, "ram_bytes": 16 * 1024, "ms_per_decision": 5.0}
MCU_CLASS = ("micro_cnn", "micro_tcn")


def train(model: str, data: Path, out: Path, epochs: int) -> None:
    """The per-person protocol of benchmarks/train_myo.py (resumed when partly done)."""
    import torch

    from edgekd.train.config import resolve
    from edgekd.train.run import train_run

    torch.set_num_threads(1)
    if (out / "metrics.json").is_file():
        return
    cfg = resolve(overrides={"data.path": str(data), "model": model, "split.test": [3],
                             "optim.epochs": epochs, "device": "cpu"})
    print(f"training {model} into {out}", flush=True)
    train_run(cfg, out, resume=(out / "config.yaml").exists())


def cache_splits() -> None:
    """Every person's export rebuilds the same dataset and splits (same data, same protocol):
    load them once per protocol in this process. The export itself is unchanged."""
    import edgekd.train.run as train_run_module

    load, build, cache = (train_run_module.load_training_data, train_run_module.build_splits,
                          {})

    def cached_load(cfg):
        key = ("data", repr(cfg.data))
        if key not in cache:
            cache[key] = load(cfg)
        return cache[key]

    def cached_build(cfg, dataset):
        key = ("splits", repr(cfg.data), repr(cfg.split))
        if key not in cache:
            cache[key] = build(cfg, dataset)
        return cache[key]

    train_run_module.load_training_data = cached_load
    train_run_module.build_splits = cached_build


def export_person(run: Path, split: str, out: Path) -> dict:
    from export.pipeline import ExportRequest, export_run

    r = export_run(ExportRequest(run, "c", out=out / split, split=split, force=True))
    keep = ("top1_agreement", "agreement_with_onnx_int8", "network_logits_identical",
            "accuracy_torch", "accuracy_onnx_int8", "accuracy_artifact", "n_windows", "passed")
    row = {k: r[k] for k in keep}
    row["host_bit_exact"] = r["host"].get("bit_exact", False)
    row["qemu_bit_exact"] = r["qemu"].get("bit_exact", False)
    return {"row": row, "report": r}


def summarise(model: str, rows: dict, last: dict) -> dict:
    agree = np.array([r["agreement_with_onnx_int8"] for r in rows.values()])
    n = np.array([r["n_windows"] for r in rows.values()])
    s = {"people": len(rows), "macs": last["macs"], "layers": last["layers"],
         "agreement_with_onnx_int8_mean": float(agree.mean()),
         "agreement_with_onnx_int8_min": float(agree.min()),
         "agreement_with_onnx_int8_pooled": float((agree * n).sum() / n.sum()),
         "agreement_with_torch_mean": float(np.mean([r["top1_agreement"]
                                                     for r in rows.values()])),
         "network_logits_identical_mean": float(np.mean([r["network_logits_identical"]
                                                         for r in rows.values()])),
         "accuracy": {k: float(np.mean([r[k] for r in rows.values()]))
                      for k in ("accuracy_torch", "accuracy_onnx_int8", "accuracy_artifact")},
         "host_bit_exact_all": all(r["host_bit_exact"] for r in rows.values()),
         "qemu_bit_exact_all": all(r["qemu_bit_exact"] for r in rows.values()),
         "library": last["library"], "arm": last["arm"], "qemu": last["qemu"]}
    s["estimate_80mhz"] = estimates(s["macs"], last["qemu"])
    if last["arm"].get("checked"):
        s["flash_bytes"], s["ram_bytes"] = last["arm"]["flash"], last["arm"]["ram"]
    s["mcu_class"] = model in MCU_CLASS
    return s


def estimates(macs: int, qemu: dict) -> dict:
    est = {"ms_at_1_mac_per_cycle": 1e3 * macs / CLOCK_HZ,
           "ms_at_2_macs_per_cycle": 1e3 * macs / (2 * CLOCK_HZ)}
    if qemu.get("checked"):
        est["ms_at_1_instruction_per_cycle"] = 1e3 * qemu["instructions_per_decision"] / CLOCK_HZ
    return est


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--models", default="micro_cnn,micro_tcn,cnn")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--work", type=Path, default=HERE / "runs")
    ap.add_argument("--people", type=int, default=None, help="first N people only (a quick try)")
    args = ap.parse_args()
    data, data_name = data_path(args.data, args.work)
    cache_splits()
    result = {"data": data_name, "protocol": "per person; train reps 0-2, test rep 3; window 52, "
              "hop 5; 20 Hz high-pass + 50 Hz notch; the C library fed the raw test recordings "
              "(int16 counts, sample scale 1) from their first sample", "models": {},
              "machine": machine_info(), "load_avg_start": os.getloadavg(),
              "command": "python -m benchmarks.mcu_export " + " ".join(
                  f"--{k} {v}" for k, v in vars(args).items() if v is not None
                  and k not in ("data", "work"))}
    for model in args.models.split(","):
        run = args.work / f"train_myo-{model}"
        train(model, data, run, args.epochs)
        result["models"][model] = run_model(model, run, args)
    result["load_avg_end"] = os.getloadavg()
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/mcu_export.json").write_text(json.dumps(result, indent=2) + "\n")
    (HERE / "results/mcu_export.md").write_text(to_markdown(result))
    print(to_markdown(result))


def run_model(model: str, run: Path, args) -> dict:
    from edgekd.train.runs import split_models

    splits = sorted(split_models(run))[: args.people]
    rows, last, start = {}, None, time.perf_counter()
    for split in splits:
        done = export_person(run, split, args.work / f"mcu_export-{model}")
        rows[split], last = done["row"], done["report"]
        print(model, split, json.dumps({k: round(v, 4) if isinstance(v, float) else v
                                        for k, v in rows[split].items()}), flush=True)
    summary = summarise(model, rows, last)
    summary["wall_s"] = round(time.perf_counter() - start, 1)
    return {"summary": summary, "per_person": rows}


def to_markdown(result: dict) -> str:
    lines = ["| student | MACs | flash (.text+.data) | RAM (.data+.bss) | stack ≤ | "
             "instructions / decision (QEMU) | ms at 80 MHz: 1 MAC/cycle · 2 MACs/cycle · "
             "1 instr/cycle | top-1 agreement with INT8 ONNX (mean, min) | accuracy torch → "
             "ONNX INT8 → C | bit-exact (host, QEMU) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for model, r in result["models"].items():
        s = r["summary"]
        arm, qemu, est, acc = s["arm"], s["qemu"], s["estimate_80mhz"], s["accuracy"]
        flash = f"{arm['flash'] / 1024:.1f} KiB" if arm.get("checked") else "n/a"
        ram = f"{arm['ram'] / 1024:.1f} KiB" if arm.get("checked") else "n/a"
        stack = f"{arm['stack_bound']} B" if arm.get("checked") else "n/a"
        instr = f"{qemu['instructions_per_decision']:,.0f}" if qemu.get("checked") else "n/a"
        per_i = (f" · {est['ms_at_1_instruction_per_cycle']:.2f}"
                 if "ms_at_1_instruction_per_cycle" in est else "")
        lines.append(
            f"| {model}{' (MCU class)' if s['mcu_class'] else ''} | {s['macs']:,} | {flash} | "
            f"{ram} | {stack} | {instr} | {est['ms_at_1_mac_per_cycle']:.2f} · "
            f"{est['ms_at_2_macs_per_cycle']:.2f}{per_i} | "
            f"{s['agreement_with_onnx_int8_mean']:.4f}, {s['agreement_with_onnx_int8_min']:.4f} | "
            f"{acc['accuracy_torch']:.4f} → {acc['accuracy_onnx_int8']:.4f} → "
            f"{acc['accuracy_artifact']:.4f} | {_yes(s['host_bit_exact_all'])}, "
            f"{_yes(s['qemu_bit_exact_all'])} |")
    return "\n".join(lines) + "\n\n" + _notes(result) + "\n"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _notes(result: dict) -> str:
    people = {r["summary"]["people"] for r in result["models"].values()}
    flags = next(iter(result["models"].values()))["summary"]["arm"].get("flags", "n/a")
    return (f"{'/'.join(map(str, sorted(people)))} people, {result['data']}. Flash and RAM: "
            f"`arm-none-eabi-size` of the library alone (`{flags}`), the stack bound from "
            "`-fstack-usage`. Instructions: the harness on QEMU's mps2-an386 (Cortex-M4) with "
            "`-icount`, one decision = one sample's preprocessing + the window + the network; "
            "QEMU is not cycle-accurate, so these are instructions, not cycles. MCU-class "
            f"targets: ≤ {TARGETS['flash_bytes'] // 1024} KiB flash, ≤ "
            f"{TARGETS['ram_bytes'] // 1024} KiB RAM, ≤ {TARGETS['ms_per_decision']:g} ms per "
            "decision at 80 MHz.")


if __name__ == "__main__":
    main()
