"""The documented integer reference: what the generated C library computes, in numpy.

Network (per layer, batch-vectorised; every sum is exact in int64, so the order of additions
does not matter and C and numpy agree bit for bit):

* Conv/Gemm: ``acc = bias + Σ w · (x − z_x)`` (padding contributes 0 = the real zero), then
  ``requantize(acc, M_c, n_c, z_y)`` per output channel (see :mod:`export.c.fixedpoint`);
* Mean over time: ``requantize(Σ_t (x − z_x), M, n, z_y)`` with ``M/2^n = s_x / (s_y · T)``;
* AvgPool: the same over each window of ``kernel`` samples;
* MaxPool: the max over the valid positions of each window (same scale in and out);
* Add: ``clamp(rne(((a − z_a) · M_a + (b − z_b) · M_b) / 2^n) + z_y)``;
* Clamp (ReLU/Clip in the quantized domain): ``min(max(q, lo), hi)``;
* Pick (one time step, same scale): ``x[:, t]``, clamped.

Decision: ``argmax`` of the quantized logits (the first on ties), and the softmax in Q15 from a
table ``E[d] = round(65535 · exp(−s_out · d))`` over ``d = q_max − q``:
``p_i = (E[d_i] · 32768 + S / 2) // S`` with ``S = Σ E[d_j]``.
"""

from __future__ import annotations

import numpy as np

from export.c.fixedpoint import requantize, rne_shift
from export.c.layers import (Add, AvgPool, Clamp, Conv, Gemm, MaxPool, Mean, Pick, QModel,
                             QTensor)

Q15_ONE = 32768


def quantize_input(x: np.ndarray, t: QTensor, lo: int, hi: int) -> np.ndarray:
    """ONNX QuantizeLinear of float windows: ``clamp(rne(x / s) + z)`` (float32 division)."""
    q = np.rint(np.asarray(x, dtype=np.float32) / np.float32(t.scale)).astype(np.int64)
    return np.clip(q + t.zero_point, lo, hi).astype(np.int32)


def run_network(model: QModel, q: np.ndarray) -> np.ndarray:
    """Quantized input ``[B, C, T]`` (int) → quantized logits ``[B, n_classes]`` (int32)."""
    values = {model.input: np.asarray(q, dtype=np.int32)}
    for layer in model.layers:
        values[layer.y] = _LAYER[type(layer)](model, layer, values)
    return values[model.output]


def _centred(model: QModel, values: dict, name: str) -> np.ndarray:
    return values[name].astype(np.int64) - model.tensors[name].zero_point


def _conv(model: QModel, layer: Conv, values: dict) -> np.ndarray:
    x = _centred(model, values, layer.x)                         # [B, C_in, T]
    b, c_in, _ = x.shape
    x = np.pad(x, ((0, 0), (0, 0), (layer.pad_l, layer.pad_r)))  # the real zero
    c_out, c_g, k = layer.weight.shape
    t_out = model.tensors[layer.y].shape[1]
    idx = (np.arange(t_out)[None, :] * layer.stride
           + np.arange(k)[:, None] * layer.dilation)             # [K, T_out]
    cols = x[:, :, idx].reshape(b, layer.groups, c_g, k, t_out)
    w = layer.weight.astype(np.int64).reshape(layer.groups, c_out // layer.groups, c_g, k)
    acc = np.einsum("bgckt,gock->bgot", cols, w).reshape(b, c_out, t_out)
    acc += layer.bias[None, :, None]
    z = model.tensors[layer.y].zero_point
    return requantize(acc, layer.m[None, :, None], layer.n[None, :, None], z, layer.lo, layer.hi)


def _gemm(model: QModel, layer: Gemm, values: dict) -> np.ndarray:
    x = _centred(model, values, layer.x).reshape(len(values[layer.x]), -1)
    acc = x @ layer.weight.astype(np.int64).T + layer.bias[None, :]
    z = model.tensors[layer.y].zero_point
    return requantize(acc, layer.m[None, :], layer.n[None, :], z, layer.lo, layer.hi)


def _mean(model: QModel, layer: Mean, values: dict) -> np.ndarray:
    acc = _centred(model, values, layer.x).sum(axis=2)
    return requantize(acc, layer.m, layer.n, model.tensors[layer.y].zero_point, layer.lo,
                      layer.hi)


def _avgpool(model: QModel, layer: AvgPool, values: dict) -> np.ndarray:
    x = _centred(model, values, layer.x)
    t_out = model.tensors[layer.y].shape[1]
    idx = np.arange(t_out)[:, None] * layer.stride + np.arange(layer.kernel)[None, :]
    acc = x[:, :, idx].sum(axis=3)
    return requantize(acc, layer.m, layer.n, model.tensors[layer.y].zero_point, layer.lo,
                      layer.hi)


def _maxpool(model: QModel, layer: MaxPool, values: dict) -> np.ndarray:
    floor = np.iinfo(np.int32).min                                # never wins: ONNX pads −∞
    x = np.pad(values[layer.x], ((0, 0), (0, 0), (layer.pad_l, layer.pad_r)),
               constant_values=floor)
    t_out = model.tensors[layer.y].shape[1]
    idx = (np.arange(t_out)[:, None] * layer.stride
           + np.arange(layer.kernel)[None, :] * layer.dilation)
    return np.clip(x[:, :, idx].max(axis=3), layer.lo, layer.hi).astype(np.int32)


def _add(model: QModel, layer: Add, values: dict) -> np.ndarray:
    p = (_centred(model, values, layer.a) * layer.ma + _centred(model, values, layer.b) * layer.mb)
    z = model.tensors[layer.y].zero_point
    return np.clip(rne_shift(p, layer.n) + z, layer.lo, layer.hi).astype(np.int32)


def _clamp(model: QModel, layer: Clamp, values: dict) -> np.ndarray:
    return np.clip(values[layer.x], layer.lo, layer.hi).astype(np.int32)


def _pick(model: QModel, layer: Pick, values: dict) -> np.ndarray:
    return np.clip(values[layer.x][:, :, layer.index], layer.lo, layer.hi).astype(np.int32)


_LAYER = {Conv: _conv, Gemm: _gemm, Mean: _mean, AvgPool: _avgpool, MaxPool: _maxpool,
          Add: _add, Clamp: _clamp, Pick: _pick}


def softmax_table(out_scale: float, span: int = 256) -> np.ndarray:
    """``E[d] = round(65535 · exp(−s_out · d))`` for ``d = 0 … span − 1``, cut after the
    last non-zero entry (what the C library stores in flash)."""
    e = np.rint(65535.0 * np.exp(-float(out_scale) * np.arange(span))).astype(np.int64)
    nonzero = np.flatnonzero(e)
    return e[: nonzero[-1] + 1].astype(np.uint16)


def decide(q_logits: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantized logits ``[B, K]`` → (labels ``[B]``, softmax Q15 ``[B, K]`` uint16)."""
    q = np.asarray(q_logits, dtype=np.int64)
    d = q.max(axis=1, keepdims=True) - q
    e = np.where(d < len(table), table[np.minimum(d, len(table) - 1)].astype(np.int64), 0)
    s = e.sum(axis=1, keepdims=True)
    probs = (e * Q15_ONE + s // 2) // s
    return q.argmax(axis=1), probs.astype(np.uint16)
