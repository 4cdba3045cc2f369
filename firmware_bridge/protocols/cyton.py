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

Commands, as the Cyton firmware (v3) answers them and BrainFlow's Cyton driver expects: ``v``
soft-resets the board, which answers with its banner ending in ``$$$`` (BrainFlow waits for
it before anything else); ``d`` restores channel defaults (``...$$$``); ``b`` starts streaming,
``s`` stops.
"""

from __future__ import annotations

import numpy as np

from firmware_bridge.protocols.base import Command, Handshake, register_protocol
from firmware_bridge.types import DeviceInfo, Frame, LinkStats

HEADER, PACKET = 0xA0, 33
N_CHANS, FS = 8, 250.0
EOT = b"$$$"
BANNER = (b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n"
          b"LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n" + EOT)
DEFAULTS_REPLY = b"updating channel settings to default" + EOT


def cyton_scale_uv(gain: float = 24.0) -> float:
    return 4.5 / gain / (2 ** 23 - 1) * 1e6


class CytonFramer:
    """bytes → one-sample frames; pure, never raises."""

    def __init__(self):
        self.stats = LinkStats()
        self._buf = bytearray()

    def reset(self) -> None:
        self.stats.garbage_bytes += len(self._buf)
        self._buf.clear()

    def flush(self) -> None:
        self.reset()

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
            self.stats.frame_bytes += PACKET
            pos += PACKET
        del buf[:pos]
        return frames

    def _parse(self, packet: bytes) -> Frame:
        self.stats.frames_ok += 1
        b = np.frombuffer(packet, dtype=np.uint8, count=24, offset=2).reshape(8, 3).astype(np.int32)
        v = (b[:, 0] << 16) | (b[:, 1] << 8) | b[:, 2]
        return Frame(packet[1], None, (v - ((v & 0x800000) << 1))[None, :])


def encode_packet(counter: int, counts: np.ndarray, footer: int = 0xC0) -> bytes:
    c = np.asarray(counts, dtype=np.int64).reshape(N_CHANS) & 0xFFFFFF
    body = np.stack([(c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF], axis=1).astype(np.uint8)
    return bytes([HEADER, counter & 0xFF]) + body.tobytes() + bytes(6) + bytes([footer])


class CytonDevice:
    """The board's end of the command channel (single-byte commands, ASCII replies)."""

    def feed(self, data: bytes) -> tuple[bytes, list[Command]]:
        reply, out = b"", []
        for byte in data:
            if byte == ord("v"):
                reply += BANNER
                out.append(Command.STOP)   # a soft reset stops streaming
            elif byte == ord("d"):
                reply += DEFAULTS_REPLY
            elif byte == ord("b"):
                out.append(Command.START)
            elif byte == ord("s"):
                out.append(Command.STOP)
        return reply, out


@register_protocol
class Cyton:
    name = "cyton"
    default_baudrate = 115200
    seq_modulus = 256
    fixed_samples_per_frame = 1
    has_device_time = False
    duplicate_window = 0        # a Cyton never sends a packet twice
    self_restarts = False       # it streams only after the host's 'b'
    can_end = False
    fixed_info = DeviceInfo(N_CHANS, FS, cyton_scale_uv(), "3.1.2", "OpenBCI Cyton")

    def framer(self) -> CytonFramer:
        return CytonFramer()

    def max_samples_per_frame(self, n_chans: int) -> int:
        return 1

    def encode_frame(self, seq: int, device_time_us: int, samples: np.ndarray) -> bytes:
        return b"".join(encode_packet(seq + i, s) for i, s in enumerate(samples))

    def encode_info(self, info: DeviceInfo) -> bytes:
        return b""  # a Cyton does not describe itself: its layout is fixed

    def encode_end(self) -> bytes:
        return b""

    def handshake(self) -> Handshake:
        """What BrainFlow does: soft reset, wait for ``$$$``, then start."""
        return Handshake(b"v", EOT, b"b")

    def query_info(self) -> bytes:
        return b""  # a Cyton's layout is fixed (fixed_info)

    def stop_command(self) -> bytes:
        return b"s"

    def device(self, info: DeviceInfo) -> CytonDevice:
        return CytonDevice()
