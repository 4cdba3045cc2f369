"""``edgekd stream`` as library code, the I/O side: open the port, bring the device up, run the
one reader thread and feed the pure consumer (:class:`~firmware_bridge.consumer.LiveSession`)
until the source ends, the duration is over, the device goes away (without reconnect) or
Ctrl-C. On the way out the stop command is sent and every sink is closed."""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekd.errors import ConfigError
from firmware_bridge.consumer import LiveSession
from firmware_bridge.decision import DEFAULT_THRESHOLD, DEFAULT_VOTE, DecisionPolicy
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.protocols.base import Handshake
from firmware_bridge.truth import GroundTruth
from firmware_bridge.transport import (Chunk, Connected, EndOfStream, Outage, ReaderThread,
                                       Recorder, Samples, handshake, open_port)
from firmware_bridge.types import StreamModel

QUEUE_CHUNKS = 4096
DEFAULT_PROTOCOL = "edgekd-v2"
SAMPLE_SOURCES = ("lsl://", "brainflow://")   # deliver decoded samples: no wire protocol
NO_HANDSHAKE = Handshake(b"", b"", b"")
# Every counter that means something sent never reached a decision (or may not have): a run
# with any of them is lossy. A sample source's losses are counted in samples (no frames).
LOSSES = ("host_dropped_bytes", "host_dropped_samples", "frames_missing", "samples_missing",
          "crc_errors", "bad_frames", "outages", "device_restarts", "outages_of_unknown_length",
          "decisions_missing", "wrong_channel_count", "frames_without_info")


@dataclass(kw_only=True)
class StreamOptions:
    """Everything ``edgekd stream`` needs besides the model; validated on construction."""

    port: str
    protocol: str | None = None      # None: edgekd-v2 for a byte source
    baudrate: int | None = None
    threshold: float = DEFAULT_THRESHOLD
    vote: int = DEFAULT_VOTE
    duration: float | None = None
    reconnect: bool = True
    record: Path | None = None
    ground_truth: Path | None = None
    sinks: list = field(default_factory=list)
    sample_sinks: list = field(default_factory=list)   # raw samples (e.g. the LSL raw outlet)

    def __post_init__(self) -> None:
        PROTOCOLS.get(self.protocol or DEFAULT_PROTOCOL)   # unknown: ConfigError with choices
        if self.samples_source:
            for flag, value in (("--protocol", self.protocol), ("--baud", self.baudrate),
                                ("--record", self.record)):
                if value is not None:
                    raise ConfigError(f"{flag}: {self.port.partition('://')[0]}:// delivers "
                                      f"decoded samples; {flag} applies to byte sources only")
        DecisionPolicy(self.threshold, self.vote)
        if not self.port:
            raise ConfigError("--port: empty; give a device path or URL")
        if self.baudrate is not None and self.baudrate <= 0:
            raise ConfigError(f"--baud {self.baudrate}: must be > 0")
        if self.duration is not None and not self.duration > 0:
            raise ConfigError(f"--duration {self.duration}: must be > 0 seconds")
        if self.ground_truth is not None and not Path(self.ground_truth).with_suffix(
                ".npz").is_file():
            raise ConfigError(f"--ground-truth {self.ground_truth}: "
                              f"{Path(self.ground_truth).with_suffix('.npz')} not found")

    @property
    def samples_source(self) -> bool:
        return self.port.startswith(SAMPLE_SOURCES)


def run_stream(opts: StreamOptions, model: StreamModel | None, on_tick=None) -> dict:
    """Stream until done; ``on_tick(session)`` is called about 10 times a second (live view).
    ``model`` is handed in by the caller (None: show the device's own decisions only).

    Output files are checked before the device is touched and written only once it is up, so
    a failed start changes nothing on disk; the device is stopped and every sink and file
    closed on every way out. A sample source (``lsl://``, ``brainflow://``) says its own
    channels and rate (``port.info``) and has no handshake."""
    protocol = PROTOCOLS.get(opts.protocol or DEFAULT_PROTOCOL)
    baud = opts.baudrate or protocol.default_baudrate
    hs = NO_HANDSHAKE if opts.samples_source else protocol.handshake()
    recorder = Recorder(opts.record) if opts.record else None   # a bad path fails here
    outputs = [*opts.sinks, *opts.sample_sinks]
    reader: ReaderThread | None = None
    try:
        port = open_port(opts.port, baud)
        try:
            session = LiveSession(protocol, model, DecisionPolicy(opts.threshold, opts.vote),
                                  opts.sinks, info=getattr(port, "info", None),
                                  keep_decisions=opts.ground_truth is not None,
                                  sample_sinks=opts.sample_sinks)
            if opts.samples_source:
                session.check_device(port.info)    # refuses a source that cannot feed the model
            first = handshake(port, hs, opts.port)
        except BaseException:
            port.close()
            raise
        chunks: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        reader = ReaderThread(port, lambda: open_port(opts.port, baud), chunks, hs,
                              protocol.stop_command(), recorder=recorder, where=opts.port,
                              first=first)   # owns the port from here: stop() stops the device
        _start_outputs(recorder, outputs)
        session.on_connect(reconnect=False)
        start = time.monotonic()
        reader.start()
        try:
            ended_by = _consume(session, chunks, opts, on_tick, start, reader.send)
        except KeyboardInterrupt:
            ended_by = "interrupted"   # Ctrl-C ends the session cleanly: the summary is made
    finally:
        if reader is not None:
            reader.stop()
        _close_outputs(recorder, outputs)
    return _report(session, reader, opts, ended_by, time.monotonic() - start)


def _start_outputs(recorder: Recorder | None, sinks: list) -> None:
    """The device is up: create (or replace) the output files."""
    if recorder is not None:
        recorder.start()
    for sink in sinks:
        begin = getattr(sink, "start", None)  # a plain callable is a sink too
        if begin:
            begin()


def _close_outputs(recorder: Recorder | None, sinks: list) -> None:
    if recorder is not None:
        recorder.close()
    for sink in sinks:
        close = getattr(sink, "close", None)
        if close:
            close()


def _consume(session: LiveSession, chunks: queue.Queue, opts: StreamOptions, on_tick,
             start: float, send) -> str:
    last_tick = 0.0
    while opts.duration is None or time.monotonic() - start < opts.duration:
        try:
            msg = chunks.get(timeout=0.1)
        except queue.Empty:
            msg = None
        kind = type(msg)
        if kind is Chunk:
            session.on_bytes(msg.data, msg.t_ns)
            if session.outgoing_pending:
                send(session.take_outgoing())   # e.g. ask again for the device info
            if session.ended:
                return "the device ended the stream"
        elif kind is Samples:
            session.on_samples(msg.data, msg.acquired_ns, msg.t_ns, msg.missing_before)
        elif kind is Connected:
            session.on_connect(msg.reconnect)
        elif kind is Outage:
            session.on_outage()
            if not opts.reconnect:
                return f"device lost ({msg.reason})"
        elif kind is EndOfStream:
            session.on_end()
            return msg.reason
        if on_tick and time.monotonic() - last_tick > 0.1:
            on_tick(session)
            last_tick = time.monotonic()
    return "duration reached"


def _report(session: LiveSession, reader: ReaderThread, opts: StreamOptions, ended_by: str,
            seconds: float) -> dict:
    report = session.report()
    report.update(host_dropped_bytes=reader.overflow_bytes,
                  host_dropped_samples=reader.overflow_samples, reconnects=reader.reconnects,
                  ended_by=ended_by, seconds=round(seconds, 3))
    losses = {k: report[k] for k in LOSSES if report.get(k)}
    report["lossy"] = bool(losses)
    if losses:
        report["lossy_because"] = ", ".join(f"{k}={v}" for k, v in losses.items())
    if opts.ground_truth:
        report.update(online_accuracy(session, opts.ground_truth))
    return report


def online_accuracy(session: LiveSession, ground_truth: Path) -> dict:
    """The decisions against the emulator's per-sample labels, scored on the windows the
    offline pipeline would label (last sample labelled, no label change inside):
    ``online_accuracy`` (accepted decisions only) side by side with the control metrics of
    :mod:`edgekd.control_metrics` (rejection rates, accuracy with rejections as rest,
    availability, active error, instability, onset latency)."""
    from edgekd.control_metrics import rest_class, stream_metrics
    labels = GroundTruth.load(ground_truth).labels
    m = session.model
    if not session.decisions or m is None:
        return {"online_accuracy": None, "scored_decisions": 0}
    ends = np.array([e for e, _ in session.decisions])
    decided = np.array([-1 if lab is None else lab for _, lab in session.decisions])
    metrics = stream_metrics(labels, ends, decided, m.window, m.hop, m.fs,
                             rest_class(m.label_names), session.decoder.next_sample - 1)
    return {"online_accuracy": metrics["accuracy_accepted"],
            "scored_decisions": metrics["windows_accepted"], **metrics}


__all__ = ["StreamOptions", "online_accuracy", "run_stream"]
