"""XDF files (what LabRecorder writes from LSL streams) through pyxdf.

Per file, the signal streams are the numeric, fixed-rate streams whose LSL type is the
modality (``EMG`` by default, case-insensitive); when none is typed so and the file has exactly
one numeric fixed-rate stream, that one is taken (with a warning). Each becomes one recording.

Labels come from the file's marker streams (string streams): a marker names the gesture that
starts at its timestamp and lasts until the next marker; a marker that reads ``end``, ``stop``,
``none``, ``unlabelled`` or nothing ends the labelled part (samples there are unlabelled, -1).
Label names are the sorted marker texts unless ``--label-names`` gives them; the n-th
occurrence of a label is its repetition n. Markers are placed on the signal by timestamp;
pyxdf has already synchronised the clocks of the streams and removed the jitter of the stamps.

Voltage units (``desc/channels/channel/unit``: microvolts, millivolts, volts) are converted to
µV, the unit of the live path; another unit is kept as it is. Person and session come from the
BIDS entities LabRecorder puts in file names (``sub-P01_ses-S1_...``), else the parent folder
and the file name.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from edgekd.data.readers.base import ProblemLog, ReaderOptions, files_under, register_reader
from edgekd.data.recording import UNLABELLED, Dataset, Recording
from edgekd.errors import ConfigError
from edgekd.units import microvolts_per

_GLOBS = ["**/*.xdf", "**/*.XDF", "**/*.xdfz"]
END_MARKERS = {"", "end", "stop", "none", "unlabelled", "unlabeled"}


def _first(info: dict, key: str, default: str = "") -> str:
    value = info.get(key) or [default]
    return str(value[0]) if value[0] is not None else default


@register_reader
class XdfReader:
    name = "xdf"
    description = "XDF (LabRecorder/LSL) via pyxdf: EMG streams, marker streams as labels"

    def detect(self, root: Path) -> bool:
        return bool(files_under(root, _GLOBS))

    def read(self, root: Path, options: ReaderOptions, strict: bool) -> Dataset:
        log = ProblemLog(strict)
        loaded = []
        for path in files_under(root, [options.glob] if options.glob else _GLOBS):
            loaded += _read_xdf(path, root, options, log)
        texts = sorted({t for *_, events in loaded for _, t in events if t})
        names = list(options.label_names) if options.label_names else texts
        unknown = [t for t in texts if t not in names]
        if unknown:
            raise ConfigError(f"markers {unknown} are not in --label-names {names}")
        recordings = [_to_recording(*x, names) for x in loaded]
        return Dataset(recordings, names, str(root), self.name, log.problems)


def _read_xdf(path: Path, root: Path, options: ReaderOptions, log: ProblemLog) -> list:
    try:
        import pyxdf
    except ImportError:
        raise ConfigError('reading XDF needs pyxdf: pip install ".[xdf]" (from a checkout) '
                          "or pip install pyxdf") from None
    try:
        streams, _ = pyxdf.load_xdf(str(path))
    except Exception as err:   # pyxdf raises IOError, ValueError, struct.error... on bad files
        log.report(path, f"not a readable XDF file ({type(err).__name__}: {err})")
        return []
    signals = _signal_streams(streams, options.modality, path, log)
    events = _marker_events(streams)
    person, session = _ids(path, root)
    return [(path, s, person, session + (f"-{_first(s['info'], 'name')}" if len(signals) > 1
                                          else ""), options.modality, events)
            for s in signals]


def _signal_streams(streams: list, modality: str, path: Path, log: ProblemLog) -> list:
    numeric = [s for s in streams if _first(s["info"], "channel_format") != "string"
               and float(_first(s["info"], "nominal_srate", "0")) > 0 and len(s["time_stamps"])]
    typed = [s for s in numeric if _first(s["info"], "type").lower() == modality.lower()]
    if typed:
        return typed
    found = ", ".join(f"{_first(s['info'], 'name')} ({_first(s['info'], 'type') or 'no type'})"
                      for s in numeric) or "none"
    if len(numeric) == 1:
        log.report(path, f"no stream of type {modality!r}; reading the only numeric stream, "
                         f"{found}", severity="warning")
        return numeric
    log.report(path, f"no stream of type {modality!r} (numeric fixed-rate streams: {found})")
    return []


def _marker_events(streams: list) -> list[tuple[float, str]]:
    events = []
    for s in streams:
        if _first(s["info"], "channel_format") == "string":
            events += [(float(t), str(v[0]).strip()) for t, v in zip(s["time_stamps"],
                                                                     s["time_series"])]
    events.sort(key=lambda e: e[0])
    return [(t, "" if text.lower() in END_MARKERS else text) for t, text in events]


def _ids(path: Path, root: Path) -> tuple[str, str]:
    sub = re.search(r"sub-([A-Za-z0-9]+)", path.name)
    ses = re.search(r"ses-([A-Za-z0-9]+)", path.name)
    if sub:
        return sub.group(1), ses.group(1) if ses else path.stem
    parent = path.parent.name if path.parent != root and root.is_dir() else path.stem
    return parent, path.stem


def _channels(info: dict, n: int) -> tuple[list[str], str]:
    try:
        chans = info["desc"][0]["channels"][0]["channel"]
        labels = [_first(c, "label") for c in chans]
        unit = _first(chans[0], "unit")
    except (KeyError, IndexError, TypeError):
        labels, unit = [], ""
    if len(labels) != n or not all(labels):
        labels = [f"ch{i}" for i in range(n)]
    return labels, unit


def _to_recording(path, stream, person, session, modality, events, names) -> Recording:
    info, stamps = stream["info"], np.asarray(stream["time_stamps"], np.float64)
    signals = np.asarray(stream["time_series"], np.float32)
    channels, unit = _channels(info, signals.shape[1])
    scale = microvolts_per(unit) if unit else None
    if scale is not None:
        signals, unit = signals * np.float32(scale), "uV"
    labels = np.full(len(signals), UNLABELLED, dtype=np.int64)
    reps = np.full(len(signals), -1, dtype=np.int64)
    seen: dict[str, int] = {}
    # a marker starts at the sample nearest its time (the first at or after it, to half a sample)
    fs = float(_first(info, "nominal_srate"))
    bounds = [*np.searchsorted(stamps, [t - 0.5 / fs for t, _ in events]), len(signals)]
    for (_, text), start, stop in zip(events, bounds[:-1], bounds[1:]):
        if text:
            labels[start:stop] = names.index(text)
            reps[start:stop] = seen.get(text, 0)
            seen[text] = seen.get(text, 0) + 1
    return Recording(signals, fs, labels, reps, channels,
                     person=person, session=session, modality=modality, unit=unit or "a.u.",
                     source=str(path), meta={"xdf_stream": _first(info, "name"),
                                             "xdf_type": _first(info, "type")})
