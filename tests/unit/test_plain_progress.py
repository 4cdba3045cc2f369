"""Progress off a terminal is plain lines: at the start, each tenth, the end, and a heartbeat
for stages with no steps (a redirected `edgekd demo` was silent for minutes per stage)."""

import io
import time

from rich.console import Console
from typer.testing import CliRunner

from edgekd.cli import app
from edgekd.cli.plain_progress import PlainProgress, heartbeat


def _console():
    out = io.StringIO()
    return Console(file=out, width=200), out


def test_a_stage_that_fails_at_once_prints_nothing():
    console, out = _console()
    try:
        with heartbeat(console, "export onnx", every_s=10):
            raise ValueError("bad run")
    except ValueError:
        pass
    assert out.getvalue() == ""


def test_a_line_per_tenth_not_per_step():
    console, out = _console()
    with PlainProgress(console, every_s=1e9) as bar:
        task = bar.add_task("training", total=100)
        for _ in range(100):
            bar.advance(task)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # 1% (the first step), then 10%, 20% ... 100%
    assert lines[0].startswith("training: 1/100 (1%)")
    assert lines[-1].startswith("training: 100/100 (100%)")


def test_a_task_without_total_prints_at_most_every_few_seconds_with_its_info():
    console, out = _console()
    bar = PlainProgress(console, every_s=0.05)
    task = bar.add_task("epochs", total=None, info="")
    bar.update(task, advance=1, info="P00 epoch 0: loss 1.0")
    bar.update(task, advance=1, info="P00 epoch 1: loss 0.9")  # within 0.05 s: not printed
    time.sleep(0.06)
    bar.update(task, advance=1, info="P00 epoch 2: loss 0.8")
    lines = out.getvalue().splitlines()
    assert [ln.split(" [")[0] for ln in lines] == ["epochs: 1 P00 epoch 0: loss 1.0",
                                                  "epochs: 3 P00 epoch 2: loss 0.8"]


def test_heartbeat_says_it_is_still_working_and_when_it_is_done():
    console, out = _console()
    with heartbeat(console, "export onnx-int8", every_s=0.05):
        time.sleep(0.18)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("export onnx-int8: still working [0 s]")
    assert sum("still working" in ln for ln in lines) >= 2
    assert lines[-1].startswith("export onnx-int8: done")


def test_cli_progress_is_plain_lines_when_output_is_captured(tmp_path):
    result = CliRunner().invoke(app, ["data", "synth", str(tmp_path / "d"), "--n-people", "3",
                                      "--hold", "2", "--repetitions", "1", "--gestures", "3"])
    assert result.exit_code == 0, result.output
    assert "synthesising people: 3/3 (100%)" in result.stderr
