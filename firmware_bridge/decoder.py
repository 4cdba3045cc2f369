"""Frames → sample blocks in physical units, placed on one sample axis; sequence gaps (with
wrap-around) become GapEvents and duplicates are dropped. Pure."""

from __future__ import annotations

import numpy as np

from firmware_bridge.types import DeviceInfo, Frame, GapEvent, LinkStats, SampleBlock


class BlockDecoder:
    """``decode(frame)`` → ``[GapEvent?, SampleBlock]``. The first frame seen is sample 0."""

    def __init__(self, info: DeviceInfo, seq_modulus: int, stats: LinkStats):
        self.info, self.modulus, self.stats = info, seq_modulus, stats
        self._last_seq: int | None = None
        self._next_sample = 0

    def decode(self, frame: Frame, receive_time_ns: int = 0) -> list[GapEvent | SampleBlock]:
        n = len(frame.samples)
        if frame.samples.shape[1] != self.info.n_chans:
            self.stats.extra["wrong_channel_count"] = self.stats.extra.get(
                "wrong_channel_count", 0) + 1
            return []
        out: list[GapEvent | SampleBlock] = []
        if self._last_seq is not None:
            gap = (frame.seq - self._last_seq - 1) % self.modulus
            if gap >= self.modulus // 2:  # behind the last frame: duplicate or reordered
                self.stats.duplicates += 1
                return []
            if gap:
                self.stats.frames_missing += gap
                out.append(GapEvent(self._next_sample, gap, gap * n))
                self._next_sample += gap * n
        self._last_seq = frame.seq
        samples = frame.samples.astype(np.float32) * np.float32(self.info.scale_uv)
        out.append(SampleBlock(self._next_sample, samples, frame.seq, frame.device_time_us,
                               receive_time_ns))
        self._next_sample += n
        return out
