"""The live path after the reader thread (DESIGN §3): bytes → frames → sample blocks → gap
check → the artifact's own streaming preprocessing → model → decision policy → sinks.

``LiveSession.on_bytes`` is the whole consumer; it does no I/O of its own, so tests drive it
with bytes. Missing samples (sequence gaps) are filled by holding the last value so the sample
axis stays aligned with the device; windows that overlap a fill produce no decision and are
counted as ``windows_in_gaps``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from firmware_bridge.decision import Decision, DecisionPolicy
from firmware_bridge.decoder import BlockDecoder
from firmware_bridge.types import DeviceInfo, GapEvent, SampleBlock


@dataclass
class SessionSummary:
    decisions: int = 0
    rejected: int = 0
    windows_in_gaps: int = 0
    gaps: int = 0
    samples: int = 0
    samples_missing: int = 0
    latencies_ns: deque = field(default_factory=lambda: deque(maxlen=100_000))  # bounded
    outages: int = 0

    def latency_ms(self, q: float) -> float | None:
        return float(np.percentile(self.latencies_ns, q) / 1e6) if self.latencies_ns else None


class LiveSession:
    def __init__(self, predictor, protocol, policy: DecisionPolicy, sinks=(), hop: int | None = None,
                 info: DeviceInfo | None = None, keep_decisions: bool = False):
        from export.runtime import StreamingPredictor

        self.predictor, self.protocol, self.policy = predictor, protocol, policy
        self.sinks = list(sinks)
        self.info = info or self._info_from_artifact()
        self.framer = protocol.framer()
        self.decoder = BlockDecoder(self.info, protocol.seq_modulus, self.framer.stats)
        self.stream = StreamingPredictor(predictor, hop)
        self.window = predictor.spec.window.window
        self.summary = SessionSummary()
        self.device_info: DeviceInfo | None = None   # set when the device describes itself
        self._gap_until = -1              # last sample index that was filled in
        self._last_value: np.ndarray | None = None
        self.keep_decisions = keep_decisions   # (end sample, label) pairs, for online accuracy
        self.decisions: list[tuple[int, int | None]] = []

    def _info_from_artifact(self) -> DeviceInfo:
        default = self.protocol.default_info()
        return DeviceInfo(self.predictor.spec.n_chans, self.predictor.spec.fs, default.scale_uv,
                          default.firmware, default.name)

    def check_device(self, info: DeviceInfo) -> None:
        """Adopt a device-info reply, refusing a device that cannot feed this model."""
        from edgekd.errors import EdgekdError
        spec = self.predictor.spec
        if info.n_chans != spec.n_chans or abs(info.fs - spec.fs) > 1e-6:
            raise EdgekdError(f"device {info.name!r} streams {info.n_chans} ch @ {info.fs} Hz, "
                              f"the model expects {spec.n_chans} ch @ {spec.fs} Hz")
        self.info = self.decoder.info = info
        self.device_info = info

    def on_bytes(self, data: bytes, receive_time_ns: int | None = None) -> list[Decision]:
        t_recv = receive_time_ns if receive_time_ns is not None else time.perf_counter_ns()
        out = []
        for frame in self.framer.feed(data):
            if frame.kind == "info":
                self.check_device(frame.info)
                continue
            for item in self.decoder.decode(frame, t_recv):
                if isinstance(item, GapEvent):
                    self._fill_gap(item)
                else:
                    out += self._on_block(item)
        return out

    def on_outage(self) -> None:
        """The transport lost the device; the sequence gap after reconnecting counts the loss."""
        self.summary.outages += 1

    def _fill_gap(self, gap: GapEvent) -> None:
        self.summary.gaps += 1
        self.summary.samples_missing += gap.missing_samples
        hold = self._last_value if self._last_value is not None else np.zeros(self.info.n_chans,
                                                                               np.float32)
        filler = np.repeat(hold[None], gap.missing_samples, axis=0)
        self._gap_until = gap.first_sample + gap.missing_samples - 1
        self._windows(SampleBlock(gap.first_sample, filler, -1, 0, 0), emit=False)

    def _on_block(self, block: SampleBlock) -> list[Decision]:
        self.summary.samples += len(block.samples)
        self._last_value = block.samples[-1]
        return self._windows(block, emit=True)

    def _windows(self, block: SampleBlock, emit: bool) -> list[Decision]:
        ends, probs = self.stream.push(block.samples)
        decisions = []
        for end, p in zip(ends, probs):
            if not emit or end - self.window + 1 <= self._gap_until:
                self.summary.windows_in_gaps += 1
                continue
            d = self.policy.decide(int(end), p)
            d.receive_time_ns, d.device_time_us = block.receive_time_ns, block.device_time_us
            d.latency_ns = time.perf_counter_ns() - block.receive_time_ns
            self.summary.decisions += 1
            self.summary.rejected += d.label is None
            self.summary.latencies_ns.append(d.latency_ns)
            for sink in self.sinks:
                sink(d)
            decisions.append(d)
        if self.keep_decisions:
            self.decisions += [(d.end_sample, d.label) for d in decisions]
        return decisions

    def report(self) -> dict:
        s, st = self.summary, self.framer.stats
        device = self.device_info
        return {"device": f"{device.name} fw {device.firmware}, {device.n_chans} ch @ "
                          f"{device.fs:g} Hz, {device.scale_uv:.4g} uV/LSB" if device else
                          "no device info (protocol defaults)",
                "decisions": s.decisions, "rejected": s.rejected, "samples": s.samples,
                "frames_ok": st.frames_ok, "frames_missing": st.frames_missing,
                "crc_errors": st.crc_errors, "garbage_bytes": st.garbage_bytes,
                "duplicates": st.duplicates, "gaps": s.gaps, "samples_missing": s.samples_missing,
                "windows_in_gaps": s.windows_in_gaps, "outages": s.outages,
                "latency_ms_p50": s.latency_ms(50), "latency_ms_p99": s.latency_ms(99)}
