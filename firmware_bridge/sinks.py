"""Where decisions go: JSON lines, UDP in LibEMG's text format, an LSL outlet."""

from __future__ import annotations

import json
import socket
import sys
import time
from typing import IO

from edgekd.errors import EdgekdError
from firmware_bridge.decision import Decision


class JsonLinesSink:
    """One JSON object per decision, to a file or stdout."""

    def __init__(self, target: str, label_names: list[str]):
        self.label_names = label_names
        self._own = target != "-"
        self._file: IO[str] = open(target, "w") if self._own else sys.stdout

    def __call__(self, d: Decision) -> None:
        self._file.write(json.dumps({
            "time": time.time(), "end_sample": d.end_sample,
            "label": self.label_names[d.label] if d.label is not None else None,
            "label_index": d.label, "raw_index": d.raw, "confidence": round(d.confidence, 5),
            "latency_ms": round(d.latency_ns / 1e6, 3), "device_time_us": d.device_time_us,
            "probs": [round(float(p), 5) for p in d.probs]}) + "\n")

    def close(self) -> None:
        self._file.flush()
        if self._own:
            self._file.close()


class UdpLibEmgSink:
    """``"<class index> <confidence>\\n"`` datagrams, the format LibEMG's online classifier
    sends, so applications built on LibEMG can listen unchanged. Rejected windows are not sent."""

    def __init__(self, address: str):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise EdgekdError(f"--udp {address!r}: expected HOST:PORT")
        self.target = (host, int(port))
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def __call__(self, d: Decision) -> None:
        if d.label is not None:
            self._sock.sendto(f"{d.label} {d.confidence:.4f}\n".encode(), self.target)

    def close(self) -> None:
        self._sock.close()


class LslSink:
    """An LSL outlet (pylsl, the ``lsl`` extra): per decision, [class index or -1, probs...]."""

    def __init__(self, name: str, label_names: list[str]):
        try:
            import pylsl
        except ImportError:
            raise EdgekdError("--lsl needs pylsl: pip install edgekd[lsl]") from None
        info = pylsl.StreamInfo(name, "GestureDecisions", len(label_names) + 1,
                                pylsl.IRREGULAR_RATE, pylsl.cf_float32, f"edgekd-{name}")
        labels = info.desc().append_child("labels")
        for label in label_names:
            labels.append_child_value("label", label)
        self._outlet = pylsl.StreamOutlet(info)

    def __call__(self, d: Decision) -> None:
        self._outlet.push_sample([float(-1 if d.label is None else d.label),
                                  *map(float, d.probs)])

    def close(self) -> None:
        del self._outlet
