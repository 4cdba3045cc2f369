"""A command that needs an extra this install lacks fails with one line naming the extra, and
the table that names it agrees with pyproject.toml."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from edgekd.extras import EXTRA_OF_MODULE, missing_extra_message

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _names(specs):
    return {re.split(r"[<>=\[;! ]", s)[0].lower() for s in specs}


def test_the_table_matches_pyproject_extras():
    extras = PROJECT["optional-dependencies"]
    for extra in ("train", "tensorrt", "lsl", "brainflow", "xdf"):
        table = {dist.lower() for dist, e in EXTRA_OF_MODULE.values() if e == extra}
        assert table == _names(extras[extra]), extra
    assert "torch" not in _names(PROJECT["dependencies"])  # the base install is the edge one


def test_install_hint_names_the_extras():
    from edgekd.extras import install_hint
    assert install_hint(["onnx"]) == "pip install 'edgekd[train]'"
    assert install_hint(["onnx", "tensorrt"]) == "pip install 'edgekd[tensorrt,train]'"
    assert install_hint(["onnxruntime"]) == "pip install onnxruntime"


def test_a_module_no_extra_brings_is_not_explained_away():
    assert missing_extra_message("edgekd.no_such_module", "edgekd train") is None
    assert "edgekd[train]" in missing_extra_message("torch.nn", "edgekd train")


# torch (or yaml) made unimportable in a subprocess by a finder that refuses it: the same
# ModuleNotFoundError a torch-free edge install raises (the edge-venv test in test_export.py
# checks the real thing)
HIDE = """
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {mod!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Refuse())
from edgekd.cli import main
main({argv!r})
"""


@pytest.mark.parametrize("mod, argv, words", [
    ("torch", ["models", "--n-channels", "4"], "edgekd models needs torch"),  # not the cached input
    ("torch", ["train", "--data", "nowhere", "--model", "cnn"], "edgekd train needs"),
    ("yaml", ["distill", "--data", "nowhere", "--teacher", "t"], "edgekd distill needs pyyaml"),
])
def test_missing_extra_is_one_line_naming_it(mod, argv, words):
    result = subprocess.run([sys.executable, "-c", HIDE.format(mod=mod, argv=argv)],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert words in lines[0] and "pip install 'edgekd[train]'" in lines[0]
