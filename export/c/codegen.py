"""C sources for a planned model: ``edgekd.h`` (the public API and the figures a firmware
author needs), ``edgekd_model.h`` (constants, static buffers, the layer sequence), the fixed
``edgekd.c`` and the test harness; see :func:`write_library`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.c.layers import (Add, AvgPool, Clamp, Conv, Gemm, MaxPool, Mean, Pick, QModel)
from export.c.memory import MemoryPlan
from export.c.prep import COEF_SHIFT, PrepPlan
from export.c.toolchain import makefile

TEMPLATES = Path(__file__).parent / "templates"
HARNESS_FILES = ("harness.c", "startup_mps2.c", "mps2_an386.ld")
LIBRARY_FILES = ("edgekd.h", "edgekd.c", "edgekd_model.h")


@dataclass
class Sizes:
    """Bytes the library's data need (code size comes from the compiler, see toolchain)."""

    const_bytes: int      # weights, biases, multipliers, tables (flash)
    ram_bytes: int        # arena, ring buffer, filter state, counters (static RAM)
    arena_bytes: int
    macs: int


_CSIZE = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "float": 4,
          "int64_t": 8}


def _array(ctype: str, name: str, values, per_line: int = 16) -> str:
    flat = np.asarray(values).ravel()
    if ctype == "float":
        items = [f"{float(np.float32(v))!r}f" for v in flat]
    elif ctype == "int64_t":
        items = [f"INT64_C({int(v)})" for v in flat]
    else:
        items = [str(int(v)) for v in flat]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(flat)}] = {{\n    {body}\n}};\n"


def pack_rows(weight: np.ndarray, groups: int = 1) -> np.ndarray:
    """Weights ``[c_out, …]`` in the order the dot product reads them (see ek_dot4 in
    edgekd.c): each row flattened and zero-padded to groups of four stored ``[w0 w2 w1 w3]``;
    per convolution group, blocks of four output channels (zero rows pad the last block) with
    the four rows' groups of four interleaved."""
    rows = weight.reshape(len(weight), -1).astype(np.int8)
    n4 = -(-rows.shape[1] // 4)
    padded = np.zeros((len(rows), n4 * 4), dtype=np.int8)
    padded[:, :rows.shape[1]] = rows
    quads = padded.reshape(len(rows), n4, 4)[:, :, [0, 2, 1, 3]]      # [c_out, n4, 4]
    out = []
    for g in np.split(quads, groups):
        blocks = np.zeros((-(-len(g) // 4) * 4, n4, 4), dtype=np.int8)
        blocks[:len(g)] = g
        out.append(blocks.reshape(-1, 4, n4, 4).transpose(0, 2, 1, 3).ravel())
    return np.concatenate(out)


def col_len(model: QModel) -> int:
    """Entries of the column buffer: the longest weight row, padded to a multiple of four."""
    rows = [layer.weight[0].size for layer in model.layers if isinstance(layer, (Conv, Gemm))]
    return max((-(-r // 4) * 4 for r in rows), default=0)


class _Emitter:
    def __init__(self, model: QModel, mem: MemoryPlan):
        self.model, self.mem = model, mem
        self.consts: list[str] = []
        self.params: list[str] = []
        self.calls: list[str] = []
        self.const_bytes = 0

    def at(self, name: str) -> str:
        return f"ek_arena + {self.mem.offset(name)}"

    def array(self, ctype: str, name: str, values) -> str:
        """Add a constant array; returns its name."""
        self.consts.append(self.text(ctype, name, values))
        return name

    def text(self, ctype: str, name: str, values) -> str:
        """A constant array's C text, counted in the flash figure."""
        self.const_bytes += _CSIZE[ctype] * np.asarray(values).size
        return _array(ctype, name, values)

    def param(self, ctype: str, name: str, fields: str, nbytes: int) -> None:
        self.const_bytes += nbytes
        self.params.append(f"static const {ctype} {name} = {{{fields}}};\n")

    def emit(self, i: int, layer) -> None:
        getattr(self, "_" + layer.op)(i, layer, f"ek_l{i}")

    def _weights(self, layer, p: str) -> str:
        depthwise = isinstance(layer, Conv) and layer.weight.shape[1] == 1 and (
            layer.groups == layer.weight.shape[0])
        w = self.array("int8_t", f"{p}_w", layer.weight if depthwise else pack_rows(
            layer.weight, layer.groups if isinstance(layer, Conv) else 1))
        b = self.array("int32_t", f"{p}_b", layer.bias)
        m = self.array("int32_t", f"{p}_m", layer.m)
        n = self.array("int8_t", f"{p}_n", layer.n)
        return f"{w}, {b}, {m}, {n}"

    def _conv(self, i: int, layer: Conv, p: str) -> None:
        x, y = self.model.tensors[layer.x], self.model.tensors[layer.y]
        arrays = self._weights(layer, p)
        self.param("ek_conv_t", p, f"{arrays}, {x.shape[0]}, {y.shape[0]}, {x.shape[1]}, "
                   f"{y.shape[1]}, {layer.groups}, {layer.kernel}, {layer.stride}, "
                   f"{layer.dilation}, {layer.pad_l}, {layer.pad_r}, {x.zero_point}, "
                   f"{y.zero_point}, {layer.lo}, {layer.hi}", 40)
        self.calls.append(f"ek_conv(&{p}, {self.at(layer.x)}, {self.at(layer.y)});")

    def _gemm(self, i: int, layer: Gemm, p: str) -> None:
        x, y = self.model.tensors[layer.x], self.model.tensors[layer.y]
        arrays = self._weights(layer, p)
        self.param("ek_gemm_t", p, f"{arrays}, {layer.weight.shape[1]}, "
                   f"{layer.weight.shape[0]}, {x.zero_point}, {y.zero_point}, {layer.lo}, "
                   f"{layer.hi}", 28)
        self.calls.append(f"ek_gemm(&{p}, {self.at(layer.x)}, {self.at(layer.y)});")

    def _avg_param(self, p: str, layer, c: int, t_in: int, t_out: int, kernel: int,
                   stride: int) -> None:
        x, y = self.model.tensors[layer.x], self.model.tensors[layer.y]
        self.param("ek_avg_t", p, f"{c}, {t_in}, {t_out}, {kernel}, {stride}, {x.zero_point}, "
                   f"{y.zero_point}, {layer.lo}, {layer.hi}, {layer.m}, {layer.n}", 28)
        self.calls.append(f"ek_avg(&{p}, {self.at(layer.x)}, {self.at(layer.y)});")

    def _mean(self, i: int, layer: Mean, p: str) -> None:
        c, t = self.model.tensors[layer.x].shape
        self._avg_param(p, layer, c, t, 1, t, t)

    def _avgpool(self, i: int, layer: AvgPool, p: str) -> None:
        c, t = self.model.tensors[layer.x].shape
        self._avg_param(p, layer, c, t, self.model.tensors[layer.y].shape[1], layer.kernel,
                        layer.stride)

    def _maxpool(self, i: int, layer: MaxPool, p: str) -> None:
        c, t = self.model.tensors[layer.x].shape
        self.param("ek_maxpool_t", p, f"{c}, {t}, {self.model.tensors[layer.y].shape[1]}, "
                   f"{layer.kernel}, {layer.stride}, {layer.dilation}, {layer.pad_l}, "
                   f"{layer.lo}, {layer.hi}", 16)
        self.calls.append(f"ek_maxpool(&{p}, {self.at(layer.x)}, {self.at(layer.y)});")

    def _add(self, i: int, layer: Add, p: str) -> None:
        t = self.model.tensors
        self.param("ek_add_t", p, f"{t[layer.y].size}, {t[layer.a].zero_point}, "
                   f"{t[layer.b].zero_point}, {t[layer.y].zero_point}, {layer.lo}, {layer.hi}, "
                   f"{layer.ma}, {layer.mb}, {layer.n}", 28)
        self.calls.append(f"ek_add(&{p}, {self.at(layer.a)}, {self.at(layer.b)}, "
                          f"{self.at(layer.y)});")

    def _clamp(self, i: int, layer: Clamp, p: str) -> None:
        self.param("ek_clamp_t", p, f"{self.model.tensors[layer.y].size}, {layer.lo}, "
                   f"{layer.hi}", 8)
        self.calls.append(f"ek_clamp_layer(&{p}, {self.at(layer.x)}, {self.at(layer.y)});")

    def _pick(self, i: int, layer: Pick, p: str) -> None:
        c, t = self.model.tensors[layer.x].shape
        self.param("ek_pick_t", p, f"{c}, {t}, {layer.index}, {layer.lo}, {layer.hi}", 12)
        self.calls.append(f"ek_pick(&{p}, {self.at(layer.x)}, {self.at(layer.y)});")


_TYPES = """\
typedef edgekd_q_t ek_q_t;

typedef struct {
    const int8_t *w; const int32_t *bias; const int32_t *m; const int8_t *n;
    uint16_t c_in, c_out, t_in, t_out, groups;
    uint8_t kernel, stride, dilation, pad_l, pad_r;
    int16_t zx, zy, lo, hi;
} ek_conv_t;
typedef struct {
    const int8_t *w; const int32_t *bias; const int32_t *m; const int8_t *n;
    uint16_t n_in, n_out; int16_t zx, zy, lo, hi;
} ek_gemm_t;
typedef struct {
    uint16_t c, t_in, t_out, kernel, stride; int16_t zx, zy, lo, hi; int32_t m, n;
} ek_avg_t;
typedef struct {
    uint16_t c, t_in, t_out; uint8_t kernel, stride, dilation, pad_l; int16_t lo, hi;
} ek_maxpool_t;
typedef struct { uint32_t size; int16_t za, zb, zy, lo, hi; int64_t ma, mb; int32_t n; } ek_add_t;
typedef struct { uint32_t size; int16_t lo, hi; } ek_clamp_t;
typedef struct { uint16_t c, t_in, index; int16_t lo, hi; } ek_pick_t;

"""

_HOOK = """
/* -DEK_PROFILE: the harness times each layer (ek_profile_hook is defined there) */
#ifdef EK_PROFILE
extern void ek_profile_hook(int layer);
#define EK_LAYER_HOOK(i) ek_profile_hook(i)
#else
#define EK_LAYER_HOOK(i)
#endif
"""

_PROTOTYPES = {
    "conv": "static void ek_conv(const ek_conv_t *p, const ek_q_t *x, ek_q_t *y);",
    "gemm": "static void ek_gemm(const ek_gemm_t *p, const ek_q_t *x, ek_q_t *y);",
    "avg": "static void ek_avg(const ek_avg_t *p, const ek_q_t *x, ek_q_t *y);",
    "maxpool": "static void ek_maxpool(const ek_maxpool_t *p, const ek_q_t *x, ek_q_t *y);",
    "add": "static void ek_add(const ek_add_t *p, const ek_q_t *a, const ek_q_t *b, ek_q_t *y);",
    "clamp": "static void ek_clamp_layer(const ek_clamp_t *p, const ek_q_t *x, ek_q_t *y);",
    "pick": "static void ek_pick(const ek_pick_t *p, const ek_q_t *x, ek_q_t *y);",
}
_KERNEL = {"conv": "conv", "gemm": "gemm", "mean": "avg", "avgpool": "avg", "maxpool": "maxpool",
           "add": "add", "clamp": "clamp", "pick": "pick"}


def _kernels(model: QModel) -> str:
    """Which kernels this model uses (the others are compiled out) and their prototypes."""
    used = {_KERNEL[layer.op] for layer in model.layers}
    flags = "".join(f"#define EK_USES_{k.upper()} {int(k in used)}\n" for k in _PROTOTYPES)
    return flags + "".join(_PROTOTYPES[k] + "\n" for k in _PROTOTYPES if k in used)




@dataclass
class LibraryInfo:
    """What the header says about where the library came from."""

    model_name: str
    label_names: list[str]
    fs: float
    version: str
    artifact: str
    checkpoint_sha256: str
    weight_bits: int


def _prep_source(e: _Emitter, prep: PrepPlan) -> str:
    lo, hi = -(1 << (prep.sample_bits - 1)), (1 << (prep.sample_bits - 1)) - 1
    saturate = (f"return v < ({lo}) ? ({lo}) : (v > {hi} ? {hi} : (int32_t)v);"
                if prep.sample_bits not in (16, 32) else "return (int32_t)v;  /* the full type */")
    out = [f"#define EK_SECTIONS {prep.sections}\n#define EK_COEF_SHIFT {COEF_SHIFT}\n"
           f"#define EK_FRAC_ONE {1 << prep.frac_bits}\n"
           f"#define EK_FRAC_SCALE {float(1 << prep.frac_bits)!r}f\n"
           f"#define EK_INPUT_ZP {prep.zero_point}\n#define EK_Q_MIN {prep.lo}\n"
           f"#define EK_Q_MAX {prep.hi}\n\n"
           f"/* samples saturate to the declared {prep.sample_bits}-bit range */\n"
           f"static int32_t ek_sample(edgekd_sample_t v) {{\n    {saturate}\n}}\n\n"]
    if prep.sections and prep.float_filters:
        out += [e.text("float", "ek_sos", prep.sos32), e.text("float", "ek_zi", prep.zi32)]
    elif prep.sections:
        out += [e.text("int32_t", "ek_coef", prep.coef),
                e.text("int32_t", "ek_dc_gain", prep.dc_gain)]
    out += [e.text("int32_t", "ek_norm_m", prep.norm_m),
            e.text("int64_t", "ek_norm_b", prep.norm_b),
            e.text("int8_t", "ek_norm_n", prep.norm_n)]
    return "".join(out)


def model_header(model: QModel, prep: PrepPlan, mem: MemoryPlan, softmax: np.ndarray,
                 info: LibraryInfo) -> tuple[str, int]:
    """``edgekd_model.h`` and the flash bytes of its constants."""
    e = _Emitter(model, mem)
    prep_src = _prep_source(e, prep)
    for i, layer in enumerate(model.layers):
        e.emit(i, layer)
    names = ", ".join('"' + n.replace("\\", "\\\\").replace('"', '\\"') + '"'
                      for n in info.label_names)
    e.const_bytes += 4 * len(info.label_names) + sum(len(n) + 1 for n in info.label_names)
    softmax_src = e.text("uint16_t", "ek_softmax", softmax)
    body = "\n    ".join(f"{call}\n    EK_LAYER_HOOK({i});" for i, call in enumerate(e.calls))
    src = (f"/* Model constants for edgekd.c: generated by edgekd {info.version}, do not edit. */\n"
           "#ifndef EDGEKD_MODEL_H\n#define EDGEKD_MODEL_H\n\n" + _TYPES + _kernels(model) + "\n"
           + prep_src
           + f"\n#define EK_SOFTMAX_LEN {len(softmax)}u\n" + softmax_src
           + f"\nconst char *const edgekd_label_names[EDGEKD_N_CLASSES] = {{{names}}};\n\n"
           f"#define EK_INPUT_OFFSET {mem.offset(model.input)}\n"
           f"#define EK_OUTPUT_OFFSET {mem.offset(model.output)}\n"
           f"#define EK_COL_LEN {max(col_len(model), 1)}\n"
           f"static ek_q_t ek_arena[{mem.arena_bytes}];\n\n" + "".join(e.consts) + "\n"
           + "".join(e.params) + _HOOK
           + f"\nstatic void ek_network(void) {{\n    {body}\n}}\n\n#endif\n")
    return src, e.const_bytes


def ram_bytes(model: QModel, prep: PrepPlan, mem: MemoryPlan) -> int:
    """Static RAM of the library: arena, column buffer, ring buffer, filter state, counters."""
    state = prep.n_chans * prep.sections * (2 if prep.float_filters else 4) * 4
    return (mem.arena_bytes + 2 * col_len(model) + prep.n_chans * prep.window + state + 16)


def n_params(model: QModel) -> int:
    return sum(layer.weight.size + layer.bias.size for layer in model.layers
               if isinstance(layer, (Conv, Gemm)))


def prep_summary(prep: PrepPlan, filters: dict) -> str:
    lo, hi = filters.get("highpass_hz"), filters.get("lowpass_hz")
    stages = []
    if lo and hi:
        stages.append(f"band-pass {lo:g}-{hi:g} Hz (Butterworth order {filters['order']})")
    elif lo or hi:
        stages.append(f"{'high' if lo else 'low'}-pass {lo or hi:g} Hz (Butterworth order "
                      f"{filters['order']})")
    if filters.get("notch_hz"):
        stages.append(f"notch {filters['notch_hz']:g} Hz (Q {filters['notch_quality']:g})")
    kind = ("float32 biquads (FPU)" if prep.float_filters else
            f"int32 biquads (Q{COEF_SHIFT} coefficients, {prep.frac_bits} fractional bits)")
    return (f"{', '.join(stages) or 'no filters'}: {prep.sections} causal {kind}; then the "
            "training normalisation and the input quantisation, folded into one fixed-point "
            "multiply-add per channel")


def public_header(model: QModel, prep: PrepPlan, sizes: Sizes, info: LibraryInfo,
                  memory_source: str, flash_summary: str, ram_summary: str,
                  filters: dict) -> str:
    from string import Template

    x, y = model.tensors[model.input], model.tensors[model.output]
    values = dict(
        model_name=info.model_name, n_params=n_params(model), macs=sizes.macs,
        version=info.version, artifact=info.artifact, checkpoint_sha=info.checkpoint_sha256[:16],
        prep_summary=prep_summary(prep, filters), act_dtype=model.act_dtype,
        weight_bits=info.weight_bits, memory_source=memory_source, flash_summary=flash_summary,
        ram_summary=ram_summary, n_chans=prep.n_chans, window=prep.window, hop=prep.hop,
        fs=f"{float(info.fs)!r}f", n_classes=len(info.label_names), sample_bits=prep.sample_bits,
        sample_scale=f"{prep.sample_scale!r}f", float_filters=int(prep.float_filters),
        logit_scale=f"{float(y.scale)!r}f", logit_zero_point=y.zero_point,
        input_scale=f"{float(x.scale)!r}f", input_zero_point=x.zero_point,
        const_bytes=sizes.const_bytes, ram_bytes=sizes.ram_bytes,
        arena_bytes=sizes.arena_bytes,
        sample_type="int16_t" if prep.sample_bits <= 16 else "int32_t",
        q_type="uint8_t" if model.act_dtype == "uint8" else "int8_t")
    return Template((TEMPLATES / "edgekd.h").read_text()).substitute(values)


def write_sources(out: Path, header: str, model_src: str) -> None:
    """The library and its harness into ``out`` (``out/test`` for the harness)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "edgekd.h").write_text(header)
    (out / "edgekd_model.h").write_text(model_src)
    shutil.copyfile(TEMPLATES / "edgekd.c", out / "edgekd.c")
    (out / "test").mkdir(exist_ok=True)
    for name in HARNESS_FILES:
        shutil.copyfile(TEMPLATES / name, out / "test" / name)
    (out / "test" / "Makefile").write_text(makefile())


def readme(model: QModel, prep: PrepPlan, sizes: Sizes, info: LibraryInfo,
           channels: list[str], filters: dict, report: dict, demo_samples: int) -> str:
    """The library's README: how to use it and what the export verified."""
    from string import Template

    arm, qemu, host = report["arm"], report["qemu"], report["host"]
    rows = [f"| constants | {sizes.const_bytes} B (weights, biases, multipliers, tables) |",
            f"| static RAM | {sizes.ram_bytes} B (activation arena {sizes.arena_bytes} B) |"]
    if arm.get("checked"):
        rows.append(f"| Cortex-M4F, `{arm['flags']}` | .text {arm['text']} B, .data "
                    f"{arm['data']} B, .bss {arm['bss']} B; stack <= {arm['stack_bound']} B |")
    if qemu.get("checked"):
        rows.append(f"| instructions (QEMU {qemu['machine']}, not cycles) | "
                    f"{qemu['instructions_network']:.0f} per network run, "
                    f"{qemu['instructions_per_decision']:.0f} per decision, "
                    f"{qemu['instructions_per_sample']:.0f} per sample in between |")
    checks = [f"top-1 agreement with the torch checkpoint is {report['top1_agreement']:.4f} "
              f"and with the INT8 ONNX artifact {report['agreement_with_onnx_int8']:.4f} on "
              f"{report['n_windows']} held-out windows (raw samples streamed through the whole "
              "path)"]
    checks.append("the host build (" + host["compiler"] + ") matches the reference on every "
                  "test window and stream" if host.get("checked") else
                  "(not compiled on the export host: " + host["reason"] + ")")
    if qemu.get("checked"):
        checks.append("the Cortex-M4 build matches it on QEMU's mps2-an386")
    float_note = (" The filters run in float32 (`EDGEKD_FLOAT_FILTERS`): compile with "
                  "`-ffp-contract=off` to keep them bit-exact with the reference (a fused "
                  "multiply-add rounds once instead of twice)." if prep.float_filters else "")
    values = dict(
        model_name=info.model_name, version=info.version,
        checkpoint_sha=info.checkpoint_sha256[:16], n_chans=prep.n_chans,
        channels=", ".join(channels), fs=f"{info.fs:g}",
        sample_type="int16_t" if prep.sample_bits <= 16 else "int32_t",
        sample_scale=f"{prep.sample_scale:g}", sample_bits=prep.sample_bits, hop=prep.hop,
        window=prep.window, window_ms=f"{1000 * prep.window / info.fs:g}",
        hop_ms=f"{1000 * prep.hop / info.fs:g}", labels=", ".join(
            f"{i} {n}" for i, n in enumerate(info.label_names)),
        layers=" → ".join(layer.op for layer in model.layers), n_params=n_params(model),
        macs=sizes.macs, act_dtype=model.act_dtype,
        prep_summary=prep_summary(prep, filters),
        size_rows="\n".join(rows), float_note=float_note, checks="; ".join(checks),
        qemu_samples=demo_samples)
    return Template((TEMPLATES / "README.md").read_text()).substitute(values)


def generate(lib: Path, model: QModel, prep: PrepPlan, info: LibraryInfo, filters: dict,
             memory_source: str = "estimated at generation (code size not measured)",
             flash_summary: str | None = None, ram_summary: str | None = None) -> Sizes:
    """Write the library for ``model`` and ``prep`` into ``lib``; returns its data sizes."""
    from export.c.layers import macs
    from export.c.memory import plan_memory
    from export.c.reference import softmax_table

    mem = plan_memory(model)
    table = softmax_table(model.tensors[model.output].scale)
    model_src, const_bytes = model_header(model, prep, mem, table, info)
    sizes = Sizes(const_bytes, ram_bytes(model, prep, mem), mem.arena_bytes, macs(model))
    header = public_header(model, prep, sizes, info, memory_source,
                           flash_summary or f"{sizes.const_bytes} of constants + code",
                           ram_summary or f"{sizes.ram_bytes} static (activation arena "
                                          f"{sizes.arena_bytes}) + stack", filters)
    write_sources(lib, header, model_src)
    return sizes
