"""``edgekd export RUN --format c`` as named steps: rebuild the split, export and quantize the
student exactly as ``--format onnx-int8`` does, read the QDQ graph into integer layers, plan
the fixed-point preprocessing and the static memory, generate the C library, then check it:

* the numpy integer reference against onnxruntime on the INT8 artifact (network alone, the
  same quantized windows), and the whole decision path (raw samples → decisions) on the test
  recordings against the artifact and the torch checkpoint;
* the C library built with the host compiler against the reference, bit for bit (windows and
  streams), when a C compiler is here;
* the Cortex-M4 build (``arm-none-eabi-size``) and the harness on QEMU's mps2-an386 board
  against the reference, with instruction counts, when the ARM tools are here.

A check that could not run says why in the report; a bit-exactness failure is an error
whatever ``--force`` says (it is a bug, not a quality trade-off).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from edgekd import __version__
from edgekd.atomic import atomic_directory
from edgekd.errors import ConfigError, EdgekdError
from export.c import codegen, toolchain
from export.c.graph import read_qdq
from export.c.layers import QModel, macs
from export.c.prep import PrepPlan, plan_prep, stream_inputs
from export.c.reference import decide, quantize_input, run_network, softmax_table

log = logging.getLogger("edgekd.export")
DEFAULT_MIN_AGREEMENT = 0.97          # with the torch checkpoint, as for onnx-int8
QEMU_SAMPLES = 400                    # samples of a test recording run on QEMU (2 s at 200 Hz)
QEMU_WINDOWS = 8
STEPS = ("load", "quantize", "plan", "reference", "generate", "host", "arm", "place")


@dataclass
class _Stream:
    """One test recording as the device sees it, and the reference's decisions."""

    recording: int
    counts: np.ndarray     # int32 [N, C]
    ends: np.ndarray
    logits: np.ndarray
    labels: np.ndarray
    probs: np.ndarray


@dataclass
class _Work:
    """What the steps hand on to each other."""

    model: object = None           # the torch student
    ck: dict | None = None
    ckpt_path: Path | None = None
    split: str = ""
    prepared: object = None
    dataset: object = None
    artifact: Path | None = None   # the INT8 QDQ ONNX the library follows
    quant: dict | None = None
    meta: dict | None = None
    qmodel: QModel | None = None
    prep: PrepPlan | None = None
    streams: list | None = None    # per test recording: _Stream
    test_q: np.ndarray | None = None   # the test windows, quantized as the artifact does
    test_ref: np.ndarray | None = None  # their quantized logits from the reference


def export_c(req, on_step: Callable[[str], None] | None = None) -> dict:
    """Run the C export for ``req`` (an :class:`export.pipeline.ExportRequest`); returns the
    report (also saved in ``export_report.json`` beside the output folder). ``on_step`` is
    called with each step's name (one of :data:`STEPS`) as it starts."""
    from export.pipeline import _safe, _save_report

    _check_request(req)

    def step(name: str) -> None:
        log.info("export c: %s", name)
        if on_step:
            on_step(name)

    w = _Work()
    step("load")
    _load(w, req)
    out = req.out or req.run_dir / "export" / f"{_safe(w.split)}-c"
    _check_target(out)
    with tempfile.TemporaryDirectory() as tmp:
        report = _build_and_check(w, req, out, Path(tmp), step)
    _save_report(out.parent / "export_report.json", out.name, report)
    if not report["written"]:
        raise EdgekdError(f"parity check failed: top-1 agreement {report['top1_agreement']:.4f} "
                          f"< {report['min_agreement']} with the torch checkpoint; library not "
                          f"written (report: {out.parent / 'export_report.json'}; --force "
                          "writes it)")
    return report


def _build_and_check(w: _Work, req, out: Path, tmp: Path, step) -> dict:
    step("quantize")
    _quantize(w, req, tmp)
    step("plan")
    _plan(w, req)
    step("reference")
    report = _reference_checks(w, req)
    try:
        with atomic_directory(out, overwrite=True) as lib:
            step("generate")
            sizes = _generate(w, lib)
            step("host")
            report["host"] = _host_check(w, lib, tmp / "host")
            step("arm")
            report["arm"], report["qemu"] = _arm_checks(w, lib, tmp / "arm")
            step("place")
            _finish(w, lib, sizes, report)
            report.update(_verdict(report, req), artifact=str(out))
            report["written"] = report["passed"] or bool(req.force)
            if not report["written"]:
                raise _NotWritten()      # leaves the folder out of place
    except _NotWritten:
        pass
    return report


def _check_request(req) -> None:
    """Options refused before any work starts (the same table as every format)."""
    from export.formats import FORMATS, check_options

    fmt = FORMATS.get("c")
    check_options(fmt, {"calib_windows": req.calib_windows, "calib_method": req.calib_method,
                        "precision": req.precision, "symmetric": req.symmetric,
                        "sample_bits": req.sample_bits, "sample_scale": req.sample_scale,
                        "float_filters": req.float_filters})
    if fmt.missing():
        from edgekd.extras import install_hint
        missing = fmt.missing()
        raise EdgekdError(f"format 'c' needs {', '.join(missing)}, which is not installed: "
                          f"{install_hint(missing)}")
    if req.sample_bits is not None and not 2 <= req.sample_bits <= 24:
        raise ConfigError(f"--sample-bits {req.sample_bits}: expected 2..24")
    if req.sample_scale is not None and not req.sample_scale > 0:
        raise ConfigError(f"--sample-scale {req.sample_scale}: expected a positive number")


class _NotWritten(Exception):
    """Leaves atomic_directory without moving the library into place."""


def _check_target(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir())
                                              and not (out / "edgekd.h").is_file())):
        raise ConfigError(f"--out {out}: exists and is not an edgekd C library folder; "
                          "choose another path")


def _load(w: _Work, req) -> None:
    from edgekd.train.config import resolve
    from edgekd.train.run import build_splits, load_training_data
    from edgekd.train.runs import load_model
    from export.pipeline import choose_checkpoint, with_recording_channels

    w.ckpt_path, w.split = choose_checkpoint(req.run_dir, req.split)
    w.model, w.ck = load_model(w.ckpt_path)
    refuse_recurrent(w.model, w.ck["model_config"]["name"])
    cfg = resolve(base=w.ck["train_config"],
                  overrides={"data.path": str(req.data) if req.data else None})
    if not Path(cfg.data.path).exists():
        raise EdgekdError(f"the run's data {cfg.data.path} is not here; pass --data PATH")
    w.dataset, _ = load_training_data(cfg)
    w.ck = with_recording_channels(w.ck, cfg, w.dataset)
    for prepared in build_splits(cfg, w.dataset):
        if prepared.split.name == w.split:
            saved = w.ck["preprocess"]["normalizer"]
            if not np.allclose(prepared.spec.normalizer.mean, saved["mean"], rtol=1e-4,
                               atol=1e-4):
                raise EdgekdError(f"{cfg.data.path}: the data differ from what {w.ckpt_path} "
                                  "was trained on (normalisation statistics do not match)")
            w.prepared = prepared
            return
    raise EdgekdError(f"split {w.split!r} cannot be rebuilt from {cfg.data.path}")


def refuse_recurrent(model, name: str) -> None:
    """Refused before any work: edgekd's C library has no recurrent layer."""
    from torch import nn

    for path, module in model.named_modules():
        if isinstance(module, nn.RNNBase):
            raise EdgekdError(f"student {name!r}: its {type(module).__name__} layer {path!r} "
                              "has no C implementation in edgekd (float or integer); export a "
                              "convolutional student (cnn, micro_cnn, micro_tcn, tcn) for a "
                              "microcontroller")


def _quantize(w: _Work, req, tmp: Path) -> None:
    """The INT8 QDQ artifact, built and described exactly as ``--format onnx-int8`` does."""
    from export.formats import FORMATS
    from export.pipeline import _attach, _build, _metadata

    fmt = FORMATS.get("onnx-int8")
    w.artifact, w.quant = _build(fmt, req, w.model, w.prepared, tmp, probabilities=False)
    w.meta = _metadata(fmt, w.ck, w.ckpt_path, w.quant)
    _attach(w.artifact, w.meta)


def _plan(w: _Work, req) -> None:
    w.qmodel = read_qdq(w.artifact)
    lo, hi = w.qmodel.act_range
    w.prep = plan_prep(w.prepared.spec, w.qmodel.tensors[w.qmodel.input], lo, hi,
                       req.sample_bits or 16, req.sample_scale or 1.0, bool(req.float_filters))


def _reference_checks(w: _Work, req) -> dict:
    """Reference vs onnxruntime (network) and the whole decision path vs artifact and torch."""
    import torch

    from export.runtime import load

    x, y = w.prepared.test.x, w.prepared.test.y
    with torch.no_grad():
        torch_top1 = w.model.eval()(torch.from_numpy(x)).numpy().argmax(1)
    ort_logits = load(w.artifact, cache_dir=w.artifact.parent / "cache").logits(x)
    out_t = w.qmodel.tensors[w.qmodel.output]
    ort_q = np.rint(ort_logits / out_t.scale).astype(np.int64) + out_t.zero_point
    w.test_q = quantize_input(x, w.qmodel.tensors[w.qmodel.input], *w.qmodel.act_range)
    ref_q = w.test_ref = run_network(w.qmodel, w.test_q)
    c_top1, notes = _stream_decisions(w)
    return {"format": "c", "artifact": None, "checkpoint": str(w.ckpt_path), "split": w.split,
            "n_windows": int(len(x)), "quantization": w.quant,
            "network_logits_identical": float((ref_q == ort_q).all(axis=1).mean()),
            "top1_agreement": float((c_top1 == torch_top1).mean()),
            "agreement_with_onnx_int8": float((c_top1 == ort_logits.argmax(1)).mean()),
            "accuracy_torch": float((torch_top1 == y).mean()),
            "accuracy_onnx_int8": float((ort_logits.argmax(1) == y).mean()),
            "accuracy_artifact": float((c_top1 == y).mean()),
            "notes": notes, **_plan_summary(w, req)}


def _stream_decisions(w: _Work) -> tuple[np.ndarray, list[str]]:
    """The reference's decisions at every test window, from the raw samples of the test
    recordings streamed from their first sample (as the device would)."""
    test = w.prepared.test
    top1 = np.empty(len(test.y), dtype=np.int64)
    notes, w.streams = [], []
    table = softmax_table(w.qmodel.tensors[w.qmodel.output].scale)
    for rec_index in np.unique(test.recording):
        rec = w.dataset.recordings[int(rec_index)]
        counts, note = sample_counts(rec.signals, w.prep, rec.source or f"recording {rec_index}")
        if note:
            notes.append(note)
        ends, windows = stream_inputs(w.prep, counts)
        logits = run_network(w.qmodel, windows)
        labels, probs = decide(logits, table)
        mine = np.flatnonzero(test.recording == rec_index)
        k, off = np.divmod(test.end[mine] - (w.prep.window - 1), w.prep.hop)
        if np.any(off) or np.any(k >= len(labels)):
            raise EdgekdError(f"{rec.source}: the test windows do not lie on the hop grid the "
                              "device uses (a window every hop from the first sample)")
        top1[mine] = labels[k]
        w.streams.append(_Stream(int(rec_index), counts, ends, logits, labels, probs))
    return top1, notes


def sample_counts(signals: np.ndarray, prep: PrepPlan, where: str) -> tuple[np.ndarray, str]:
    """Physical-unit samples → the integer counts a device would push (``/ sample_scale``);
    refuses counts beyond ``sample_bits``, notes when they had to be rounded."""
    exact = np.asarray(signals, dtype=np.float64) / prep.sample_scale
    counts = np.rint(exact)
    limit = 2 ** (prep.sample_bits - 1)
    peak = float(np.abs(counts).max()) if counts.size else 0.0
    if peak >= limit:
        raise ConfigError(f"{where}: samples reach {peak:.0f} counts at --sample-scale "
                          f"{prep.sample_scale}, beyond --sample-bits {prep.sample_bits} "
                          f"(|count| < {limit}); pass more bits or a larger scale")
    off = float(np.abs(exact - counts).max()) if counts.size else 0.0
    note = ""
    if off > 1e-6:
        note = (f"{where}: samples are not whole counts at --sample-scale {prep.sample_scale} "
                f"(up to {off:.3f} count off): the check rounds them as an ADC would")
    return counts.astype(np.int32), note


def _plan_summary(w: _Work, req) -> dict:
    p = w.prep
    return {"sample_bits": p.sample_bits, "sample_scale": p.sample_scale,
            "float_filters": p.float_filters, "filter_sections": p.sections,
            "frac_bits": p.frac_bits, "macs": macs(w.qmodel),
            "layers": [layer.op for layer in w.qmodel.layers],
            "activations": w.qmodel.act_dtype, "window": p.window, "hop": p.hop}


def _generate(w: _Work, lib: Path) -> codegen.Sizes:
    sizes = codegen.generate(lib, w.qmodel, w.prep, _info(w), w.meta["preprocess"]["filters"])
    (lib / "model.int8.onnx").write_bytes(w.artifact.read_bytes())
    return sizes


def _c_types(w: _Work) -> tuple[type, type]:
    """numpy types of edgekd_sample_t and edgekd_q_t."""
    return (np.int16 if w.prep.sample_bits <= 16 else np.int32,
            np.uint8 if w.qmodel.act_dtype == "uint8" else np.int8)


def _same(what: str, got: toolchain.HarnessOutput, ends, logits, labels, probs) -> None:
    """A bit-exactness failure is a bug in edgekd: say exactly where."""
    if len(got.labels) != len(labels):
        raise EdgekdError(f"{what}: the C library made {len(got.labels)} decisions, the "
                          f"reference {len(labels)}")
    for name, a, b in (("end sample", got.ends, ends), ("logits", got.logits, logits),
                       ("label", got.labels, labels), ("probability", got.probs, probs)):
        if ends is None and name == "end sample":
            continue
        bad = np.flatnonzero(np.any(np.asarray(a).reshape(len(a), -1)
                                    != np.asarray(b).reshape(len(b), -1), axis=1))
        if len(bad):
            raise EdgekdError(f"{what}: the C library's {name} differs from the integer "
                              f"reference at decision {bad[0]} ({len(bad)} of {len(a)}); "
                              "this is a bug in edgekd's C export, please report it")


def _host_check(w: _Work, lib: Path, build: Path) -> dict:
    tools = toolchain.find_tools()
    if tools.host_cc is None:
        return {"checked": False, "reason": "no C compiler (cc or gcc) on PATH: the C library "
                "was not compiled here; its bit-exactness rests on edgekd's tests"}
    exe = toolchain.build_host(lib, build, tools.host_cc)
    sample_t, q_t = _c_types(w)
    got = toolchain.run_host(exe, "windows", w.test_q.astype(q_t))
    labels, probs = decide(w.test_ref, _table(w))
    _same("host build, test windows", got, None, w.test_ref, labels, probs)
    n_stream = 0
    for s in w.streams:
        got = toolchain.run_host(exe, "stream", s.counts.astype(sample_t))
        _same(f"host build, recording {s.recording} streamed", got, s.ends, s.logits,
              s.labels, s.probs)
        n_stream += len(s.labels)
    return {"checked": True, "bit_exact": True, "compiler": tools.host_cc,
            "flags": " ".join(toolchain.HOST_FLAGS), "windows": int(len(w.test_q)),
            "stream_decisions": n_stream, "streamed_samples": int(sum(len(s.counts)
                                                                     for s in w.streams))}


def _table(w: _Work) -> np.ndarray:
    return softmax_table(w.qmodel.tensors[w.qmodel.output].scale)


def _arm_checks(w: _Work, lib: Path, build: Path) -> tuple[dict, dict]:
    tools = toolchain.find_tools()
    missing = tools.missing_arm()
    if missing:
        reason = (f"{', '.join(missing)} not on PATH (Debian/Ubuntu: apt-get install "
                  f"{toolchain.APT_PACKAGES})")
        return {"checked": False, "reason": reason}, {"checked": False, "reason": reason}
    size = toolchain.arm_object_size(lib, build, tools)
    return {"checked": True, **size}, _qemu(w, lib, build, tools)


def _qemu(w: _Work, lib: Path, build: Path, tools: toolchain.Tools) -> dict:
    """The harness on mps2-an386: a stream excerpt and test windows, compared with the
    reference, with instruction counts (QEMU -icount: instructions, not cycles)."""
    sample_t, q_t = _c_types(w)
    s = w.streams[0]
    excerpt = s.counts[:QEMU_SAMPLES]
    k = int(np.searchsorted(s.ends, len(excerpt)))
    elf = toolchain.build_qemu(lib, build / "stream", tools,
                               toolchain.data_header("stream", excerpt, _ctype(sample_t)))
    got = toolchain.run_qemu(elf, tools)
    _same("QEMU mps2-an386, stream", got, s.ends[:k], s.logits[:k], s.labels[:k], s.probs[:k])
    ipt = got.instructions_per_tick()
    per_push = np.array([t - got.overhead_ticks for _, t in got.push_ticks], dtype=float) * ipt
    made = np.array([d for d, _ in got.push_ticks])
    n = min(QEMU_WINDOWS, len(w.test_q))
    elf = toolchain.build_qemu(lib, build / "windows", tools,
                               toolchain.data_header("windows", w.test_q[:n], _ctype(q_t)),
                               profile=True)
    win = toolchain.run_qemu(elf, tools)
    labels, probs = decide(w.test_ref[:n], _table(w))
    _same("QEMU mps2-an386, test windows", win, None, w.test_ref[:n], labels, probs)
    ipt_w = win.instructions_per_tick()
    return {"checked": True, "bit_exact": True, "machine": toolchain.QEMU_MACHINE,
            "icount_shift": toolchain.ICOUNT_SHIFT, "instructions_per_tick": ipt,
            "stream_samples": int(len(excerpt)), "stream_decisions": k, "windows": n,
            "instructions_per_decision": float(np.median(per_push[made == 1])),
            "instructions_per_sample": float(np.median(per_push[made == 0])),
            "instructions_network": float(np.median(
                (np.array(win.network_ticks) - win.overhead_ticks) * ipt_w)),
            "instructions_per_layer": {w.qmodel.layers[i].op + f"{i}": round(t * ipt_w)
                                       for i, t in sorted(win.layer_ticks.items())},
            "note": "QEMU is not cycle-accurate: these are instructions executed "
                    "(-icount), not cycles"}


def _ctype(t: type) -> str:
    return {np.int16: "int16_t", np.int32: "int32_t", np.uint8: "uint8_t", np.int8: "int8_t"}[t]


def _header(w: _Work, sizes: codegen.Sizes, arm: dict | None) -> str:
    if arm and arm.get("checked"):
        source = (f"measured: arm-none-eabi-gcc {arm['compiler']} {arm['flags']}, "
                  "arm-none-eabi-size of edgekd.c")
        flash = (f"{arm['flash']} (.text {arm['text']} incl. {sizes.const_bytes} of "
                 f"constants, .data {arm['data']})")
        ram = (f"{arm['ram']} static (.data {arm['data']} + .bss {arm['bss']}; activation "
               f"arena {sizes.arena_bytes}) + stack <= {arm['stack_bound']}")
    else:
        source = "estimated at generation (no arm-none-eabi-gcc here: code size not measured)"
        flash = f"{sizes.const_bytes} of constants + code"
        ram = f"{sizes.ram_bytes} static (activation arena {sizes.arena_bytes}) + stack"
    return codegen.public_header(w.qmodel, w.prep, sizes, _info(w), source, flash, ram,
                                 w.meta["preprocess"]["filters"])


def _info(w: _Work) -> codegen.LibraryInfo:
    return codegen.LibraryInfo(w.ck["model_config"]["name"], w.meta["label_names"],
                               w.meta["fs"], __version__, "model.int8.onnx",
                               w.meta["source_checkpoint_sha256"], w.quant["weight_bits"])


def _finish(w: _Work, lib: Path, sizes: codegen.Sizes, report: dict) -> None:
    """Header with the measured sizes, README, the QEMU demo input and its expected output."""
    (lib / "edgekd.h").write_text(_header(w, sizes, report["arm"]))
    sample_t, _ = _c_types(w)
    s = w.streams[0]
    excerpt = s.counts[:QEMU_SAMPLES]
    k = int(np.searchsorted(s.ends, len(excerpt)))
    (lib / "test" / "harness_data.h").write_text(
        toolchain.data_header("stream", excerpt, _ctype(sample_t)))
    (lib / "test" / "expected.txt").write_text("".join(
        f"D {e} {lab} {' '.join(map(str, lg))} {' '.join(map(str, p))}\n"
        for e, lab, lg, p in zip(s.ends[:k], s.labels[:k], s.logits[:k], s.probs[:k])))
    (lib / "README.md").write_text(codegen.readme(w.qmodel, w.prep, sizes, _info(w),
                                                  w.meta["channels"],
                                                  w.meta["preprocess"]["filters"], report,
                                                  len(excerpt)))
    report["library"] = {"const_bytes": sizes.const_bytes, "ram_bytes": sizes.ram_bytes,
                         "arena_bytes": sizes.arena_bytes,
                         "files": sorted(str(p.relative_to(lib)) for p in lib.rglob("*")
                                         if p.is_file())}


def _verdict(report: dict, req) -> dict:
    threshold = req.min_agreement or DEFAULT_MIN_AGREEMENT
    return {"min_agreement": threshold, "passed": report["top1_agreement"] >= threshold}
