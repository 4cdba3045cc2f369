"""INT8 and FP16 variants of an fp32 ONNX model, through onnxruntime.quantization.

INT8 recipe by architecture (chosen from the graph's ops):
* no recurrent op → static QDQ: per-channel int8 weights, activations calibrated on training
  windows (``calib_method`` minmax | entropy | percentile); ``symmetric`` makes activations
  symmetric int8 as TensorRT requires;
* LSTM present → dynamic quantization (weights int8, activations quantized at run time;
  ORT has DynamicQuantizeLSTM);

Weights are quantized to 7 bits (``reduce_range``) by default, whatever the export host. On x86
without VNNI (AVX2 only: AMD Zen 1-3, older Intel) onnxruntime multiplies u8 activations by s8
weights with VPMADDUBSW, whose 16-bit pairwise sums saturate with full 8-bit weights
(255·127·2 > 32767): the onnxruntime quantization docs name this and prescribe reduce_range or
U8U8. An artifact must hold on every CPU that loads it, not only on the one that exported it,
so the default is the recipe that cannot saturate anywhere (255·63·2 < 32767). The docs call
S8S8 QDQ the first choice, but onnxruntime's x86 kernels turn s8 activations back into u8
(QDQS8ToU8Transformer), so S8S8 saturates the same way there. Measured for every student of
the zoo on 8 real Myo people on such a CPU (benchmarks/int8_recipes): the 7-bit default has
the best or near-best mean top-1 agreement of the five recipes for every student
(0.995-0.9999), equal to its saturation-free reference; 8-bit weights lose up to 0.5 pp of
mean agreement here (tcn), S8S8 up to 3.5 pp on one person (micro_cnn) and its conv students
are 30-150 % slower; U8U8 is about as good and up to 40 % slower (timed under load).
(The demo's cnn students: 8-bit weights 0.87-1.00, 7-bit 0.992-1.00.) ``full_range_weights=True``
keeps 8-bit weights for hosts known to have VNNI or ARM dot-product instructions (the artifact
records the export host's ISA, and its self-check refuses it where it saturates).
* GRU → ORT has no GRU quantizer: the GRU stays float, and the report says so.
TensorRT takes Q/DQ nodes only, so its builds ask for ``recipe="static-qdq"`` whatever the ops:
convolutions and matmuls get Q/DQ and a recurrent layer stays float.
``quant_pre_process`` (shape inference + graph optimisation) runs first in every case.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError
from export.isa import int8_isa

_HELPERS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "Cast", "Shape",
            "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Transpose", "Slice",
            "Constant", "ConstantOfShape", "Expand", "Identity", "Flatten"}
_INTEGER_OPS = {"ConvInteger", "MatMulInteger", "DynamicQuantizeLSTM", "QLinearConv",
                "QLinearMatMul", "QGemm", "MatMulIntegerToFloat"}


class _WindowReader:
    """CalibrationDataReader over training windows, in batches."""

    def __init__(self, windows: np.ndarray, input_name: str, batch: int = 32):
        self._batches = iter([{input_name: windows[i:i + batch]}
                              for i in range(0, len(windows), batch)])

    def get_next(self):
        return next(self._batches, None)


def op_types(path: str | Path) -> set[str]:
    import onnx
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def quantize_int8(fp32: Path, out: Path, calib_windows: np.ndarray, input_name: str,
                  calib_method: str = "minmax", symmetric: bool = False,
                  recipe: str = "auto", full_range_weights: bool = False,
                  unsigned_weights: bool = False) -> dict:
    """Write the int8 model to ``out``; returns the quantization settings and op report.
    ``recipe``: ``auto`` (by architecture, see the module doc) or ``static-qdq``.
    ``unsigned_weights``: uint8 weights (the docs' U8U8 format; measured in
    benchmarks/int8_recipes, not a default)."""
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_dynamic, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from export.ortlib import onnxruntime
    onnxruntime()   # telemetry off before the quantizer's own sessions start
    if recipe not in ("auto", "static-qdq"):
        raise EdgekdError(f"INT8 recipe {recipe!r}: expected auto or static-qdq")
    weight_type = QuantType.QUInt8 if unsigned_weights else QuantType.QInt8
    pre = out.with_name(out.stem + ".pre.onnx")
    quant_pre_process(str(fp32), str(pre))
    ops = op_types(pre)
    notes = []
    try:
        if recipe == "auto" and ops & {"LSTM", "GRU"}:
            recipe = "dynamic"
            quantize_dynamic(str(pre), str(out), per_channel=False,
                             reduce_range=not full_range_weights, weight_type=weight_type)
            if "GRU" in ops:
                notes.append("GRU: onnxruntime has no GRU quantizer; the GRU runs in float")
            if "Gemm" in ops:
                notes.append("Gemm: onnxruntime's dynamic quantizer does not cover Gemm; the "
                             "classifier head runs in float")
        else:
            recipe = "static-qdq"
            if ops & {"LSTM", "GRU"}:
                notes.append("recurrent layers have no Q/DQ form here; they run in float")
            if len(calib_windows) == 0:
                raise EdgekdError("static INT8 quantization needs calibration windows")
            method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                      "percentile": CalibrationMethod.Percentile}[calib_method]
            act = QuantType.QInt8 if symmetric else QuantType.QUInt8
            quantize_static(str(pre), str(out), _WindowReader(calib_windows, input_name),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            reduce_range=not full_range_weights, activation_type=act,
                            weight_type=weight_type, calibrate_method=method,
                            extra_options={"ActivationSymmetric": symmetric,
                                           "WeightSymmetric": not unsigned_weights})
    finally:
        pre.unlink(missing_ok=True)
    report = int8_op_report(out)
    return {"precision": "int8", "recipe": recipe, "calibration_windows": len(calib_windows)
            if recipe == "static-qdq" else 0, "calibration_method": calib_method
            if recipe == "static-qdq" else None, "symmetric_activations": symmetric,
            "per_channel_weights": recipe == "static-qdq",
            "weight_bits": 8 if full_range_weights else 7,
            "weight_type": "uint8" if unsigned_weights else "int8", "export_host": int8_isa(),
            "ops": report, "notes": notes}


def int8_op_report(path: Path) -> dict:
    """Which compute ops run in int8 and which stay float."""
    import onnx
    graph = onnx.load(str(path)).graph
    dq_outputs = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    int8, floating = Counter(), Counter()
    for node in graph.node:
        if node.op_type in _HELPERS:
            continue
        if node.op_type in _INTEGER_OPS or any(i in dq_outputs for i in node.input):
            int8[node.op_type] += 1
        else:
            floating[node.op_type] += 1
    return {"int8": dict(int8), "float": dict(floating)}


def convert_fp16(fp32: Path, out: Path) -> dict:
    """fp16 weights and compute; inputs and outputs stay fp32 so callers need not change."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True)
    onnx.save(model, str(out))
    return {"precision": "fp16", "recipe": "convert_float_to_float16(keep_io_types=True)"}
