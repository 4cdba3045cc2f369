"""`edgekd --help` and `edgekd models` start without torch or any model code (timings:
benchmarks/cli_startup.py, not here)."""

import subprocess
import sys

import pytest

CHECK = """
import sys
from edgekd.cli import main
try:
    main({argv!r})
except SystemExit as done:
    assert not done.code, done.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "onnx", "matplotlib")
               or m.startswith(("edgekd.models", "edgekd.profiling", "scipy.signal")))
print(heavy, file=sys.stderr)
sys.exit(3 if heavy else 0)
"""


@pytest.mark.parametrize("argv", [["--help"], ["models"], ["models", "--tiny"],
                                  ["train", "--help"]])
def test_start_up_imports_no_torch_or_model_code(argv):
    result = subprocess.run([sys.executable, "-c", CHECK.format(argv=argv)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-2000:]
