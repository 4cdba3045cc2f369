"""``edgekd-v1``: the armband wire protocol (specified in firmware_bridge/PROTOCOL.md).

=======  =====  =================================================================
offset   size   field (little-endian)
=======  =====  =================================================================
0        2      sync ``0xA5 0x5A``
2        1      version (1)
3        1      type: 0x01 data, 0x02 device info, 0x10 command
4        2      payload length N (u16)
6        N      payload (per type, below)
6+N      2      CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over bytes 2 .. 6+N-1
=======  =====  =================================================================

Data payload: seq u16 (wraps) | device time µs u32 (wraps) | n_chans u8 | samples per frame
u8 | sample format u8 (1 = int16, 2 = int24) | reserved u8 | samples, sample-major, signed.
Info payload: n_chans u8 | fs f32 | µV per LSB f32 | firmware major, minor, patch u8 | name
(UTF-8, rest of payload). Command payload: opcode u8 (1 start, 2 stop, 3 set rate + u32 Hz,
4 query info) | arguments.

The framer validates sync, version, type, length and CRC; on any failure it skips one byte and
searches again (resync), so garbage and corrupted frames cost only themselves; while a candidate
frame is incomplete it looks ahead for an intact one, so a corrupted length field cannot hold
later frames back. Sequence gaps are counted by ``firmware_bridge.decoder``. Memory is bounded:
at most one maximum-size frame is buffered.
"""

from __future__ import annotations

import binascii
import struct

import numpy as np

from firmware_bridge.protocols.base import register_protocol
from firmware_bridge.types import DeviceInfo, Frame, LinkStats

SYNC = b"\xa5\x5a"
VERSION = 1
TYPE_DATA, TYPE_INFO, TYPE_COMMAND = 0x01, 0x02, 0x10
CMD_START, CMD_STOP, CMD_SET_RATE, CMD_QUERY_INFO = 1, 2, 3, 4
FMT_INT16, FMT_INT24 = 1, 2
HEADER, CRC_SIZE, DATA_HEADER = 6, 2, 10
MAX_PAYLOAD = 4096
_HDR = struct.Struct("<2sBBH")
_DATA_HDR = struct.Struct("<HIBBBB")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE, from the standard library (binascii.crc_hqx)."""
    return binascii.crc_hqx(data, 0xFFFF)


def pack_frame(frame_type: int, payload: bytes) -> bytes:
    body = struct.pack("<BBH", VERSION, frame_type, len(payload)) + payload
    return SYNC + body + struct.pack("<H", crc16(body))


def pack_samples(samples: np.ndarray, sample_format: int) -> bytes:
    s = np.asarray(samples, dtype=np.int32)
    if sample_format == FMT_INT16:
        return s.astype("<i2").tobytes()
    b = s.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]  # little-endian low 3 bytes
    return b.tobytes()


def unpack_samples(raw: bytes, n: int, n_chans: int, sample_format: int) -> np.ndarray:
    if sample_format == FMT_INT16:
        return np.frombuffer(raw, dtype="<i2").astype(np.int32).reshape(n, n_chans)
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    v = np.where(v & 0x800000, v - (1 << 24), v)
    return v.reshape(n, n_chans)


def encode_data(seq: int, device_time_us: int, samples: np.ndarray,
                sample_format: int = FMT_INT16) -> bytes:
    n, c = samples.shape
    size = DATA_HEADER + n * c * (2 if sample_format == FMT_INT16 else 3)
    if size > MAX_PAYLOAD:
        raise ValueError(f"{n} samples x {c} channels make a {size}-byte payload; the maximum "
                         f"is {MAX_PAYLOAD}: send fewer samples per frame")
    head = _DATA_HDR.pack(seq & 0xFFFF, device_time_us & 0xFFFFFFFF, c, n, sample_format, 0)
    return pack_frame(TYPE_DATA, head + pack_samples(samples, sample_format))


def encode_info(info: DeviceInfo) -> bytes:
    major, minor, patch = (int(x) for x in (info.firmware.split(".") + ["0", "0", "0"])[:3])
    payload = struct.pack("<BffBBB", info.n_chans, info.fs, info.scale_uv, major, minor, patch)
    return pack_frame(TYPE_INFO, payload + info.name.encode()[:32])


def encode_command(opcode: int, argument: int | None = None) -> bytes:
    payload = bytes([opcode]) + (struct.pack("<I", argument) if argument is not None else b"")
    return pack_frame(TYPE_COMMAND, payload)


def decode_command(payload: bytes) -> tuple[int, int | None]:
    arg = struct.unpack("<I", payload[1:5])[0] if len(payload) >= 5 else None
    return payload[0], arg


def _next_valid_frame(buf: bytearray, start: int) -> int:
    """Index of the first complete frame with a valid CRC at or after ``start``, else -1."""
    pos = buf.find(SYNC, start)
    while pos >= 0 and len(buf) - pos >= HEADER:
        _, version, ftype, length = _HDR.unpack_from(buf, pos)
        end = pos + HEADER + length + CRC_SIZE
        if version == VERSION and length <= MAX_PAYLOAD and end <= len(buf):
            (crc,) = struct.unpack_from("<H", buf, end - CRC_SIZE)
            if crc == crc16(bytes(buf[pos + 2:end - CRC_SIZE])):
                return pos
        pos = buf.find(SYNC, pos + 1)
    return -1


class EdgekdV1Framer:
    """bytes → frames; pure (no I/O, no sleeping, no logging)."""

    def __init__(self, accept_commands: bool = False):
        self.stats = LinkStats()
        self._buf = bytearray()
        self.accept_commands = accept_commands
        self.commands: list[tuple[int, int | None]] = []

    def feed(self, data: bytes) -> list[Frame]:
        self.stats.bytes_in += len(data)
        self._buf += data
        buf, pos, frames = self._buf, 0, []
        while True:
            start = buf.find(SYNC, pos)
            if start < 0:
                keep = 1 if buf.endswith(SYNC[:1]) else 0
                self.stats.garbage_bytes += len(buf) - keep - pos
                pos = len(buf) - keep
                break
            self.stats.garbage_bytes += start - pos
            pos = start
            if len(buf) - pos < HEADER:
                break
            _, version, ftype, length = _HDR.unpack_from(buf, pos)
            if version != VERSION or ftype not in (TYPE_DATA, TYPE_INFO, TYPE_COMMAND) \
                    or length > MAX_PAYLOAD:
                pos += 1  # not a frame start after all: resync one byte later
                self.stats.garbage_bytes += 1
                continue
            total = HEADER + length + CRC_SIZE
            if len(buf) - pos < total:
                # a corrupted length field could make us wait for up to 4 KiB: if an intact
                # frame already follows, this candidate is garbage
                ahead = _next_valid_frame(buf, pos + 1)
                if ahead < 0:
                    break
                self.stats.garbage_bytes += ahead - pos
                pos = ahead
                continue
            body = bytes(buf[pos + 2:pos + HEADER + length])
            (crc,) = struct.unpack_from("<H", buf, pos + HEADER + length)
            if crc != crc16(body):
                self.stats.crc_errors += 1
                self.stats.garbage_bytes += 1
                pos += 1
                continue
            pos += total
            frame = self._parse(ftype, body[4:])
            if frame is not None:
                frames.append(frame)
        del buf[:pos]  # one compaction per call keeps feeding linear in the input size
        return frames

    def _parse(self, ftype: int, payload: bytes) -> Frame | None:
        if ftype == TYPE_COMMAND:
            if self.accept_commands:
                self.commands.append(decode_command(payload))
            return None
        if ftype == TYPE_INFO:
            n, fs, scale, major, minor, patch = struct.unpack_from("<BffBBB", payload)
            info = DeviceInfo(n, fs, scale, f"{major}.{minor}.{patch}",
                              payload[12:].decode(errors="replace"))
            return Frame(-1, 0, np.empty((0, n), np.int32), kind="info", info=info)
        seq, t_us, n_chans, spf, fmt, _ = _DATA_HDR.unpack_from(payload)
        width = 2 if fmt == FMT_INT16 else 3
        raw = payload[DATA_HEADER:]
        if fmt not in (FMT_INT16, FMT_INT24) or len(raw) != n_chans * spf * width:
            self.stats.crc_errors += 1  # a frame whose CRC passed but whose layout is wrong
            return None
        self.stats.frames_ok += 1
        return Frame(seq, t_us, unpack_samples(raw, spf, n_chans, fmt))


@register_protocol
class EdgekdV1:
    name = "edgekd-v1"
    default_baudrate = 921600
    seq_modulus = 1 << 16

    def framer(self) -> EdgekdV1Framer:
        return EdgekdV1Framer()

    def encode_frame(self, seq: int, device_time_us: int, samples: np.ndarray) -> bytes:
        return encode_data(seq, device_time_us, samples)

    def start_command(self) -> bytes:
        """Ask for the device info (the bridge configures itself from it), then start."""
        return encode_command(CMD_QUERY_INFO) + encode_command(CMD_START)

    def stop_command(self) -> bytes:
        return encode_command(CMD_STOP)

    def query_command(self) -> bytes:
        return encode_command(CMD_QUERY_INFO)

    def default_info(self) -> DeviceInfo:
        return DeviceInfo(8, 200.0, 1.0, "1.0.0", "edgekd-v1")
