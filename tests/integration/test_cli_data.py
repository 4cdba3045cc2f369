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
    code, _, _ = run(["data", "synth", str(tmp_path / "s"), "--n-people", "2", "--sessions", "1",
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


def _csv_tree(root):
    """<root>/<hand>/<person>-<session>/<label>.txt plus the dataset's own notes; one row of
    ann's second session has two rows merged on one line."""
    rng = np.random.default_rng(3)
    for hand, person, session in [("left", "ann", "s1"), ("left", "ann", "s2"), ("right", "bob", "s1")]:
        d = root / hand / f"{person}-{session}"
        d.mkdir(parents=True)
        for label in range(2):
            rows = np.column_stack([rng.normal(size=(20, 4)).round(3), np.full(20, label)])
            np.savetxt(d / f"{label}.txt", rows, delimiter=",", fmt="%g")
    bad = root / "left/ann-s2/1.txt"
    lines = bad.read_text().splitlines()
    lines[4] = lines[4] + lines[5]
    bad.write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    (root / "curated.txt").write_text("ann: both sessions good\nbob: s1 only\n")
    return bad


README_IMPORT = ["--fs", "200", "--label-column", "-1", "--glob", "**/*.txt", "--path-regex",
                 "(?P<hand>[^/]+)/(?P<person>[^/-]+)-(?P<session>[^/]+)/"]


def test_import_bad_rows_error_by_default_or_skipped_and_recorded(tmp_path, capsys):
    bad = _csv_tree(tmp_path / "raw")
    code, _, err = run(["data", "import", str(tmp_path / "raw"), str(tmp_path / "ds"),
                        *README_IMPORT], capsys)
    assert code == 1 and f"{bad}:line 5: expected 5 columns, got 9" in err
    assert not (tmp_path / "ds").exists()
    code, out, _ = run(["data", "import", str(tmp_path / "raw"), str(tmp_path / "ds"),
                        *README_IMPORT, "--on-bad-row", "skip"], capsys)
    assert code == 0
    assert "1 bad row(s) skipped" in out and f"{bad}:line 5: row skipped" in out.replace("\n", "")
    assert "curated.txt" in out  # listed as skipped, not an error
    report = json.loads((tmp_path / "ds/dataset.json").read_text())["import"]
    assert [(r["path"], r["line"]) for r in report["skipped_rows"]] == [(str(bad), 5)]
    assert [f["path"].rsplit("/", 1)[-1] for f in report["skipped_files"]] == ["curated.txt"]
    ds = read_dataset(tmp_path / "ds")
    assert {(r.person, r.session) for r in ds.recordings} == {("ann", "s1"), ("ann", "s2"),
                                                              ("bob", "s1")}
    assert sum(r.n_samples for r in ds.recordings) == 3 * 40 - 2  # the merged line is 2 rows
    # ann's s2 is split where the row was dropped: no window spans the gap (review item 14)
    assert "1 session split(s) where rows were dropped" in out
    assert report["split_at"] == [{"person": "ann", "session": "s2", "segment": 1,
                                   "after": f"{bad}:line 5"}]
    assert [r.n_samples for r in ds.recordings if r.session == "s2"] == [20 + 4, 20 - 6]


def test_summary_names_each_persons_sessions(tmp_path, capsys):
    _csv_tree(tmp_path / "raw")
    code, out, _ = run(["data", "summary", str(tmp_path / "raw"), *README_IMPORT, "--json"],
                       capsys)
    info = json.loads(out)
    assert code == 0 and info["sessions"] == {"ann": ["s1", "s2"], "bob": ["s1"]}
    assert [p["line"] for p in info["problems"]] == [5] and info["n_problems"] == 1
    code, out, _ = run(["data", "summary", str(tmp_path / "raw"), *README_IMPORT], capsys)
    assert "sessions of ann: s1, s2" in out and "sessions of bob: s1" in out


def test_error_text_is_printed_literally_not_as_markup(tmp_path, capsys):
    code, _, _ = run(["data", "synth", str(tmp_path / "s"), "--n-people", "1", "--sessions", "2",
                      "--repetitions", "2", "--hold", "1.5", "--rest", "0.5"], capsys)
    assert code == 0
    code, _, err = run(["train", "--data", str(tmp_path / "s"), "--scheme", "session", "--test",
                        "4", "--out", str(tmp_path / "run"), "--device", "cpu"], capsys)
    assert code == 1
    assert "person P00: test session ['4'] not found (have ['S0', 'S1'])" in err.replace("\n", " ")


def test_error_lines_escape_markup_like_text(capsys):
    """numpy 2 lists print as [np.str_('S0')], which rich would take for a markup tag."""
    from edgekd.cli.console import print_error
    print_error("have [np.str_('S0'), np.str_('S1')] and [bold]x[/bold]")
    assert capsys.readouterr().err.strip() == \
        "error: have [np.str_('S0'), np.str_('S1')] and [bold]x[/bold]"
