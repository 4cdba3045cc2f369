"""The one preprocessing path, shared by training, export, benchmarks and the live stream.

``Preprocessor.push(chunk)`` = causal filter (carried state) → windower → optional normaliser.
Offline code pushes a whole recording in one call; the live loop pushes whatever arrived.
The spec serialises to plain JSON so it can travel inside an exported artifact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgekd.signal.filters import CausalFilter, FilterSpec
from edgekd.signal.normalize import ChannelNormalizer
from edgekd.signal.windows import StreamingWindower, WindowSpec


@dataclass
class PreprocessSpec:
    """Everything needed to turn raw samples into model inputs."""

    fs: float
    n_chans: int
    window: WindowSpec
    filters: FilterSpec = field(default_factory=FilterSpec)
    normalizer: ChannelNormalizer | None = None

    def to_dict(self) -> dict:
        return {"fs": self.fs, "n_chans": self.n_chans,
                "window": self.window.window, "hop": self.window.hop,
                "filters": self.filters.to_dict(),
                "normalizer": self.normalizer.to_dict() if self.normalizer else None}

    @classmethod
    def from_dict(cls, d: dict) -> "PreprocessSpec":
        norm = ChannelNormalizer.from_dict(d["normalizer"]) if d.get("normalizer") else None
        return cls(float(d["fs"]), int(d["n_chans"]), WindowSpec(int(d["window"]), int(d["hop"])),
                   FilterSpec.from_dict(d["filters"]), norm)


class Preprocessor:
    """Stateful raw-samples → windows transform. One instance per continuous stream."""

    def __init__(self, spec: PreprocessSpec):
        self.spec = spec
        self.filter = CausalFilter(spec.filters, spec.fs, spec.n_chans)
        self.windower = StreamingWindower(spec.window, spec.n_chans)

    def push(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw ``[n, n_chans]`` in physical units → (windows ``[k, n_chans, window]``, end
        sample indices ``[k]``), normalised when the spec has a normaliser."""
        windows, ends = self.windower.push(self.filter.process(chunk))
        if self.spec.normalizer is not None and len(windows):
            windows = self.spec.normalizer.transform_inplace(windows)  # a fresh array: ours
        return windows, ends

    def reset(self) -> None:
        self.filter.reset()
        self.windower = StreamingWindower(self.spec.window, self.spec.n_chans)
