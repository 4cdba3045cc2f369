"""The README's first command (what CI runs) installs the CPU build of torch on any machine:
pinned, from PyTorch's CPU index as an *extra* index (so a machine that cannot reach it still
installs from its usual one), without torch's dependencies from there, then the train extra."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_first_command_installs_cpu_torch_then_the_train_extra():
    readme = (REPO / "README.md").read_text()
    first = re.search(r"```bash\n(.*?)\n", readme).group(1)
    torch_step, install_step, demo = [s.strip() for s in first.split("&&")]
    assert re.fullmatch(r"pip install --no-deps torch==\d+\.\d+\.\d+ "
                        r"--extra-index-url https://download\.pytorch\.org/whl/cpu", torch_step)
    assert "--index-url" not in torch_step.replace("--extra-index-url", "")
    assert install_step == 'pip install -e ".[train,dev]"' and demo == "edgekd demo"
    assert first in (REPO / ".ci/run").read_text()
