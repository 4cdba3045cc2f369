"""The protocol registry: one entry per wire protocol, each a pure framer and decoder."""

from __future__ import annotations

from typing import Protocol as _Protocol

from edgekd.registry import Registry
from firmware_bridge.types import DeviceInfo, Frame, LinkStats


class Framer(_Protocol):
    stats: LinkStats

    def feed(self, data: bytes) -> list[Frame]: ...


class WireProtocol(_Protocol):
    name: str
    default_baudrate: int

    def framer(self) -> Framer: ...

    def encode_frame(self, seq: int, device_time_us: int, samples) -> bytes: ...

    def start_command(self) -> bytes: ...

    def stop_command(self) -> bytes: ...

    def default_info(self) -> DeviceInfo: ...


PROTOCOLS: Registry[WireProtocol] = Registry("protocol")


def register_protocol(cls: type) -> type:
    PROTOCOLS.register(cls.name)(cls())
    return cls
