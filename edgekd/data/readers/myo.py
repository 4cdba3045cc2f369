"""Reader for the Myo Armband Dataset layout (Côté-Allard et al.).

Layout: ``[<Set>/]<Person>/<session>/classe_<i>.dat``; one gesture per file, raw little-endian
int16, 8 channels interleaved sample-major, 200 Hz, label ``i % 7``, repetition ``i // 7``.
Files of one session are concatenated in ``i`` order into one Recording.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from edgekd.data.readers.base import register_reader, ProblemLog, ReaderOptions, files_under
from edgekd.data.recording import Dataset, Recording

MYO_FS = 200.0
MYO_CHANNELS = 8
MYO_GESTURES = ["neutral", "radial deviation", "wrist flexion", "ulnar deviation",
                "wrist extension", "hand close", "hand open"]
_CLASS_FILE = re.compile(r"^classe_(\d+)\.dat$")
_BYTES_PER_SAMPLE = 2 * MYO_CHANNELS


@register_reader
class MyoDatReader:
    name = "myo-dat"
    description = "Myo Armband Dataset: <Person>/<session>/classe_<i>.dat, int16 x 8 ch, 200 Hz"

    def detect(self, root: Path) -> bool:
        return root.is_dir() and bool(files_under(root, ["**/classe_*.dat"]))

    def read(self, root: Path, options: ReaderOptions, strict: bool) -> Dataset:
        log = ProblemLog(strict)
        sessions: dict[Path, list[tuple[int, Path]]] = defaultdict(list)
        for path in files_under(root, ["**/classe_*.dat"]):
            match = _CLASS_FILE.match(path.name)
            if match:
                sessions[path.parent].append((int(match.group(1)), path))
        n_gestures = len(options.label_names or MYO_GESTURES)
        recordings = [rec for session_dir, files in sorted(sessions.items())
                      if (rec := _read_session(root, session_dir, sorted(files), n_gestures,
                                               options, log)) is not None]
        return Dataset(recordings, list(options.label_names or MYO_GESTURES), str(root),
                       self.name, log.problems)


def read_dat(path: Path, log: ProblemLog) -> np.ndarray:
    """One ``classe_<i>.dat`` file as float32 ``[n_samples, 8]``; an incomplete trailing
    sample is reported with its byte offset and dropped (complete samples are kept)."""
    raw = path.read_bytes()
    usable = len(raw) - len(raw) % _BYTES_PER_SAMPLE
    if usable != len(raw):
        log.report(path, f"file size {len(raw)} bytes is not a multiple of {_BYTES_PER_SAMPLE} "
                         f"({MYO_CHANNELS} channels x int16): {len(raw) - usable} trailing bytes are an "
                         "incomplete sample", offset=usable)
    data = np.frombuffer(raw[:usable], dtype="<i2").reshape(-1, MYO_CHANNELS)
    if data.size and (data.min() < -128 or data.max() > 127):
        row = int(np.argwhere((data < -128) | (data > 127))[0][0])
        log.report(path, f"value outside the Myo's int8 range [-128, 127] at sample {row}",
                   offset=row * _BYTES_PER_SAMPLE, severity="warning")
    return data.astype(np.float32)


def _read_session(root: Path, session_dir: Path, files: list[tuple[int, Path]], n_gestures: int,
                  options: ReaderOptions, log: ProblemLog) -> Recording | None:
    indices = [i for i, _ in files]
    expected = list(range(max(indices) + 1))
    missing = sorted(set(expected) - set(indices))
    if missing:
        log.report(session_dir, f"missing classe_<i>.dat for i in {missing}; expected "
                                f"{len(expected)} consecutive files", severity="warning")
    parts, labels, reps = [], [], []
    for i, path in files:
        data = read_dat(path, log)
        if len(data) == 0:
            log.report(path, "empty file: expected int16 samples of 8 channels")
            continue
        parts.append(data)
        labels.append(np.full(len(data), i % n_gestures))
        reps.append(np.full(len(data), i // n_gestures))
    if not parts:
        log.report(session_dir, "no readable classe_<i>.dat file in this session")
        return None
    rel = session_dir.relative_to(root) if session_dir != root else Path(session_dir.name)
    person = str(rel.parent) if str(rel.parent) != "." else rel.name
    return Recording(np.concatenate(parts), options.fs or MYO_FS, np.concatenate(labels),
                     np.concatenate(reps), [f"ch{c}" for c in range(MYO_CHANNELS)],
                     person=person, session=rel.name, modality=options.modality,
                     unit="a.u. (Myo int8)", source=str(session_dir))
