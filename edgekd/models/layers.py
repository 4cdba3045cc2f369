"""Small building blocks shared by several models."""

from __future__ import annotations

import torch
from torch import nn


class ConvBNAct(nn.Sequential):
    """Conv1d ('same' padding) → BatchNorm → activation; optionally depthwise-separable."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1,
                 separable: bool = False, act: bool = True):
        pad = dilation * (kernel - 1) // 2
        if separable:
            conv = nn.Sequential(
                nn.Conv1d(c_in, c_in, kernel, stride, pad, dilation, groups=c_in, bias=False),
                nn.Conv1d(c_in, c_out, 1, bias=False))
        else:
            conv = nn.Conv1d(c_in, c_out, kernel, stride, pad, dilation, bias=False)
        layers = [conv, nn.BatchNorm1d(c_out)]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class GlobalAvgPool(nn.Module):
    """(B, C, T) → (B, C). No activation after it: logits may be negative."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=-1)


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(ConvBNAct(c_in, c_out, kernel, stride),
                                  ConvBNAct(c_out, c_out, kernel, act=False))
        self.skip = (nn.Identity() if c_in == c_out and stride == 1 else
                     nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride, bias=False),
                                   nn.BatchNorm1d(c_out)))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


def scaled_kernel(kernel_ms: float, sfreq: float, n_times: int) -> int:
    """An odd kernel of about ``kernel_ms`` at ``sfreq``, no longer than the window."""
    k = max(3, int(round(kernel_ms * sfreq / 1000)))
    k = min(k, n_times if n_times % 2 else n_times - 1)
    return k if k % 2 else k + 1
