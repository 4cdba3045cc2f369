"""Data-parallel training under ``torchrun`` (DDP): gloo on CPU, NCCL on CUDA.

Every rank holds the (small) dataset, draws the same batch order and takes every world-th
window of each batch, so a step over 2 processes sees the same global batch as one process and
DDP's gradient averaging reproduces the single-process gradient when shards are equal in size.
BatchNorm statistics and dropout masks are per process, as in any DDP run. Only rank 0 writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    def shard(self, idx: torch.Tensor) -> torch.Tensor:
        return idx[self.rank::self.world] if self.enabled else idx

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def init_from_env() -> DistContext:
    """Join the process group torchrun set up (WORLD_SIZE > 1); else a one-process context."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
    return DistContext(dist.get_rank(), dist.get_world_size(), local)


def device_for(ctx: DistContext, device: torch.device) -> torch.device:
    if ctx.enabled and device.type == "cuda":
        return torch.device("cuda", ctx.local_rank)
    return device


def wrap(task: torch.nn.Module, ctx: DistContext, device: torch.device) -> torch.nn.Module:
    if not ctx.enabled:
        return task
    from torch.nn.parallel import DistributedDataParallel
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(task, device_ids=ids)
