"""Read an INT8 QDQ ONNX model (what ``export`` writes for ``onnx-int8``) into integer layers.

Every scale and zero point comes from the graph's QuantizeLinear/DequantizeLinear nodes. A
compute node's inputs must be DequantizeLinear outputs and its output must feed exactly one
QuantizeLinear: that is what makes it an integer layer. Requantisation scales of Conv and Gemm
are computed as onnxruntime's fused QLinearConv/QGemm kernels compute them (float32
``x_scale · w_scale / y_scale``); ReduceMean, pooling and Add, which onnxruntime runs through
float or its own kernels, use the exact ratio. Anything else is refused, naming the node.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError
from export.c.fixedpoint import multiplier
from export.c.layers import (Add, AvgPool, Clamp, Conv, Gemm, MaxPool, Mean, Pick, QModel,
                             QTensor, inputs_of, out_len)

RECURRENT = {"LSTM", "GRU", "RNN", "DynamicQuantizeLSTM"}
LAYOUT_OPS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"}


@dataclass
class _Const:
    values: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray


class _Reader:
    """One pass over the graph's nodes, in their (topological) order."""

    def __init__(self, proto, where: str):
        from onnx import numpy_helper

        self.where = where
        self.graph = proto.graph
        self.consts = {i.name: numpy_helper.to_array(i) for i in self.graph.initializer}
        for node in self.graph.node:
            if node.op_type == "Constant":
                self.consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        self.consumers: dict[str, list] = defaultdict(list)
        for node in self.graph.node:
            for name in node.input:
                self.consumers[name].append(node)
        self.weights: dict[str, _Const] = {}     # DequantizeLinear of an initializer
        self.alias: dict[str, QTensor] = {}      # float name → the quantized tensor (or view)
        self.tensors: dict[str, QTensor] = {}
        self.views: dict[str, QTensor] = {}      # quantized name → a reshaped buffer
        self.layers: list = []
        self.dtypes: set[str] = set()

    def fail(self, node, detail: str):
        raise EdgekdError(f"{self.where}: node {node.name or node.output[0]!r} "
                          f"({node.op_type}): {detail}")

    def qparams(self, node) -> tuple[float, int]:
        scale = self.consts[node.input[1]]
        zp = self.consts[node.input[2]] if len(node.input) > 2 and node.input[2] else np.uint8(0)
        if scale.size != 1:
            self.fail(node, "activations must be quantized per tensor")
        self.dtypes.add(str(zp.dtype))
        return float(np.float32(scale.reshape(()))), int(zp.reshape(()))

    def act(self, node, name: str) -> QTensor:
        if name not in self.alias:
            self.fail(node, f"input {name!r} is not the output of a DequantizeLinear: it would "
                            "run in float, and the C export runs every layer in integers")
        return self.alias[name]

    def quantized_output(self, node, shape: tuple[int, ...]) -> QTensor:
        users = self.consumers[node.output[0]]
        if len(users) != 1 or users[0].op_type != "QuantizeLinear":
            self.fail(node, "its output does not feed exactly one QuantizeLinear (a float op "
                            "in an INT8 graph); the C export needs integer layers only")
        scale, zp = self.qparams(users[0])
        t = QTensor(users[0].output[0], shape, scale, zp)
        self.tensors[t.name] = t
        return t

    def weight(self, node, name: str) -> _Const:
        if name not in self.weights:
            self.fail(node, f"weight {name!r} is not a quantized initializer")
        return self.weights[name]


def read_qdq(path: str | Path) -> QModel:
    """The integer layers of the QDQ model at ``path`` (batch 1, input ``[C, T]``)."""
    import onnx

    proto = onnx.load(str(path))
    r = _Reader(proto, str(path))
    for node in proto.graph.node:          # before anything else fails on their helper ops
        if node.op_type in RECURRENT:
            r.fail(node, "recurrent layers have no C implementation in edgekd (float or "
                         "integer); export a convolutional student (cnn, micro_cnn, micro_tcn, "
                         "tcn) for a microcontroller")
    graph_in = proto.graph.input[0]
    dims = [d.dim_value for d in graph_in.type.tensor_type.shape.dim]
    if len(dims) != 3 or not dims[1] or not dims[2]:
        raise EdgekdError(f"{path}: expected an input [batch, channels, time], got {dims}")
    input_name = None
    for node in proto.graph.node:
        if node.op_type == "Constant":
            continue
        if node.op_type == "QuantizeLinear":
            if node.input[0] != graph_in.name:
                continue                       # read by the layer that produces its input
            scale, zp = r.qparams(node)
            input_name = node.output[0]
            r.tensors[input_name] = QTensor(input_name, (dims[1], dims[2]), scale, zp)
        elif node.op_type == "DequantizeLinear":
            _dequantize(r, node)
        elif node.op_type in LAYOUT_OPS:
            _layout(r, node)
        elif node.op_type in _HANDLERS:
            r.layers.append(_HANDLERS[node.op_type](r, node))
        else:
            r.fail(node, f"not supported by the C export (supported: "
                         f"{', '.join(sorted(_HANDLERS))} between Q/DQ pairs)")
    if input_name is None:
        raise EdgekdError(f"{path}: the input is not quantized; is this an INT8 QDQ model?")
    output = _graph_output(r, proto)
    if len(r.dtypes) != 1:
        raise EdgekdError(f"{path}: activations mix 8-bit types {sorted(r.dtypes)}; the C "
                          "export needs one (all uint8 or all int8)")
    model = QModel(input_name, output, r.tensors, r.layers, r.dtypes.pop())
    _check_ranges(model)
    return fuse_clamps(model)


def _dequantize(r: _Reader, node) -> None:
    src = node.input[0]
    if src in r.consts:
        zp = r.consts[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros(1)
        r.weights[node.output[0]] = _Const(r.consts[src], r.consts[node.input[1]], zp)
    elif src in r.views:
        r.alias[node.output[0]] = r.views[src]
    elif src in r.tensors:
        r.alias[node.output[0]] = r.tensors[src]
    else:
        r.fail(node, f"input {src!r} is neither an initializer nor a quantized activation")


def _layout(r: _Reader, node) -> None:
    """Flattening a dequantized activation keeps its channel-major memory order: the result
    is a view of the same buffer (also when the exporter quantizes the view again)."""
    t = r.act(node, node.input[0])
    shape = t.shape
    if node.op_type == "Reshape":
        target = r.consts.get(node.input[1])
        kept = None if target is None else [int(v) for v in np.ravel(target)][1:]
        if kept is None or len(kept) not in (1, len(t.shape)) or (
                len(kept) == len(t.shape) and kept != list(t.shape)):
            r.fail(node, f"only flattening a {list(t.shape)} activation is supported")
        shape = (t.size,) if len(kept) == 1 else t.shape
    elif node.op_type in ("Flatten", "Squeeze"):
        shape = (t.size,)
    view = QTensor(t.name, shape, t.scale, t.zero_point)
    users = r.consumers[node.output[0]]
    if len(users) == 1 and users[0].op_type == "QuantizeLinear":
        if r.qparams(users[0]) != (t.scale, t.zero_point):
            r.fail(node, "requantizing a reshaped activation is not supported")
        r.views[users[0].output[0]] = view
    else:
        r.alias[node.output[0]] = view


def _attrs(node) -> dict:
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _range(r: _Reader) -> tuple[int, int]:
    return (0, 255) if r.dtypes == {"uint8"} else (-128, 127)


def _conv(r: _Reader, node) -> Conv:
    a = _attrs(node)
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        r.fail(node, "auto_pad is not supported (explicit pads only)")
    x = r.act(node, node.input[0])
    w = r.weight(node, node.input[1])
    if w.values.ndim != 3 or np.any(w.zero_point != 0) or w.values.dtype != np.int8:
        r.fail(node, "needs 1-D int8 weights with zero point 0 (symmetric, per channel)")
    c_out, _, kernel = w.values.shape
    stride, dilation = int(a.get("strides", [1])[0]), int(a.get("dilations", [1])[0])
    pad_l, pad_r = (int(p) for p in a.get("pads", [0, 0]))
    t_out = out_len(x.shape[1], kernel, stride, dilation, pad_l, pad_r)
    y = r.quantized_output(node, (c_out, t_out))
    m, n, bias = _requant(r, node, x, w, y, c_out)
    return Conv(x.name, y.name, w.values.astype(np.int8), bias, m, n, stride, dilation, pad_l,
                pad_r, int(a.get("group", 1)), *_range(r))


def _gemm(r: _Reader, node) -> Gemm:
    a = _attrs(node)
    if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
        r.fail(node, "only Gemm with transA=0, alpha=1, beta=1 is supported")
    x = r.act(node, node.input[0])
    w = r.weight(node, node.input[1])
    values = w.values if a.get("transB", 0) else w.values.T
    if len(x.shape) != 1 or values.shape[1] != x.size or np.any(w.zero_point != 0):
        r.fail(node, f"expected a [N, {x.size}] int8 weight with zero point 0 on a flat input")
    y = r.quantized_output(node, (values.shape[0],))
    m, n, bias = _requant(r, node, x, w, y, values.shape[0])
    return Gemm(x.name, y.name, np.ascontiguousarray(values, dtype=np.int8), bias, m, n,
                *_range(r))


def _requant(r: _Reader, node, x: QTensor, w: _Const, y: QTensor, c_out: int):
    """Per-output-channel (M, n) and the int32 bias, checked against the bias's own scale."""
    sw = np.broadcast_to(np.asarray(w.scale, dtype=np.float32).reshape(-1), (c_out,))
    in_w = np.float32(x.scale) * sw                       # float32, as onnxruntime does
    ratio = in_w / np.float32(y.scale)
    mn = [multiplier(float(v)) for v in ratio]
    bias = np.zeros(c_out, dtype=np.int32)
    if len(node.input) > 2 and node.input[2]:
        b = r.weight(node, node.input[2])
        bscale = np.broadcast_to(np.asarray(b.scale, dtype=np.float32).reshape(-1), (c_out,))
        if b.values.dtype != np.int32 or np.any(b.zero_point != 0) or not np.allclose(
                bscale, in_w, rtol=1e-6, atol=0):
            r.fail(node, "the bias must be int32 with scale x_scale · w_scale and zero point 0")
        bias = b.values.astype(np.int32).reshape(c_out)
    return (np.array([v[0] for v in mn], dtype=np.int64), np.array([v[1] for v in mn],
                                                                    dtype=np.int64), bias)


def _mean(r: _Reader, node) -> Mean:
    x = r.act(node, node.input[0])
    if node.op_type == "ReduceMean":
        a = _attrs(node)
        axes = r.consts.get(node.input[1]) if len(node.input) > 1 else a.get("axes")
        if axes is None or [int(v) % 3 for v in np.ravel(axes)] != [2]:
            r.fail(node, "only the mean over time (the last axis) is supported")
    if len(x.shape) != 2:
        r.fail(node, "expected a [C, T] input")
    y = r.quantized_output(node, (x.shape[0],))
    m, n = multiplier(x.scale / (y.scale * x.shape[1]))
    return Mean(x.name, y.name, m, n, *_range(r))


def _add(r: _Reader, node) -> Add:
    a, b = r.act(node, node.input[0]), r.act(node, node.input[1])
    if a.shape != b.shape:
        r.fail(node, f"broadcasting {list(a.shape)} + {list(b.shape)} is not supported")
    y = r.quantized_output(node, a.shape)
    ratios = (a.scale / y.scale, b.scale / y.scale)
    # one shift for both terms, >= 32 (the C library's fast rounding): the larger multiplier
    # gets at least 30 bits; |(a - z_a) · M_a + (b - z_b) · M_b| stays far below 2^62
    n = max(32, 30 - int(np.floor(np.log2(max(ratios)))))
    ma, mb = (int(round(v * 2.0 ** n)) for v in ratios)
    if n > 62 or 255 * (ma + mb) >= 2 ** 61:
        r.fail(node, f"scale ratios {ratios} cannot be represented")
    return Add(a.name, b.name, y.name, ma, mb, n, *_range(r))


def _pool(r: _Reader, node):
    a = _attrs(node)
    x = r.act(node, node.input[0])
    kernel, stride = int(a["kernel_shape"][0]), int(a.get("strides", [1])[0])
    dilation = int(a.get("dilations", [1])[0])
    pad_l, pad_r = (int(p) for p in a.get("pads", [0, 0]))
    if a.get("ceil_mode", 0):
        r.fail(node, "ceil_mode=1 is not supported")
    shape = (x.shape[0], out_len(x.shape[1], kernel, stride, dilation, pad_l, pad_r))
    y = r.quantized_output(node, shape)
    if node.op_type == "MaxPool":
        if (y.scale, y.zero_point) != (x.scale, x.zero_point):
            r.fail(node, "MaxPool input and output must share scale and zero point")
        return MaxPool(x.name, y.name, kernel, stride, dilation, pad_l, pad_r, *_range(r))
    if pad_l or pad_r or dilation != 1:
        r.fail(node, "AveragePool with padding or dilation is not supported")
    m, n = multiplier(x.scale / (y.scale * kernel))
    return AvgPool(x.name, y.name, kernel, stride, m, n, *_range(r))


def _clamp(r: _Reader, node) -> Clamp:
    x = r.act(node, node.input[0])
    y = r.quantized_output(node, x.shape)
    if (y.scale, y.zero_point) != (x.scale, x.zero_point):
        r.fail(node, "input and output must share scale and zero point")
    lo, hi = _range(r)
    bounds = [float(-np.inf), float(np.inf)]
    if node.op_type == "Clip":
        for i in (1, 2):
            if len(node.input) > i and node.input[i]:
                bounds[i - 1] = float(r.consts[node.input[i]])
    else:
        bounds[0] = 0.0
    q = [np.round(b / x.scale) + x.zero_point if np.isfinite(b) else d
         for b, d in zip(bounds, (lo, hi))]
    return Clamp(x.name, y.name, int(np.clip(q[0], lo, hi)), int(np.clip(q[1], lo, hi)))


def _gather(r: _Reader, node) -> Pick:
    x = r.act(node, node.input[0])
    index = r.consts.get(node.input[1])
    if _attrs(node).get("axis", 0) % 3 != 2 or index is None or np.ndim(index) != 0 or len(
            x.shape) != 2:
        r.fail(node, "only Gather of one constant time step of a [C, T] activation is supported")
    y = r.quantized_output(node, (x.shape[0],))
    if (y.scale, y.zero_point) != (x.scale, x.zero_point):
        r.fail(node, "input and output must share scale and zero point")
    return Pick(x.name, y.name, int(index) % x.shape[1], *_range(r))


_HANDLERS = {"Conv": _conv, "Gather": _gather, "Gemm": _gemm, "ReduceMean": _mean,
             "GlobalAveragePool": _mean,
             "Add": _add, "MaxPool": _pool, "AveragePool": _pool, "Relu": _clamp,
             "Clip": _clamp}


def _graph_output(r: _Reader, proto) -> str:
    name = proto.graph.output[0].name
    if name not in r.alias:
        raise EdgekdError(f"{r.where}: the output {name!r} is not a dequantized int8 tensor")
    return r.alias[name].name


def _check_ranges(model: QModel) -> None:
    lo, hi = model.act_range
    for t in model.tensors.values():
        if not lo <= t.zero_point <= hi:
            raise EdgekdError(f"tensor {t.name!r}: zero point {t.zero_point} outside "
                              f"{model.act_dtype}")


def fuse_clamps(model: QModel) -> QModel:
    """Fold a Clamp into the layer that produces its input when nothing else reads it."""
    readers: dict[str, int] = defaultdict(int)
    for layer in model.layers:
        for name in inputs_of(layer):
            readers[name] += 1
    readers[model.output] += 1
    out = []
    for layer in model.layers:
        prev = out[-1] if out else None
        if (isinstance(layer, Clamp) and prev is not None and prev.y == layer.x
                and readers[layer.x] == 1 and not isinstance(prev, Clamp)):
            prev.y, prev.lo, prev.hi = layer.y, max(prev.lo, layer.lo), min(prev.hi, layer.hi)
            del model.tensors[layer.x]
            continue
        out.append(layer)
    model.layers = out
    return model
