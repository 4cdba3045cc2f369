import json
import subprocess
import sys

import numpy as np
import pytest

from edgekd.cli import main
from edgekd.data.readers import read_dataset


def run(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_synth_summary_import_round_trip(tmp_path, capsys):
    code, _, _ = run(["data", "synth", str(tmp_path / "s"), "--people", "2", "--sessions", "1",
                      "--paired-channels", "4"], capsys)
    assert code == 0
    code, out, _ = run(["data", "summary", str(tmp_path / "s"), "--json"], capsys)
    info = json.loads(out)
    assert code == 0 and info["n_people"] == 2 and info["n_channels"] == 8
    assert info["modalities"]["hd-emg"]["n_channels"] == 4
    assert [g["segments"] for g in info["gestures"]] == [8] * 7  # 2 people x 4 repetitions
    code, _, _ = run(["data", "import", str(tmp_path / "s"), str(tmp_path / "copy")], capsys)
    assert code == 0 and len(read_dataset(tmp_path / "copy").recordings) == 4


def test_summary_reports_every_problem(tmp_path, capsys):
    (tmp_path / "a.csv").write_text("1,2\n3,x\n5,6\n")
    (tmp_path / "b.csv").write_text("1,2\n3\n")
    code, out, _ = run(["data", "summary", str(tmp_path), "--fs", "100", "--json"], capsys)
    lines = sorted((p["path"].rsplit("/", 1)[-1], p["line"]) for p in json.loads(out)["problems"]
                   if p["severity"] == "error")
    assert code == 0 and lines == [("a.csv", 2), ("b.csv", 2)]


def test_bad_input_is_one_line_exit_1_no_traceback(tmp_path):
    (tmp_path / "P1/training0").mkdir(parents=True)
    (tmp_path / "P1/training0/classe_0.dat").write_bytes(b"\x00" * 17)
    result = subprocess.run([sys.executable, "-m", "edgekd", "data", "import", str(tmp_path),
                             str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "classe_0.dat:byte 16: file size 17 bytes" in result.stderr
    assert not (tmp_path / "out").exists()


def test_real_myo_summary(myo_root, capsys):
    code, out, _ = run(["data", "summary", str(myo_root), "--json"], capsys)
    info = json.loads(out)
    assert (info["n_people"], len(info["gestures"]), info["n_channels"], info["fs"]) == \
        (22, 7, 8, [200.0])
    assert all(g["segments"] == 88 and g["seconds"] > 400 for g in info["gestures"])
    assert info["n_problems"] == 0
    assert np.isclose(sum(g["seconds"] for g in info["gestures"]), info["duration_s"], rtol=1e-3)
