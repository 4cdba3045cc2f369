"""Voltage units as recordings and streams spell them, and their size in microvolts (the unit
of the live path). Plain data: imported by readers and by firmware_bridge alike."""

from __future__ import annotations

UNIT_TO_UV = {"microvolts": 1.0, "microvolt": 1.0, "uv": 1.0, "µv": 1.0, "μv": 1.0,
              "millivolts": 1e3, "millivolt": 1e3, "mv": 1e3, "volts": 1e6, "volt": 1e6,
              "v": 1e6}


def microvolts_per(unit: str) -> float | None:
    """µV per ``unit`` (case-insensitive), or None when ``unit`` is not a voltage we know."""
    return UNIT_TO_UV.get(unit.strip().lower())
