"""The protocol registry: one entry per wire protocol. A protocol is a pure framer and decoder
plus the capabilities the rest of the bridge asks for instead of testing its name: samples per
frame, sequence rules, the host's handshake, and the device end of the command channel (what
an emulator needs to behave like the real device)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol as _Protocol

import numpy as np

from edgekd.errors import ConfigError
from edgekd.registry import Registry
from firmware_bridge.types import AnyFrame, DeviceInfo, LinkStats


class Framer(_Protocol):
    stats: LinkStats

    def feed(self, data: bytes) -> list[AnyFrame]: ...

    def reset(self) -> None: ...

    def flush(self) -> None: ...


class Command(enum.Enum):
    """What a host asked of a device, as the device side of a protocol understood it."""

    START = "start"            # (re)start streaming: sequence numbers start at 0
    STOP = "stop"
    QUERY_INFO = "query_info"


class DeviceSide(_Protocol):
    """The device end of the command channel: host bytes in, reply bytes and commands out."""

    def feed(self, data: bytes) -> tuple[bytes, list[Command]]: ...


@dataclass(frozen=True)
class Handshake:
    """How a host brings a device up: write ``hello``, wait up to ``timeout_s`` for ``ready``
    (no wait when it is empty), then write ``start``."""

    hello: bytes
    ready: bytes
    start: bytes
    timeout_s: float = 5.0


class WireProtocol(_Protocol):
    name: str
    default_baudrate: int
    seq_modulus: int                       # sequence numbers wrap here
    fixed_samples_per_frame: int | None    # None: the device chooses (within the payload limit)
    has_device_time: bool                  # frames carry a free-running device clock
    duplicate_window: int                  # how far behind a repeated frame may come (0: the
                                           # device never repeats one)
    self_restarts: bool                    # it may count from 0 again without the host's
                                           # START (a reboot mid-stream)
    can_end: bool                          # the device can say "end of stream"
    fixed_info: DeviceInfo | None          # None: the device describes itself (info frame)

    def framer(self) -> Framer: ...

    def max_samples_per_frame(self, n_chans: int) -> int: ...

    def encode_frame(self, seq: int, device_time_us: int, samples: np.ndarray) -> bytes: ...

    def encode_info(self, info: DeviceInfo) -> bytes: ...

    def encode_end(self) -> bytes: ...

    def handshake(self) -> Handshake: ...

    def stop_command(self) -> bytes: ...

    def query_info(self) -> bytes: ...     # asks the device to describe itself (b"": fixed)

    def device(self, info: DeviceInfo) -> DeviceSide: ...


def check_samples_per_frame(protocol: WireProtocol, spf: int, n_chans: int) -> int:
    """The samples per frame a device of ``protocol`` sends for a requested ``spf``; raises
    ConfigError with the valid range."""
    if protocol.fixed_samples_per_frame is not None:
        return protocol.fixed_samples_per_frame
    top = protocol.max_samples_per_frame(n_chans)
    if not 1 <= spf <= top:
        raise ConfigError(f"--samples-per-frame {spf}: {protocol.name} with {n_chans} channels "
                          f"takes 1..{top} samples per frame")
    return spf


PROTOCOLS: Registry[WireProtocol] = Registry("protocol")


def register_protocol(cls: type) -> type:
    PROTOCOLS.register(cls.name)(cls())
    return cls
