"""Wire protocols, one module each, registered by name."""

from firmware_bridge.protocols import cyton, edgekd_v1, edgekd_v2  # noqa: F401  (registers)
from firmware_bridge.protocols.base import PROTOCOLS

__all__ = ["PROTOCOLS"]
