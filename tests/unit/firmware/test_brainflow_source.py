"""brainflow:// URLs, the package-counter gap rule, and BrainFlow usable next to a setuptools
without pkg_resources (see firmware_bridge/brainflow_source.py for why it is not)."""

import subprocess
import sys

import numpy as np
import pytest

from edgekd.errors import ConfigError
from firmware_bridge.brainflow_source import lost_before

BLOCK_PKG_RESOURCES = "import sys; sys.modules['pkg_resources'] = None; "


def test_counter_gaps_are_counted_across_and_inside_reads():
    lost, last = lost_before(np.array([5, 6, 7, 9, 10], float), None)
    assert lost.tolist() == [0, 0, 0, 1, 0] and last == 10
    lost, last = lost_before(np.array([254, 255, 0, 3]), 250)        # wraps at 256
    assert lost.tolist() == [3, 0, 0, 2] and last == 3
    lost, _ = lost_before(np.array([3, 3, 200]), 2)     # repeats / far jumps are no claim
    assert lost.tolist() == [0, 0, 0]


def test_spec_errors_name_the_valid_choices():
    bs = pytest.importorskip("brainflow.board_shim", reason="brainflow (extra) not installed")
    from firmware_bridge.brainflow_source import board_id, parse_spec
    assert board_id("synthetic", bs) == bs.BoardIds.SYNTHETIC_BOARD.value
    assert board_id("CYTON_BOARD", bs) == board_id("0", bs) == bs.BoardIds.CYTON_BOARD.value
    with pytest.raises(ConfigError, match="did you mean 'cyton'"):
        board_id("cyten", bs)
    bid, params, channels = parse_spec("cyton?serial_port=/dev/ttyUSB0&channels=4&timeout=3", bs)
    assert (params.serial_port, params.timeout, channels) == ("/dev/ttyUSB0", 3, 4)
    with pytest.raises(ConfigError, match="did you mean 'serial_port'"):
        parse_spec("cyton?serial_prt=/dev/x", bs)
    with pytest.raises(ConfigError, match="timeout='soon': expected int"):
        parse_spec("cyton?timeout=soon", bs)
    with pytest.raises(ConfigError, match="channels='0'"):
        parse_spec("synthetic?channels=0", bs)


def test_brainflow_loads_its_library_without_pkg_resources():
    pytest.importorskip("brainflow", reason="brainflow (the brainflow extra) is not installed")
    ours = subprocess.run([sys.executable, "-c", BLOCK_PKG_RESOURCES +
                           "from firmware_bridge.brainflow_source import import_board_shim; "
                           "print(import_board_shim().BoardShim.get_version())"],
                          capture_output=True, text=True)
    assert ours.returncode == 0 and ours.stdout.strip(), ours.stderr[-2000:]
    plain = subprocess.run([sys.executable, "-c", BLOCK_PKG_RESOURCES +
                            "from brainflow.board_shim import BoardShim; BoardShim.get_version()"],
                           capture_output=True, text=True)
    if sys.version_info < (3, 12):   # the cause, as documented: BrainFlow alone falls back
        assert "pkg_resources" in plain.stderr, plain.stderr[-2000:]
