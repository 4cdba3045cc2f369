"""The export format table (ultralytics-style): one row per format with its file suffix, the
options it accepts, and whether it runs on CPU/GPU. Torch-free, so ``edgekd export --list``
works on an edge host."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass

from edgekd.errors import ConfigError
from edgekd.registry import Registry


@dataclass(frozen=True)
class ExportFormat:
    name: str
    suffix: str
    description: str
    cpu: bool
    gpu: bool
    options: frozenset[str]      # which export options this format accepts
    requires: tuple[str, ...]    # importable modules it needs

    def missing(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def available(self) -> bool:
        if self.missing():
            return False
        return self.cpu or has_nvidia_gpu()


def has_nvidia_gpu() -> bool:
    return shutil.which("nvidia-smi") is not None


FORMATS: Registry[ExportFormat] = Registry("export format")
for _fmt in (
    ExportFormat("onnx", ".onnx", "ONNX fp32, dynamic batch, opset 18", True, True,
                 frozenset(), ("onnx", "onnxruntime")),
    ExportFormat("onnx-int8", ".int8.onnx", "ONNX INT8: static QDQ (conv/linear, calibrated on "
                 "training windows) or dynamic (LSTM); unsupported ops stay float and are listed",
                 True, True, frozenset({"calib_windows", "calib_method", "symmetric"}),
                 ("onnx", "onnxruntime")),
    ExportFormat("onnx-fp16", ".fp16.onnx", "ONNX fp16 weights/compute, fp32 inputs/outputs",
                 True, True, frozenset(), ("onnx", "onnxruntime")),
    ExportFormat("tensorrt", ".plan", "TensorRT engine (fp16 or int8 via Q/DQ), TensorRT 10/11",
                 False, True, frozenset({"precision", "calib_windows", "calib_method"}),
                 ("onnx", "onnxruntime", "tensorrt")),
    ExportFormat("c", "-c", "C99 library for a microcontroller (a folder): fixed-point filters, "
                 "the INT8 QDQ network in integers, softmax/argmax; checked bit for bit against "
                 "edgekd's integer reference (host gcc, and Cortex-M4 on QEMU when installed)",
                 True, False, frozenset({"calib_windows", "calib_method", "symmetric",
                                         "sample_bits", "sample_scale", "float_filters"}),
                 ("onnx", "onnxruntime")),
):
    FORMATS.register(_fmt.name)(_fmt)


def check_options(fmt: ExportFormat, given: dict) -> None:
    """Refuse options the format does not take, before any work starts."""
    extra = sorted(k for k, v in given.items() if v is not None and k not in fmt.options)
    if extra:
        flags = ", ".join("--" + k.replace("_", "-") for k in extra)
        raise ConfigError(f"format {fmt.name!r} does not take {flags} (it takes: "
                          f"{', '.join(sorted(fmt.options)) or 'no options'})")
    if given.get("precision") not in (None, "fp16", "int8"):
        raise ConfigError(f"--precision {given['precision']!r}: expected fp16 or int8")
    if given.get("calib_method") not in (None, "minmax", "entropy", "percentile"):
        raise ConfigError(f"--calib-method {given['calib_method']!r}: expected minmax, entropy "
                          "or percentile")
    if fmt.name == "tensorrt" and given.get("precision") != "int8" and given.get("calib_windows"):
        raise ConfigError("--calib-windows applies to --precision int8 only")
