"""``edgekd-v2``: the armband wire protocol (firmware_bridge/PROTOCOL.md). What changed from v1
and why: a CRC-32 (a frame with random damage passes with probability 2⁻³² instead of 2⁻¹⁶),
32-bit sequence numbers (an outage never aliases), on-device decisions, an end-of-stream frame,
and room to grow (unknown frame types are skipped, fields are only ever appended).

=======  =====  =================================================================
offset   size   field (little-endian)
=======  =====  =================================================================
0        2      sync ``0xA5 0x5A``
2        1      version (2)
3        1      type: 0x01 data, 0x02 info, 0x03 decision, 0x04 end, 0x10 command
4        2      payload length N (u16, <= 4096)
6        N      payload (per type, below)
6+N      4      CRC-32 (zlib/IEEE 802.3, reflected 0x04C11DB7) over bytes 2 .. 6+N-1
=======  =====  =================================================================

Data: seq u32 | device time µs u32 (free-running, wraps) | n_chans u8 | samples per frame u8
| sample format u8 (1 int16, 2 int24) | reserved u8 | samples, sample-major, signed.
Info: n_chans u8 | fs f32 | µV per LSB f32 | firmware major, minor, patch u8 | name length
u8 | name (UTF-8, <= 32 bytes) | (later fields).
Decision: seq u32 (own counter) | sample index u32 (last sample of the window, since START)
| class u8 (0xFF: rejected) | n_probs u8 | confidence f32 | n_probs × f32 | (later fields).
End: empty. Command: opcode u8 (1 start, 2 stop, 3 set rate + u32 Hz, 4 query info) | args.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from firmware_bridge.protocols import edgekd_payloads as p
from firmware_bridge.protocols.base import Handshake, register_protocol
from firmware_bridge.protocols.edgekd_payloads import (CMD_QUERY_INFO, CMD_SET_RATE,  # noqa: F401
                                                       CMD_START, CMD_STOP,
                                                       FMT_INT16, TYPE_COMMAND, TYPE_DATA,
                                                       TYPE_DECISION, TYPE_END, TYPE_INFO)
from firmware_bridge.protocols.framing import BadPayload, FrameFormat, SyncFramer
from firmware_bridge.types import DecisionFrame, DeviceInfo, EndFrame

VERSION = 2
CRC_SIZE, DATA_HEADER = 4, 12
MAX_PAYLOAD = 4096
NO_CLASS = 0xFF
_DATA_HDR = struct.Struct("<IIBBBB")
_DECISION = struct.Struct("<IIBBf")


def crc32(data) -> int:
    """CRC-32 as zlib computes it (the Ethernet/PNG CRC); the MCU side is edgekd_crc32()."""
    return zlib.crc32(data)


FORMAT = FrameFormat(VERSION, CRC_SIZE, crc32, MAX_PAYLOAD, None)


def encode_data(seq: int, device_time_us: int, samples: np.ndarray,
                sample_format: int = FMT_INT16) -> bytes:
    return FORMAT.pack(TYPE_DATA, p.data_payload(_DATA_HDR, seq, device_time_us, samples,
                                                 sample_format, MAX_PAYLOAD))


def encode_info(info: DeviceInfo) -> bytes:
    return FORMAT.pack(TYPE_INFO, p.info_payload(info, name_length_prefix=True))


def encode_decision(seq: int, sample_index: int, class_index: int | None, confidence: float,
                    probs=()) -> bytes:
    probs = np.asarray(probs, dtype="<f4").reshape(-1)
    cls = NO_CLASS if class_index is None else class_index
    head = _DECISION.pack(seq & 0xFFFFFFFF, sample_index & 0xFFFFFFFF, cls, len(probs),
                          confidence)
    return FORMAT.pack(TYPE_DECISION, head + probs.tobytes())


def encode_end() -> bytes:
    return FORMAT.pack(TYPE_END, b"")


def encode_command(opcode: int, argument: int | None = None) -> bytes:
    return FORMAT.pack(TYPE_COMMAND, p.command_payload(opcode, argument))


def parse_decision(payload: memoryview) -> DecisionFrame:
    if len(payload) < _DECISION.size:
        raise BadPayload("decision payload shorter than its fixed fields")
    seq, sample, cls, n_probs, confidence = _DECISION.unpack_from(payload)
    if len(payload) < _DECISION.size + 4 * n_probs:
        raise BadPayload("decision probabilities run past the payload")
    probs = np.frombuffer(payload, "<f4", n_probs, _DECISION.size).astype(np.float32)
    if not (0.0 <= confidence <= 1.0) or not np.all(np.isfinite(probs)) or \
            (cls != NO_CLASS and n_probs and cls >= n_probs):
        raise BadPayload("decision with a confidence outside [0, 1] or a class out of range")
    return DecisionFrame(seq, sample, None if cls == NO_CLASS else cls, float(confidence), probs)


def _parse(ftype: int, payload: memoryview):
    if ftype == TYPE_DATA:
        return p.parse_data(_DATA_HDR, payload)
    if ftype == TYPE_INFO:
        return p.parse_info(payload, name_length_prefix=True)
    if ftype == TYPE_DECISION:
        return parse_decision(payload)
    if ftype == TYPE_END:
        return EndFrame()
    if ftype == TYPE_COMMAND:
        p.parse_command(payload)
        return None
    return _UNKNOWN


_UNKNOWN = object()


class EdgekdV2Framer(SyncFramer):
    """bytes → frames for edgekd-v2; frames of a type this host does not know are counted in
    ``stats.unknown_frames`` and skipped (a newer device stays usable)."""

    def __init__(self):
        super().__init__(FORMAT, self._parse_known)

    def _parse_known(self, ftype: int, payload: memoryview):
        frame = _parse(ftype, payload)
        if frame is _UNKNOWN:
            self.stats.unknown_frames += 1
            return None
        return frame


@register_protocol
class EdgekdV2:
    name = "edgekd-v2"
    default_baudrate = 921600
    seq_modulus = 1 << 32
    fixed_samples_per_frame = None
    has_device_time = True
    duplicate_window = 8        # a link or firmware may repeat a recent frame
    self_restarts = True        # a reboot mid-stream counts from 0 again
    can_end = True
    fixed_info = None

    def framer(self) -> EdgekdV2Framer:
        return EdgekdV2Framer()

    def max_samples_per_frame(self, n_chans: int) -> int:
        return min(255, (MAX_PAYLOAD - DATA_HEADER) // (2 * n_chans))

    def encode_frame(self, seq: int, device_time_us: int, samples: np.ndarray) -> bytes:
        return encode_data(seq, device_time_us, samples)

    def encode_info(self, info: DeviceInfo) -> bytes:
        return encode_info(info)

    def encode_end(self) -> bytes:
        return encode_end()

    def handshake(self) -> Handshake:
        return Handshake(b"", b"", encode_command(CMD_QUERY_INFO) + encode_command(CMD_START))

    def query_info(self) -> bytes:
        """Sent again when data arrives and the info reply has not (it may have been lost)."""
        return encode_command(CMD_QUERY_INFO)

    def stop_command(self) -> bytes:
        return encode_command(CMD_STOP)

    def device(self, info: DeviceInfo) -> p.EdgekdDevice:
        return p.EdgekdDevice(FORMAT, info, encode_info)

