"""firmware_bridge on one CPU core: the latency it adds per decision and the real-time factor it
sustains (issue 7's benchmark).

For each configuration an INT8 CNN student artifact with that input shape is exported (its
weights do not change the cost), a stream of edgekd-v1 frames is encoded, and the frames are fed
through the real live path (framer → decoder → causal filters → windows → ONNX Runtime →
decision policy):
* latency: frames fed at their real-time pace; per decision, the time from the arrival of the
  frame that completed the window to the decision (serial-link time is not included);
* real-time factor: frames fed as fast as possible; seconds of signal per second of wall time,
  the process pinned to one core (os.sched_setaffinity).

    python -m benchmarks.bridge_latency     # writes benchmarks/results/bridge_latency.{json,md}
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from edgekd import __version__
from edgekd.models import create_model
from edgekd.signal import ChannelNormalizer, FilterSpec, PreprocessSpec, WindowSpec
from export import metadata as md
from export.onnx_export import attach_metadata, export_onnx
from export.quantize import quantize_int8
from export.runtime import load
from firmware_bridge.decision import DecisionPolicy
from firmware_bridge.live import LiveSession
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.protocols.edgekd_v1 import encode_data, encode_info
from firmware_bridge.types import DeviceInfo

HERE = Path(__file__).parent
CONFIGS = [  # name, channels, fs, window (samples), hop, samples per frame
    ("8ch@200Hz", 8, 200.0, 52, 5, 4),
    ("64ch@2048Hz", 64, 2048.0, 256, 64, 16),   # 16 x 64 x int16 fits one 4 KiB payload
]


def make_artifact(folder: Path, n_chans: int, fs: float, window: int, hop: int) -> Path:
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


def frames(n_chans: int, fs: float, spf: int, seconds: float) -> list[bytes]:
    rng = np.random.default_rng(1)
    n = int(seconds * fs) // spf
    scale = 0.1
    info = encode_info(DeviceInfo(n_chans, fs, scale, "1.0.0", "bench"))
    data = (rng.normal(size=(n * spf, n_chans)) * 300).astype(np.int32)
    return [info] + [encode_data(k, int(k * spf / fs * 1e6), data[k * spf:(k + 1) * spf])
                     for k in range(n)]


def session(artifact: Path, cache: Path) -> LiveSession:
    return LiveSession(load(artifact, threads=1, cache_dir=cache), PROTOCOLS.get("edgekd-v1"),
                       DecisionPolicy(0.0, 1))


def measure(name, n_chans, fs, window, hop, spf, tmp: Path) -> dict:
    artifact = make_artifact(tmp, n_chans, fs, window, hop)
    # real-time factor: as fast as possible
    stream = frames(n_chans, fs, spf, 60.0)
    s = session(artifact, tmp / "cache")
    start = time.perf_counter()
    for f in stream:
        s.on_bytes(f)
    wall = time.perf_counter() - start
    rtf = 60.0 / wall
    # latency: real-time pace, 20 s
    stream = frames(n_chans, fs, spf, 20.0)
    s = session(artifact, tmp / "cache")
    period = spf / fs
    t0 = time.perf_counter()
    for k, f in enumerate(stream):
        delay = t0 + k * period - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        s.on_bytes(f)
    lat = np.array(s.summary.latencies_ns) / 1e3
    return {"config": name, "channels": n_chans, "fs": fs, "window": window, "hop": hop,
            "samples_per_frame": spf, "decisions_per_s": fs / hop,
            "latency_us_p50": float(np.percentile(lat, 50)),
            "latency_us_p99": float(np.percentile(lat, 99)), "latency_decisions": int(len(lat)),
            "real_time_factor_one_core": round(rtf, 1), "signal_seconds_for_rtf": 60.0,
            "frames_missing": s.report()["frames_missing"]}


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in CONFIGS:
            sub = Path(tmp) / cfg[0]
            sub.mkdir()
            rows.append(measure(*cfg, sub))
            print(json.dumps(rows[-1]), flush=True)
    result = {"pinned_cores": cores, "machine": machine_info(), "results": rows,
              "command": "python -m benchmarks.bridge_latency"}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/bridge_latency.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| stream | window / hop | decisions/s | bridge latency p50 | p99 | real-time factor "
             "(1 core) |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['config']} | {r['window']} / {r['hop']} samples | "
                     f"{r['decisions_per_s']:.0f} | {r['latency_us_p50']:.0f} µs | "
                     f"{r['latency_us_p99']:.0f} µs | {r['real_time_factor_one_core']:.0f}× |")
    (HERE / "results/bridge_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
