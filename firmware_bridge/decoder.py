"""Frames → sample blocks in physical units, placed on one sample axis. Pure.

Sequence rules (PROTOCOL.md): a frame one ahead of the last is the normal case; further ahead
is a gap (its frames are counted missing, wrap-around included); the same number or a few
behind is a duplicate (dropped); far behind means the device started counting again, as it
does after START or a reboot, and its data is kept. After a restart the samples lost in
between are measured with the device's free-running clock when the protocol has one;
otherwise the length of the outage is unknown and counted as such.
"""

from __future__ import annotations

import numpy as np

from firmware_bridge.types import DeviceInfo, Frame, GapEvent, LinkStats, SampleBlock

DUPLICATE_WINDOW = 8          # frames behind the last one that are still read as duplicates
MAX_GAP_S = 600.0             # a larger jump is not a believable gap: read it as a restart


class BlockDecoder:
    """``decode(frame)`` → ``[GapEvent?, SampleBlock]``. The first frame seen is sample 0."""

    def __init__(self, info: DeviceInfo, seq_modulus: int, stats: LinkStats,
                 has_device_time: bool = True):
        self.info, self.modulus, self.stats = info, seq_modulus, stats
        self.has_device_time = has_device_time
        self._last_seq: int | None = None
        self._next_sample = 0          # host axis: index of the next sample
        self._clock_us: float | None = None   # device time just after the last sample
        self._restart = False
        self.session_start = 0         # host index of the device's sample 0 since its START
        self.unknown_outages = 0

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
        else:
            ahead = (frame.seq - self._last_seq) % self.modulus
            behind = self.modulus - ahead
            if ahead == 0 or behind <= DUPLICATE_WINDOW:
                self.stats.duplicates += 1
                return []
            if ahead >= self.modulus // 2 or (ahead - 1) * n > MAX_GAP_S * self.info.fs:
                self.stats.restarts += 1
                out += self._new_session(frame, n)
            elif ahead > 1:
                out.append(self._gap(ahead - 1, (ahead - 1) * n))
        out.append(self._block(frame, n))
        return out

    def _new_session(self, frame: Frame, n: int) -> list[GapEvent]:
        self._restart = False
        lost = self._lost_by_clock(frame)
        gap = self._gap(round(lost / n) if lost else 0, lost or 0, known=lost is not None)
        self.session_start = self._next_sample - frame.seq * n
        return [gap]

    def _lost_by_clock(self, frame: Frame) -> int | None:
        """Samples the device made while we were not listening, from its clock; None if the
        protocol has no clock or the clock makes no sense (it was reset, or > MAX_GAP_S)."""
        if not self.has_device_time or self._clock_us is None or frame.device_time_us is None:
            return None
        delta_us = (frame.device_time_us - self._clock_us) % (1 << 32)
        lost = int(round(delta_us * self.info.fs / 1e6))
        if lost > MAX_GAP_S * self.info.fs:
            return None
        return lost

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
