import subprocess
import sys

import pytest

CHECK = ("import sys; import {mods}; "
         "bad = [m for m in ('torch', 'onnx', 'matplotlib') if m in sys.modules]; "
         "print(bad); sys.exit(1 if bad else 0)")


@pytest.mark.parametrize("mods", [
    "edgekd.signal, firmware_bridge", "export", "edgekd.data.readers", "export.runtime",
    "firmware_bridge.runner, firmware_bridge.consumer, firmware_bridge.emulator, "
    "firmware_bridge.transport, firmware_bridge.protocols, firmware_bridge.sinks",
    "edgekd.cli",   # the CLI as a whole: `edgekd stream` must start on a torch-free edge host
])
def test_edge_imports_do_not_pull_torch(mods):
    result = subprocess.run([sys.executable, "-c", CHECK.format(mods=mods)], capture_output=True,
                            text=True)
    assert result.returncode == 0, f"{mods} imported {result.stdout.strip()} {result.stderr}"
