"""A fake model for live-path tests: the real causal filters and windows (edgekd.signal), then
nearest-centroid on per-channel log power; fitted on a synthetic recording. No onnxruntime."""

from __future__ import annotations

import numpy as np

from edgekd.data.synth import SynthConfig, synthesize
from edgekd.signal import (CausalFilter, FilterSpec, Preprocessor, PreprocessSpec, WindowSpec,
                           window_labels)
from firmware_bridge.types import StreamModel


def _features(windows: np.ndarray) -> np.ndarray:
    return np.log(np.mean(windows.astype(np.float64) ** 2, axis=2) + 1e-6)


class CentroidStream:
    def __init__(self, spec: PreprocessSpec, centroids: np.ndarray):
        self.pre, self.centroids = Preprocessor(spec), centroids
        self.pushes = 0

    def push(self, samples: np.ndarray):
        self.pushes += 1
        windows, ends = self.pre.push(samples)
        if len(windows) == 0:
            return ends, np.empty((0, len(self.centroids)), np.float32)
        d = ((_features(windows)[:, None, :] - self.centroids[None]) ** 2).sum(-1)
        z = np.exp(-(d - d.min(1, keepdims=True)))
        return ends, (z / z.sum(1, keepdims=True)).astype(np.float32)


def recording(seed: int = 5, fs: float = 200.0, channels: int = 8):
    ds = synthesize(SynthConfig(people=1, sessions=1, repetitions=2, hold_s=2.0, seed=seed,
                                fs=fs, channels=channels))
    return ds.recordings[0], ds.label_names


def centroid_model(rec, label_names, window: int = 52, hop: int = 5,
                   settle: int | None = None) -> StreamModel:
    spec = PreprocessSpec(rec.fs, rec.n_chans, WindowSpec(window, hop), FilterSpec())
    windows, ends = Preprocessor(spec).push(rec.signals)
    y, keep = window_labels(rec.labels, rec.repetition, ends, window)
    feats = _features(windows)
    classes = sorted(set(y[keep].tolist()))
    centroids = np.stack([feats[keep & (y == c)].mean(0) for c in classes])
    if settle is None:
        settle = CausalFilter(spec.filters, spec.fs, spec.n_chans).settle_samples(1e-2)
    return StreamModel(n_chans=rec.n_chans, fs=rec.fs, window=window, hop=hop,
                       label_names=tuple(label_names[c] for c in classes),
                       new_stream=lambda: CentroidStream(spec, centroids), settle_samples=settle)
