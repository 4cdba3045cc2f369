"""``edgekd-v1``: the first armband wire protocol (firmware_bridge/PROTOCOL.md), kept so devices
running its firmware keep working; new firmware uses ``edgekd-v2``.

=======  =====  =================================================================
offset   size   field (little-endian)
=======  =====  =================================================================
0        2      sync ``0xA5 0x5A``
2        1      version (1)
3        1      type: 0x01 data, 0x02 device info, 0x10 command
4        2      payload length N (u16, <= 4096)
6        N      payload (per type, below)
6+N      2      CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over bytes 2 .. 6+N-1
=======  =====  =================================================================

Data payload: seq u16 (wraps) | device time µs u32 (wraps) | n_chans u8 | samples per frame
u8 | sample format u8 (1 = int16, 2 = int24) | reserved u8 | samples, sample-major, signed.
Info payload: n_chans u8 | fs f32 | µV per LSB f32 | firmware major, minor, patch u8 | name
(UTF-8, rest of payload). Command payload: opcode u8 (1 start, 2 stop, 3 set rate + u32 Hz,
4 query info) | arguments.

Framing (sync, CRC, resync, the overlap check) is :mod:`firmware_bridge.protocols.framing`;
sequence gaps are counted by :mod:`firmware_bridge.decoder`.
"""

from __future__ import annotations

import binascii
import struct

import numpy as np

from firmware_bridge.protocols import edgekd_payloads as p
from firmware_bridge.protocols.base import Handshake, register_protocol
from firmware_bridge.protocols.edgekd_payloads import (  # noqa: F401  (the v1 names, public)
    CMD_QUERY_INFO, CMD_SET_RATE, CMD_START, CMD_STOP, FMT_INT16, FMT_INT24, TYPE_COMMAND,
    TYPE_DATA, TYPE_INFO, pack_samples, unpack_samples)
from firmware_bridge.protocols.framing import SYNC, BadPayload, FrameFormat, SyncFramer
from firmware_bridge.types import DeviceInfo

VERSION = 1
HEADER, CRC_SIZE, DATA_HEADER = 6, 2, 10
MAX_PAYLOAD = 4096
_DATA_HDR = struct.Struct("<HIBBBB")


def crc16(data) -> int:
    """CRC-16/CCITT-FALSE, from the standard library (binascii.crc_hqx)."""
    return binascii.crc_hqx(data, 0xFFFF)


FORMAT = FrameFormat(VERSION, CRC_SIZE, crc16, MAX_PAYLOAD,
                     frozenset({TYPE_DATA, TYPE_INFO, TYPE_COMMAND}))


def pack_frame(frame_type: int, payload: bytes) -> bytes:
    return FORMAT.pack(frame_type, payload)


def encode_data(seq: int, device_time_us: int, samples: np.ndarray,
                sample_format: int = FMT_INT16) -> bytes:
    return pack_frame(TYPE_DATA, p.data_payload(_DATA_HDR, seq, device_time_us, samples,
                                                sample_format, MAX_PAYLOAD))


def encode_info(info: DeviceInfo) -> bytes:
    return pack_frame(TYPE_INFO, p.info_payload(info))


def encode_command(opcode: int, argument: int | None = None) -> bytes:
    return pack_frame(TYPE_COMMAND, p.command_payload(opcode, argument))


def _parse(ftype: int, payload: memoryview):
    if ftype == TYPE_DATA:
        return p.parse_data(_DATA_HDR, payload)
    if ftype == TYPE_INFO:
        return p.parse_info(payload)
    if ftype == TYPE_COMMAND:
        p.parse_command(payload)       # validated; a host has no use for commands
        return None
    raise BadPayload(f"type {ftype:#x}")  # unreachable: the framer admits known types only


def EdgekdV1Framer() -> SyncFramer:  # noqa: N802  (kept as a factory under its old name)
    """bytes → frames for edgekd-v1."""
    return SyncFramer(FORMAT, _parse)


@register_protocol
class EdgekdV1:
    name = "edgekd-v1"
    default_baudrate = 921600
    seq_modulus = 1 << 16
    fixed_samples_per_frame = None
    has_device_time = True
    duplicate_window = 8        # a link or firmware may repeat a recent frame
    self_restarts = True        # a reboot mid-stream counts from 0 again
    can_end = False
    fixed_info = None

    def framer(self) -> SyncFramer:
        return EdgekdV1Framer()

    def max_samples_per_frame(self, n_chans: int) -> int:
        return min(255, (MAX_PAYLOAD - DATA_HEADER) // (2 * n_chans))

    def encode_frame(self, seq: int, device_time_us: int, samples: np.ndarray) -> bytes:
        return encode_data(seq, device_time_us, samples)

    def encode_info(self, info: DeviceInfo) -> bytes:
        return encode_info(info)

    def encode_end(self) -> bytes:
        return b""  # v1 has no end-of-stream frame: a finished device just goes quiet

    def handshake(self) -> Handshake:
        """Ask for the device info (the bridge configures itself from it), then start."""
        return Handshake(b"", b"", encode_command(CMD_QUERY_INFO) + encode_command(CMD_START))

    def query_info(self) -> bytes:
        """Sent again when data arrives and the info reply has not (it may have been lost)."""
        return encode_command(CMD_QUERY_INFO)

    def stop_command(self) -> bytes:
        return encode_command(CMD_STOP)

    def device(self, info: DeviceInfo) -> p.EdgekdDevice:
        return p.EdgekdDevice(FORMAT, info, encode_info)


__all__ = ["SYNC", "EdgekdV1", "EdgekdV1Framer", "crc16", "encode_command", "encode_data",
           "encode_info"]
