"""NinaPro-style MATLAB files (``S1_E1_A1.mat``): ``emg`` [n, C], ``restimulus`` or ``stimulus``,
``rerepetition`` or ``repetition``, ``frequency`` where present. Label 0 is rest.

Each file is one Recording; the person comes from ``subject`` or an ``S<k>`` in the file name,
the session from the file stem (NinaPro exercises are separate files).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from edgekd.data.readers.base import register_reader, ProblemLog, ReaderOptions, files_under
from edgekd.data.recording import Dataset, Recording
from edgekd.errors import ConfigError

_LABEL_KEYS = ("restimulus", "stimulus")
_REPETITION_KEYS = ("rerepetition", "repetition")


@register_reader
class NinaProReader:
    name = "ninapro"
    description = "NinaPro .mat files: emg, (re)stimulus, (re)repetition, frequency"

    def detect(self, root: Path) -> bool:
        return bool(files_under(root, ["**/*.mat"]))

    def read(self, root: Path, options: ReaderOptions, strict: bool) -> Dataset:
        log = ProblemLog(strict)
        paths = files_under(root, [options.glob or "**/*.mat"])
        recordings = [rec for path in paths if (rec := _read_mat(root, path, options, log))]
        n_labels = max((int(r.labels.max()) + 1 for r in recordings if r.labels.size), default=0)
        names = list(options.label_names) if options.label_names else \
            ["rest"] + [f"movement {i}" for i in range(1, n_labels)]
        if len(names) < n_labels:
            raise ConfigError(f"--label-names has {len(names)} names but labels go up to "
                              f"{n_labels - 1}")
        return Dataset(recordings, names, str(root), self.name, log.problems)


def _first_key(mat: dict, keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if k in mat), None)


def _load(path: Path, log: ProblemLog) -> dict | None:
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        return loadmat(path)
    except NotImplementedError:
        log.report(path, "MATLAB v7.3 (HDF5) file; re-save it with save(..., '-v7')")
    except (MatReadError, ValueError, OSError) as err:
        log.report(path, f"not a readable MATLAB file ({err})")
    return None


def _read_mat(root: Path, path: Path, options: ReaderOptions, log: ProblemLog) -> Recording | None:
    mat = _load(path, log)
    if mat is None:
        return None
    label_key = _first_key(mat, _LABEL_KEYS)
    if "emg" not in mat or label_key is None:
        log.report(path, f"expected variables 'emg' and one of {_LABEL_KEYS}; found "
                         f"{sorted(k for k in mat if not k.startswith('__'))}")
        return None
    emg = np.asarray(mat["emg"], dtype=np.float32)
    labels = np.asarray(mat[label_key]).reshape(-1).astype(np.int64)
    rep_key = _first_key(mat, _REPETITION_KEYS)
    reps = (np.asarray(mat[rep_key]).reshape(-1).astype(np.int64) - 1) if rep_key \
        else np.full(len(labels), -1)
    if emg.ndim != 2 or len(labels) != len(emg) or len(reps) != len(emg):
        log.report(path, f"'emg' {emg.shape}, '{label_key}' {labels.shape} and repetition "
                         f"{reps.shape} must have the same number of rows")
        return None
    finite = np.isfinite(emg).all(axis=1)
    if not finite.all():
        log.report(path, f"NaN/inf in 'emg' at row {int(np.argmin(finite))}")
        return None
    fs = float(np.asarray(mat["frequency"]).reshape(-1)[0]) if "frequency" in mat else options.fs
    if fs is None:
        raise ConfigError(f"{path}: no 'frequency' variable; pass --fs (Hz)")
    reps[labels == 0] = -1  # rest between movements belongs to no repetition
    return Recording(emg, fs, labels, reps, [f"ch{c}" for c in range(emg.shape[1])],
                     person=_person(mat, path), session=path.stem, modality=options.modality,
                     unit="a.u.", source=str(path))


def _person(mat: dict, path: Path) -> str:
    if "subject" in mat:
        return f"S{int(np.asarray(mat['subject']).reshape(-1)[0])}"
    match = re.search(r"[Ss](\d+)", path.stem)
    return f"S{int(match.group(1))}" if match else path.stem
