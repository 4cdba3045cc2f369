"""``edgekd stream`` as library code: open the port, start the one reader thread, feed the
live session until the duration ends, the device goes away (without reconnect) or Ctrl-C."""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError
from firmware_bridge.decision import DecisionPolicy
from firmware_bridge.live import LiveSession
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.transport import (DISCONNECTED, RECONNECTED, ReaderThread, Recorder,
                                       open_port)


@dataclass
class StreamOptions:
    model: Path
    port: str
    protocol: str = "edgekd-v1"
    baudrate: int | None = None
    threshold: float = 0.0
    vote: int = 1
    hop: int | None = None
    duration: float | None = None
    reconnect: bool = True
    record: Path | None = None
    ground_truth: Path | None = None
    sinks: list = field(default_factory=list)
    threads: int = 1


def build_session(opts: StreamOptions) -> LiveSession:
    from export.runtime import load
    predictor = load(opts.model, threads=opts.threads)
    protocol = PROTOCOLS.get(opts.protocol)
    return LiveSession(predictor, protocol, DecisionPolicy(opts.threshold, opts.vote),
                       opts.sinks, opts.hop, keep_decisions=opts.ground_truth is not None)


def run_stream(opts: StreamOptions, on_tick=None) -> dict:
    """Stream until done; ``on_tick(session)`` is called about 10 times a second (live view)."""
    session = build_session(opts)
    protocol = session.protocol
    baud = opts.baudrate or protocol.default_baudrate
    port = open_port(opts.port, baud)
    recorder = Recorder(opts.record) if opts.record else None
    chunks: queue.Queue = queue.Queue(maxsize=4096)
    reader = ReaderThread(port, lambda: open_port(opts.port, baud), chunks,
                          start_bytes=protocol.start_command(), recorder=recorder)
    start, last_tick = time.monotonic(), 0.0
    reader.start()
    try:
        while opts.duration is None or time.monotonic() - start < opts.duration:
            try:
                kind, data = chunks.get(timeout=0.1)
            except queue.Empty:
                kind = None
            if kind == "end":
                break
            if kind == DISCONNECTED:
                session.on_outage()
                if not opts.reconnect:
                    break
            elif kind not in (None, RECONNECTED):
                session.on_bytes(data, kind)
            if on_tick and time.monotonic() - last_tick > 0.1:
                on_tick(session)
                last_tick = time.monotonic()
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the session cleanly: the summary below is still written
    finally:
        reader.stop()
        if recorder:
            recorder.close()
        for sink in opts.sinks:
            close = getattr(sink, "close", None)  # a plain callable is a sink too
            if close:
                close()
    report = session.report()
    report["overflow_bytes"] = reader.overflow_bytes
    report["reconnects"] = reader.reconnects
    report["seconds"] = round(time.monotonic() - start, 3)
    if opts.ground_truth:
        report.update(online_accuracy(session, opts.ground_truth))
    return report


def online_accuracy(session: LiveSession, ground_truth: Path) -> dict:
    """Accuracy of the decisions against the emulator's per-sample labels, on the windows the
    offline pipeline would label (last sample labelled, no label change inside)."""
    from edgekd.signal import window_labels
    try:
        gt = np.load(Path(ground_truth).with_suffix(".npz"))
    except FileNotFoundError:
        raise EdgekdError(f"{ground_truth}: ground-truth file not found") from None
    labels = gt["labels"]
    pairs = [(e, lab) for e, lab in session.decisions if e < len(labels)]
    if not pairs:
        return {"online_accuracy": None, "scored_decisions": 0}
    ends = np.array([e for e, _ in pairs])
    pred = np.array([-2 if lab is None else lab for _, lab in pairs])
    y, keep = window_labels(labels, np.zeros_like(labels), ends, session.window)
    keep &= pred != -2
    return {"online_accuracy": float((pred[keep] == y[keep]).mean()) if keep.any() else None,
            "scored_decisions": int(keep.sum())}
