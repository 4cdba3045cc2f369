"""The epoch loop: device-resident data, optional bf16 autocast on CUDA, early stopping on the
validation part, and an atomic per-epoch state checkpoint from which ``--resume`` continues
exactly (every epoch reseeds shuffling, augmentation and dropout from (seed, split, epoch))."""

from __future__ import annotations

import copy
import logging
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from edgekd.train.augment import augment
from edgekd.train.checkpoint import load_checkpoint, save_checkpoint
from edgekd.train.config import TrainConfig
from edgekd.train.distributed import DistContext, wrap

log = logging.getLogger("edgekd.train")


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float
    kd_loss: float = 0.0
    windows: int = 0   # training windows this process stepped on (half of them per rank in DDP)


@dataclass
class FitResult:
    best_state: dict
    best_epoch: int
    history: list[dict]


def stable_seed(*parts) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode()) & 0x7FFFFFFF


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        from edgekd.errors import ConfigError
        raise ConfigError("--device cuda asked for, but torch sees no CUDA GPU")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    o = cfg.optim
    if o.optimizer == "sgd":
        return torch.optim.SGD(params, lr=o.lr, momentum=0.9, weight_decay=o.weight_decay,
                               nesterov=True)
    cls = torch.optim.AdamW if o.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=o.lr, weight_decay=o.weight_decay)


def _scheduler(opt, cfg: TrainConfig, steps_per_epoch: int):
    o = cfg.optim
    if o.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=o.epochs), "epoch"
    if o.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=o.lr, epochs=o.epochs,
                                                   steps_per_epoch=steps_per_epoch), "batch"
    if o.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, o.epochs // 3),
                                               gamma=0.1), "epoch"
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0), "epoch"


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 1024,
                   amp: bool = False) -> torch.Tensor:
    model.eval()
    outs = []
    for i in range(0, len(x), batch_size):
        with torch.autocast(x.device.type, dtype=torch.bfloat16,
                            enabled=amp and x.device.type == "cuda"):
            outs.append(model(x[i:i + batch_size]).float())
    return torch.cat(outs) if outs else torch.empty(0)


def _val_metrics(task: nn.Module, x: torch.Tensor, y: torch.Tensor, amp: bool) -> tuple[float, float]:
    logits = predict_logits(task.model, x, amp=amp)
    loss = nn.functional.cross_entropy(logits, y).item()
    return loss, (logits.argmax(1) == y).float().mean().item()


def fit(task: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
        val: tuple[torch.Tensor, torch.Tensor], cfg: TrainConfig, split_name: str,
        state_path: Path, resume: bool,
        on_epoch: Callable[[EpochStats], None] | None = None,
        ctx: DistContext = DistContext()) -> FitResult:
    """Train ``task`` (its ``model`` plus any extra trainable parts) on device tensors;
    under torchrun (``ctx``) each rank trains on its shard of every batch."""
    x_tr, y_tr = train
    dev = x_tr.device
    amp = cfg.amp and dev.type == "cuda"
    # a task may split its parameters into groups with their own learning rates (online KD)
    params = (task.param_groups(cfg.optim.lr) if hasattr(task, "param_groups")
              else [p for p in task.parameters() if p.requires_grad])
    n_batches = max(1, int(np.ceil(len(x_tr) / cfg.optim.batch_size)))
    opt = _optimizer(params, cfg)
    sched, sched_every = _scheduler(opt, cfg, n_batches)
    state = {"epoch": -1, "history": [], "best": {"acc": -1.0, "loss": float("inf"), "epoch": -1},
             "bad_epochs": 0, "best_state": copy.deepcopy(task.model.state_dict())}
    if resume and state_path.exists():
        state = _restore(state_path, task, opt, sched)
        log.info("%s: resuming after epoch %d", split_name, state["epoch"])
    step = wrap(torch.compile(task) if cfg.compile else task, ctx, dev)
    for epoch in range(state["epoch"] + 1, cfg.optim.epochs):
        if cfg.optim.patience and state["bad_epochs"] >= cfg.optim.patience:
            break
        stats = _run_epoch(step, task, opt, sched, sched_every, x_tr, y_tr, cfg, split_name, epoch,
                           amp, ctx)
        stats.val_loss, stats.val_acc = _val_metrics(task, *val, amp)
        _update_best(state, task, stats)
        state["history"].append(asdict(stats))
        state["epoch"] = epoch
        if sched_every == "epoch":
            sched.step()
        if ctx.is_main:
            _save_state(state_path, state, task, opt, sched)
        ctx.barrier()
        if on_epoch:
            on_epoch(stats)
    return FitResult(state["best_state"], state["best"]["epoch"], state["history"])


def _run_epoch(step, task, opt, sched, sched_every, x, y, cfg, split_name, epoch, amp,
               ctx: DistContext) -> EpochStats:
    seed = stable_seed(cfg.seed, split_name, epoch)
    torch.manual_seed(seed)                                # dropout
    gen = torch.Generator().manual_seed(seed)              # order and augmentation
    order = torch.randperm(len(x), generator=gen).to(x.device)
    task.train()
    # running sums stay on the device: a .item() per batch would stall the GPU queue every step
    sums = torch.zeros(3, dtype=torch.float64, device=x.device)   # loss, kd loss, correct
    start, total = time.perf_counter(), 0
    for i in range(0, len(x), cfg.optim.batch_size):
        idx = order[i:i + cfg.optim.batch_size]
        xb = augment(x[idx], cfg.augment, gen)  # same draws on every rank, then shard
        mine = ctx.shard(torch.arange(len(idx), device=x.device))
        idx, xb = idx[mine], xb[mine]
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            out = step(xb, y[idx], idx)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        if sched_every == "batch":
            sched.step()
        n = len(idx)
        total += n
        sums += torch.stack([out["loss"].detach().double() * n,
                             out["kd_loss"].detach().double() * n,
                             (out["output"].argmax(1) == y[idx]).sum().double()])
    loss_sum, kd_sum, correct = sums.tolist()
    return EpochStats(epoch, loss_sum / total, correct / total, float("nan"), float("nan"),
                      opt.param_groups[0]["lr"], time.perf_counter() - start, kd_sum / total,
                      total)


def _update_best(state: dict, task: nn.Module, stats: EpochStats) -> None:
    best = state["best"]
    if (stats.val_acc, -stats.val_loss) > (best["acc"], -best["loss"]):
        state["best"] = {"acc": stats.val_acc, "loss": stats.val_loss, "epoch": stats.epoch}
        state["best_state"] = copy.deepcopy(task.model.state_dict())
        state["bad_epochs"] = 0
    else:
        state["bad_epochs"] += 1


def _save_state(path: Path, state: dict, task, opt, sched) -> None:
    save_checkpoint(path, kind="train-state", epoch=state["epoch"], task_state=task.state_dict(),
                    optimizer=opt.state_dict(), scheduler=sched.state_dict(),
                    best_state=state["best_state"], bad_epochs=state["bad_epochs"],
                    history=state["history"], best=state["best"])


def _restore(path: Path, task, opt, sched) -> dict:
    ck = load_checkpoint(path)
    task.load_state_dict(ck["task_state"])
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    return {"epoch": ck["epoch"], "history": ck["history"], "best": ck["best"],
            "bad_epochs": ck["bad_epochs"], "best_state": ck["best_state"]}
