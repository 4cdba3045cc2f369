"""firmware_bridge on this machine: the true latency from a frame leaving the armband to the
decision, and the real-time factor on one core (issue 12).

For each configuration an INT8 CNN student artifact with that input shape is exported (its
weights do not change the cost) and:

* latency: an emulator in ANOTHER process streams 30 s of signal over a real pty at real-time
  pace and records when each frame's last byte left it (CLOCK_MONOTONIC, the same clock in both
  processes). This process runs the real ``edgekd stream`` path (reader thread, framer,
  decoder, causal filters, windows, ONNX Runtime, decision policy) pinned to one core. Per
  decision: ``sent → decision`` (end to end, pty included) and ``arrival → decision`` (what the
  stream itself reports: the frame's last byte read → the decision handed to the sinks);
* real-time factor: 60 s of encoded frames fed to the same consumer as fast as possible on one
  core: seconds of signal per second of wall time, with where the time goes. A read returns
  whatever has arrived, not one frame, so the bytes are fed in the pieces a read returns:
  (a) ``pty``: the sizes of the reads of the latency run, recorded (``--record``) and replayed
  in order, cyclically (their distribution is in the JSON); (b) ``usb64``: fixed 64-byte
  pieces, the packet size of a USB full-speed CDC device (an armband's USB-serial link).

The machine is shared: the load average before and after is recorded next to the figures.
Timing figures taken under load are marked as such; re-run on a quiet machine to publish.

    python -m benchmarks.bridge_latency     # writes benchmarks/results/bridge_latency.{json,md}
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from edgekd import __version__

HERE = Path(__file__).parent
CONFIGS = [  # name, channels, fs, window (samples), hop, samples per frame
    ("8ch@200Hz", 8, 200.0, 52, 5, 4),
    ("64ch@2048Hz", 64, 2048.0, 256, 64, 16),   # 16 x 64 x int16 fits one 4 KiB payload
]
LATENCY_S, RTF_S, WARMUP_S = 30.0, 60.0, 2.0
TARGETS = {"latency_ms_p99_quiet": 2.0, "rtf": {"8ch@200Hz": 200, "64ch@2048Hz": 50}}


def make_artifact(folder: Path, n_chans: int, fs: float, window: int, hop: int) -> Path:
    import torch

    from edgekd.models import create_model
    from edgekd.signal import ChannelNormalizer, FilterSpec, PreprocessSpec, WindowSpec
    from export import metadata as md
    from export.onnx_export import attach_metadata, export_onnx
    from export.quantize import quantize_int8
    torch.set_num_threads(1)
    model = create_model("cnn", n_chans=n_chans, n_times=window, n_outputs=7, sfreq=fs).eval()
    fp32 = export_onnx(model, n_chans, window, folder / "fp32.onnx")
    calib = np.random.default_rng(0).normal(size=(64, n_chans, window)).astype(np.float32)
    quant = quantize_int8(fp32, folder / "m.int8.onnx", calib, "x")
    spec = PreprocessSpec(fs, n_chans, WindowSpec(window, hop), FilterSpec(notch_hz=50.0),
                          ChannelNormalizer(np.zeros(n_chans, np.float32),
                                            np.full(n_chans, 50.0, np.float32)))
    meta = {"format_version": md.FORMAT_VERSION, "edgekd_version": __version__,
            "format": "onnx-int8", "model": model.get_config(),
            "label_names": [f"g{i}" for i in range(7)], "fs": fs, "window": window, "hop": hop,
            "channels": [f"ch{i}" for i in range(n_chans)], "preprocess": spec.to_dict(),
            "quantization": quant, "source_checkpoint_sha256": "0" * 64, "input_name": "x",
            "output_name": "logits"}
    attach_metadata(folder / "m.int8.onnx", md.encode(meta))
    return folder / "m.int8.onnx"


def signals(n_chans: int, fs: float, seconds: float) -> np.ndarray:
    return (np.random.default_rng(1).normal(size=(int(seconds * fs), n_chans)) * 300
            ).astype(np.float32)


# -- the emulator, in its own process ------------------------------------------------------------
def _emulate(n_chans, fs, spf, seconds, paths, send_log, core) -> None:
    if hasattr(os, "sched_setaffinity") and core is not None:
        os.sched_setaffinity(0, {core})
    from firmware_bridge.emulator import Emulator
    from firmware_bridge.protocols import PROTOCOLS
    emu = Emulator(signals(n_chans, fs, seconds), fs, PROTOCOLS.get("edgekd-v2"),
                   samples_per_frame=spf, speed=1.0, keep_send_times=True)
    path, thread = emu.serve_pty()
    paths.put(path)
    thread.join()
    np.save(send_log, np.array(emu.send_times, dtype=np.int64).reshape(-1, 2))


def measure_latency(artifact: Path, cfg, tmp: Path, cores: list[int]) -> dict:
    from edgekd.live_model import load_stream_model
    from firmware_bridge.runner import StreamOptions, run_stream
    from firmware_bridge.transport import read_recording
    name, n_chans, fs, window, hop, spf = cfg
    model = load_stream_model(artifact, cache_dir=tmp / "cache")
    ctx = mp.get_context("spawn")
    paths = ctx.Queue()
    send_log = tmp / f"{name}-sent.npy"
    emu_core = cores[1] if len(cores) > 1 else None
    proc = ctx.Process(target=_emulate, args=(n_chans, fs, spf, LATENCY_S, paths, send_log,
                                              emu_core))
    proc.start()
    path = paths.get(timeout=120)
    seen: list[tuple[int, int, int]] = []
    recording = tmp / f"{name}.rec"
    report = run_stream(StreamOptions(port=path, record=recording, sinks=[
        lambda d: seen.append((d.end_sample, d.receive_time_ns, time.monotonic_ns()))]), model)
    proc.join(30)
    reads = [len(data) for _, data in read_recording(recording)]
    sent = dict(np.load(send_log).tolist())        # frame number → ns its last byte left
    rows = np.array([(sent[end // spf], recv, done) for end, recv, done in seen
                     if end >= WARMUP_S * fs and end // spf in sent], dtype=np.int64)
    e2e, stream, pty = ((rows[:, 2] - rows[:, 0]) / 1e6, (rows[:, 2] - rows[:, 1]) / 1e6,
                        (rows[:, 1] - rows[:, 0]) / 1e6)
    return {"decisions_timed": len(rows), "frames_missing": report["frames_missing"],
            "pty_read_bytes": _read_sizes(reads), "_reads": reads,
            "ended_by": report["ended_by"],
            "sent_to_decision_ms": _pcts(e2e), "arrival_to_decision_ms": _pcts(stream),
            "sent_to_arrival_ms": _pcts(pty),
            "stream_reported_ms": {"p50": report["latency_ms_p50"],
                                   "p99": report["latency_ms_p99"]}}


def _read_sizes(reads: list[int]) -> dict:
    x = np.array(reads)
    return {"reads": len(x), "mean": round(float(x.mean()), 1)} | {
        f"p{q}": int(np.percentile(x, q)) for q in (1, 50, 99)} | {
        "min": int(x.min()), "max": int(x.max())}


def _pcts(x: np.ndarray) -> dict:
    """min too: a negative sent -> arrival would mean the send stamps are wrong."""
    return {"min": round(float(x.min()), 4)} | {
        f"p{q}": round(float(np.percentile(x, q)), 4) for q in (50, 90, 99)} | {
        "max": round(float(x.max()), 4)}


# -- real-time factor --------------------------------------------------------------------------
def measure_rtf(artifact: Path, cfg, tmp: Path, reads: list[int]) -> dict:
    """The real-time factor with the bytes fed as the pty run's reads returned them, and in
    64-byte USB packets."""
    return {"pty": _rtf(artifact, cfg, tmp, reads) | {
                "chunking": "the read sizes recorded in the latency run, in order, cyclically"},
            "usb64": _rtf(artifact, cfg, tmp, [64]) | {
                "chunking": "fixed 64-byte pieces (USB full-speed CDC packets)"}}


def _pieces(stream: bytes, sizes: list[int]) -> list[bytes]:
    out, pos, k = [], 0, 0
    while pos < len(stream):
        out.append(stream[pos:pos + sizes[k % len(sizes)]])
        pos, k = pos + sizes[k % len(sizes)], k + 1
    return out


def _rtf(artifact: Path, cfg, tmp: Path, sizes: list[int]) -> dict:
    from edgekd.live_model import load_stream_model
    from firmware_bridge.consumer import LiveSession
    from firmware_bridge.decision import DecisionPolicy
    from firmware_bridge.protocols import PROTOCOLS
    from firmware_bridge.protocols.edgekd_v2 import encode_data, encode_info
    from firmware_bridge.types import DeviceInfo
    name, n_chans, fs, window, hop, spf = cfg
    model = load_stream_model(artifact, cache_dir=tmp / "cache")
    x = np.round(signals(n_chans, fs, RTF_S) / 0.1).astype(np.int32)
    info = encode_info(DeviceInfo(n_chans, fs, 0.1, "1.0.0", "bench"))
    frames = [encode_data(k, int(k * spf / fs * 1e6), x[k * spf:(k + 1) * spf])
              for k in range(len(x) // spf)]
    pieces = _pieces(info + b"".join(frames), sizes)
    timing = _Timed(model)
    session = LiveSession(PROTOCOLS.get("edgekd-v2"), timing.model, DecisionPolicy())
    for f in [info] + frames[:200]:   # ORT and the caches warm up on a throw-away session
        session.on_bytes(f)
    timing.reset()
    session = LiveSession(PROTOCOLS.get("edgekd-v2"), timing.model, DecisionPolicy())
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for piece in pieces:
        session.on_bytes(piece)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    n = session.summary.decisions
    return {"signal_seconds": RTF_S, "pieces": len(pieces), "wall_seconds": round(wall, 3),
            "cpu_seconds": round(cpu, 3), "real_time_factor": round(RTF_S / wall, 1),
            "real_time_factor_cpu": round(RTF_S / cpu, 1), "decisions": n,
            "us_per_decision": round(wall / n * 1e6, 1), "cpu_us_per_decision":
            round(cpu / n * 1e6, 1), "share": {
                "inference": round(timing.infer / wall, 3),
                "preprocessing": round((timing.push - timing.infer) / wall, 3),
                "framing, decoding, policy": round(1 - timing.push / wall, 3)}}


class _Timed:
    """Wraps the handed-in streams to see where the time goes (push = preprocessing +
    inference; inference = the predictor's batch call each stream makes)."""

    def __init__(self, model):
        from dataclasses import replace
        self.push = self.infer = 0.0
        self.model = replace(model, new_stream=self._stream(model.new_stream))

    def reset(self) -> None:
        self.push = self.infer = 0.0

    def _timer(self, fn, slot: str):
        def timed(*args):
            t = time.perf_counter()
            try:
                return fn(*args)
            finally:
                setattr(self, slot, getattr(self, slot) + time.perf_counter() - t)
        return timed

    def _stream(self, make):
        def new():
            stream = make()
            # a stream binds its predictor's batch call when it is made: wrap that binding
            stream._probs = self._timer(stream._probs, "infer")
            stream.push = self._timer(stream.push, "push")
            return stream
        return new


def main(argv: list[str] | None = None) -> None:
    import argparse
    global LATENCY_S, RTF_S
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--latency-seconds", type=float, default=LATENCY_S)
    ap.add_argument("--rtf-seconds", type=float, default=RTF_S)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "bridge_latency.json")
    args = ap.parse_args(argv)
    LATENCY_S, RTF_S = args.latency_seconds, args.rtf_seconds
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in CONFIGS:
            sub = Path(tmp) / cfg[0]
            sub.mkdir()
            artifact = make_artifact(sub, *cfg[1:5])
            if cores:
                os.sched_setaffinity(0, {cores[0]})   # the host path on one core
            print(f"{cfg[0]}: latency through a pty ({LATENCY_S:g} s at real time)...",
                  file=sys.stderr, flush=True)
            latency = measure_latency(artifact, cfg, sub, cores)
            print(f"{cfg[0]}: real-time factor ({RTF_S:g} s of signal)...", file=sys.stderr,
                  flush=True)
            rtf = measure_rtf(artifact, cfg, sub, latency.pop("_reads"))
            if cores:
                os.sched_setaffinity(0, set(cores))
            rows.append({"config": cfg[0], "channels": cfg[1], "fs": cfg[2], "window": cfg[3],
                         "hop": cfg[4], "samples_per_frame": cfg[5],
                         "decisions_per_s": cfg[2] / cfg[4], "latency": latency, "rtf": rtf})
            print(json.dumps(rows[-1]), flush=True)
    load_after = os.getloadavg()
    extra = " ".join(argv if argv is not None else sys.argv[1:])
    result = {"command": f"python -m benchmarks.bridge_latency {extra}".strip(),
              "protocol": "edgekd-v2", "latency_seconds": LATENCY_S, "rtf_signal_seconds": RTF_S,
              "host_core": cores[:1], "emulator_core": cores[1:2],
              "load_avg_before": load_before, "load_avg_after": load_after,
              "quiet": max(load_before[0], load_after[0]) < 0.5,
              "targets": TARGETS, "machine": machine_info(), "results": rows}
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


def markdown(result: dict) -> str:
    lines = ["| stream | window / hop | decisions/s | frame sent → decision p50 / p99 | "
             "last byte arrived → decision p50 / p99 | real-time factor (1 core) | where the "
             "time goes (inference / preprocessing / framing+policy) |",
             "|---|---|---|---|---|---|---|"]
    for r in result["results"]:
        e2e, arr = r["latency"]["sent_to_decision_ms"], r["latency"]["arrival_to_decision_ms"]
        rtf, usb = r["rtf"]["pty"], r["rtf"]["usb64"]
        share = rtf["share"]
        lines.append(
            f"| {r['config']} | {r['window']} / {r['hop']} samples | {r['decisions_per_s']:.0f} "
            f"| {e2e['p50']:.2f} / {e2e['p99']:.2f} ms | {arr['p50']:.2f} / {arr['p99']:.2f} ms "
            f"| {rtf['real_time_factor']:.0f}× wall, {rtf['real_time_factor_cpu']:.0f}× CPU "
            f"({rtf['cpu_us_per_decision']:.0f} µs CPU per decision); in 64-byte USB packets "
            f"{usb['real_time_factor_cpu']:.0f}× CPU "
            f"| {share['inference']:.0%} / {share['preprocessing']:.0%} / "
            f"{share['framing, decoding, policy']:.0%} |")
    load = max(result["load_avg_before"][0], result["load_avg_after"][0])
    lines.append("")
    lines.append(f"Targets: p99 ≤ {TARGETS['latency_ms_p99_quiet']:g} ms on a quiet machine; "
                 f"real-time factor ≥ {TARGETS['rtf']['8ch@200Hz']}× (8 ch) and ≥ "
                 f"{TARGETS['rtf']['64ch@2048Hz']}× (64 ch). Measured with edgekd-v2 through a "
                 f"pty from an emulator in another process, host path pinned to one core; the "
                 f"real-time factor feeds the bytes in the pieces the pty reads returned (and in "
                 f"64-byte USB packets), where the time goes is for the former; "
                 f"1-minute load average {load:.1f}"
                 + (" (a quiet machine)." if result["quiet"] else
                    " (a shared, loaded machine: re-run quietly before quoting)."))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
