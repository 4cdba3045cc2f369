"""Small quantized models for the C export's tests: random weights are enough for exactness
(no training), and a 'zoo' model covers the layers no student uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgekd.models import create_model
from export.onnx_export import INPUT_NAME, export_onnx
from export.quantize import quantize_int8

N_CHANS, N_TIMES, N_OUT = 8, 52, 5


class Zoo(nn.Module):
    """Dilated conv, ReLU6, padded max pooling, a grouped (not depthwise) conv, average
    pooling, a flatten of [C, T] into the linear head."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv1d(N_CHANS, 12, 3, padding=2, dilation=2)
        self.act = nn.ReLU6()
        self.pool = nn.MaxPool1d(3, stride=2, padding=1)
        self.g = nn.Conv1d(12, 12, 5, padding=2, groups=3)
        self.avg = nn.AvgPool1d(3, stride=2)
        self.head = nn.Linear(12 * 12, N_OUT)

    def forward(self, x):
        y = self.pool(self.act(self.a(x)))
        y = self.avg(torch.relu(self.g(y)))
        return self.head(y.flatten(1))


def student(name: str) -> nn.Module:
    torch.manual_seed(0)
    model = create_model(name, n_chans=N_CHANS, n_times=N_TIMES, n_outputs=N_OUT, sfreq=200.0)
    for m in model.modules():           # non-trivial batch norms to fold
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def windows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, N_CHANS, N_TIMES)) * rng.uniform(0.3, 2, (n, N_CHANS, 1))
    return x.astype(np.float32)


def quantized(model: nn.Module, folder: Path, symmetric: bool = False) -> Path:
    """The model's INT8 QDQ ONNX, as ``export --format onnx-int8`` makes it."""
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = export_onnx(model, N_CHANS, N_TIMES, folder / "fp32.onnx")
    out = folder / "int8.onnx"
    quantize_int8(fp32, out, windows(64, seed=1), INPUT_NAME, "minmax", symmetric)
    return out
