"""What flows through the live path (DESIGN §3): bytes → Frame → SampleBlock."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class DeviceInfo:
    """What a device says about itself; the bridge configures itself from it."""

    n_chans: int
    fs: float
    scale_uv: float                 # microvolts per LSB
    firmware: str = "unknown"
    name: str = ""


@dataclass
class Frame:
    """One validated frame: sequence number, device timestamp and raw integer samples."""

    seq: int
    device_time_us: int
    samples: np.ndarray            # int32 [samples_per_frame, n_chans]
    kind: str = "data"             # data | info
    info: DeviceInfo | None = None


@dataclass
class SampleBlock:
    """Samples in physical units with where they sit in the stream."""

    first_sample: int              # absolute index of samples[0] since the stream started
    samples: np.ndarray            # float32 [n, n_chans], microvolts
    seq: int
    device_time_us: int
    receive_time_ns: int = 0


@dataclass
class GapEvent:
    """Frames that never arrived (dropped, corrupted, or an outage)."""

    first_sample: int
    missing_frames: int
    missing_samples: int


@dataclass
class LinkStats:
    """Counters a framer keeps; nothing is lost silently."""

    bytes_in: int = 0
    frames_ok: int = 0
    crc_errors: int = 0
    garbage_bytes: int = 0          # skipped while looking for a frame start
    frames_missing: int = 0         # from sequence gaps (wrap-around included)
    duplicates: int = 0
    extra: dict = field(default_factory=dict)
