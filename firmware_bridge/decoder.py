"""Frames → sample blocks in physical units, placed on one sample axis. Pure.

Sequence rules (PROTOCOL.md), per protocol (its ``seq_modulus``, ``has_device_time``,
``duplicate_window`` and ``self_restarts``). A frame one ahead of the last is the normal case.
Otherwise, in this order:

1. **the device clock, where the protocol has one**: the frame's time says where it sits
   relative to the last frame. If the counter agrees (the same position, modulo the sequence
   space), that position decides: at or before the last frame, a duplicate (dropped, however
   late); after it, a gap of exactly that many frames (even one longer than the sequence space
   can tell). If the clock says the frame is new but the counter disagrees, the device started
   counting again (a reboot): a restart, its data kept, the samples lost measured by the clock;
2. **the counter alone** (no clock, or a clock that says nothing believable): up to
   ``duplicate_window`` numbers behind is a duplicate (0: the device never repeats a frame, so
   nothing is); far behind, for a device that can restart on its own, is a restart of unknown
   length; anything else is a gap of (jump − 1) modulo the sequence space frames. A Cyton
   (8-bit counter, no clock, never repeats, never restarts without the host's 'b') thus counts
   every jump as a gap; a loss of 256 packets or more aliases and is counted modulo 256.

After the host's START the device counts from 0 again: the next frame starts a new session,
whatever its number, and the samples lost in between are measured with the clock when there is
one; otherwise the outage is counted as one of unknown length.
"""

from __future__ import annotations

import numpy as np

from firmware_bridge.types import DeviceInfo, Frame, GapEvent, LinkStats, SampleBlock

DUPLICATE_WINDOW = 8          # default: frames behind the last one still read as duplicates
MAX_GAP_S = 600.0             # a larger jump is not a believable gap: read it as a restart
CLOCK_TOLERANCE = 0.01        # relative error allowed between device clock and nominal rate
_WRAP_US = 1 << 32            # device time is a u32 count of microseconds

class BlockDecoder:
    """``decode(frame)`` → ``[GapEvent?, SampleBlock]``. The first frame seen is sample 0."""

    def __init__(self, info: DeviceInfo, seq_modulus: int, stats: LinkStats,
                 has_device_time: bool = True, duplicate_window: int = DUPLICATE_WINDOW,
                 self_restarts: bool = True):
        self.info, self.modulus, self.stats = info, seq_modulus, stats
        self.has_device_time = has_device_time
        self.duplicate_window, self.self_restarts = duplicate_window, self_restarts
        self._last_seq: int | None = None
        self._next_sample = 0          # host axis: index of the next sample
        self._clock_us: float | None = None   # device time just after the last sample
        self._restart = False
        self.session_start = 0         # host index of the device's sample 0 since its START
        self.unknown_outages = 0

    @classmethod
    def for_protocol(cls, protocol, info: DeviceInfo, stats: LinkStats) -> "BlockDecoder":
        """A decoder with ``protocol``'s sequence rules."""
        return cls(info, protocol.seq_modulus, stats, protocol.has_device_time,
                   protocol.duplicate_window, protocol.self_restarts)

    def restart(self) -> None:
        """The host sent START: the device counts from 0 again; keep whatever it sends."""
        self._restart = self._last_seq is not None

    def decode(self, frame: Frame) -> list[GapEvent | SampleBlock]:
        n = len(frame.samples)
        if frame.samples.shape[1] != self.info.n_chans:
            self.stats.wrong_channel_count += 1
            return []
        out: list[GapEvent | SampleBlock] = []
        if self._last_seq is None:
            self.session_start = -frame.seq * n
        elif self._restart:
            out += self._new_session(frame, n)
        elif (frame.seq - self._last_seq) % self.modulus != 1:
            before = self._place(frame, n)
            if before is None:
                self.stats.duplicates += 1
                return []
            out += before
        out.append(self._block(frame, n))
        return out

    def _place(self, frame: Frame, n: int) -> list[GapEvent] | None:
        """What comes before a frame that is not the next one: None (it is a duplicate), or
        the gap or restart events (see the module docstring for the rules)."""
        ahead = (frame.seq - self._last_seq) % self.modulus
        by_clock = self._clock_position(frame, n)
        if by_clock is not None:
            k = ahead + self.modulus * round((by_clock - ahead) / self.modulus)
            if abs(k - by_clock) <= 0.5 + CLOCK_TOLERANCE * abs(by_clock):   # they agree
                return None if k <= 0 else [self._gap(k - 1, (k - 1) * n)]
            if by_clock >= 0.5:       # new data, but the counter started again: a reboot
                self.stats.restarts += 1
                return self._new_session(frame, n)
        behind = self.modulus - ahead
        if self.duplicate_window and (ahead == 0 or behind <= self.duplicate_window):
            return None
        if self.self_restarts and (ahead >= self.modulus // 2 or
                                   (ahead - 1) * n > MAX_GAP_S * self.info.fs):
            self.stats.restarts += 1
            return self._new_session(frame, n)
        missing = (ahead - 1) % self.modulus
        return [self._gap(missing, missing * n)]

    def _clock_position(self, frame: Frame, n: int) -> float | None:
        """Where the device clock puts ``frame``, in frames after the last one (1: the next
        one; 0 or less: at or before the last); None without a clock or beyond MAX_GAP_S."""
        delta = self._clock_delta_us(frame)
        return None if delta is None else delta * self.info.fs / (1e6 * n) + 1

    def _new_session(self, frame: Frame, n: int) -> list[GapEvent]:
        self._restart = False
        lost = self._lost_by_clock(frame)
        gap = self._gap(round(lost / n) if lost else 0, lost or 0, known=lost is not None)
        self.session_start = self._next_sample - frame.seq * n
        return [gap]

    def _lost_by_clock(self, frame: Frame) -> int | None:
        """Samples the device made while we were not listening, from its clock; None if the
        protocol has no clock or the clock makes no sense (it was reset, or > MAX_GAP_S)."""
        delta = self._clock_delta_us(frame)
        if delta is None or delta < -0.5e6 / self.info.fs:   # the clock went back: reset
            return None
        return max(0, int(round(delta * self.info.fs / 1e6)))

    def _clock_delta_us(self, frame: Frame) -> float | None:
        """Device time of ``frame`` minus the time just after the last sample, µs, across the
        clock's wrap; None without a clock or when more than MAX_GAP_S apart."""
        if not self.has_device_time or self._clock_us is None or frame.device_time_us is None:
            return None
        delta = (frame.device_time_us - self._clock_us + _WRAP_US / 2) % _WRAP_US - _WRAP_US / 2
        return delta if abs(delta) <= MAX_GAP_S * 1e6 else None

    def _gap(self, frames: int, samples: int, known: bool = True) -> GapEvent:
        self.stats.frames_missing += frames
        if not known:
            self.unknown_outages += 1
        event = GapEvent(self._next_sample, frames, samples)
        self._next_sample += samples
        return event

    def _block(self, frame: Frame, n: int) -> SampleBlock:
        self._last_seq = frame.seq
        if frame.device_time_us is not None:
            self._clock_us = frame.device_time_us + n * 1e6 / self.info.fs
        samples = frame.samples.astype(np.float32)
        samples *= self.info.scale_uv   # in place: stays float32
        block = SampleBlock(self._next_sample, samples, frame.seq, frame.device_time_us)
        self._next_sample += n
        return block

    def place(self, samples: np.ndarray, missing_before: int = 0) -> list[GapEvent | SampleBlock]:
        """Samples a source delivers already decoded (float32 [n, n_chans], µV): placed after
        the last ones, behind a gap of ``missing_before`` samples the source says it lost."""
        if samples.shape[1] != self.info.n_chans:
            self.stats.wrong_channel_count += 1
            return []
        out: list[GapEvent | SampleBlock] = []
        if missing_before > 0:
            out.append(self._gap(0, missing_before))
        out.append(SampleBlock(self._next_sample, samples, -1, None))
        self._next_sample += len(samples)
        return out

    @property
    def next_sample(self) -> int:
        return self._next_sample
