"""What flows through the live path (DESIGN §3): bytes → frames → sample blocks → decisions.

Frames are small typed records, one class per kind, so a consumer dispatches on the type and
never on a string tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np


@dataclass
class DeviceInfo:
    """What a device says about itself; the bridge configures itself from it."""

    n_chans: int
    fs: float
    scale_uv: float                 # microvolts per LSB
    firmware: str = "unknown"
    name: str = ""

    def describe(self) -> str:
        return (f"{self.name} fw {self.firmware}, {self.n_chans} ch @ {self.fs:g} Hz, "
                f"{self.scale_uv:.4g} uV/LSB")


@dataclass
class Frame:
    """One validated data frame: sequence number, device timestamp and raw integer samples."""

    seq: int
    device_time_us: int | None      # None: the protocol carries no device clock (Cyton)
    samples: np.ndarray             # integers (int16 or int32) [samples_per_frame, n_chans]


@dataclass
class InfoFrame:
    """The device's answer to QUERY_INFO."""

    info: DeviceInfo


@dataclass
class DecisionFrame:
    """A decision made on the device (edgekd-v2): which class, how sure, for which sample."""

    seq: int                        # the device's own decision counter (+1 per decision)
    sample_index: int               # last sample of the window decided on, since START
    class_index: int | None         # None: the device rejected the window
    confidence: float
    probs: np.ndarray               # float32 [n_classes], may be empty


@dataclass
class EndFrame:
    """The device has nothing more to send (a finite source, e.g. a replayed recording)."""


AnyFrame = Frame | InfoFrame | DecisionFrame | EndFrame


@dataclass
class SampleBlock:
    """Samples in physical units with where they sit in the stream."""

    first_sample: int              # absolute index of samples[0] since the stream started
    samples: np.ndarray            # float32 [n, n_chans], microvolts
    seq: int
    device_time_us: int | None


@dataclass
class GapEvent:
    """Samples that never arrived (dropped or corrupted frames, or an outage)."""

    first_sample: int
    missing_frames: int
    missing_samples: int           # 0 when the length of an outage is unknown


@dataclass
class LinkStats:
    """Counters a framer and decoder keep; nothing is lost silently. Every byte received ends
    up in exactly one of: an accepted frame (``frame_bytes``), ``garbage_bytes``, or the
    framer's buffer (a frame still arriving)."""

    bytes_in: int = 0
    frame_bytes: int = 0
    frames_ok: int = 0              # data frames accepted
    crc_errors: int = 0             # candidates whose CRC failed or whose length ran into an
                                    # intact frame
    bad_frames: int = 0             # CRC passed but the layout contradicts itself (counted, dropped)
    overlaps: int = 0               # CRC passed but an intact frame starts inside: dropped
    shared_sync_words: int = 0      # CRC passed, and an intact frame starts inside but shares
                                    # no more than its sync word: both kept (see framing.py)
    unknown_frames: int = 0         # valid frames of a type this host does not know (skipped)
    garbage_bytes: int = 0          # bytes in no accepted frame
    frames_missing: int = 0         # from sequence gaps (wrap-around included)
    duplicates: int = 0
    restarts: int = 0               # the device started counting again (START, reboot)
    wrong_channel_count: int = 0
    decision_frames: int = 0
    decisions_missing: int = 0


class Stream(Protocol):
    """What the live path is handed to turn samples into probabilities (export.runtime's
    ``StreamingPredictor`` is one): ``push(samples [n, C] in µV) -> (end sample indices [k],
    probabilities [k, n_classes])``, windows counted from the first sample pushed."""

    def push(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class StreamModel:
    """A model handed to the live path by its caller (firmware_bridge never loads one): what
    input it expects and a factory of fresh streams (a fresh stream = fresh filter state)."""

    n_chans: int
    fs: float
    window: int                     # samples per window
    hop: int                        # samples between decisions
    label_names: tuple[str, ...]
    new_stream: Callable[[], Stream] = field(compare=False)
    settle_samples: int = 0         # samples a fresh stream's filters need to settle
    channel_names: tuple[str, ...] = ()   # what the model was trained on (may be empty)
    self_check: str = ""            # how the artifact's self-check went on this machine
