"""Runs a serialized TensorRT engine (TensorRT 10/11 named-tensor API) with cuda-python, torch-free.

Device buffers are allocated once and grown only when a larger batch arrives: a cudaMalloc per
inference would cost more than a compact student's whole forward pass. Host arrays take the
engine's own I/O dtypes (a strongly typed fp16 engine may have fp16 I/O), and batches larger than
the engine's optimisation profile are run in profile-sized chunks.
Exercised only where TensorRT and a GPU exist; the tests drive it through fakes otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError


def cudart():
    """The CUDA runtime bindings of cuda-python (module path changed in 12.6)."""
    try:
        from cuda.bindings import runtime  # cuda-python >= 12.6
        return runtime
    except ImportError:
        try:
            from cuda import cudart as runtime  # older cuda-python
            return runtime
        except ImportError:
            raise EdgekdError("running TensorRT engines needs cuda-python: "
                              "pip install 'edgekd[tensorrt]' (from a clone: "
                              "pip install -e '.[tensorrt]')") from None


def _tensorrt():
    try:
        import tensorrt as trt
    except ImportError:
        raise EdgekdError("TensorRT is not installed: pip install 'edgekd[tensorrt]' (from a "
                          "clone: pip install -e '.[tensorrt]'; on a machine with an NVIDIA "
                          "GPU)") from None
    return trt


class TensorRTBackend:
    """``run(x [B, C, T] float32) -> logits [B, K] float32`` on one engine and one CUDA stream."""

    def __init__(self, path: Path):
        trt = _tensorrt()
        self.cu = cudart()
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = runtime.deserialize_cuda_engine(Path(path).read_bytes())
        if self.engine is None:
            raise EdgekdError(f"{path}: TensorRT could not deserialize the engine (built with "
                              "another TensorRT version or for another GPU?)")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        is_input = [self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names]
        self.input_name = names[is_input.index(True)]
        self.output_name = names[is_input.index(False)]
        self.in_dtype = np.dtype(trt.nptype(self.engine.get_tensor_dtype(self.input_name)))
        self.out_dtype = np.dtype(trt.nptype(self.engine.get_tensor_dtype(self.output_name)))
        # profile 0 as (min, opt, max) shapes; the exporter builds one profile
        self.max_batch = int(self.engine.get_tensor_profile_shape(self.input_name, 0)[2][0])
        self.stream = self._check(self.cu.cudaStreamCreate())
        self._buffers: dict[str, tuple[int, int]] = {}   # name -> (device pointer, bytes)
        self.providers = ["TensorRT"]

    def _check(self, result):
        err, *value = result if isinstance(result, tuple) else (result,)
        if int(err) != 0:
            raise EdgekdError(f"CUDA error {err}")
        return value[0] if value else None

    def _buffer(self, name: str, nbytes: int) -> int:
        ptr, size = self._buffers.get(name, (0, 0))
        if size < nbytes:
            if ptr:
                self._check(self.cu.cudaFree(ptr))
            ptr, size = int(self._check(self.cu.cudaMalloc(nbytes))), nbytes
            self._buffers[name] = (ptr, size)
            self.context.set_tensor_address(name, ptr)
        return ptr

    def run(self, x: np.ndarray) -> np.ndarray:
        chunks = [self._run_chunk(x[i:i + self.max_batch])
                  for i in range(0, len(x), self.max_batch)]
        return np.concatenate(chunks) if len(chunks) != 1 else chunks[0]

    def _run_chunk(self, x: np.ndarray) -> np.ndarray:
        cu = self.cu
        host_in = np.ascontiguousarray(x, dtype=self.in_dtype)
        self.context.set_input_shape(self.input_name, host_in.shape)
        host_out = np.empty(tuple(self.context.get_tensor_shape(self.output_name)),
                            dtype=self.out_dtype)
        d_in = self._buffer(self.input_name, host_in.nbytes)
        d_out = self._buffer(self.output_name, host_out.nbytes)
        h2d = cu.cudaMemcpyKind.cudaMemcpyHostToDevice
        d2h = cu.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self._check(cu.cudaMemcpyAsync(d_in, host_in.ctypes.data, host_in.nbytes, h2d,
                                       self.stream))
        if not self.context.execute_async_v3(self.stream):
            raise EdgekdError("TensorRT execution failed")
        self._check(cu.cudaMemcpyAsync(host_out.ctypes.data, d_out, host_out.nbytes, d2h,
                                       self.stream))
        self._check(cu.cudaStreamSynchronize(self.stream))
        return host_out.astype(np.float32, copy=False)

    def close(self) -> None:
        for ptr, _ in self._buffers.values():
            self.cu.cudaFree(ptr)
        self._buffers.clear()
        if self.stream is not None:
            self.cu.cudaStreamDestroy(self.stream)
            self.stream = None

    def __del__(self):
        if getattr(self, "cu", None) is not None and getattr(self, "_buffers", None) is not None:
            try:
                self.close()
            except Exception:  # interpreter shutdown: the CUDA bindings may already be gone
                pass
