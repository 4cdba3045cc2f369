"""EDF/EDF+/BDF files through pyEDFlib; annotations with a duration become labels.

Signals at the most common sampling rate are kept (others are reported); values are physical
(the file's digital-to-physical scaling is applied). Label names are the sorted annotation texts
unless ``--label-names`` gives them; samples outside every annotation are unlabelled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekd.data.readers.base import register_reader, ProblemLog, ReaderOptions, files_under
from edgekd.data.recording import UNLABELLED, Dataset, Recording
from edgekd.errors import ConfigError

_GLOBS = ["**/*.edf", "**/*.EDF", "**/*.bdf", "**/*.BDF"]


@register_reader
class EdfReader:
    name = "edf"
    description = "EDF/EDF+/BDF with annotations as labels (pyEDFlib)"

    def detect(self, root: Path) -> bool:
        return bool(files_under(root, _GLOBS))

    def read(self, root: Path, options: ReaderOptions, strict: bool) -> Dataset:
        log = ProblemLog(strict)
        loaded = [x for p in files_under(root, [options.glob] if options.glob else _GLOBS)
                  if (x := _read_edf(p, options, log))]
        texts = sorted({t for *_, annots in loaded for _, _, t in annots})
        names = list(options.label_names) if options.label_names else texts
        unknown = [t for t in texts if t not in names]
        if unknown:
            raise ConfigError(f"annotations {unknown} are not in --label-names {names}")
        recordings = [_to_recording(*x, names) for x in loaded]
        return Dataset(recordings, names, str(root), self.name, log.problems)


def _read_edf(path: Path, options: ReaderOptions, log: ProblemLog):
    try:
        import pyedflib
    except ImportError as err:  # pragma: no cover - pyedflib is a default dependency
        raise ConfigError("reading EDF needs pyEDFlib: pip install pyEDFlib") from err
    try:
        with pyedflib.EdfReader(str(path)) as f:
            rates = [f.getSampleFrequency(i) for i in range(f.signals_in_file)]
            fs = max(set(rates), key=rates.count)
            keep = [i for i, r in enumerate(rates) if r == fs]
            if len(keep) != len(rates):
                log.report(path, f"signals at other rates than {fs} Hz skipped: "
                                 f"{[f.getLabel(i) for i in range(len(rates)) if i not in keep]}",
                           severity="warning")
            signals = np.stack([f.readSignal(i) for i in keep], axis=1).astype(np.float32)
            channels = [f.getLabel(i) for i in keep]
            unit = f.getPhysicalDimension(keep[0]) or "a.u."
            onsets, durations, texts = f.readAnnotations()
            person = f.getPatientCode() or path.stem
    except OSError as err:
        log.report(path, f"not a readable EDF/BDF file ({err})")
        return None
    annots = [(float(o), float(d), str(t)) for o, d, t in zip(onsets, durations, texts)
              if float(d) > 0]
    return path, signals, float(fs), channels, unit, person, options.modality, annots


def _to_recording(path, signals, fs, channels, unit, person, modality, annots, names) -> Recording:
    labels = np.full(len(signals), UNLABELLED, dtype=np.int64)
    reps = np.full(len(signals), -1, dtype=np.int64)
    seen: dict[str, int] = {}
    for onset, duration, text in sorted(annots):
        start, stop = int(round(onset * fs)), int(round((onset + duration) * fs))
        labels[start:stop] = names.index(text)
        reps[start:stop] = seen.get(text, 0)
        seen[text] = seen.get(text, 0) + 1
    return Recording(signals, fs, labels, reps, channels, person=person, session=path.stem,
                     modality=modality, unit=unit, source=str(path))
