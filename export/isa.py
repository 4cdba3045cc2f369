"""What the CPU offers for int8 arithmetic, read from /proc/cpuinfo (torch-free, no extra
dependency; py-cpuinfo would add one for four flags). Recorded in every artifact so a parity
problem on an edge box can be traced to the instruction set that exported it."""

from __future__ import annotations

import platform

# flags that decide how onnxruntime runs u8*s8 products (see export/quantize.py)
_INT8_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512vnni", "avx_vnni", "asimddp", "i8mm")


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def int8_isa() -> dict:
    """The machine, and the int8-relevant instruction-set extensions it has."""
    flags = cpu_flags()
    have = sorted(f for f in _INT8_FLAGS if f in flags)
    vnni = any(f in flags for f in ("avx512_vnni", "avx512vnni", "avx_vnni"))
    return {"machine": platform.machine(), "int8_flags": have,
            "x86_vnni": vnni if platform.machine() in ("x86_64", "AMD64") else None}
