"""Where decisions go: JSON lines, UDP in LibEMG's formats, LSL outlets (decisions, raw EMG)."""

from __future__ import annotations

import json
import socket
import sys
import time
from typing import IO

from edgekd.errors import ConfigError, EdgekdError
from firmware_bridge.decision import Decision
from firmware_bridge.lsl import LslDecisionSink as LslSink
from firmware_bridge.lsl import LslRawSink
from firmware_bridge.outfile import OutputFile


def label_name(label_names: list[str], index: int | None) -> str | None:
    if index is None:
        return None
    return label_names[index] if 0 <= index < len(label_names) else f"class {index}"


def make_sinks(json_target: str | None, udp: str | None, lsl_name: str | None,
               label_names: list[str], source: str = "host",
               udp_format: str = "predictions") -> list:
    """The sinks ``edgekd stream`` was asked for; every bad target is refused before the
    stream starts. The JSON lines get every decision; UDP and LSL, which carry one stream of
    decisions, get those of ``source`` only (host: this model; device: the armband's own)."""
    sinks: list = []
    if json_target:
        sinks.append(JsonLinesSink(json_target, label_names))
    if udp:
        sinks.append(UdpLibEmgSink(udp, source, udp_format, len(label_names)))
    if lsl_name:
        sinks.append(LslSink(lsl_name, label_names, source))
    return sinks


def make_sample_sinks(lsl_raw_name: str | None, channel_names: list[str] | None = None) -> list:
    """Sinks that get the raw samples (``--lsl-raw``)."""
    return [LslRawSink(lsl_raw_name, channel_names)] if lsl_raw_name else []


class JsonLinesSink:
    """One JSON object per decision, to a file or stdout. ``source`` says who decided: this
    host's model, or the device itself (edgekd-v2 decision frames). The path is checked at
    once; the file is created (an existing one replaced) by ``start()``, when the device is
    up, or by the first decision: a stream that fails to start leaves the file as it was."""

    def __init__(self, target: str, label_names: list[str]):
        self.label_names = label_names
        self._out = OutputFile(target, "--decisions-json") if target != "-" else None
        self._file: IO[str] | None = None if self._out else sys.stdout

    def start(self) -> None:
        if self._file is None:
            self._file = self._out.open()

    def __call__(self, d: Decision) -> None:
        if self._file is None:
            self.start()
        self._file.write(json.dumps({
            "time": time.time(), "source": d.source, "end_sample": d.end_sample,
            "label": label_name(self.label_names, d.label),
            "label_index": d.label, "raw_index": d.raw, "confidence": round(d.confidence, 5),
            "latency_ms": round(d.latency_ns / 1e6, 3), "device_time_us": d.device_time_us,
            "probs": [round(float(p), 5) for p in d.probs]}) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
        if self._out is not None:
            self._out.close()


def udp_target(address: str) -> tuple[int, tuple]:
    """``HOST:PORT`` → (address family, socket address); ConfigError when it cannot work."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--udp {address!r}: expected HOST:PORT with PORT in 1..65535")
    try:
        family, _, _, _, target = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0]
    except OSError as err:
        raise ConfigError(f"--udp {address!r}: cannot resolve {host!r} ({err})") from None
    return family, target


UDP_FORMATS = ("predictions", "probabilities")


def libemg_message(d: Decision, fmt: str, n_classes: int, now: float) -> bytes:
    """One datagram exactly as LibEMG's ``OnlineEMGClassifier.write_output`` builds it with
    velocity control on (libemg 2.0.3, libemg/emg_predictor.py lines 941-987), so LibEMG's
    ``ClassifierController`` and the environments built on it parse it unchanged:

    * ``predictions``: ``"<class> <velocity>\\n"``; a rejected window is class ``-1`` with
      velocity ``0`` (LibEMG's ``_rejection_helper`` and its velocity rule);
    * ``probabilities``: the per-class probabilities (``%.2f``), the velocity, then the unix
      time as ``str(time.time())``, no newline; a rejected window keeps its probabilities and
      gets velocity ``0``, as in LibEMG (its argmax is still the window's own class).

    edgekd estimates no contraction intensity, so the velocity is the model's confidence in
    the accepted class (``%.2f``, in [0, 1] like LibEMG's) and 0 for a rejected window. A
    device decision that came without probabilities is sent one-hot (all zeros if rejected).
    """
    velocity = " 0" if d.label is None else " " + "{0:.2f}".format(min(1.0, max(d.confidence,
                                                                                 0.0)))
    if fmt == "predictions":
        return f"{-1 if d.label is None else d.label}{velocity}\n".encode()
    probs = list(map(float, d.probs)) if len(d.probs) else [
        float(i == d.label) for i in range(n_classes)]
    return (" ".join(f"{p:.2f}" for p in probs) + velocity + " " + str(now)).encode()


class UdpLibEmgSink:
    """Decisions as LibEMG datagrams (:func:`libemg_message`), one per window, rejected ones
    included, so applications built on LibEMG listen unchanged (``ClassifierController`` with
    the same ``output_format``)."""

    def __init__(self, address: str, source: str = "host", fmt: str = "predictions",
                 n_classes: int = 0, clock=time.time):
        if fmt not in UDP_FORMATS:
            raise ConfigError(f"--udp-format {fmt!r}: expected one of {', '.join(UDP_FORMATS)}")
        self.source, self.fmt, self.n_classes, self.clock = source, fmt, n_classes, clock
        family, self.target = udp_target(address)
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self.send_errors = 0

    def __call__(self, d: Decision) -> None:
        if d.source != self.source:
            return
        try:
            self._sock.sendto(libemg_message(d, self.fmt, self.n_classes, self.clock()),
                              self.target)
        except OSError:   # nobody listening is not a reason to stop recognising gestures
            self.send_errors += 1

    def close(self) -> None:
        self._sock.close()
