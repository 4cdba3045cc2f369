"""A synthetic sEMG armband: the embedded default data for ``edgekd demo`` and the tests.

Physiology, simplified but not sine waves:

* Six superficial forearm muscle groups sit at fixed angles around the forearm. Each gesture
  activates a subset of them at given levels (rest: a faint tone everywhere). Muscles share
  gestures, so classes overlap.
* Every repetition scales each muscle's level independently (lognormal, ``variability``) and
  adds some co-contraction, so no two repetitions of a gesture share a spatial pattern.
* Each active muscle is a band-limited Gaussian source (20–150 Hz, clipped below Nyquist)
  whose amplitude follows the activation envelope: rest, an onset ramp, a hold with slow
  force wobble, an offset ramp. The window between trials is unlabelled (-1).
* An electrode at angle θ sees muscle m through volume conduction, weight
  ``exp(κ (cos(θ − φ_m) − 1))``, so neighbouring channels are correlated.
* People differ in armband rotation, per-channel skin gains, anatomy (muscle angles, levels),
  noise floor and mains pickup; sessions add a small re-donning rotation; repetitions vary the
  contraction level; fatigue within a session raises amplitude and shifts power to lower
  frequencies. Mains interference (50 Hz default) and baseline wander are added.
* An optional paired modality, a denser electrode ring ("hd-emg") recorded at the same time from
  the same sources, supports cross-modal distillation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import signal as sps

from edgekd.data.recording import UNLABELLED, Dataset, Recording
from edgekd.errors import ConfigError

# (name, angle around the forearm in units of pi), volar side ~0..1, dorsal ~1..2
MUSCLES = [("FCR", 0.30), ("FDS", 0.55), ("FCU", 0.80), ("ECU", 1.20), ("EDC", 1.45),
           ("ECR", 1.70)]
# gesture name -> activation level per muscle (same order as MUSCLES); Myo-7 order first
GESTURES: list[tuple[str, tuple[float, ...]]] = [
    ("rest", (0.03, 0.03, 0.03, 0.03, 0.03, 0.03)),
    ("radial deviation", (0.60, 0.10, 0.00, 0.00, 0.10, 0.70)),
    ("wrist flexion", (0.70, 0.30, 0.70, 0.00, 0.00, 0.00)),
    ("ulnar deviation", (0.00, 0.10, 0.60, 0.70, 0.10, 0.00)),
    ("wrist extension", (0.00, 0.00, 0.00, 0.60, 0.40, 0.60)),
    ("hand close", (0.30, 0.80, 0.30, 0.10, 0.20, 0.10)),
    ("hand open", (0.05, 0.05, 0.05, 0.20, 0.80, 0.20)),
    ("pinch", (0.20, 0.60, 0.10, 0.00, 0.30, 0.10)),
    ("point", (0.10, 0.50, 0.20, 0.10, 0.50, 0.00)),
    ("pronation", (0.50, 0.20, 0.10, 0.30, 0.00, 0.20)),
    ("supination", (0.00, 0.10, 0.30, 0.20, 0.20, 0.50)),
    ("thumb up", (0.10, 0.20, 0.00, 0.40, 0.30, 0.40)),
]
UV_AT_FULL = 150.0  # µV RMS at activation level 1


@dataclass
class SynthConfig:
    people: int = 10
    gestures: int = 7
    channels: int = 8
    fs: float = 200.0
    sessions: int = 2
    repetitions: int = 4
    hold_s: float = 3.0
    rest_s: float = 1.5
    ramp_s: float = 0.6
    variability: float = 0.35   # per-repetition spread of muscle levels (lognormal sigma)
    mains_hz: float = 50.0
    paired_channels: int = 0   # > 0 adds a simultaneous "hd-emg" modality with this many channels
    seed: int = 0

    def validate(self) -> None:
        if not 2 <= self.gestures <= len(GESTURES):
            raise ConfigError(f"gestures={self.gestures} must lie in 2..{len(GESTURES)}")
        for name in ("people", "channels", "sessions", "repetitions"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1")
        if self.fs < 100:
            raise ConfigError(f"fs={self.fs} Hz is too low for sEMG (need >= 100 Hz)")
        if min(self.hold_s, self.rest_s) <= 0 or self.ramp_s < 0 or 2 * self.ramp_s >= self.hold_s:
            raise ConfigError("need hold_s > 2 * ramp_s >= 0 and rest_s > 0")


def synthesize(cfg: SynthConfig, on_person: Callable[[], None] | None = None) -> Dataset:
    """Generate the dataset described by ``cfg`` (deterministic for a given seed);
    ``on_person`` is called after each person (progress)."""
    cfg.validate()
    rng = np.random.default_rng(cfg.seed)
    recordings = []
    for p in range(cfg.people):
        person = _Person.draw(rng, cfg)
        for s in range(cfg.sessions):
            recordings.extend(_session(rng, cfg, person, f"P{p:02d}", f"S{s}"))
        if on_person:
            on_person()
    return Dataset(recordings, [name for name, _ in GESTURES[:cfg.gestures]],
                   source=f"synth(seed={cfg.seed})", format="synth")


@dataclass
class _Person:
    rotation: float
    muscle_angles: np.ndarray   # [M] radians
    levels: np.ndarray          # [G, M]
    kappa: float                # volume-conduction sharpness
    noise_uv: float
    mains_uv: float

    @classmethod
    def draw(cls, rng: np.random.Generator, cfg: SynthConfig) -> "_Person":
        base = np.array([a for _, a in MUSCLES]) * np.pi
        levels = np.array([lv for _, lv in GESTURES[:cfg.gestures]])
        levels = levels * rng.lognormal(0.0, 0.15, size=levels.shape)
        return cls(rotation=rng.uniform(-np.pi / 8, np.pi / 8),
                   muscle_angles=base + rng.normal(0, 0.12, size=len(base)),
                   levels=levels, kappa=rng.uniform(2.0, 4.0),
                   noise_uv=rng.uniform(2.0, 6.0), mains_uv=rng.uniform(1.0, 12.0))


def _ring_weights(n_chans: int, offset: float, person: _Person) -> np.ndarray:
    """[n_chans, M] volume-conduction weights of each muscle at each electrode."""
    theta = 2 * np.pi * np.arange(n_chans) / n_chans + offset
    return np.exp(person.kappa * (np.cos(theta[:, None] - person.muscle_angles[None]) - 1))


def _timeline(rng: np.random.Generator, cfg: SynthConfig, person: _Person):
    """Per-sample activation [n, M], labels [n] and repetitions [n] for one session."""
    fs = cfg.fs
    hold, rest, ramp = (int(round(x * fs)) for x in (cfg.hold_s, cfg.rest_s, cfg.ramp_s))
    acts, labels, reps = [], [], []
    m = person.levels.shape[1]
    for r in range(cfg.repetitions):
        for g in range(cfg.gestures):
            # people never repeat a gesture with the same muscle ratios, and co-contract a bit
            level = person.levels[g] * rng.lognormal(0.0, cfg.variability, size=m)
            level = level * rng.uniform(0.7, 1.2) + rng.uniform(0, 0.5 * cfg.variability)
            rest_jitter = rest + int(rng.integers(0, max(1, rest // 3)))
            env = np.concatenate([np.linspace(0, 1, ramp, endpoint=False), np.ones(hold - 2 * ramp),
                                  np.linspace(1, 0, ramp, endpoint=False)])
            wobble = 1 + 0.1 * _slow_noise(rng, len(env), fs)
            acts += [np.tile(person.levels[0], (rest_jitter, 1)), (env * wobble)[:, None] * level]
            labels += [np.full(rest_jitter, UNLABELLED), np.full(hold, g)]
            reps += [np.full(rest_jitter, -1), np.full(hold, r)]
    return np.concatenate(acts), np.concatenate(labels), np.concatenate(reps)


def _slow_noise(rng: np.random.Generator, n: int, fs: float, cutoff_hz: float = 1.0) -> np.ndarray:
    sos = sps.butter(2, cutoff_hz, fs=fs, output="sos")
    x = sps.sosfiltfilt(sos, rng.normal(size=n + int(fs)))[: n]
    return x / (x.std() + 1e-12)


def _band_noise(rng: np.random.Generator, shape: tuple[int, int], fs: float, lo: float,
                hi: float) -> np.ndarray:
    sos = sps.butter(4, [lo, min(hi, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    x = sps.sosfilt(sos, rng.normal(size=shape), axis=0)
    return x / x.std(axis=0, keepdims=True)


def _session(rng: np.random.Generator, cfg: SynthConfig, person: _Person, pid: str,
             sid: str) -> list[Recording]:
    act, labels, reps = _timeline(rng, cfg, person)
    n, m = act.shape
    fatigue = np.linspace(0, 1, n)[:, None] * rng.uniform(0.2, 0.5)
    sources = (np.sqrt(1 - fatigue) * _band_noise(rng, (n, m), cfg.fs, 20, 150)
               + np.sqrt(fatigue) * _band_noise(rng, (n, m), cfg.fs, 15, 60))
    drive = UV_AT_FULL * act * (1 + fatigue) * sources        # [n, M] µV at the muscle
    donning = person.rotation + rng.normal(0, 0.08)
    out = []
    for modality, n_chans in (("emg", cfg.channels), ("hd-emg", cfg.paired_channels)):
        if n_chans <= 0:
            continue
        weights = _ring_weights(n_chans, donning, person)       # [C, M]
        gains = rng.lognormal(0.0, 0.2, size=n_chans)
        x = (drive @ weights.T) * gains + _interference(rng, n, n_chans, cfg, person)
        out.append(Recording(x.astype(np.float32), cfg.fs, labels, reps,
                             [f"{'e' if modality == 'emg' else 'hd'}{c}" for c in range(n_chans)],
                             person=pid, session=sid, modality=modality, unit="uV",
                             source=f"synth:{pid}/{sid}/{modality}"))
    return out


def _interference(rng: np.random.Generator, n: int, n_chans: int, cfg: SynthConfig,
                  person: _Person) -> np.ndarray:
    t = np.arange(n)[:, None] / cfg.fs
    noise = person.noise_uv * rng.normal(size=(n, n_chans))
    wander = 10.0 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 2 * np.pi, n_chans))
    mains = np.zeros((n, n_chans))
    if cfg.mains_hz and cfg.mains_hz < cfg.fs / 2:
        amp = person.mains_uv * rng.uniform(0.5, 1.5, n_chans)
        mains = amp * np.sin(2 * np.pi * cfg.mains_hz * t + rng.uniform(0, 2 * np.pi, n_chans))
    return noise + wander + mains
