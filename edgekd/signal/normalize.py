"""Per-channel standardisation fitted on training windows only and stored in artifacts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ChannelNormalizer:
    """``(x - mean) / std`` per channel; ``mean``/``std`` float32 ``[n_chans]``."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, windows: np.ndarray, eps: float = 1e-6) -> "ChannelNormalizer":
        """Fit on training windows ``[n_windows, n_chans, n_times]``."""
        if windows.ndim != 3 or len(windows) == 0:
            raise ValueError(f"fit needs windows [n, n_chans, n_times], got {windows.shape}")
        x = windows.astype(np.float64)
        mean = x.mean(axis=(0, 2))
        std = x.std(axis=(0, 2))
        return cls(mean.astype(np.float32), np.maximum(std, eps).astype(np.float32))

    def transform(self, windows: np.ndarray) -> np.ndarray:
        """Normalise windows ``[..., n_chans, n_times]`` (channel-major, DESIGN §3)."""
        return ((windows - self.mean[:, None]) / self.std[:, None]).astype(np.float32)

    def transform_inplace(self, windows: np.ndarray) -> np.ndarray:
        """:meth:`transform` for a float32 array the caller owns: the same float32 operations
        in the same order (so the same bits), without temporaries."""
        np.subtract(windows, self.mean[:, None], out=windows)
        np.divide(windows, self.std[:, None], out=windows)
        return windows

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "ChannelNormalizer":
        return cls(np.asarray(d["mean"], dtype=np.float32), np.asarray(d["std"], dtype=np.float32))
