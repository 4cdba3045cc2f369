"""Lab Streaming Layer (pylsl, the ``lsl`` extra): an inlet as a source (``lsl://NAME``), and two
outlets: the raw EMG as it arrives (``--lsl-raw``) and the decisions (``--lsl``).

Timestamps follow LSL's conventions: every sample is stamped with the time it was *acquired*
(not the time it was pushed), in LSL's clock (``pylsl.local_clock()``). The live path keeps its
times in CLOCK_MONOTONIC nanoseconds; :class:`LslClock` converts, measuring the offset once
(on Linux both are CLOCK_MONOTONIC and the offset is ~0).

Channel metadata follows the XDF/LSL meta-data conventions (``desc/channels/channel`` with
``label``, ``unit``, ``type``), which LabRecorder saves and pyxdf, MNE and EEGLAB read.

pylsl is imported inside the functions: ``firmware_bridge`` stays importable without it.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import numpy as np

from edgekd.errors import ConfigError, EdgekdError
from edgekd.units import UNIT_TO_UV, microvolts_per
from firmware_bridge.types import DeviceInfo, SampleBlock


def import_pylsl(what: str):
    try:
        import pylsl
    except ImportError:
        raise EdgekdError(f"{what} needs pylsl: pip install \".[lsl]\" (from a checkout) or "
                          "pip install pylsl") from None
    except RuntimeError as err:   # pylsl is there but cannot load liblsl
        raise EdgekdError(f"{what}: pylsl cannot load liblsl ({err})") from None
    return pylsl


class LslClock:
    """CLOCK_MONOTONIC ns ↔ LSL seconds (``pylsl.local_clock``)."""

    def __init__(self, pylsl):
        # the smallest of a few bracketed readings: the offset with the least scheduling noise
        best = None
        for _ in range(5):
            t0 = time.monotonic_ns()
            lsl = pylsl.local_clock()
            t1 = time.monotonic_ns()
            if best is None or t1 - t0 < best[0]:
                best = (t1 - t0, lsl - (t0 + t1) / 2e9)
        self.offset_s = best[1]

    def to_lsl(self, monotonic_ns: int) -> float:
        return monotonic_ns / 1e9 + self.offset_s

    def to_monotonic_ns(self, lsl_s: float) -> int:
        return int(round((lsl_s - self.offset_s) * 1e9))


def describe_channels(info, names: list[str], unit: str, kind: str) -> None:
    """``desc/channels/channel/{label, unit, type}`` for each channel of an LSL StreamInfo."""
    channels = info.desc().append_child("channels")
    for name in names:
        ch = channels.append_child("channel")
        ch.append_child_value("label", name)
        ch.append_child_value("unit", unit)
        ch.append_child_value("type", kind)


def channel_names(info) -> list[str]:
    """The labels under ``desc/channels/channel`` (empty strings where missing)."""
    names, ch = [], info.desc().child("channels").child("channel")
    while not ch.empty():
        names.append(ch.child_value("label"))
        ch = ch.next_sibling()
    return names


def channel_unit(info) -> str:
    return info.desc().child("channels").child("channel").child_value("unit")


# -- outlets ------------------------------------------------------------------------------------
class LslRawSink:
    """The samples as they arrive, in µV, on an outlet of type ``EMG`` with the nominal rate
    and standard channel metadata; each chunk is stamped with the acquisition time of its last
    sample (LSL derives the others from the nominal rate). The outlet opens with the first
    block, once the device has said what it streams."""

    def __init__(self, name: str, channel_names: list[str] | None = None):
        self.pylsl = import_pylsl("--lsl-raw")
        self.name, self.names = name, list(channel_names or [])
        self.clock = LslClock(self.pylsl)
        self._outlet = None
        self._shape: tuple[int, float] | None = None

    def _open(self, info: DeviceInfo) -> None:
        pylsl = self.pylsl
        names = self.names if len(self.names) == info.n_chans else [
            f"EMG{i + 1}" for i in range(info.n_chans)]
        sinfo = pylsl.StreamInfo(self.name, "EMG", info.n_chans, info.fs, pylsl.cf_float32,
                                 f"edgekd-raw-{self.name}")
        describe_channels(sinfo, names, "microvolts", "EMG")
        acq = sinfo.desc().append_child("acquisition")
        acq.append_child_value("device", info.name)
        acq.append_child_value("firmware", info.firmware)
        self._outlet = pylsl.StreamOutlet(sinfo)
        self._shape = (info.n_chans, info.fs)

    def __call__(self, block: SampleBlock, info: DeviceInfo, acquired_ns: int) -> None:
        if self._outlet is None or self._shape != (info.n_chans, info.fs):
            self._open(info)   # first block, or the device changed its layout
        self._outlet.push_chunk(np.ascontiguousarray(block.samples, np.float32),
                                self.clock.to_lsl(acquired_ns))

    def close(self) -> None:
        self._outlet = None


class LslDecisionSink:
    """Per decision, ``[class index or -1 (rejected), probabilities...]`` on an irregular-rate
    outlet of type ``GestureDecisions``, stamped with the acquisition time of the window's
    last sample (so LabRecorder aligns a decision with the EMG it was made from); the class
    names are the channel labels of the probability channels."""

    def __init__(self, name: str, label_names: list[str], source: str = "host"):
        pylsl = import_pylsl("--lsl")
        if not label_names:
            raise ConfigError("--lsl needs the label names: give --model")
        self.source = source
        self.clock = LslClock(pylsl)
        info = pylsl.StreamInfo(name, "GestureDecisions", len(label_names) + 1,
                                pylsl.IRREGULAR_RATE, pylsl.cf_float32, f"edgekd-{name}")
        describe_channels(info, ["class"] + [f"p({n})" for n in label_names], "", "Decision")
        labels = info.desc().append_child("labels")   # the class names, in index order
        for label in label_names:
            labels.append_child_value("label", label)
        self._outlet = pylsl.StreamOutlet(info)

    def __call__(self, d) -> None:
        if d.source != self.source:
            return
        stamp = self.clock.to_lsl(d.acquired_ns) if d.acquired_ns else 0.0
        self._outlet.push_sample([float(-1 if d.label is None else d.label),
                                  *map(float, d.probs)], stamp)

    def close(self) -> None:
        self._outlet = None


# -- the inlet: lsl://NAME ----------------------------------------------------------------------
class LslInletPort:
    """``lsl://NAME[?timeout=S]``: the first LSL stream named NAME (resolved within S seconds,
    default 5), read as decoded samples. Clock offsets and jitter are corrected by liblsl
    (``proc_clocksync | proc_dejitter``), so sample times are acquisition times in this
    machine's clock. Values are converted to µV from the stream's channel unit (microvolts
    when it declares none). A vanished outlet is an outage (``recover=False``): the reader
    reports it and resolves the stream again."""

    finite = False
    delivers_samples = True

    def __init__(self, spec: str):
        pylsl = self.pylsl = import_pylsl("lsl://")
        name, timeout = _parse_lsl_spec(spec)
        found = pylsl.resolve_byprop("name", name, timeout=timeout)
        if not found:
            raise EdgekdError(f"lsl://{spec}: no LSL stream named {name!r} found within "
                              f"{timeout:g} s")
        self.inlet = pylsl.StreamInlet(found[0], max_buflen=30, recover=False,
                                       processing_flags=pylsl.proc_clocksync |
                                       pylsl.proc_dejitter)
        full = self.inlet.info(timeout=timeout)
        if full.nominal_srate() <= 0:
            raise EdgekdError(f"lsl://{spec}: the stream has an irregular rate; the live path "
                              "needs a fixed sampling rate")
        self.scale = _unit_scale(channel_unit(full), spec)
        self.names = channel_names(full)
        self.info = DeviceInfo(full.channel_count(), full.nominal_srate(), 1.0, "n/a",
                               f"LSL stream {name!r} ({full.type() or 'no type'})")
        self.clock = LslClock(pylsl)
        self.inlet.open_stream(timeout=timeout)

    def read_available(self):
        """A :class:`~firmware_bridge.transport.Samples`, or None when nothing came in 50 ms."""
        from firmware_bridge.transport import Samples, clock
        data, stamps = self.inlet.pull_chunk(timeout=0.05, max_samples=4096)
        if not stamps:
            return None
        x = np.asarray(data, np.float32)
        if self.scale != 1.0:
            x *= self.scale
        return Samples(x, self.clock.to_monotonic_ns(stamps[-1]), clock())

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        self.inlet.close_stream()


def _parse_lsl_spec(spec: str) -> tuple[str, float]:
    name, _, query = spec.partition("?")
    if not name:
        raise ConfigError("--port lsl://: expected lsl://NAME (the LSL stream's name)")
    params = parse_qs(query, keep_blank_values=True)
    unknown = set(params) - {"timeout"}
    if unknown:
        raise ConfigError(f"--port lsl://{spec}: unknown option {sorted(unknown)[0]!r} "
                          "(valid: timeout)")
    try:
        timeout = float(params.get("timeout", ["5"])[-1])
    except ValueError:
        timeout = -1.0
    if not timeout > 0:
        raise ConfigError(f"--port lsl://{spec}: timeout must be a number of seconds > 0")
    return name, timeout


def _unit_scale(unit: str, spec: str) -> float:
    if not unit:
        return 1.0
    scale = microvolts_per(unit)
    if scale is None:
        raise EdgekdError(f"lsl://{spec}: channel unit {unit!r} is not a voltage this bridge "
                          f"knows (valid: {', '.join(sorted(UNIT_TO_UV))})")
    return scale
