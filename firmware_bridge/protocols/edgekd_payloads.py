"""Payload codecs shared by edgekd-v1 and edgekd-v2 (layouts in firmware_bridge/PROTOCOL.md):
samples, device info, commands, and the device end of the command channel.

Every decoder checks each length against the payload before reading it and raises
:class:`BadPayload` (never ``struct.error`` or ``IndexError``) when the layout is wrong.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from firmware_bridge.protocols.base import Command
from firmware_bridge.protocols.framing import BadPayload, FrameFormat, SyncFramer
from firmware_bridge.types import DeviceInfo, Frame, InfoFrame

TYPE_DATA, TYPE_INFO, TYPE_DECISION, TYPE_END, TYPE_COMMAND = 0x01, 0x02, 0x03, 0x04, 0x10
CMD_START, CMD_STOP, CMD_SET_RATE, CMD_QUERY_INFO = 1, 2, 3, 4
FMT_INT16, FMT_INT24 = 1, 2
WIDTH = {FMT_INT16: 2, FMT_INT24: 3}
_INFO = struct.Struct("<BffBBB")
NAME_MAX = 32


def pack_samples(samples: np.ndarray, sample_format: int) -> bytes:
    s = np.asarray(samples, dtype=np.int32)
    if sample_format == FMT_INT16:
        return s.astype("<i2").tobytes()
    return s.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()  # low 3 bytes (LE)


def unpack_samples(raw, n: int, n_chans: int, sample_format: int) -> np.ndarray:
    """Raw little-endian samples → integers ``[n, n_chans]`` (int16 or int32), never a view
    of ``raw`` (the framer's buffer moves on)."""
    if sample_format == FMT_INT16:
        return np.frombuffer(bytes(raw), dtype="<i2").reshape(n, n_chans)  # read-only copy
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return (v - ((v & 0x800000) << 1)).reshape(n, n_chans)  # sign-extend 24 → 32 bits


def data_payload(head: struct.Struct, seq: int, device_time_us: int, samples: np.ndarray,
                 sample_format: int, max_payload: int) -> bytes:
    samples = np.asarray(samples)
    n, c = samples.shape
    size = head.size + n * c * WIDTH[sample_format]
    if not (1 <= n <= 255 and 1 <= c <= 255):
        raise ValueError(f"{n} samples x {c} channels: each must lie in 1..255")
    if size > max_payload:
        raise ValueError(f"{n} samples x {c} channels make a {size}-byte payload; the maximum "
                         f"is {max_payload}: send fewer samples per frame")
    seq_mask = (1 << (8 * (head.size - 8))) - 1   # u16 (v1) or u32 (v2) sequence number
    return head.pack(seq & seq_mask, device_time_us & 0xFFFFFFFF, c, n, sample_format, 0) + \
        pack_samples(samples, sample_format)


def parse_data(head: struct.Struct, payload: memoryview) -> Frame:
    if len(payload) < head.size:
        raise BadPayload("data payload shorter than its header")
    seq, t_us, n_chans, spf, fmt, _ = head.unpack_from(payload)
    width = WIDTH.get(fmt)
    if width is None or n_chans == 0 or spf == 0 or \
            len(payload) != head.size + n_chans * spf * width:
        raise BadPayload("data payload length does not match channels x samples x width")
    return Frame(seq, t_us, unpack_samples(payload[head.size:], spf, n_chans, fmt))


def info_payload(info: DeviceInfo, name_length_prefix: bool = False) -> bytes:
    """v1: the name is the rest of the payload; v2: a length byte precedes it, so fields can
    be appended later."""
    major, minor, patch = (int(x) for x in (info.firmware.split(".") + ["0", "0", "0"])[:3])
    name = info.name.encode()[:NAME_MAX]
    head = _INFO.pack(info.n_chans, info.fs, info.scale_uv, major, minor, patch)
    return head + (bytes([len(name)]) if name_length_prefix else b"") + name


def parse_info(payload: memoryview, name_length_prefix: bool = False) -> InfoFrame:
    if len(payload) < _INFO.size + name_length_prefix:
        raise BadPayload("info payload shorter than its fixed fields")
    n, fs, scale, major, minor, patch = _INFO.unpack_from(payload)
    if n == 0 or not (math.isfinite(fs) and fs > 0 and math.isfinite(scale) and scale > 0):
        raise BadPayload("info payload with no channels or a non-positive rate or scale")
    start = _INFO.size + name_length_prefix
    size = payload[_INFO.size] if name_length_prefix else NAME_MAX
    if name_length_prefix and (size > NAME_MAX or len(payload) < start + size):
        raise BadPayload("info name length runs past the payload")
    name = bytes(payload[start:start + size]).decode(errors="replace")
    return InfoFrame(DeviceInfo(n, float(fs), float(scale), f"{major}.{minor}.{patch}", name))


def command_payload(opcode: int, argument: int | None = None) -> bytes:
    return bytes([opcode]) + (struct.pack("<I", argument) if argument is not None else b"")


def parse_command(payload: memoryview) -> tuple[int, int | None]:
    if len(payload) < 1:
        raise BadPayload("empty command payload")
    arg = struct.unpack_from("<I", payload, 1)[0] if len(payload) >= 5 else None
    return payload[0], arg


_COMMANDS = {CMD_START: Command.START, CMD_STOP: Command.STOP, CMD_QUERY_INFO: Command.QUERY_INFO}


class EdgekdDevice:
    """The device end of edgekd-v1/v2's command channel (what an emulator needs): commands are
    frames of the same version; QUERY_INFO is answered with an info frame."""

    def __init__(self, fmt: FrameFormat, info: DeviceInfo, encode_info):
        self.fmt, self.info, self.encode_info = fmt, info, encode_info
        self.commands: list[tuple[int, int | None]] = []   # every command seen, raw
        self._framer = SyncFramer(fmt, self._parse)

    def _parse(self, ftype: int, payload: memoryview) -> None:
        if ftype == TYPE_COMMAND:
            self.commands.append(parse_command(payload))

    def feed(self, data: bytes) -> tuple[bytes, list[Command]]:
        seen = len(self.commands)
        self._framer.feed(data)
        reply, out = b"", []
        for opcode, _ in self.commands[seen:]:
            command = _COMMANDS.get(opcode)
            if command is Command.QUERY_INFO:
                reply += self.encode_info(self.info)
            if command is not None:
                out.append(command)
        return reply, out
