"""Where decisions go: JSON lines, UDP in LibEMG's text format, an LSL outlet."""

from __future__ import annotations

import json
import socket
import sys
import time
from typing import IO

from edgekd.errors import ConfigError, EdgekdError
from firmware_bridge.decision import Decision
from firmware_bridge.outfile import OutputFile


def label_name(label_names: list[str], index: int | None) -> str | None:
    if index is None:
        return None
    return label_names[index] if 0 <= index < len(label_names) else f"class {index}"


def make_sinks(json_target: str | None, udp: str | None, lsl_name: str | None,
               label_names: list[str], source: str = "host") -> list:
    """The sinks ``edgekd stream`` was asked for; every bad target is refused before the
    stream starts. The JSON lines get every decision; UDP and LSL, which carry one stream of
    decisions, get those of ``source`` only (host: this model; device: the armband's own)."""
    sinks: list = []
    if json_target:
        sinks.append(JsonLinesSink(json_target, label_names))
    if udp:
        sinks.append(UdpLibEmgSink(udp, source))
    if lsl_name:
        sinks.append(LslSink(lsl_name, label_names, source))
    return sinks


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


class UdpLibEmgSink:
    """``"<class index> <confidence>\\n"`` datagrams, the format LibEMG's online classifier
    sends, so applications built on LibEMG can listen unchanged. Rejected windows are not sent."""

    def __init__(self, address: str, source: str = "host"):
        self.source = source
        family, self.target = udp_target(address)
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self.send_errors = 0

    def __call__(self, d: Decision) -> None:
        if d.label is not None and d.source == self.source:
            try:
                self._sock.sendto(f"{d.label} {d.confidence:.4f}\n".encode(), self.target)
            except OSError:   # nobody listening is not a reason to stop recognising gestures
                self.send_errors += 1

    def close(self) -> None:
        self._sock.close()


class LslSink:
    """An LSL outlet (pylsl, the ``lsl`` extra): per decision, [class index or -1, probs...]."""

    def __init__(self, name: str, label_names: list[str], source: str = "host"):
        self.source = source
        try:
            import pylsl
        except ImportError:
            raise EdgekdError("--lsl needs pylsl: pip install edgekd[lsl]") from None
        if not label_names:
            raise ConfigError("--lsl needs the label names: give --model")
        info = pylsl.StreamInfo(name, "GestureDecisions", len(label_names) + 1,
                                pylsl.IRREGULAR_RATE, pylsl.cf_float32, f"edgekd-{name}")
        labels = info.desc().append_child("labels")
        for label in label_names:
            labels.append_child_value("label", label)
        self._outlet = pylsl.StreamOutlet(info)

    def __call__(self, d: Decision) -> None:
        if d.source != self.source:
            return
        self._outlet.push_sample([float(-1 if d.label is None else d.label),
                                  *map(float, d.probs)])

    def close(self) -> None:
        del self._outlet
