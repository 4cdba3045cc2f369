"""Training-time augmentation on batches already on the device: per-channel gain jitter,
additive noise, and a small circular electrode shift (armband rotation)."""

from __future__ import annotations

import torch

from edgekd.train.config import AugmentConfig


def augment(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """``x`` (B, C, T) normalised windows; randomness only from ``gen`` (reproducible)."""
    if not cfg.enabled:
        return x
    b, c, _ = x.shape
    dev = x.device
    if cfg.rotation:
        shifts = torch.randint(-cfg.rotation, cfg.rotation + 1, (b,), generator=gen).to(dev)
        idx = (torch.arange(c, device=dev)[None, :] - shifts[:, None]) % c
        x = torch.gather(x, 1, idx[:, :, None].expand_as(x))
    if cfg.amplitude:
        gain = 1 + cfg.amplitude * (2 * torch.rand(b, c, 1, generator=gen) - 1)
        x = x * gain.to(dev, x.dtype)
    if cfg.noise:
        x = x + cfg.noise * torch.randn(x.shape, generator=gen).to(dev, x.dtype)
    return x
