"""Training throughput: edgekd's loop (data resident on the device, bf16 autocast on CUDA) vs a
plain PyTorch DataLoader loop (per-batch host→device copies, fp32) on the same model and data.

    python -m benchmarks.trainer_throughput [--device cuda] [--model resnet1d] [--compile]
    # writes benchmarks/results/trainer_throughput_<device>.json

Issue 3 asks for this on a GPU machine; on CPU it is a reference point only (there is no
host→device copy to save and no bf16 tensor cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from benchmarks.machine import machine_info
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.data.windowing import dataset_windows
from edgekd.models import create_model
from edgekd.signal import ChannelNormalizer, FilterSpec, PreprocessSpec, WindowSpec
from edgekd.train.config import resolve
from edgekd.train.loop import fit
from edgekd.train.task import ClassificationTask

HERE = Path(__file__).parent


def windows():
    ds = synthesize(SynthConfig(people=4, sessions=1))
    ws = dataset_windows(ds, PreprocessSpec(200.0, 8, WindowSpec(52, 2), FilterSpec()))
    x = ChannelNormalizer.fit(ws.x).transform(ws.x)
    return x, ws.y


def dataloader_loop(model, x, y, device, epochs, batch) -> list[float]:
    """Windows/s of each epoch of a textbook loop: DataLoader on host tensors, a host→device copy
    per batch, fp32."""
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch, shuffle=True, pin_memory=device.type == "cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    rates = []
    for _ in range(epochs):
        _sync(device)
        start = time.perf_counter()
        for xb, yb in loader:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            opt.step()
        _sync(device)
        rates.append(len(x) / (time.perf_counter() - start))
    return rates


def edgekd_loop(model, x, y, device, epochs, batch, tmp: Path, compile: bool) -> list[float]:
    """Windows/s of each epoch of edgekd's own loop (``fit``): data resident on the device, bf16
    autocast on CUDA, optional torch.compile. Epoch time is the training pass only (fit times
    it; the validation pass and the state checkpoint come after)."""
    cfg = resolve(overrides={"optim.epochs": epochs, "optim.batch_size": batch,
                             "optim.patience": 0, "device": device.type, "amp": True,
                             "compile": compile})
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    fitted = fit(ClassificationTask(model).to(device), (xt, yt), (xt[:256], yt[:256]), cfg,
                 "bench", tmp / "state.pt", resume=False)
    return [h["windows"] / h["seconds"] for h in fitted.history]


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def steady(rates: list[float]) -> float:
    """Median windows/s after the first epoch (CUDA context, cuDNN autotuning, compilation)."""
    return float(statistics.median(rates[1:] if len(rates) > 1 else rates))


def markdown(result: dict) -> str:
    where = result["gpu"] or result["machine"]["cpu"] + f", {result['machine']['cores']} cores"
    lines = [f"{result['model']} on {where} ({result['device']}), {result['windows']} windows of "
             f"8 × 52, batch {result['batch']}; steady-state windows/s (median of epochs 2–"
             f"{result['epochs']})", "", "| loop | windows/s | vs DataLoader |", "|---|---|---|"]
    for name, rate in result["windows_per_s"].items():
        speedup = result["speedup_vs_dataloader"].get(name, 1.0)
        lines.append(f"| {name} | {rate:,} | {speedup:.2f}× |")
    return "\n".join(lines) + "\n"


def main() -> None:
    import tempfile
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--model", default="resnet1d")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--compile", action="store_true", help="also time edgekd's loop compiled")
    args = ap.parse_args()
    device = torch.device(args.device)
    x, y = windows()
    shape = dict(n_chans=8, n_times=52, n_outputs=7, sfreq=200.0)
    loops = {"dataloader": lambda m, tmp: dataloader_loop(m, x, y, device, args.epochs,
                                                          args.batch),
             "edgekd": lambda m, tmp: edgekd_loop(m, x, y, device, args.epochs, args.batch,
                                                  tmp, False)}
    if args.compile:
        loops["edgekd_compiled"] = lambda m, tmp: edgekd_loop(m, x, y, device, args.epochs,
                                                              args.batch, tmp, True)
    per_epoch = {}
    for name, loop in loops.items():
        torch.manual_seed(0)
        with tempfile.TemporaryDirectory() as tmp:
            per_epoch[name] = [round(r) for r in loop(create_model(args.model, **shape)
                                                      .to(device), Path(tmp))]
        print(name, per_epoch[name], flush=True)
    rate = {name: round(steady(r)) for name, r in per_epoch.items()}
    gpu = torch.cuda.get_device_name() if device.type == "cuda" else None
    command = (f"python -m benchmarks.trainer_throughput --device {args.device} --model "
               f"{args.model} --epochs {args.epochs} --batch {args.batch}"
               + (" --compile" if args.compile else ""))
    result = {"device": str(device), "gpu": gpu, "model": args.model, "windows": int(len(x)),
              "batch": args.batch, "epochs": args.epochs,
              "windows_per_s": rate, "windows_per_s_per_epoch": per_epoch,
              "speedup_vs_dataloader": {n: round(r / rate["dataloader"], 2)
                                        for n, r in rate.items() if n != "dataloader"},
              "note": "steady state: median over epochs after the first; training passes only",
              "machine": machine_info(), "command": command}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"trainer_throughput_{device.type}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    (HERE / "results" / f"trainer_throughput_{device.type}.md").write_text(markdown(result))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
