"""The data model (DESIGN §3): a Recording is one session of one person; a Dataset is
recordings plus label names."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgekd.errors import format_location

UNLABELLED = -1


@dataclass
class Problem:
    """Something wrong in the input, located; readers collect these instead of stopping
    when asked to (``strict=False``)."""

    path: str
    detail: str
    line: int | None = None
    offset: int | None = None
    severity: str = "error"  # "error": data was dropped or is unusable; "warning": kept as is

    def __str__(self) -> str:
        return f"{format_location(self.path, self.line, self.offset)}: {self.detail}"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "offset": self.offset,
                "severity": self.severity, "detail": self.detail}


@dataclass
class Recording:
    """One session of one person in one modality.

    signals: float32 ``[n_samples, n_chans]`` in physical units (``unit``);
    labels: int ``[n_samples]``, ``-1`` = unlabelled; repetition: int ``[n_samples]``
    (``-1`` = none), the unit of leakage-free splits inside a session.
    """

    signals: np.ndarray
    fs: float
    labels: np.ndarray
    repetition: np.ndarray
    channels: list[str]
    person: str
    session: str
    modality: str = "emg"
    unit: str = "a.u."
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signals = np.ascontiguousarray(self.signals, dtype=np.float32)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.repetition = np.asarray(self.repetition, dtype=np.int64)
        n = self.signals.shape[0]
        if self.signals.ndim != 2:
            raise ValueError(f"{self.source or self.person}: signals must be 2-D "
                             f"[n_samples, n_chans], got shape {self.signals.shape}")
        if self.labels.shape != (n,) or self.repetition.shape != (n,):
            raise ValueError(f"{self.source or self.person}: labels {self.labels.shape} and "
                             f"repetition {self.repetition.shape} must both be ({n},)")
        if len(self.channels) != self.signals.shape[1]:
            raise ValueError(f"{self.source or self.person}: {len(self.channels)} channel names "
                             f"for {self.signals.shape[1]} channels")

    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[0])

    @property
    def n_chans(self) -> int:
        return int(self.signals.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    @property
    def key(self) -> tuple[str, str]:
        """(person, session): pairs recordings of different modalities made together."""
        return (self.person, self.session)


@dataclass
class Dataset:
    """Recordings plus the names of their integer labels."""

    recordings: list[Recording]
    label_names: list[str]
    source: str = ""
    format: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def fs(self) -> float:
        rates = {r.fs for r in self.recordings}
        if len(rates) != 1:
            raise ValueError(f"{self.source}: recordings have several sampling rates {sorted(rates)}")
        return rates.pop()

    @property
    def people(self) -> list[str]:
        return sorted({r.person for r in self.recordings})

    @property
    def modalities(self) -> list[str]:
        return sorted({r.modality for r in self.recordings})

    def channels(self, modality: str | None = None) -> list[str]:
        recs = self.of_modality(modality or self.primary_modality)
        return list(recs[0].channels) if recs else []

    @property
    def primary_modality(self) -> str:
        """The modality commands use unless told otherwise: 'emg' when present, else the one
        with the most recordings (ties by name)."""
        mods = [r.modality for r in self.recordings]
        if not mods or "emg" in mods:
            return "emg"
        return min(set(mods), key=lambda m: (-mods.count(m), m))

    def of_modality(self, modality: str) -> list[Recording]:
        return [r for r in self.recordings if r.modality == modality]

    def select(self, *, people: list[str] | None = None, modality: str | None = None) -> "Dataset":
        recs = [r for r in self.recordings
                if (people is None or r.person in people)
                and (modality is None or r.modality == modality)]
        return Dataset(recs, list(self.label_names), self.source, self.format, list(self.problems))
