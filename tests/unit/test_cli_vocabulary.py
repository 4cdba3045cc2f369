"""Every command's --help speaks one vocabulary (edgekd/cli/aliases.py), shows the defaults a
user tunes, and the old names still work as hidden aliases."""

import pytest
import typer

from edgekd.cli import app, main
from edgekd.cli.aliases import ALIASES, rewrite
from edgekd.data.splits import SplitConfig
from edgekd.signal import FilterSpec
from edgekd.train.config import DataConfig, OptimConfig

RETIRED = {"--chans", "--times", "-f"}  # visible nowhere; --split etc. change meaning instead


def _commands(group=None, prefix=""):
    group = group or typer.main.get_command(app)
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
            yield from _commands(cmd, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", cmd


COMMANDS = dict(_commands())


def _visible(cmd):
    return {opt: p for p in cmd.params if p.param_type_name == "option" and not p.hidden
            for opt in p.opts + p.secondary_opts}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_option_name_has_one_meaning(name):
    opts = _visible(COMMANDS[name])
    assert not RETIRED & set(opts), f"edgekd {name}: {RETIRED & set(opts)}"
    if "--json" in opts:  # a flag: JSON on stdout; files are --<what>-json PATH
        assert opts["--json"].is_flag, name
    for opt, p in opts.items():
        if opt.endswith("-json") and opt != "--json":
            assert not p.is_flag, (name, opt)
    if "--channels" in opts:  # indices (a count is --n-channels)
        assert "indices" in opts["--channels"].help, name
    if "--format" in opts or "--formats" in opts:  # artifact formats, never a data reader
        assert name in ("export", "bench"), name
    if "--split" in opts:  # one split of a run, by name; the scheme is --scheme
        assert name in ("export", "bench"), name
    if "--reader" in opts:
        assert opts["--reader"].help.startswith("Reader:"), name
    if "--people" in opts:
        assert "comma-separated" in opts["--people"].help, name


def test_commands_that_read_recordings_name_the_reader_alike():
    for name in ("train", "distill", "evaluate", "data summary", "data import"):
        assert "--reader" in _visible(COMMANDS[name]), name


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_every_old_name_leads_to_a_visible_new_one(name):
    visible = _visible(COMMANDS[name])
    for old, new in ALIASES[name].items():
        assert new in visible, (name, new)
        assert old not in visible or old in ("--split", "--json"), (name, old)  # new meaning


def test_old_names_are_rewritten_with_a_warning():
    argv, notes = rewrite(["train", "--data", "d", "--split=session", "-f", "npz"])
    assert argv == ["train", "--data", "d", "--scheme=session", "--reader", "npz"]
    assert notes[0] == "--split is now --scheme (the old name goes in a later release)"
    assert rewrite(["export", "run", "--split", "P00"])[0] == ["export", "run", "--split", "P00"]
    assert rewrite(["evaluate", "r", "--split", "all"])[0][-2:] == ["--windows", "all"]


def test_an_old_name_still_runs(capsys):
    try:
        main(["models", "--role", "student", "--chans", "8", "--times", "52"])
    except SystemExit as done:
        assert not done.code
    captured = capsys.readouterr()
    assert "--chans is now --n-channels" in captured.err and "32,775" in captured.out


def test_help_shows_the_defaults_a_user_tunes():
    """The defaults live in the config dataclasses; --help says them (train and distill)."""
    data, optim, split = DataConfig(), OptimConfig(), SplitConfig()
    for name in ("train", "distill"):
        opts = _visible(COMMANDS[name])
        assert f"(default: {data.window})" in opts["--window"].help
        assert f"(default: {data.hop})" in opts["--hop"].help
        assert f"(default: {optim.epochs})" in opts["--epochs"].help
        assert f"(default: {split.scheme})" in opts["--scheme"].help
        assert f"(default: {split.k})" in opts["--k"].help
        assert f"(default: {FilterSpec().notch_hz:g})" in opts["--notch"].help
        assert f"{FilterSpec().highpass_hz:g} Hz high-pass" in opts["--notch"].help


def test_notch_reaches_the_run_config(tmp_path):
    """--notch 60 (American mains) and --notch none end up in the run's saved filters."""
    import yaml
    from typer.testing import CliRunner

    from edgekd.cli.train_options import notch_hz
    from edgekd.data import native
    from edgekd.data.synth import SynthConfig, synthesize

    assert notch_hz("60") == 60.0 and notch_hz("none") == "none" and notch_hz(None) is None
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=3)),
                         tmp_path / "d")
    for notch, saved in (("60", 60.0), ("none", None)):
        out = tmp_path / f"run-{notch}"
        result = CliRunner().invoke(app, [
            "train", "--data", str(tmp_path / "d"), "--model", "cnn_tiny", "--epochs", "1",
            "--hop", "20", "--device", "cpu", "--notch", notch, "--out", str(out)])
        assert result.exit_code == 0, result.output
        filters = yaml.safe_load((out / "config.yaml").read_text())["data"]["filters"]
        assert filters["notch_hz"] == saved and filters["highpass_hz"] == 20.0
    bad = CliRunner().invoke(app, ["train", "--data", str(tmp_path / "d"), "--notch", "fifty"])
    assert bad.exit_code == 2 and "50, 60 or none" in bad.output
