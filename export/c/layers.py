"""The integer layers of a quantized student, as the C library runs them (batch 1).

Activations are channel-major: ``[C, T]`` for sequences, ``[C]`` after pooling over time. Every
activation tensor has one scale and one zero point (per-tensor, as onnxruntime's QDQ quantizer
makes them) and the same 8-bit type (uint8 or int8); weights are int8 with per-output-channel
scales and zero point 0. Each layer's ``lo``/``hi`` is the clamp of its output, narrowed when a
ReLU/Clip is fused into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class QTensor:
    """A quantized activation: ``real = scale · (q − zero_point)``."""

    name: str
    shape: tuple[int, ...]
    scale: float
    zero_point: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class Conv:
    """1-D convolution (groups: depthwise when groups == channels), bias and requantisation.
    ``weight`` int8 ``[c_out, c_in / groups, kernel]``, ``bias`` int32 ``[c_out]``,
    ``m``/``n`` the per-output-channel multiplier and shift."""

    x: str
    y: str
    weight: np.ndarray
    bias: np.ndarray
    m: np.ndarray
    n: np.ndarray
    stride: int
    dilation: int
    pad_l: int
    pad_r: int
    groups: int
    lo: int
    hi: int
    op: str = "conv"

    @property
    def kernel(self) -> int:
        return int(self.weight.shape[2])


@dataclass
class Gemm:
    """Fully connected: ``weight`` int8 ``[n_out, n_in]``, ``bias`` int32 ``[n_out]``."""

    x: str
    y: str
    weight: np.ndarray
    bias: np.ndarray
    m: np.ndarray
    n: np.ndarray
    lo: int
    hi: int
    op: str = "gemm"


@dataclass
class Mean:
    """Mean over time (ReduceMean over the last axis, GlobalAveragePool): ``[C, T] → [C]``."""

    x: str
    y: str
    m: int
    n: int
    lo: int
    hi: int
    op: str = "mean"


@dataclass
class AvgPool:
    """Average pooling over time without padding: the sum of ``kernel`` inputs, requantised."""

    x: str
    y: str
    kernel: int
    stride: int
    m: int
    n: int
    lo: int
    hi: int
    op: str = "avgpool"


@dataclass
class MaxPool:
    """Max pooling over time (input and output share scale and zero point; padded positions
    never win, as ONNX MaxPool pads with −∞)."""

    x: str
    y: str
    kernel: int
    stride: int
    dilation: int
    pad_l: int
    pad_r: int
    lo: int
    hi: int
    op: str = "maxpool"


@dataclass
class Add:
    """Elementwise sum of two activations (residual connections), one common shift ``n``."""

    a: str
    b: str
    y: str
    ma: int
    mb: int
    n: int
    lo: int
    hi: int
    op: str = "add"


@dataclass
class Clamp:
    """A ReLU/Clip whose input and output share quantisation: ``min(max(q, lo), hi)``."""

    x: str
    y: str
    lo: int
    hi: int
    op: str = "clamp"


@dataclass
class Pick:
    """One time step of every channel (Gather on the time axis: a TCN reads its last step):
    ``[C, T] → [C]``, the same scale and zero point."""

    x: str
    y: str
    index: int      # in 0 .. T-1
    lo: int
    hi: int
    op: str = "pick"


Layer = Conv | Gemm | Mean | AvgPool | MaxPool | Add | Clamp | Pick


@dataclass
class QModel:
    """A quantized student: input and output tensors, all tensors, layers in execution order."""

    input: str
    output: str
    tensors: dict[str, QTensor]
    layers: list[Layer]
    act_dtype: str                       # "uint8" | "int8"
    notes: list[str] = field(default_factory=list)

    @property
    def act_range(self) -> tuple[int, int]:
        return (0, 255) if self.act_dtype == "uint8" else (-128, 127)


def inputs_of(layer: Layer) -> list[str]:
    return [layer.a, layer.b] if isinstance(layer, Add) else [layer.x]


def out_len(t_in: int, kernel: int, stride: int, dilation: int, pad_l: int, pad_r: int) -> int:
    """Output length of a 1-D convolution or pooling (ONNX/PyTorch floor rule)."""
    return (t_in + pad_l + pad_r - dilation * (kernel - 1) - 1) // stride + 1


def macs(model: QModel) -> int:
    """Multiply-accumulates per window (convolutions and fully connected layers)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, Conv):
            total += layer.weight.size * model.tensors[layer.y].shape[1]
        elif isinstance(layer, Gemm):
            total += layer.weight.size
    return total
