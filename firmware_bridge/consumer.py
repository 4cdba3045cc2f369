"""The pure consumer of the live path (DESIGN §3): bytes → frames → sample blocks → gap policy →
the handed-in stream (the artifact's own preprocessing and model) → decision policy → sinks.

``LiveSession`` does no I/O: the runner (:mod:`firmware_bridge.runner`) hands it the bytes the
reader thread stamped (or, from a source that delivers decoded samples such as LSL or
BrainFlow, the samples with their acquisition time: ``on_samples``), and tests hand it bytes
directly.

Every decision carries the acquisition time of its window's last sample (``acquired_ns``): the
source's own timestamp where it has one, else the arrival time of the bytes that carried the
sample (a serial device's clock is not the host's). Sample sinks (the raw LSL outlet) get
every block with the acquisition time of its last sample.

Latency is measured from the arrival of the last byte of the frame that completed a window (the
time the reader stamped when it read those bytes) to the moment the decision is handed to the
sinks.

Gap policy: after a sequence gap or an outage the stream is restarted, fresh, at the next
window-grid position, and no decision is emitted until its filters have settled
(``StreamModel.settle_samples``) and a whole window of real samples has arrived. Nothing made
up ever reaches the filters, so decisions after the warm-up match an uninterrupted run; every
grid position without a decision is counted in ``windows_in_gaps``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from edgekd.errors import EdgekdError
from firmware_bridge.decision import Decision, DecisionPolicy
from firmware_bridge.decoder import BlockDecoder
from firmware_bridge.latency import LatencyStats
from firmware_bridge.types import (DecisionFrame, DeviceInfo, EndFrame, Frame, GapEvent,
                                   InfoFrame, SampleBlock, StreamModel)

HOLD_FRAMES = 2048        # data frames kept while the device has not described itself
QUERY_INFO_EVERY = 50     # ask again for the device info after this many frames without it


@dataclass
class SessionSummary:
    decisions: int = 0
    rejected: int = 0
    device_decisions: int = 0
    samples: int = 0
    samples_missing: int = 0
    gaps: int = 0
    stream_restarts: int = 0           # fresh filter state after a gap or outage
    outages: int = 0
    latency: LatencyStats = field(default_factory=LatencyStats)   # this host's decisions

    def add_latency(self, ns: int) -> None:
        self.latency.add(ns)

    def latency_ms(self, q: float) -> float | None:
        """Over the whole session, to ±0.5 % (see :mod:`firmware_bridge.latency`)."""
        return self.latency.percentile_ms(q)


class _Accumulator:
    """Samples waiting for the next window end: pushing them only when a window is due calls
    the filters once per decision instead of once per frame (same output, bit for bit)."""

    def __init__(self, n_chans: int):
        self.buf = np.empty((256, n_chans), np.float32)
        self.n = 0

    def add(self, samples: np.ndarray) -> None:
        if self.n + len(samples) > len(self.buf):
            grown = np.empty((2 * (self.n + len(samples)), self.buf.shape[1]), np.float32)
            grown[:self.n] = self.buf[:self.n]
            self.buf = grown
        self.buf[self.n:self.n + len(samples)] = samples
        self.n += len(samples)

    def take(self) -> np.ndarray:
        """The samples waiting, as a view that stays valid until the next ``add``."""
        out, self.n = self.buf[:self.n], 0
        return out


class LiveSession:
    """Bytes in, decisions out. ``model`` is handed in (None: only decisions the device makes
    itself are shown); ``info`` overrides what is assumed before the device describes itself."""

    def __init__(self, protocol, model: StreamModel | None, policy: DecisionPolicy,
                 sinks=(), info: DeviceInfo | None = None, keep_decisions: bool = False,
                 clock=time.monotonic_ns, sample_sinks=()):
        self.protocol, self.model, self.policy, self.clock = protocol, model, policy, clock
        self.sinks = list(sinks)
        self.sample_sinks = list(sample_sinks)  # (block, device info, acquired_ns of its last)
        self.framer = protocol.framer()
        self.info = info or self._assumed_info()
        if protocol.fixed_info is not None:
            self._check_model(protocol.fixed_info, f"--protocol {protocol.name}")
        self.decoder = BlockDecoder.for_protocol(protocol, self.info, self.framer.stats)
        self.summary = SessionSummary()
        self.device_info: DeviceInfo | None = None
        self.ended = False                    # the device said it has nothing more
        self.keep_decisions = keep_decisions  # (end sample, label) pairs, for online accuracy
        self.decisions: list[tuple[int, int | None]] = []
        self._acc = _Accumulator(self.info.n_chans)
        self._stream = None
        self._origin = 0       # host index of the current stream's first sample
        self._pushed = 0       # samples pushed into the current stream
        self._emit_from = 0    # first window end (host index) that may become a decision
        self._skip_to = 0      # host index where the next stream may start (grid-aligned)
        self._due = 0          # host index of the current stream's next window end
        self._last_decision_seq: int | None = None
        self._last_acquired = (-1, 0)  # (host index, acquisition ns) of the newest sample
        self._resume = False           # a sample source came back: measure what was lost
        self._last_device_end = -1   # host index of the latest device decision shown
        # Until the device says how to scale its counts (its info frame may be lost), its data
        # frames are held, never scaled by a guess; the host asks again now and then.
        self._awaiting_info = info is None and protocol.fixed_info is None
        self._held: deque[tuple[Frame | None, int]] = deque()   # None: a START was sent
        self._n_held = 0
        self._dropped_without_info = 0
        self._outgoing = b""
        self.info_requests = 0

    # -- the device ---------------------------------------------------------------------------
    def _assumed_info(self) -> DeviceInfo:
        fixed = self.protocol.fixed_info
        if fixed is not None:
            return fixed
        if self.model is None:
            return DeviceInfo(1, 1.0, 1.0, "unknown", "unknown device")
        return DeviceInfo(self.model.n_chans, self.model.fs, 1.0, "unknown", self.protocol.name)

    def _check_model(self, info: DeviceInfo, what: str) -> None:
        m = self.model
        if m is not None and (info.n_chans != m.n_chans or abs(info.fs - m.fs) > 1e-6):
            raise EdgekdError(f"{what} streams {info.n_chans} ch @ {info.fs:g} Hz; the model "
                              f"expects {m.n_chans} ch @ {m.fs:g} Hz")

    def check_device(self, info: DeviceInfo) -> list[Decision]:
        """Adopt a device-info reply, refusing a device that cannot feed this model; the data
        frames held while waiting for it are used now (the decisions they give are returned)."""
        self._check_model(info, f"device {info.name!r}")
        self.info = self.decoder.info = info
        self.device_info = info
        if info.n_chans != self._acc.buf.shape[1]:
            self._acc = _Accumulator(info.n_chans)
        self._awaiting_info = False
        out: list[Decision] = []
        self._n_held = 0
        while self._held:
            frame, t_recv = self._held.popleft()
            if frame is None:            # a START was sent here while frames were held
                self.decoder.restart()
            else:
                out += self._on_frame(frame, t_recv)
        return out

    def _hold(self, frame: Frame, t_recv: int) -> None:
        self._held.append((frame, t_recv))
        self._n_held += 1
        if len(self._held) > HOLD_FRAMES and self._held.popleft()[0] is not None:
            self._n_held -= 1
            self._dropped_without_info += 1
        if self._held_frames() % QUERY_INFO_EVERY == 0:
            self._outgoing += self.protocol.query_info()
            self.info_requests += 1

    def _held_frames(self) -> int:
        """Data frames received without device info so far and not used (yet)."""
        return self._n_held + self._dropped_without_info

    @property
    def outgoing_pending(self) -> bool:
        return bool(self._outgoing)

    def take_outgoing(self) -> bytes:
        """Bytes the device should be sent (a repeated QUERY_INFO); the runner writes them."""
        out, self._outgoing = self._outgoing, b""
        return out

    # -- events from the runner ----------------------------------------------------------------
    def on_connect(self, reconnect: bool) -> None:
        """The start command was sent: the device counts from 0 again (data, decisions and
        sample index). Until its first data frame says how much was lost, its sample 0 sits
        where the host axis stands (never before a decision already shown); the vote starts
        afresh."""
        if reconnect:
            self.framer.reset()
            self._resume = True
            self.decoder.session_start = max(self.decoder.next_sample, self._last_device_end + 1)
        self._last_decision_seq = None
        self.policy.reset()
        if self._held:
            self._held.append((None, 0))   # replayed in order once the device info arrives
        else:
            self.decoder.restart()

    def on_outage(self) -> None:
        """The transport lost the device; what was lost is measured when it comes back."""
        self.summary.outages += 1

    def on_end(self) -> None:
        """The source has finished: a frame still half-received never will be."""
        self.framer.flush()

    def on_bytes(self, data: bytes, receive_time_ns: int | None = None) -> list[Decision]:
        t_recv = receive_time_ns if receive_time_ns is not None else self.clock()
        out: list[Decision] = []
        for frame in self.framer.feed(data):
            kind = type(frame)
            if kind is Frame:
                if self._awaiting_info:
                    self._hold(frame, t_recv)
                else:
                    out += self._on_frame(frame, t_recv)
            elif kind is InfoFrame:
                out += self.check_device(frame.info)
            elif kind is DecisionFrame:
                out.append(self._device_decision(frame, t_recv))
            elif kind is EndFrame:
                self.ended = True
        return out

    def on_samples(self, samples: np.ndarray, acquired_ns: int,
                   receive_time_ns: int | None = None, missing_before: int = 0) -> list[Decision]:
        """Samples from a source that delivers them decoded (LSL, BrainFlow): float32
        ``[n, n_chans]`` in µV; ``acquired_ns`` is the acquisition time of the last one
        (CLOCK_MONOTONIC ns); ``missing_before`` samples the source knows it lost just before
        them. After a reconnect the loss is measured from the acquisition times."""
        t_recv = receive_time_ns if receive_time_ns is not None else self.clock()
        if self._resume:
            self._resume = False
            missing_before = max(missing_before, self._lost_while_away(len(samples), acquired_ns))
            if missing_before == 0 and self.decoder.next_sample:   # still a fresh filter state
                self._on_gap(GapEvent(self.decoder.next_sample, 0, 0))
        out: list[Decision] = []
        for item in self.decoder.place(samples, missing_before):
            if type(item) is GapEvent:
                self._on_gap(item)
            else:
                out += self._on_block(item, t_recv, acquired_ns)
        return out

    def _lost_while_away(self, n: int, acquired_ns: int) -> int:
        last_index, last_ns = self._last_acquired
        if last_index < 0:
            return 0
        first_ns = acquired_ns - (n - 1) * 1e9 / self.info.fs
        return max(0, int(round((first_ns - last_ns) * self.info.fs / 1e9)) - 1)

    def _on_frame(self, frame: Frame, t_recv: int) -> list[Decision]:
        out: list[Decision] = []
        for item in self.decoder.decode(frame):
            if type(item) is GapEvent:
                self._on_gap(item)
            else:
                out += self._on_block(item, t_recv, t_recv)
        return out

    # -- gap policy ------------------------------------------------------------------------------
    def _on_gap(self, gap: GapEvent) -> None:
        self.policy.reset()   # votes from before a gap must not decide what comes after it
        self.summary.gaps += 1
        self.summary.samples_missing += gap.missing_samples
        self._stream = None
        self._acc.take()      # samples before the gap can complete no window of the new stream
        hop = self.model.hop if self.model else 1
        resume = gap.first_sample + gap.missing_samples
        self._skip_to = -(-resume // hop) * hop   # window starts sit on multiples of hop

    def _on_block(self, block: SampleBlock, t_recv: int, acquired_ns: int) -> list[Decision]:
        samples, first = block.samples, block.first_sample
        self.summary.samples += len(samples)
        self._last_acquired = (first + len(samples) - 1, acquired_ns)
        for sink in self.sample_sinks:
            sink(block, self.info, acquired_ns)
        if self.model is None:
            return []
        if first < self._skip_to:
            samples, first = samples[self._skip_to - first:], max(first, self._skip_to)
            if len(samples) == 0:
                return []
        if self._stream is None:
            self._start_stream(first)
        self._acc.add(samples)
        if first + len(samples) <= self._due:   # the next window is not complete yet
            return []
        return self._push(t_recv, block.device_time_us)

    def _start_stream(self, first: int) -> None:
        m = self.model
        self._stream = m.new_stream()
        self._origin, self._pushed = first, 0
        self._emit_from = first + m.settle_samples + m.window - 1 if first else 0
        self.summary.stream_restarts += first > 0
        self._due = self._next_window_end()

    def _next_window_end(self) -> int:
        """Host index of the next window end of the current stream."""
        w, hop = self.model.window, self.model.hop
        local = max(self._pushed, w - 1)
        return self._origin + local + (-(local - (w - 1))) % hop

    # -- decisions ---------------------------------------------------------------------------
    def _push(self, t_recv: int, device_time_us: int | None) -> list[Decision]:
        chunk = self._acc.take()
        ends, probs = self._stream.push(chunk)
        self._pushed += len(chunk)
        self._due = self._next_window_end()
        out = []
        last_index, last_ns = self._last_acquired
        ns_per_sample = 1e9 / self.info.fs
        for end, p in zip(ends.tolist(), probs):
            end += self._origin
            if end < self._emit_from:
                continue
            d = self.policy.decide(end, p)
            d.receive_time_ns, d.device_time_us = t_recv, device_time_us
            d.acquired_ns = int(last_ns - (last_index - end) * ns_per_sample)
            out.append(self._emit(d))
        if self.keep_decisions:
            self.decisions += [(d.end_sample, d.label) for d in out]
        return out

    def _emit(self, d: Decision) -> Decision:
        d.latency_ns = self.clock() - d.receive_time_ns
        s = self.summary
        if d.source == "device":
            s.device_decisions += 1
        else:
            s.decisions += 1
            s.rejected += d.label is None
            s.add_latency(d.latency_ns)
        for sink in self.sinks:
            sink(d)
        return d

    def _device_decision(self, f: DecisionFrame, t_recv: int) -> Decision:
        stats = self.framer.stats
        if self._last_decision_seq is not None:
            ahead = (f.seq - self._last_decision_seq - 1) % self.protocol.seq_modulus
            stats.decisions_missing += ahead if ahead < self.protocol.seq_modulus // 2 else 0
        self._last_decision_seq = f.seq
        raw = -1 if f.class_index is None else f.class_index
        end = self.decoder.session_start + f.sample_index
        last_index, last_ns = self._last_acquired
        acquired = (int(last_ns - (last_index - end) * 1e9 / self.info.fs)
                    if 0 <= end <= last_index else t_recv)
        d = Decision(end, f.class_index, f.confidence, raw, f.probs, receive_time_ns=t_recv,
                     source="device", acquired_ns=acquired)
        self._last_device_end = max(self._last_device_end, d.end_sample)
        return self._emit(d)

    # -- the summary ---------------------------------------------------------------------------
    def windows_in_gaps(self) -> int:
        """Window-grid positions up to the last sample received that got no decision (gaps and
        warm-ups): every received sample was pushed or waits for a window end not reached."""
        if self.model is None:
            return 0
        w, hop, last = self.model.window, self.model.hop, self.decoder.next_sample - 1
        grid = (last - (w - 1)) // hop + 1 if last >= w - 1 else 0
        return grid - self.summary.decisions

    def report(self) -> dict:
        s, st = self.summary, self.framer.stats
        return {"device": self.device_info.describe() if self.device_info else
                f"no device info ({self.info.describe()} assumed)",
                "decisions": s.decisions, "rejected": s.rejected,
                "device_decisions": s.device_decisions, "samples": s.samples,
                "frames_ok": st.frames_ok, "frames_missing": st.frames_missing,
                "samples_missing": s.samples_missing, "crc_errors": st.crc_errors,
                "bad_frames": st.bad_frames, "overlaps": st.overlaps,
                "unknown_frames": st.unknown_frames, "garbage_bytes": st.garbage_bytes,
                "duplicates": st.duplicates, "device_restarts": st.restarts,
                "wrong_channel_count": st.wrong_channel_count,
                "decisions_missing": st.decisions_missing, "gaps": s.gaps,
                "outages": s.outages, "outages_of_unknown_length": self.decoder.unknown_outages,
                "stream_restarts": s.stream_restarts, "windows_in_gaps": self.windows_in_gaps(),
                "frames_without_info": self._held_frames(),
                "info_requests": self.info_requests,
                "latency_ms_p50": s.latency_ms(50), "latency_ms_p99": s.latency_ms(99)}
