"""Stand-ins for the `tensorrt` and cuda-python runtime modules, for machines without either.

They mirror the documented API surface edgekd uses (TensorRT 10/11 builder + named-tensor runtime,
cuda-python's cudart) and record what was called. The "engine" they build is the ONNX file the
parser was given, executed with onnxruntime, so the export pipeline's parity check runs for real
on the model edgekd handed to TensorRT. Device memory is a dict of byte arrays; copies go through
ctypes addresses exactly as with real host pointers.
TensorRT 11 removed the precision builder flags: the fake for 11 has no ``BuilderFlag.FP16``/
``INT8``, so code that still sets them fails here as it would there.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import types
from enum import Enum

import numpy as np


class CallLog:
    def __init__(self):
        self.flags: list[str] = []
        self.network_flags: list[int] = []
        self.mallocs = 0
        self.frees = 0
        self.executions = 0
        self.batches: list[int] = []


def make_tensorrt(version: str, log: CallLog, max_batch_cap: int | None = None):
    """A fake ``tensorrt`` module of the given version (``"10.9.0"`` or ``"11.2.0"``)."""
    trt = types.ModuleType("tensorrt")
    trt.__version__ = version
    trt.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)
    major = int(version.split(".")[0])

    class Logger:
        WARNING = 2

        def __init__(self, level):
            self.level = level

    flag_names = ["FP16", "INT8", "TF32"] if major < 11 else ["TF32"]
    trt.Logger = Logger
    trt.BuilderFlag = Enum("BuilderFlag", flag_names)
    trt.NetworkDefinitionCreationFlag = Enum("NetworkDefinitionCreationFlag", {"STRONGLY_TYPED": 0})
    trt.MemoryPoolType = Enum("MemoryPoolType", ["WORKSPACE"])
    trt.TensorIOMode = Enum("TensorIOMode", ["INPUT", "OUTPUT"])
    trt.DataType = Enum("DataType", ["FLOAT", "HALF"])
    trt.nptype = lambda dt: {trt.DataType.FLOAT: np.float32, trt.DataType.HALF: np.float16}[dt]

    class Network:
        def __init__(self):
            self.onnx_bytes = None

        def get_input(self, i):
            return types.SimpleNamespace(name="x")

    class Parser:
        def __init__(self, network, logger):
            self.network, self.num_errors = network, 0

        def parse_from_file(self, path):
            self.network.onnx_bytes = open(path, "rb").read()
            return True

    class Profile:
        def set_shape(self, name, lo, opt, hi):
            self.shapes = (lo, opt, hi)

    class Config:
        def __init__(self):
            self.profiles = []

        def set_memory_pool_limit(self, pool, size):
            pass

        def set_flag(self, flag):
            log.flags.append(flag.name)

        def add_optimization_profile(self, profile):
            self.profiles.append(profile)

    class Builder:
        def __init__(self, logger):
            pass

        def create_network(self, flags=0):
            log.network_flags.append(flags)
            return Network()

        def create_builder_config(self):
            return Config()

        def create_optimization_profile(self):
            return Profile()

        def build_serialized_network(self, network, config):
            hi = config.profiles[0].shapes[2]
            if max_batch_cap:
                hi = (min(hi[0], max_batch_cap), *hi[1:])
            header = np.array(hi, dtype=np.int64).tobytes()
            return header + network.onnx_bytes

    trt.Builder, trt.OnnxParser = Builder, Parser
    trt.Runtime = lambda logger: types.SimpleNamespace(
        deserialize_cuda_engine=lambda blob: _Engine(trt, blob, log))
    return trt


class _Engine:
    num_io_tensors = 2

    def __init__(self, trt, blob: bytes, log: CallLog):
        import onnxruntime as ort
        self.trt, self.log = trt, log
        self.max_shape = tuple(int(v) for v in np.frombuffer(blob[:24], dtype=np.int64))
        self.session = ort.InferenceSession(blob[24:], providers=["CPUExecutionProvider"])

    def get_tensor_name(self, i):
        return ["x", "logits"][i]

    def get_tensor_mode(self, name):
        return self.trt.TensorIOMode.INPUT if name == "x" else self.trt.TensorIOMode.OUTPUT

    def get_tensor_dtype(self, name):
        return self.trt.DataType.FLOAT

    def get_tensor_profile_shape(self, name, profile):
        return [(1, *self.max_shape[1:]), (1, *self.max_shape[1:]), self.max_shape]

    def create_execution_context(self):
        return _Context(self)


class _Context:
    def __init__(self, engine: _Engine):
        self.engine, self.addresses, self.shape = engine, {}, None

    def set_input_shape(self, name, shape):
        if shape[0] > self.engine.max_shape[0]:
            raise ValueError(f"batch {shape[0]} is beyond the profile's {self.engine.max_shape}")
        self.shape = tuple(shape)

    def get_tensor_shape(self, name):
        return (self.shape[0], self.engine.session.get_outputs()[0].shape[1])

    def set_tensor_address(self, name, ptr):
        self.addresses[name] = ptr

    def execute_async_v3(self, stream):
        mem = DEVICE_MEMORY
        n = int(np.prod(self.shape))
        x = np.frombuffer(bytes(mem[self.addresses["x"]][:4 * n]), np.float32).reshape(self.shape)
        session = self.engine.session
        out = session.run(None, {session.get_inputs()[0].name: x})[0].astype(np.float32)
        mem[self.addresses["logits"]][:out.nbytes] = out.tobytes()
        self.engine.log.executions += 1
        self.engine.log.batches.append(self.shape[0])
        return True


DEVICE_MEMORY: dict[int, bytearray] = {}


def make_cudart(log: CallLog):
    """A fake cuda-python ``cudart``: every call returns ``(err, *values)`` with err 0."""
    cu = types.SimpleNamespace()
    cu.cudaMemcpyKind = Enum("cudaMemcpyKind", ["cudaMemcpyHostToDevice",
                                                  "cudaMemcpyDeviceToHost"])
    next_ptr = [0x1000]

    def malloc(n):
        ptr = next_ptr[0]
        next_ptr[0] += n + 256
        DEVICE_MEMORY[ptr] = bytearray(n)
        log.mallocs += 1
        return 0, ptr

    def free(ptr):
        DEVICE_MEMORY.pop(ptr)
        log.frees += 1
        return (0,)

    def memcpy(dst, src, n, kind, stream):
        if kind == cu.cudaMemcpyKind.cudaMemcpyHostToDevice:
            DEVICE_MEMORY[dst][:n] = ctypes.string_at(src, n)
        else:
            ctypes.memmove(dst, bytes(DEVICE_MEMORY[src][:n]), n)
        return (0,)

    cu.cudaMalloc, cu.cudaFree, cu.cudaMemcpyAsync = malloc, free, memcpy
    cu.cudaStreamCreate = lambda: (0, 7)
    cu.cudaStreamSynchronize = lambda stream: (0,)
    cu.cudaStreamDestroy = lambda stream: (0,)
    cu.cudaRuntimeGetVersion = lambda: (0, 12060)
    return cu
