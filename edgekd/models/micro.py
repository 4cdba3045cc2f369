"""MCU-class students: small enough for an armband's own microcontroller (≤ 5k parameters and
≤ 50k MACs per 8-channel, 52-sample window at the defaults). Built only from layers that
integer kernels (CMSIS-NN, edgekd's C export) implement: conv1d (depthwise, strided, dilated),
batch norm (folded into the conv at export), ReLU, average pooling, linear."""

from __future__ import annotations

import torch
from torch import nn

from edgekd.models.base import EdgeModel, register_model
from edgekd.models.layers import GlobalAvgPool


def _conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1,
                  groups: int = 1) -> nn.Sequential:
    pad = dilation * (kernel - 1) // 2
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel, stride, pad, dilation, groups=groups,
                                   bias=False), nn.BatchNorm1d(c_out), nn.ReLU(inplace=True))


@register_model("micro_cnn", "student", tiny=dict(width=8, blocks=1), width=16, kernel=5,
                blocks=2, dropout=0.1)
class MicroCNN(EdgeModel):
    """Depthwise-separable micro CNN: a strided stem, then depthwise + pointwise blocks with
    stride 2, global average pooling, linear head (MCU class)."""

    def __init__(self, *, width: int, kernel: int, blocks: int, dropout: float, **shape):
        super().__init__(**shape)
        layers = [_conv_bn_relu(self.n_chans, width, kernel, stride=2)]
        c = width
        for _ in range(blocks):
            layers += [_conv_bn_relu(c, c, kernel, stride=2, groups=c),    # depthwise
                       _conv_bn_relu(c, 2 * c if c < 32 else c, 1)]         # pointwise
            c = 2 * c if c < 32 else c
        self.features = nn.Sequential(*layers, GlobalAvgPool(), nn.Dropout(dropout))
        self.head = nn.Linear(c, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register_model("micro_tcn", "student", tiny=dict(width=8, levels=2), width=12, kernel=3,
                levels=3, dropout=0.1)
class MicroTCN(EdgeModel):
    """Micro TCN: a strided stem, then dilated (1, 2, 4, …) convolutions with residual
    connections, global average pooling, linear head (MCU class)."""

    def __init__(self, *, width: int, kernel: int, levels: int, dropout: float, **shape):
        super().__init__(**shape)
        self.stem = _conv_bn_relu(self.n_chans, width, kernel, stride=2)
        self.levels = nn.ModuleList(_conv_bn_relu(width, width, kernel, dilation=2 ** i)
                                    for i in range(levels))
        self.pool = nn.Sequential(GlobalAvgPool(), nn.Dropout(dropout))
        self.head = nn.Linear(width, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        for level in self.levels:
            y = y + level(y)
        return self.head(self.pool(y))
