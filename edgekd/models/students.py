"""Compact, edge-friendly students: CNN (optionally depthwise-separable), LSTM, GRU, CNN-LSTM, TCN."""

from __future__ import annotations

import torch
from torch import nn

from edgekd.models.base import EdgeModel, register_model
from edgekd.models.layers import ConvBNAct, GlobalAvgPool


@register_model("cnn", "student", tiny=dict(width=8), width=32, kernel=5, depth=3,
                separable=False, dropout=0.2)
class CNNStudent(EdgeModel):
    """Conv blocks with stride-2 downsampling, global average pooling, linear head."""

    def __init__(self, *, width: int, kernel: int, depth: int, separable: bool, dropout: float,
                 **shape):
        super().__init__(**shape)
        blocks, c = [ConvBNAct(self.n_chans, width, kernel)], width
        for _ in range(depth - 1):
            blocks.append(ConvBNAct(c, width * 2, kernel, stride=2, separable=separable))
            c = width * 2
        self.features = nn.Sequential(*blocks, GlobalAvgPool(), nn.Dropout(dropout))
        self.head = nn.Linear(c, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class _RecurrentStudent(EdgeModel):
    rnn_cls: type[nn.RNNBase]

    def __init__(self, *, hidden: int, layers: int, dropout: float, **shape):
        super().__init__(**shape)
        self.rnn = self.rnn_cls(self.n_chans, hidden, num_layers=layers, batch_first=True,
                                dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x.transpose(1, 2))      # (B, T, hidden)
        return self.head(out[:, -1])              # the state after the newest sample


@register_model("lstm", "student", tiny=dict(hidden=8, layers=1), hidden=64, layers=2,
                dropout=0.1)
class LSTMStudent(_RecurrentStudent):
    """Stacked LSTM over time; classifies from the last time step."""

    rnn_cls = nn.LSTM


@register_model("gru", "student", tiny=dict(hidden=8, layers=1), hidden=64, layers=2,
                dropout=0.1)
class GRUStudent(_RecurrentStudent):
    """Stacked GRU over time; classifies from the last time step."""

    rnn_cls = nn.GRU


@register_model("cnn_lstm", "student", tiny=dict(width=8, hidden=8), width=32, kernel=5,
                hidden=64)
class CNNLSTMStudent(EdgeModel):
    """Two strided conv blocks (4× shorter sequence) feeding an LSTM."""

    def __init__(self, *, width: int, kernel: int, hidden: int, **shape):
        super().__init__(**shape)
        self.conv = nn.Sequential(ConvBNAct(self.n_chans, width, kernel, stride=2),
                                  ConvBNAct(width, width, kernel, stride=2))
        self.rnn = nn.LSTM(width, hidden, batch_first=True)
        self.head = nn.Linear(hidden, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.conv(x).transpose(1, 2))
        return self.head(out[:, -1])


class _CausalBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, dilation=dilation)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(torch.relu(self.conv1(nn.functional.pad(x, (self.pad, 0)))))
        y = self.drop(torch.relu(self.conv2(nn.functional.pad(y, (self.pad, 0)))))
        return torch.relu(y + self.skip(x))


@register_model("tcn", "student", tiny=dict(width=8, levels=2), width=32, kernel=3, levels=4,
                dropout=0.1)
class TCNStudent(EdgeModel):
    """Temporal convolutional network: dilated causal residual blocks (Bai et al. 2018)."""

    def __init__(self, *, width: int, kernel: int, levels: int, dropout: float, **shape):
        super().__init__(**shape)
        chans = [self.n_chans] + [width] * levels
        self.blocks = nn.Sequential(*[_CausalBlock(chans[i], chans[i + 1], kernel, 2 ** i, dropout)
                                      for i in range(levels)])
        self.head = nn.Linear(width, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(x)[:, :, -1])
