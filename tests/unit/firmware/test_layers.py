"""No arrows back up (DESIGN §2, issue 14): edgekd.signal imports numpy/scipy only, and
firmware_bridge gets its model handed in (it never imports export or the training side)."""

import subprocess
import sys

import pytest

CHECK = ("import sys; import {mods}; "
         "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'export' or "
         "m.startswith(({forbidden}))); print(bad); sys.exit(1 if bad else 0)")


@pytest.mark.parametrize("mods,forbidden", [
    ("edgekd.signal", "'edgekd.data', 'edgekd.train', 'edgekd.models', 'firmware_bridge'"),
    ("firmware_bridge.runner, firmware_bridge.consumer, firmware_bridge.emulator, "
     "firmware_bridge.view, firmware_bridge.sinks",
     "'edgekd.train', 'edgekd.models', 'edgekd.distill', 'edgekd.data'"),
])
def test_no_arrow_back_up(mods, forbidden):
    code = CHECK.format(mods=mods, forbidden=forbidden)
    if "edgekd.signal" == mods:
        code = code.replace("m.split('.')[0] == 'export' or ", "")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{mods} pulled in {result.stdout.strip()} {result.stderr}"


def test_the_edge_package_ships_no_test_tooling():
    """Review item 19: the framers' fault injection lived in firmware_bridge (installed on
    every edge host); it belongs with the benchmark and the tests that use it."""
    import pkgutil

    import firmware_bridge
    names = {m.name.rsplit(".", 1)[-1]
             for m in pkgutil.walk_packages(firmware_bridge.__path__, "firmware_bridge.")}
    assert not names & {"fuzz", "fakes", "framing_faults"}
