"""OpenBCI Cyton: 33-byte packets, 8 channels, 250 Hz, 115200 baud.

=======  =====  ====================================================
offset   size   field
=======  =====  ====================================================
0        1      header ``0xA0``
1        1      sample counter (u8, wraps at 256)
2        24     8 channels × 24-bit big-endian signed (two's complement)
26       6      aux data (accelerometer), ignored here
32       1      footer ``0xC0``–``0xC6``
=======  =====  ====================================================

µV per count = 4.5 V / gain / (2²³ − 1) × 10⁶ (gain 24 by default). There is no CRC: a packet is
accepted when its header and footer sit 32 bytes apart; otherwise the framer skips one byte and
searches again. Counter gaps (wrap-around at 256) are counted by ``firmware_bridge.decoder``.
Commands: ``b`` starts streaming, ``s`` stops.
"""

from __future__ import annotations

import numpy as np

from firmware_bridge.protocols.base import register_protocol
from firmware_bridge.types import DeviceInfo, Frame, LinkStats

HEADER, PACKET = 0xA0, 33
N_CHANS, FS = 8, 250.0


def cyton_scale_uv(gain: float = 24.0) -> float:
    return 4.5 / gain / (2 ** 23 - 1) * 1e6


class CytonFramer:
    def __init__(self):
        self.stats = LinkStats()
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self.stats.bytes_in += len(data)
        self._buf += data
        buf, pos, frames = self._buf, 0, []
        while True:
            start = buf.find(HEADER, pos)
            if start < 0:
                self.stats.garbage_bytes += len(buf) - pos
                pos = len(buf)
                break
            self.stats.garbage_bytes += start - pos
            pos = start
            if len(buf) - pos < PACKET:
                break
            if not 0xC0 <= buf[pos + PACKET - 1] <= 0xC6:
                self.stats.garbage_bytes += 1
                pos += 1
                continue
            frames.append(self._parse(bytes(buf[pos:pos + PACKET])))
            pos += PACKET
        del buf[:pos]
        return frames

    def _parse(self, packet: bytes) -> Frame:
        counter = packet[1]
        self.stats.frames_ok += 1
        b = np.frombuffer(packet[2:26], dtype=np.uint8).reshape(8, 3).astype(np.int32)
        v = (b[:, 0] << 16) | (b[:, 1] << 8) | b[:, 2]
        v = np.where(v & 0x800000, v - (1 << 24), v)
        return Frame(counter, 0, v[None, :])


def encode_packet(counter: int, counts: np.ndarray, footer: int = 0xC0) -> bytes:
    c = np.asarray(counts, dtype=np.int64).reshape(N_CHANS) & 0xFFFFFF
    body = np.stack([(c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF], axis=1).astype(np.uint8)
    return bytes([HEADER, counter & 0xFF]) + body.tobytes() + bytes(6) + bytes([footer])


@register_protocol
class Cyton:
    name = "cyton"
    default_baudrate = 115200
    seq_modulus = 256

    def framer(self) -> CytonFramer:
        return CytonFramer()

    def encode_frame(self, seq: int, device_time_us: int, samples: np.ndarray) -> bytes:
        return b"".join(encode_packet(seq + i, s) for i, s in enumerate(samples))

    def start_command(self) -> bytes:
        return b"b"

    def stop_command(self) -> bytes:
        return b"s"

    def query_command(self) -> bytes | None:
        return None

    def default_info(self) -> DeviceInfo:
        return DeviceInfo(N_CHANS, FS, cyton_scale_uv(), "cyton", "OpenBCI Cyton")
