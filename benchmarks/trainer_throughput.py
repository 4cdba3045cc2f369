"""Training throughput: edgekd's loop (data resident on the device, bf16 autocast on CUDA) vs a
plain PyTorch DataLoader loop (per-batch host→device copies, fp32) on the same model and data.

    python -m benchmarks.trainer_throughput [--device cuda] [--model resnet1d]
    # writes benchmarks/results/trainer_throughput_<device>.json

Issue 3 asks for this on a GPU machine; on CPU it is a reference point only (there is no
host→device copy to save and no bf16 tensor cores).
"""

from __future__ import annotations

import argparse
import json
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


def dataloader_loop(model, x, y, device, epochs, batch) -> float:
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch, shuffle=True, pin_memory=device.type == "cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    _sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loader:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            opt.step()
    _sync(device)
    return epochs * len(x) / (time.perf_counter() - start)


def edgekd_loop(model, x, y, device, epochs, batch, tmp: Path) -> float:
    cfg = resolve(overrides={"optim.epochs": epochs, "optim.batch_size": batch,
                             "optim.patience": 0, "device": device.type, "amp": True})
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    val = (xt[:256], yt[:256])
    _sync(device)
    start = time.perf_counter()
    fit(ClassificationTask(model).to(device), (xt, yt), val, cfg, "bench", tmp / "state.pt",
        resume=False)
    _sync(device)
    return epochs * len(x) / (time.perf_counter() - start)


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    import tempfile
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--model", default="resnet1d")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    device = torch.device(args.device)
    x, y = windows()
    shape = dict(n_chans=8, n_times=52, n_outputs=7, sfreq=200.0)
    torch.manual_seed(0)
    plain = dataloader_loop(create_model(args.model, **shape).to(device), x, y, device,
                            args.epochs, args.batch)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        ours = edgekd_loop(create_model(args.model, **shape).to(device), x, y, device,
                           args.epochs, args.batch, Path(tmp))
    gpu = torch.cuda.get_device_name() if device.type == "cuda" else None
    result = {"device": str(device), "gpu": gpu, "model": args.model, "windows": int(len(x)),
              "batch": args.batch, "epochs": args.epochs,
              "dataloader_windows_per_s": round(plain), "edgekd_windows_per_s": round(ours),
              "speedup": round(ours / plain, 2),
              "note": "edgekd's epochs include a validation pass and a state checkpoint",
              "machine": machine_info(), "command": "python -m benchmarks.trainer_throughput "
              f"--device {args.device} --model {args.model}"}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"trainer_throughput_{device.type}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
