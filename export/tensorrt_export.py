"""TensorRT engine builds from ONNX, for TensorRT 10 and 11.

* TensorRT 10: a weakly typed network; precision chosen with builder flags (FP16, INT8). INT8
  comes from the Q/DQ nodes of a symmetric QDQ ONNX model, so no calibrator is needed.
* TensorRT 11: the precision flags and the INT8 calibrators are gone; networks are strongly
  typed, so the ONNX model carries the precision itself: an fp16 ONNX model for fp16, a
  symmetric Q/DQ model for int8.
TensorRT is imported inside the functions: it is an optional extra (``edgekd[tensorrt]``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from edgekd.errors import EdgekdError


def tensorrt_module():
    try:
        import tensorrt as trt
    except ImportError:
        raise EdgekdError("TensorRT is not installed: pip install 'edgekd[tensorrt]' (from a "
                          "clone: pip install -e '.[tensorrt]'; needs an NVIDIA GPU and "
                          "NVIDIA's package index)") from None
    return trt


def trt_major(trt) -> int:
    return int(trt.__version__.split(".")[0])


def build_engine(onnx_path: Path, engine_path: Path, precision: str, n_chans: int,
                 n_times: int, max_batch: int = 64, workspace_mib: int = 1024) -> dict:
    """Build and serialize an engine; returns what was built with (versions, GPU)."""
    trt = tensorrt_module()
    major = trt_major(trt)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    # TensorRT 10: weakly typed, precision from the builder flags below. TensorRT 11: every
    # network is strongly typed and STRONGLY_TYPED is a deprecated no-op, so no flag either way.
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EdgekdError(f"{onnx_path}: TensorRT's ONNX parser failed: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib << 20)
    if major < 11:
        config.set_flag(trt.BuilderFlag.FP16)
        if precision == "int8":
            config.set_flag(trt.BuilderFlag.INT8)
    profile = builder.create_optimization_profile()
    name = network.get_input(0).name
    profile.set_shape(name, (1, n_chans, n_times), (1, n_chans, n_times),
                      (max_batch, n_chans, n_times))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EdgekdError(f"TensorRT could not build an engine from {onnx_path}")
    engine_path.write_bytes(bytes(serialized))
    return {"tensorrt_version": trt.__version__, "strongly_typed": major >= 11,
            "precision": precision, "gpu": gpu_name(), "cuda_runtime": cuda_runtime_version(),
            "max_batch": max_batch}


def gpu_name() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else None


def cuda_runtime_version() -> str | None:
    try:
        from export.tensorrt_runtime import cudart
        err, version = cudart().cudaRuntimeGetVersion()
        return f"{version // 1000}.{(version % 1000) // 10}" if int(err) == 0 else None
    except EdgekdError:
        return None
