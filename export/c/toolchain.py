"""Compilers and emulator around the generated library: the host build (gcc/cc) that proves
bit-exactness at export time, the Cortex-M4 build whose sizes ``arm-none-eabi-size`` reports,
and the harness on QEMU's mps2-an386 board (semihosting) that counts instructions.

Each tool is optional: :func:`find_tools` says which are here, and callers report what was
not checked and why instead of skipping silently. Install the ARM tools on Debian/Ubuntu with
``apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError

HOST_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
M4_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os",
            "-std=c99", "-ffp-contract=off", "-Wall", "-Wextra"]
QEMU_MACHINE = "mps2-an386"
ICOUNT_SHIFT = 6        # 64 ns of virtual time per instruction: >1 timer tick at 25 MHz
QEMU_ARGS = ["-M", QEMU_MACHINE, "-nographic", "-monitor", "none", "-serial", "none",
             "-semihosting-config", "enable=on,target=native", "-icount",
             f"shift={ICOUNT_SHIFT}"]
APT_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"


@dataclass
class Tools:
    host_cc: str | None
    arm_cc: str | None
    arm_size: str | None
    qemu: str | None

    def missing_arm(self) -> list[str]:
        return [n for n, p in (("arm-none-eabi-gcc", self.arm_cc),
                               ("arm-none-eabi-size", self.arm_size),
                               ("qemu-system-arm", self.qemu)) if p is None]


def find_tools() -> Tools:
    return Tools(shutil.which("cc") or shutil.which("gcc"), shutil.which("arm-none-eabi-gcc"),
                 shutil.which("arm-none-eabi-size"), shutil.which("qemu-system-arm"))


def _run(cmd: list[str], what: str, timeout: float = 300, stdin: bytes | None = None,
         cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise EdgekdError(f"{what} timed out after {timeout:.0f} s: {' '.join(cmd)}") from None
    if done.returncode != 0:
        err = (done.stderr or done.stdout).decode(errors="replace").strip()[-2000:]
        raise EdgekdError(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{err}")
    return done.stdout.decode()


def build_host(lib: Path, build: Path, cc: str) -> Path:
    """The stdin harness, built with the host compiler (warnings are errors)."""
    build.mkdir(parents=True, exist_ok=True)
    exe = build / "harness"
    _run([cc, *HOST_FLAGS, f"-I{lib}", str(lib / "test" / "harness.c"), str(lib / "edgekd.c"),
          "-o", str(exe)], "host build of the C library")
    return exe


def run_host(exe: Path, mode: str, data: np.ndarray) -> "HarnessOutput":
    """Feed ``data`` (samples ``[N, C]`` for ``stream``, windows ``[K, C, T]`` for
    ``windows``, already in the library's C types) and parse the decisions."""
    return parse_output(_run([str(exe), mode], f"host harness ({mode})", stdin=data.tobytes()))


def arm_object_size(lib: Path, build: Path, tools: Tools) -> dict:
    """``.text/.data/.bss`` of the library alone (``edgekd.c`` + model) for a Cortex-M4F."""
    build.mkdir(parents=True, exist_ok=True)
    obj = build / "edgekd_m4.o"
    _run([tools.arm_cc, *M4_FLAGS, "-fstack-usage", f"-I{lib}", "-c", str(lib / "edgekd.c"),
          "-o", str(obj)], "Cortex-M4 build of the C library")
    out = _run([tools.arm_size, "-B", str(obj)], "arm-none-eabi-size").splitlines()
    text, data, bss = (int(v) for v in out[1].split()[:3])
    # no recursion: the sum of every function's frame bounds the deepest call chain
    frames = [int(line.split("\t")[1]) for line in obj.with_suffix(".su").read_text().splitlines()
              if line.strip()]
    return {"text": text, "data": data, "bss": bss, "flash": text + data, "ram": data + bss,
            "stack_bound": sum(frames), "flags": " ".join(M4_FLAGS),
            "compiler": _run([tools.arm_cc, "-dumpversion"], "arm-none-eabi-gcc").strip()}


def build_qemu(lib: Path, build: Path, tools: Tools, data_header: str,
               profile: bool = False) -> Path:
    """The harness for QEMU's mps2-an386 with ``data_header`` as ``harness_data.h``;
    ``profile`` also times each layer ("L" lines; the hooks cost a few instructions)."""
    build.mkdir(parents=True, exist_ok=True)
    (build / "harness_data.h").write_text(data_header)
    elf = build / "harness.elf"
    test = lib / "test"
    _run([tools.arm_cc, *M4_FLAGS, "-DEK_EMBEDDED", *(["-DEK_PROFILE"] if profile else []),
          "--specs=rdimon.specs", "-nostartfiles",
          "-T", str(test / "mps2_an386.ld"), f"-I{lib}", f"-I{build}", str(test / "startup_mps2.c"),
          str(test / "harness.c"), str(lib / "edgekd.c"), "-o", str(elf)],
         "Cortex-M4 build of the QEMU harness (needs libnewlib-arm-none-eabi)")
    return elf


def run_qemu(elf: Path, tools: Tools, timeout: float = 600) -> "HarnessOutput":
    return parse_output(_run([tools.qemu, *QEMU_ARGS, "-kernel", str(elf)],
                             f"QEMU {QEMU_MACHINE}", timeout=timeout))


def data_header(mode: str, values: np.ndarray, ctype: str) -> str:
    """``harness_data.h``: the input compiled into the QEMU harness."""
    flat = np.asarray(values).ravel()
    rows = [", ".join(str(int(v)) for v in flat[i:i + 24]) for i in range(0, len(flat), 24)]
    return (f"#define EK_MODE {0 if mode == 'stream' else 1}\n"
            f"#define EK_INPUT_LEN {len(flat)}u\n"
            f"static const {ctype} ek_input[{len(flat)}] = {{\n  " + ",\n  ".join(rows)
            + "\n};\n")


@dataclass
class HarnessOutput:
    """Decisions (end, label, logits, prob_q15) and, from QEMU, timer ticks."""

    ends: np.ndarray
    labels: np.ndarray
    logits: np.ndarray
    probs: np.ndarray
    push_ticks: list[tuple[int, int]] = field(default_factory=list)   # (decisions, ticks)
    network_ticks: list[int] = field(default_factory=list)
    layer_ticks: dict[int, int] = field(default_factory=dict)
    calibration: list[tuple[int, int]] = field(default_factory=list)  # (iterations, ticks)
    overhead_ticks: int = 0

    def instructions_per_tick(self) -> float:
        """From the calibration loop (2 instructions per iteration), differences cancel the
        call overhead."""
        (n0, t0), (n1, t1) = self.calibration[0], self.calibration[-1]
        return 2.0 * (n1 - n0) / (t1 - t0)


def parse_output(text: str) -> HarnessOutput:
    rows, out = [], HarnessOutput(*(np.empty(0),) * 4)
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        tag, vals = parts[0], [int(v) for v in parts[1:]]
        if tag == "D":
            rows.append(vals)
        elif tag == "T":
            out.push_ticks.append((vals[0], vals[1]))
        elif tag == "N":
            out.network_ticks.append(vals[0])
        elif tag == "C":
            out.calibration.append((vals[0], vals[1]))
        elif tag == "L":
            out.layer_ticks[vals[0]] = vals[1]
        elif tag == "O":
            out.overhead_ticks = vals[0]
    if rows:
        a = np.array(rows, dtype=np.int64)
        k = (a.shape[1] - 2) // 2
        out.ends, out.labels, out.logits, out.probs = a[:, 0], a[:, 1], a[:, 2:2 + k], a[:, 2 + k:]
    return out


def makefile() -> str:
    """``test/Makefile``: the same commands the export runs, for a user to repeat them."""
    return f"""\
# Build and run the harness of the generated edgekd library (generated; see ../README.md).
#   make host        gcc build: ./harness stream < samples.bin
#   make size        Cortex-M4F object size of the library alone
#   make qemu        run harness_data.h on QEMU's {QEMU_MACHINE} (semihosting)
# ARM tools (Debian/Ubuntu): apt-get install {APT_PACKAGES}
CC ?= cc
HOST_FLAGS = {' '.join(HOST_FLAGS)}
M4_FLAGS = {' '.join(M4_FLAGS)}
LIB = ..

host: harness
harness: harness.c $(LIB)/edgekd.c $(LIB)/edgekd.h $(LIB)/edgekd_model.h
\t$(CC) $(HOST_FLAGS) -I$(LIB) harness.c $(LIB)/edgekd.c -o $@

size:
\tarm-none-eabi-gcc $(M4_FLAGS) -I$(LIB) -c $(LIB)/edgekd.c -o edgekd_m4.o
\tarm-none-eabi-size edgekd_m4.o

harness.elf: harness.c harness_data.h startup_mps2.c mps2_an386.ld $(LIB)/edgekd.c
\tarm-none-eabi-gcc $(M4_FLAGS) -DEK_EMBEDDED --specs=rdimon.specs -nostartfiles \\
\t  -T mps2_an386.ld -I$(LIB) -I. startup_mps2.c harness.c $(LIB)/edgekd.c -o $@

qemu: harness.elf
\tqemu-system-arm {' '.join(QEMU_ARGS)} -kernel harness.elf

.PHONY: host size qemu
"""
