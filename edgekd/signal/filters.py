"""Causal, stateful IIR filters (band-pass / high-pass, mains notch and harmonics).

``process(chunk)`` carries the second-order-section state between calls, so a recording filtered
in one call and the same recording fed in arbitrary chunks give the same output bit for bit
(DESIGN §4.3). The state starts at the steady state for the first sample seen, which removes the
DC step transient identically offline and live.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal as sps

from edgekd.errors import ConfigError

log = logging.getLogger(__name__)


def _load_kernel():
    """scipy's own C kernel behind sosfilt, or None. sosfilt's Python wrapper validates, moves
    axes and copies on every call (~40 µs), which dominated the live path that filters one
    4-sample frame at a time; calling the kernel on state we keep in its layout gives the same
    bits. It is private, so it is only used after :func:`_verified_kernel` accepted it."""
    try:
        from scipy.signal._sosfilt import _sosfilt
    except ImportError:
        return None
    return _sosfilt


def _verified_kernel(kernel):
    """``kernel`` if, on a small input with carried state, it gives exactly what the public
    ``sosfilt`` gives (output and final state); None if it raises or differs (a scipy that
    changed the private kernel's signature or layout then falls back to the public API)."""
    if kernel is None:
        return None
    rng = np.random.default_rng(0)
    sos = np.array([[0.2, 0.4, 0.2, 1.0, -0.5, 0.25],                 # 2 stable sections
                    [1.0, -2.0, 1.0, 1.0, -1.2, 0.5]])
    x = rng.normal(size=(3, 17))                                      # [C, n]
    zi = rng.normal(size=(3, len(sos), 2))                            # the kernel's layout
    want, zf = sps.sosfilt(sos, x, axis=1, zi=zi.transpose(1, 0, 2))
    got, state = np.array(x, order="C"), np.ascontiguousarray(zi)
    try:
        kernel(sos, got, state)
    except Exception:  # any failure of a private API means: do not use it
        return None
    if np.array_equal(got, want) and np.array_equal(state, zf.transpose(1, 0, 2)):
        return kernel
    return None


_sos_kernel = _verified_kernel(_load_kernel())
if _sos_kernel is None:
    log.warning("scipy's private sosfilt kernel is missing or disagrees with sosfilt: using the "
                "public sosfilt (same output, slower per call)")


@dataclass(frozen=True)
class FilterSpec:
    """What to filter; frequencies in Hz. ``None`` disables a stage."""

    highpass_hz: float | None = 20.0
    lowpass_hz: float | None = None
    notch_hz: float | None = 50.0
    notch_harmonics: bool = True
    notch_quality: float = 30.0
    order: int = 4

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FilterSpec":
        return cls(**d)


def design_sos(spec: FilterSpec, fs: float) -> np.ndarray:
    """Second-order sections for ``spec`` at ``fs``; raises ConfigError for impossible edges."""
    nyquist = fs / 2
    for name, f in (("highpass_hz", spec.highpass_hz), ("lowpass_hz", spec.lowpass_hz)):
        if f is not None and not 0 < f < nyquist:
            raise ConfigError(f"{name}={f} Hz must lie in (0, {nyquist}) Hz for fs={fs} Hz")
    sections = []
    lo, hi = spec.highpass_hz, spec.lowpass_hz
    if lo and hi:
        if lo >= hi:
            raise ConfigError(f"highpass_hz={lo} must be below lowpass_hz={hi}")
        sections.append(sps.butter(spec.order, [lo, hi], btype="bandpass", fs=fs, output="sos"))
    elif lo:
        sections.append(sps.butter(spec.order, lo, btype="highpass", fs=fs, output="sos"))
    elif hi:
        sections.append(sps.butter(spec.order, hi, btype="lowpass", fs=fs, output="sos"))
    for f0 in _notch_frequencies(spec, fs):
        b, a = sps.iirnotch(f0, spec.notch_quality, fs=fs)
        sections.append(sps.tf2sos(b, a))
    return np.concatenate(sections) if sections else np.empty((0, 6))


def _notch_frequencies(spec: FilterSpec, fs: float) -> list[float]:
    if spec.notch_hz is None:
        return []
    if not 0 < spec.notch_hz < fs / 2:
        return []  # mains above Nyquist cannot alias into a band we keep at this rate
    k_max = int((fs / 2 - 1e-9) // spec.notch_hz) if spec.notch_harmonics else 1
    return [spec.notch_hz * k for k in range(1, k_max + 1) if spec.notch_hz * k < fs / 2 - 1]


def settle_samples(sos: np.ndarray, tol: float = 1e-3, limit: int = 1 << 16) -> int:
    """Samples after which the cascade's impulse response stays below ``tol`` of its peak: how
    long a filter restarted mid-stream needs before its output matches an uninterrupted one."""
    if len(sos) == 0:
        return 0
    n = 256
    while True:
        impulse = np.zeros(n)
        impulse[0] = 1.0
        h = np.abs(sps.sosfilt(sos, impulse))
        above = np.flatnonzero(h > tol * h.max())
        if above[-1] < n - 1 or n >= limit:
            return int(above[-1]) + 1
        n *= 2


class CausalFilter:
    """A bank of identical causal filters, one per channel, with carried state."""

    def __init__(self, spec: FilterSpec, fs: float, n_chans: int):
        self.spec, self.fs, self.n_chans = spec, fs, n_chans
        self.sos = design_sos(spec, fs)
        self._zi_unit = sps.sosfilt_zi(self.sos) if len(self.sos) else None  # [sections, 2]
        self._state: np.ndarray | None = None   # [n_chans, sections, 2], the kernel's layout

    def reset(self) -> None:
        self._state = None

    def settle_samples(self, tol: float = 1e-3) -> int:
        """See :func:`settle_samples`."""
        return settle_samples(self.sos, tol)

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Filter ``chunk`` float ``[n_samples, n_chans]``; returns float32 of the same shape."""
        chunk = np.asarray(chunk)
        if chunk.ndim != 2 or chunk.shape[1] != self.n_chans:
            raise ValueError(f"expected [n_samples, {self.n_chans}], got {chunk.shape}")
        if self._zi_unit is None or len(chunk) == 0:
            return chunk.astype(np.float32)
        x = np.array(chunk.T, dtype=np.float64, order="C")  # [C, n], filtered in place
        if self._state is None:
            self._state = np.ascontiguousarray(self._zi_unit[None] * x[:, :1, None])
        if _sos_kernel is not None:
            _sos_kernel(self.sos, x, self._state)
        else:   # tested by forcing it (tests/unit/signal/test_filters.py)
            x, state = sps.sosfilt(self.sos, x, axis=1, zi=self._state.transpose(1, 0, 2))
            self._state = np.ascontiguousarray(state.transpose(1, 0, 2))
        return x.astype(np.float32).T
