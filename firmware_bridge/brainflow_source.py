"""``brainflow://BOARD[?option=value&...]``: any board BrainFlow drives (the ``brainflow``
extra) as a source of decoded samples for the live path.

``BOARD`` is a BrainFlow board name, case-insensitive and without the ``_BOARD`` suffix
(``synthetic``, ``cyton``, ``ganglion``...) or its numeric id. Options are the fields of
BrainFlow's ``BrainFlowInputParams`` (``serial_port``, ``ip_address``, ``ip_port``,
``mac_address``, ``serial_number``, ``other_info``, ``timeout``, ``file``...) plus
``channels=N`` (use the first N of the board's EMG channels; default: all of them).

BrainFlow returns EXG channels in µV and stamps every sample with the unix time at which it
was acquired; those stamps become the acquisition times of the live path. Samples lost on the
way are counted from the board's package counter (8 bits on the OpenBCI boards and the
synthetic board): a step of 2..127 is a gap of that many samples minus one; other steps are
not read as gaps.

Why :func:`import_board_shim` exists: brainflow 5.23 finds its shared library with
``importlib.resources.files("brainflow.board_shim")``, a *module* name. Python 3.12 accepts
that; Python 3.10/3.11 raise ``TypeError`` ("is not a package"), and BrainFlow then falls
back to ``pkg_resources``, which setuptools removed in version 82. torch >= 2.x requires
setuptools >= 77, so next to torch that fallback fails with ``No module named
'pkg_resources'``. We give BrainFlow's modules the Python 3.12 behaviour (a module name
resolves to its package) instead of pinning an old setuptools or faking ``pkg_resources``.
"""

from __future__ import annotations

import difflib
import importlib.resources
import logging
import sys
import time
from urllib.parse import parse_qs

import numpy as np

from edgekd.errors import ConfigError, EdgekdError
from firmware_bridge.types import DeviceInfo

log = logging.getLogger(__name__)

COUNTER_MODULUS = 256
_BRAINFLOW_MODULES = ("brainflow.board_shim", "brainflow.data_filter", "brainflow.ml_model")


def _files(anchor):
    """``importlib.resources.files`` with Python 3.12's rule on 3.10/3.11: a module name
    resolves to the package that contains it."""
    try:
        return importlib.resources.files(anchor)
    except TypeError:
        if isinstance(anchor, str) and "." in anchor:
            return importlib.resources.files(anchor.rpartition(".")[0])
        raise


def import_board_shim():
    """``brainflow.board_shim``, usable on Python 3.10+ whatever setuptools is installed (see
    the module docstring). Raises EdgekdError when BrainFlow is not installed."""
    try:
        from brainflow import board_shim
    except ImportError:
        raise EdgekdError('brainflow:// needs BrainFlow: pip install ".[brainflow]" (from a '
                          "checkout) or pip install brainflow") from None
    if sys.version_info < (3, 12):
        for name in _BRAINFLOW_MODULES:
            module = sys.modules.get(name)
            if module is not None and getattr(module, "files", None) is importlib.resources.files:
                module.files = _files
    return board_shim


def board_id(name: str, board_shim) -> int:
    """A BrainFlow board id from ``synthetic``, ``CYTON_BOARD``, ``cyton_daisy`` or ``0``."""
    ids = {m.name.lower().removesuffix("_board"): m.value for m in board_shim.BoardIds}
    key = name.strip().lower().removesuffix("_board")
    if key.lstrip("-").isdigit() and int(key) in ids.values():
        return int(key)
    if key in ids:
        return ids[key]
    close = difflib.get_close_matches(key, sorted(ids), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"brainflow://{name}: unknown BrainFlow board{hint} (e.g. synthetic, "
                      "cyton, ganglion, or a numeric board id)")


def parse_spec(spec: str, board_shim) -> tuple[int, object, int | None]:
    """``BOARD?k=v&...`` → (board id, BrainFlowInputParams, channels or None)."""
    name, _, query = spec.partition("?")
    bid = board_id(name, board_shim)
    params = board_shim.BrainFlowInputParams()
    fields = sorted(k for k in vars(params) if not k.startswith("_"))
    channels = None
    for key, values in parse_qs(query, keep_blank_values=True).items():
        value = values[-1]
        if key == "channels":
            if not value.isdigit() or int(value) < 1:
                raise ConfigError(f"brainflow://{spec}: channels={value!r}: expected a count >= 1")
            channels = int(value)
        elif key in fields:
            current = getattr(params, key)
            try:
                setattr(params, key, type(current)(value))
            except ValueError:
                raise ConfigError(f"brainflow://{spec}: {key}={value!r}: expected "
                                  f"{type(current).__name__}") from None
        else:
            close = difflib.get_close_matches(key, fields + ["channels"], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"brainflow://{spec}: unknown option {key!r}{hint} (valid: "
                              f"{', '.join(fields + ['channels'])})")
    return bid, params, channels


def lost_before(counters: np.ndarray, previous: int | None) -> tuple[np.ndarray, int]:
    """Samples lost just before each sample (int64 [n]) from BrainFlow's package counter, and
    the last counter; ``previous`` is the last counter of the read before (None: first read)."""
    c = counters.astype(np.int64)
    prev = c[0] - 1 if previous is None else previous
    steps = np.diff(np.concatenate([[prev], c])) % COUNTER_MODULUS
    return np.where((steps >= 2) & (steps < COUNTER_MODULUS // 2), steps - 1, 0), int(c[-1])


class BrainFlowPort:
    """A prepared and started BrainFlow session, read as decoded samples."""

    finite = False
    delivers_samples = True

    def __init__(self, spec: str):
        bs = import_board_shim()
        bid, params, channels = parse_spec(spec, bs)
        bs.BoardShim.set_log_level(bs.LogLevels.LEVEL_WARN.value)   # no per-session banner
        descr = bs.BoardShim.get_board_descr(bid)
        rows = descr.get("emg_channels") or descr.get("eeg_channels") or []
        if not rows:
            raise EdgekdError(f"brainflow://{spec}: board {descr.get('name')} has no EMG/EEG "
                              "channels")
        if channels is not None and channels > len(rows):
            raise ConfigError(f"brainflow://{spec}: channels={channels} but the board has "
                              f"{len(rows)} EMG channels")
        self.rows = np.array(rows[:channels] if channels else rows)
        self.t_row, self.counter_row = descr["timestamp_channel"], descr.get("package_num_channel")
        fs = float(bs.BoardShim.get_sampling_rate(bid))
        self.info = DeviceInfo(len(self.rows), fs, 1.0, bs.BoardShim.get_version(),
                               f"BrainFlow {descr.get('name', bid)}")
        self.board = bs.BoardShim(bid, params)
        try:
            self.board.prepare_session()
            self.board.start_stream()
        except bs.BrainFlowError as err:
            self._release()
            raise EdgekdError(f"brainflow://{spec}: {err}") from None
        self._last_counter: int | None = None

    def read_available(self):
        """A tuple of :class:`~firmware_bridge.transport.Samples` with what the board has
        buffered, split where the package counter shows a gap (None when nothing came in
        20 ms)."""
        from firmware_bridge.transport import Samples, clock
        n = self.board.get_board_data_count()
        if n == 0:
            time.sleep(0.02)
            return None
        data = self.board.get_board_data(n)
        t = clock()
        x = np.ascontiguousarray(data[self.rows].T, np.float32)
        offset_ns = time.time_ns() - time.monotonic_ns()      # unix → CLOCK_MONOTONIC
        acquired = data[self.t_row] * 1e9 - offset_ns
        lost = np.zeros(n, np.int64)
        if self.counter_row is not None:
            lost, self._last_counter = lost_before(data[self.counter_row], self._last_counter)
        starts = [0, *np.flatnonzero(lost[1:]) + 1]
        return tuple(Samples(x[a:b], int(round(acquired[b - 1])), t, int(lost[a]))
                     for a, b in zip(starts, [*starts[1:], n]))

    def write(self, data: bytes) -> None:
        pass

    def _release(self) -> None:
        try:
            if self.board.is_prepared():
                self.board.release_session()
        except Exception:   # releasing a half-open session must not hide the first error
            log.debug("BrainFlow release_session failed", exc_info=True)

    def close(self) -> None:
        try:
            self.board.stop_stream()
        except Exception:
            pass
        self._release()
