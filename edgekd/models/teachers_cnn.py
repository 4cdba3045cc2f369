"""Large convolutional teachers: ResNet-1D, InceptionTime, XceptionTime, MKCNN, multi-stream
per-channel CNN, EUNet-style CNN, DenseNet-1D. Kernel lengths are given in milliseconds and
scaled to the sampling rate, so one configuration suits 200 Hz and 2 kHz armbands."""

from __future__ import annotations

import torch
from torch import nn

from edgekd.models.base import EdgeModel, register_model
from edgekd.models.layers import ConvBNAct, GlobalAvgPool, ResidualBlock, scaled_kernel


@register_model("resnet1d", "teacher", tiny=dict(width=8, blocks=1), width=64, blocks=3,
                kernel_ms=40.0)
class ResNet1D(EdgeModel):
    """1-D ResNet: stem conv, stages of residual blocks doubling width and halving time."""

    def __init__(self, *, width: int, blocks: int, kernel_ms: float, **shape):
        super().__init__(**shape)
        k = scaled_kernel(kernel_ms, self.sfreq, self.n_times)
        layers, c = [ConvBNAct(self.n_chans, width, k)], width
        for stage in range(3):
            c_out = width * 2 ** stage
            for b in range(blocks):
                layers.append(ResidualBlock(c, c_out, k if stage == 0 else 3,
                                            stride=2 if (b == 0 and stage > 0) else 1))
                c = c_out
        self.features = nn.Sequential(*layers, GlobalAvgPool())
        self.head = nn.Linear(c, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class _Inception(nn.Module):
    """Bottleneck + parallel convolutions of three lengths + max-pool branch (Fawaz et al.)."""

    def __init__(self, c_in: int, filters: int, kernels: list[int], separable: bool):
        super().__init__()
        self.bottleneck = nn.Conv1d(c_in, filters, 1, bias=False) if c_in > 1 else nn.Identity()
        c_b = filters if c_in > 1 else c_in
        self.branches = nn.ModuleList([_branch(c_b, filters, k, separable) for k in kernels])
        self.pool = nn.Sequential(nn.MaxPool1d(3, 1, 1), nn.Conv1d(c_in, filters, 1, bias=False))
        self.bn = nn.BatchNorm1d(filters * (len(kernels) + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.bottleneck(x)
        out = torch.cat([br(b) for br in self.branches] + [self.pool(x)], dim=1)
        return torch.relu(self.bn(out))


def _branch(c_in: int, filters: int, k: int, separable: bool) -> nn.Module:
    if separable:
        return nn.Sequential(nn.Conv1d(c_in, c_in, k, padding=k // 2, groups=c_in, bias=False),
                             nn.Conv1d(c_in, filters, 1, bias=False))
    return nn.Conv1d(c_in, filters, k, padding=k // 2, bias=False)


class _InceptionNet(EdgeModel):
    separable = False

    def __init__(self, *, filters: int, depth: int, kernel_ms: list[float], **shape):
        super().__init__(**shape)
        kernels = [scaled_kernel(ms, self.sfreq, self.n_times) for ms in kernel_ms]
        width = filters * (len(kernels) + 1)
        self.blocks = nn.ModuleList()
        self.shortcuts = nn.ModuleList()
        c = res_c = self.n_chans
        for d in range(depth):
            self.blocks.append(_Inception(c, filters, kernels, self.separable))
            c = width
            if d % 3 == 2:
                self.shortcuts.append(nn.Sequential(nn.Conv1d(res_c, width, 1, bias=False),
                                                    nn.BatchNorm1d(width)))
                res_c = width
        self.pool = GlobalAvgPool()
        self.head = nn.Linear(width, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = x
        for d, block in enumerate(self.blocks):
            x = block(x)
            if d % 3 == 2:
                x = torch.relu(x + self.shortcuts[d // 3](res))
                res = x
        return self.head(self.pool(x))


@register_model("inceptiontime", "teacher", tiny=dict(filters=4, depth=3), filters=32, depth=6,
                kernel_ms=[50.0, 100.0, 200.0])
class InceptionTime(_InceptionNet):
    """InceptionTime (Ismail Fawaz et al. 2020): inception modules with residuals every 3."""


@register_model("xceptiontime", "teacher", tiny=dict(filters=4, depth=3), filters=32, depth=6,
                kernel_ms=[50.0, 100.0, 200.0])
class XceptionTime(_InceptionNet):
    """XceptionTime (Rahimian et al. 2019): inception modules built from depthwise-separable
    convolutions, residuals every 3 modules."""

    separable = True


@register_model("mkcnn", "teacher", tiny=dict(width=4), width=32, kernel_ms=[15.0, 25.0, 45.0, 75.0])
class MKCNN(EdgeModel):
    """Multi-kernel CNN: parallel conv branches of several lengths, concatenated, then two conv
    blocks."""

    def __init__(self, *, width: int, kernel_ms: list[float], **shape):
        super().__init__(**shape)
        ks = [scaled_kernel(ms, self.sfreq, self.n_times) for ms in kernel_ms]
        self.branches = nn.ModuleList([ConvBNAct(self.n_chans, width, k) for k in ks])
        c = width * len(ks)
        self.trunk = nn.Sequential(ConvBNAct(c, 2 * c, 3, stride=2), ConvBNAct(2 * c, 2 * c, 3),
                                   GlobalAvgPool(), nn.Dropout(0.3))
        self.head = nn.Linear(2 * c, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(torch.cat([b(x) for b in self.branches], dim=1)))


@register_model("multistream", "teacher", tiny=dict(per_channel=2, width=8), per_channel=16,
                width=128, kernel_ms=25.0)
class MultiStreamCNN(EdgeModel):
    """One small CNN per electrode (grouped convolutions), fused by 1×1 and conv layers."""

    def __init__(self, *, per_channel: int, width: int, kernel_ms: float, **shape):
        super().__init__(**shape)
        k, c, g = scaled_kernel(kernel_ms, self.sfreq, self.n_times), self.n_chans, self.n_chans
        self.streams = nn.Sequential(
            nn.Conv1d(c, c * per_channel, k, padding=k // 2, groups=g, bias=False),
            nn.BatchNorm1d(c * per_channel), nn.ReLU(inplace=True),
            nn.Conv1d(c * per_channel, c * per_channel, k, padding=k // 2, groups=g, bias=False),
            nn.BatchNorm1d(c * per_channel), nn.ReLU(inplace=True))
        self.fusion = nn.Sequential(ConvBNAct(c * per_channel, width, 1),
                                    ConvBNAct(width, width, 3, stride=2), GlobalAvgPool(),
                                    nn.Dropout(0.3))
        self.head = nn.Linear(width, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.fusion(self.streams(x)))


@register_model("eunet", "teacher", tiny=dict(f1=4, depth_mult=1, f2=8), f1=32, depth_mult=4,
                f2=128, kernel_ms=125.0, dropout=0.25)
class EUNet(EdgeModel):
    """EUNet-style CNN (EEGNet family): a temporal conv bank, a depthwise spatial conv across all
    electrodes, then separable temporal convs; widened for use as a teacher."""

    def __init__(self, *, f1: int, depth_mult: int, f2: int, kernel_ms: float, dropout: float,
                 **shape):
        super().__init__(**shape)
        k = scaled_kernel(kernel_ms, self.sfreq, self.n_times)
        c1 = f1 * depth_mult
        self.temporal = nn.Sequential(nn.Conv2d(1, f1, (1, k), padding=(0, k // 2), bias=False),
                                      nn.BatchNorm2d(f1))
        self.spatial = nn.Sequential(nn.Conv2d(f1, c1, (self.n_chans, 1), groups=f1, bias=False),
                                     nn.BatchNorm2d(c1), nn.ELU(), nn.Dropout(dropout))
        self.separable = nn.Sequential(ConvBNAct(c1, f2, 9, separable=True),
                                       ConvBNAct(f2, f2, 9, stride=2, separable=True),
                                       GlobalAvgPool(), nn.Dropout(dropout))
        self.head = nn.Linear(f2, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.spatial(self.temporal(x.unsqueeze(1))).squeeze(2)   # (B, c1, T)
        return self.head(self.separable(z))


class _DenseLayer(nn.Module):
    def __init__(self, c_in: int, growth: int):
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm1d(c_in), nn.ReLU(inplace=True),
                                  nn.Conv1d(c_in, 4 * growth, 1, bias=False),
                                  nn.BatchNorm1d(4 * growth), nn.ReLU(inplace=True),
                                  nn.Conv1d(4 * growth, growth, 3, padding=1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], dim=1)


@register_model("densenet1d", "teacher", tiny=dict(growth=4, layers=[2, 2]), growth=24,
                layers=[4, 6, 8])
class DenseNet1D(EdgeModel):
    """1-D DenseNet: dense blocks with growth rate, transitions halving width and time."""

    def __init__(self, *, growth: int, layers: list[int], **shape):
        super().__init__(**shape)
        c = 2 * growth
        mods: list[nn.Module] = [ConvBNAct(self.n_chans, c, 7)]
        for i, n in enumerate(layers):
            for _ in range(n):
                mods.append(_DenseLayer(c, growth))
                c += growth
            if i < len(layers) - 1:
                mods += [nn.BatchNorm1d(c), nn.ReLU(inplace=True), nn.Conv1d(c, c // 2, 1),
                         nn.AvgPool1d(2, ceil_mode=True)]
                c //= 2
        self.features = nn.Sequential(*mods, nn.BatchNorm1d(c), nn.ReLU(inplace=True),
                                      GlobalAvgPool())
        self.head = nn.Linear(c, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
