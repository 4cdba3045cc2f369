"""The README stays true: its generated sections match their sources, CI runs its first
commands, and every shell block not marked as needing hardware or real data runs as written."""

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
BLOCK = re.compile(r"(<!-- not-tested: [^>]*-->\n)?```bash\n(.*?)```", re.S)


def _section(begin: str, end: str) -> str:
    return README.split(begin, 1)[1].split(end, 1)[0].lstrip("\n")


def test_cli_reference_is_generated_from_the_app():
    from edgekd.cli.reference import BEGIN, END, render
    assert _section(BEGIN, END) == render(), "run: python -m edgekd.cli.reference --write"


def test_results_come_from_committed_benchmark_results():
    from benchmarks.readme import BEGIN, END, render
    assert _section(BEGIN, END) == render(), "run: python -m benchmarks.readme"


def test_ci_runs_exactly_the_readme_commands():
    first = BLOCK.search(README).group(2).strip().splitlines()
    ci = [ln for ln in (REPO / ".ci/run").read_text().splitlines()
          if ln and not ln.startswith(("#", "set ", "cd "))]
    assert ci == first


@pytest.mark.slow
def test_every_tested_readme_block_runs_as_written(tmp_path):
    blocks = [body for marker, body in BLOCK.findall(README) if not marker]
    assert len(blocks) >= 2
    env = {**os.environ, "EDGEKD_CACHE": str(tmp_path / "cache")}
    for i, body in enumerate(blocks):
        log = tmp_path / f"block{i}.log"
        with open(log, "w") as out:  # a file, not a pipe: a background job cannot hold it open
            proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", body], cwd=tmp_path,
                                    stdout=out, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
            try:
                code = proc.wait(timeout=900)
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # background jobs of the block too
                except ProcessLookupError:
                    pass
        assert code == 0, f"README block failed:\n{body}\n{log.read_text()[-3000:]}"
    assert (tmp_path / "student.int8.onnx").is_file()
    assert (tmp_path / "decisions.jsonl").read_text().count("\n") > 10


# Python blocks run by the test are marked; the others need files a shell block made first.
PY_BLOCK = re.compile(r"<!-- tested: python -->\n```python\n(.*?)```", re.S)


@pytest.mark.slow
def test_readme_python_api_example_runs_as_written(tmp_path):
    """The Python API block trains a teacher and two students and compares them (~1 min)."""
    blocks = PY_BLOCK.findall(README)
    assert blocks, "the README has a Python API example"
    for i, body in enumerate(blocks):
        script = tmp_path / f"block{i}.py"
        script.write_text(body)
        proc = subprocess.run(["python", str(script)], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, f"README python block failed:\n{proc.stderr[-3000:]}"
    assert (tmp_path / "py-kd" / "metrics.json").is_file()
    assert "wilcoxon" in proc.stdout.lower()
