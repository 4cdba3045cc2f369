"""The glue between an exported artifact and the live path: the caller loads the artifact and
hands firmware_bridge a :class:`~firmware_bridge.types.StreamModel` (firmware_bridge never
imports export internals; DESIGN §2)."""

from __future__ import annotations

from pathlib import Path

from edgekd.errors import ConfigError
from edgekd.signal import CausalFilter
from firmware_bridge.types import StreamModel

# After a gap the filters restart fresh; decisions wait until the impulse response has fallen
# below 1 % of its peak (68 samples at 200 Hz). Measured on synthetic EMG with 30-40 gaps:
# 1 % gave decisions identical to the fault-free run (largest probability difference 0.016);
# 3 % let differences of 0.25 through; 0.1 % only lengthened the dead time after each gap.
# tests/unit/firmware/test_consumer.py checks the agreement.
SETTLE_TOL = 1e-2


def load_stream_model(path: str | Path, hop: int | None = None, threads: int = 1,
                      cache_dir: str | Path | None = None,
                      self_check: bool | None = None) -> StreamModel:
    """An artifact as a :class:`StreamModel`: each ``new_stream()`` is a fresh
    ``StreamingPredictor`` (its own filter state) on one loaded predictor."""
    from export.runtime import StreamingPredictor, load

    if hop is not None and hop < 1:
        raise ConfigError(f"--hop {hop}: must be >= 1 sample")
    predictor = load(path, threads=threads, cache_dir=cache_dir, self_check=self_check)
    spec = predictor.spec
    settle = CausalFilter(spec.filters, spec.fs, spec.n_chans).settle_samples(SETTLE_TOL)
    return StreamModel(n_chans=spec.n_chans, fs=spec.fs, window=spec.window.window,
                       hop=hop or spec.window.hop, label_names=tuple(predictor.label_names),
                       new_stream=lambda: StreamingPredictor(predictor, hop),
                       settle_samples=settle,
                       channel_names=tuple(map(str, predictor.metadata.get("channels", ()))),
                       self_check=predictor.self_check.summary())
