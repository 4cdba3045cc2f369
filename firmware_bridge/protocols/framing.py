"""The framer shared by edgekd-v1 and edgekd-v2: sync word, version, type, length, payload, CRC.

A candidate frame is accepted only when all of these hold:

1. sync, version and length are plausible (and, for v1, the type is one v1 knows);
2. its CRC matches;
3. no intact frame starts inside it and runs past its end. A frame that lost a byte borrows
   the first bytes of its neighbour; if its CRC still passes by chance, this check gives the
   bytes back to the neighbour, so a damaged frame costs only itself. (When the two share no
   more than a sync word, both are kept: then a lost byte was replaced by an identical one and
   both carry what was sent.) When the frame that might start inside is not complete yet, the
   framer waits for it before deciding;
4. its payload agrees with its own layout (every length is checked before anything is read).

Any failure moves one byte on and searches again. ``feed`` never raises, whatever the bytes.
Memory is bounded: a buffer never holds more than one maximum-size frame plus one chunk.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from firmware_bridge.types import AnyFrame, DecisionFrame, Frame, LinkStats

SYNC = b"\xa5\x5a"
HEADER = 6                       # sync 2, version 1, type 1, payload length 2
_HDR = struct.Struct("<BBH")     # version, type, length (after the sync word)


class BadPayload(Exception):
    """A payload whose CRC passed but whose layout contradicts itself (counted, dropped)."""


@dataclass(frozen=True)
class FrameFormat:
    """One protocol version's framing."""

    version: int
    crc_size: int
    crc: Callable[[bytes | memoryview], int]
    max_payload: int
    known_types: frozenset[int] | None   # None: any type is framed (unknown ones are skipped)

    def crc_bytes(self, body: bytes) -> bytes:
        return self.crc(body).to_bytes(self.crc_size, "little")

    def pack(self, frame_type: int, payload: bytes) -> bytes:
        if len(payload) > self.max_payload:
            raise ValueError(f"a {len(payload)}-byte payload exceeds the maximum of "
                             f"{self.max_payload}")
        body = _HDR.pack(self.version, frame_type, len(payload)) + payload
        return SYNC + body + self.crc_bytes(body)


Parser = Callable[[int, memoryview], "AnyFrame | None"]


class SyncFramer:
    """bytes → frames for one :class:`FrameFormat`; pure (no I/O, no sleeping, no logging).

    ``parse(type, payload)`` turns a validated payload into a frame (None: handled, e.g. a
    command kept aside) and raises :class:`BadPayload` when the layout is wrong."""

    def __init__(self, fmt: FrameFormat, parse: Parser):
        self.fmt, self.parse = fmt, parse
        self.stats = LinkStats()
        self._buf = bytearray()
        self._crc_field = struct.Struct("<H" if fmt.crc_size == 2 else "<I")
        self._need = 0          # buffer length before which a new scan cannot decide anything
        self._wait_until = 0    # set by the scan when it has to wait (absolute buffer index)

    def reset(self) -> None:
        """Forget a half-received frame (the link was reopened): its bytes count as garbage."""
        self.stats.garbage_bytes += len(self._buf)
        self._buf.clear()
        self._need = 0

    def flush(self) -> None:
        """End of stream: whatever is still buffered never became a frame."""
        self.reset()

    def feed(self, data: bytes) -> list[AnyFrame]:
        self.stats.bytes_in += len(data)
        buf, old = self._buf, len(self._buf)
        buf += data
        # A read returns whatever has arrived: a frame comes in many pieces (64-byte USB
        # packets). Until the bytes the last scan waited for are here, a scan decides nothing,
        # unless the new bytes hold a sync word (a frame the look-ahead must see): skip it.
        # (Re-scanning cost ~10 µs per piece: 2.5 ms per 2 KB frame fed 8 bytes at a time.)
        if len(buf) < self._need and buf.find(SYNC, old - 1 if old else 0) < 0:
            return []
        frames: list[AnyFrame] = []
        with memoryview(buf) as view:
            pos = self._scan(view, frames)
        del buf[:pos]  # one compaction per call keeps feeding linear in the input size
        self._need = self._wait_until - pos
        return frames

    # -- the scan ---------------------------------------------------------------------------
    def _scan(self, view: memoryview, frames: list) -> int:
        buf, stats, pos = self._buf, self.stats, 0
        while True:
            start = buf.find(SYNC, pos)
            if start < 0:
                keep = 1 if buf[-1:] == SYNC[:1] else 0
                stats.garbage_bytes += len(buf) - keep - pos
                self._wait_until = len(buf) - keep   # nothing to wait for
                return len(buf) - keep
            stats.garbage_bytes += start - pos
            pos = start
            verdict = self._candidate(view, pos)
            if verdict is None:          # cannot decide before more bytes arrive
                return pos
            total, resume = verdict
            if total == 0:               # not a frame here: ``resume`` bytes are garbage
                stats.garbage_bytes += resume
            else:
                self._accept(view, pos, pos + total, resume, frames)
            pos += resume

    def _candidate(self, view: memoryview, pos: int) -> tuple[int, int] | None:
        """``(length, resume)`` of a valid frame at ``pos`` (the scan goes on ``resume`` bytes
        later); ``(0, n)`` when no frame starts here and ``n >= 1`` bytes are garbage; None to
        wait for more bytes."""
        total = self._complete_length(pos)
        if total is None:
            self._wait_until = pos + HEADER
            return None
        if total < 0:
            return 0, 1
        if len(self._buf) - pos < total:
            ahead = self._next_valid(view, pos + 1)   # a bad length must not hold the link up
            if ahead < 0:
                self._wait_until = min(self._wait_until, pos + total)
                return None
            self.stats.crc_errors += 1
            return 0, ahead - pos
        if not self._crc_ok(view, pos, total):
            self.stats.crc_errors += 1
            return 0, 1
        inside = self._frame_inside(view, pos, pos + total)
        if inside is None:
            return None
        if inside == 0:
            return total, total
        if pos + total - inside <= len(SYNC):
            # Both valid, sharing at most a sync word: a byte lost at the boundary of one frame
            # was replaced by an identical byte of the other (a 1-in-256 coincidence), so both
            # carry what was sent. Keep both: the damage then costs nothing at all.
            self.stats.shared_sync_words += 1
            return total, inside - pos
        self.stats.overlaps += 1
        return 0, inside - pos   # it borrowed more than a sync word: the inside frame wins

    def _complete_length(self, pos: int) -> int | None:
        """Total frame length promised by a plausible header at ``pos``; -1 when implausible,
        None when the header itself has not arrived."""
        buf, fmt = self._buf, self.fmt
        if len(buf) - pos < HEADER:
            return None
        version, ftype, length = _HDR.unpack_from(buf, pos + 2)
        if version != fmt.version or length > fmt.max_payload or (
                fmt.known_types is not None and ftype not in fmt.known_types):
            return -1
        return HEADER + length + fmt.crc_size

    def _crc_ok(self, view: memoryview, pos: int, total: int) -> bool:
        size = self.fmt.crc_size
        (got,) = self._crc_field.unpack_from(self._buf, pos + total - size)
        return got == self.fmt.crc(view[pos + 2:pos + total - size])

    def _frame_inside(self, view: memoryview, pos: int, end: int) -> int | None:
        """Start of an intact frame that begins inside [pos, end) and runs past ``end``; 0 if
        there is none; None if one might and has not fully arrived yet."""
        p = self._buf.find(SYNC, pos + 1, end + 1)
        while 0 <= p < end:
            total = self._complete_length(p)
            if total is None:
                self._wait_until = p + HEADER
                return None
            if total > 0 and p + total > end:
                if len(self._buf) - p < total:
                    self._wait_until = p + total
                    return None
                if self._crc_ok(view, p, total):
                    return p
            p = self._buf.find(SYNC, p + 1, end + 1)
        return 0

    def _next_valid(self, view: memoryview, start: int) -> int:
        """Start of the first complete frame with a valid CRC at or after ``start``, else -1
        (then ``_wait_until`` is the earliest length at which one of them could complete)."""
        buf, wait = self._buf, len(self._buf) + self.fmt.max_payload + HEADER + 8
        p = buf.find(SYNC, start)
        while p >= 0:
            total = self._complete_length(p)
            if total is None:
                self._wait_until = min(wait, p + HEADER)
                return -1
            if total > 0:
                if len(buf) - p < total:
                    wait = min(wait, p + total)
                elif self._crc_ok(view, p, total):
                    return p
            p = buf.find(SYNC, p + 1)
        self._wait_until = wait
        return -1

    def _accept(self, view: memoryview, pos: int, end: int, resume: int, frames: list) -> None:
        """Parse [pos, end); the first ``resume`` bytes are accounted for here (the rest, when
        shared with the next frame, are counted with it)."""
        ftype = self._buf[pos + 3]
        payload = view[pos + HEADER:end - self.fmt.crc_size]
        try:
            frame = self.parse(ftype, payload)
        except BadPayload:
            self.stats.bad_frames += 1
            self.stats.garbage_bytes += resume
            return
        self.stats.frame_bytes += resume
        if frame is not None:
            self.stats.frames_ok += type(frame) is Frame
            self.stats.decision_frames += type(frame) is DecisionFrame
            frames.append(frame)
