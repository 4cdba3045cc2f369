from dataclasses import replace

import numpy as np
import pytest
import scipy.io

from edgekd.data.readers import ReaderOptions, detect_format, read_dataset
from edgekd.errors import ConfigError, DataFormatError


def _write_myo(root, person="P1", session="training0", n_files=14, n_samples=40, seed=0):
    rng = np.random.default_rng(seed)
    d = root / person / session
    d.mkdir(parents=True)
    for i in range(n_files):
        rng.integers(-128, 128, size=(n_samples, 8)).astype("<i2").tofile(d / f"classe_{i}.dat")
    return d


# --- myo-dat -----------------------------------------------------------------------------------

def test_myo_labels_repetitions_and_sessions(tmp_path):
    _write_myo(tmp_path, "P1", "training0")
    _write_myo(tmp_path, "P1", "Test0", seed=1)
    _write_myo(tmp_path, "P2", "training0", seed=2)
    ds = read_dataset(tmp_path)
    assert ds.format == "myo-dat" and ds.people == ["P1", "P2"]
    rec = next(r for r in ds.recordings if r.person == "P1" and r.session == "training0")
    assert rec.signals.shape == (14 * 40, 8) and rec.fs == 200
    assert rec.labels[40 * 9] == 9 % 7 and rec.repetition[40 * 9] == 9 // 7
    raw = np.fromfile(tmp_path / "P1/training0/classe_3.dat", dtype="<i2").reshape(-1, 8)
    np.testing.assert_array_equal(rec.signals[120:160], raw)


def test_myo_odd_size_names_byte_offset_and_keeps_good_samples(tmp_path):
    d = _write_myo(tmp_path, n_files=7)
    with open(d / "classe_2.dat", "ab") as f:
        f.write(b"\x01\x02\x03")
    with pytest.raises(DataFormatError, match=r"classe_2\.dat:byte 640: file size 643 bytes"):
        read_dataset(tmp_path)
    lenient = read_dataset(tmp_path, strict=False)
    assert len(lenient.problems) == 1 and lenient.problems[0].offset == 640
    assert lenient.recordings[0].n_samples == 7 * 40  # every complete sample kept


def test_real_myo_layout(myo_root):
    ds = read_dataset(myo_root)
    assert len(ds.people) == 22 and ds.fs == 200 and ds.channels() == [f"ch{i}" for i in range(8)]
    assert not ds.problems


# --- csv ---------------------------------------------------------------------------------------

def test_csv_tree_imports_with_options_alone(tmp_path):
    """<root>/<hand>/<person>-<session>/<label>.txt, headerless rows c0..c7,label at 200 Hz."""
    rng = np.random.default_rng(0)
    for hand, person, session in [("left", "ann", "s1"), ("left", "ann", "s2"), ("right", "bob", "s1")]:
        d = tmp_path / hand / f"{person}-{session}"
        d.mkdir(parents=True)
        for label in range(3):
            rows = np.column_stack([rng.normal(size=(30, 8)).round(4), np.full(30, label)])
            np.savetxt(d / f"{label}.txt", rows, delimiter=",", fmt="%g")
    opts = ReaderOptions(fs=200, label_column="-1",
                         path_regex=r"(?P<hand>[^/]+)/(?P<person>[^/-]+)-(?P<session>[^/]+)/")
    ds = read_dataset(tmp_path, options=opts)
    assert ds.format == "csv" and ds.people == ["ann", "bob"]
    assert len(ds.recordings) == 3 and ds.recordings[0].n_chans == 8
    assert ds.label_names == ["0", "1", "2"]
    rec = ds.recordings[0]
    assert rec.meta == {"hand": "left"} and rec.session == "s1"
    np.testing.assert_array_equal(np.unique(rec.labels), [0, 1, 2])


def test_csv_label_from_file_name_and_header(tmp_path):
    for name in ("fist", "open"):
        for rep in range(2):
            d = tmp_path / "p1" / f"r{rep}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{name}.csv").write_text("a,b\n" + "1,2\n" * 5)
    opts = ReaderOptions(fs=100, path_regex=r"(?P<person>[^/]+)/r(?P<repetition>\d)/(?P<label>\w+)")
    ds = read_dataset(tmp_path, options=opts)
    assert ds.label_names == ["fist", "open"] and ds.recordings[0].channels == ["a", "b"]
    assert sorted(set(ds.recordings[0].repetition.tolist())) == [0, 1]


@pytest.mark.parametrize("body,expected", [
    ("1,2,3\n4,5\n", r"x\.csv:line 2: expected 3 columns, got 2"),
    ("1,2,3\n4,oops,6\n", r"x\.csv:line 2: column 1: expected a number, got 'oops'"),
    ("1,2,3\n4,nan,6\n", r"x\.csv:line 2: NaN or inf"),
])
def test_csv_bad_rows_are_located(tmp_path, body, expected):
    (tmp_path / "x.csv").write_text(body)
    with pytest.raises(DataFormatError, match=expected):
        read_dataset(tmp_path, options=ReaderOptions(fs=100))
    lenient = read_dataset(tmp_path, options=ReaderOptions(fs=100), strict=False)
    assert lenient.recordings[0].n_samples == 1 and lenient.problems[0].line == 2


def test_csv_inconsistent_channel_counts(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,3\n" * 4)
    (tmp_path / "b.csv").write_text("1,2,3\n" * 4)
    (tmp_path / "c.csv").write_text("1,2\n" * 4)
    with pytest.raises(DataFormatError, match=r"c\.csv: 2 channel columns, but most files have 3"):
        read_dataset(tmp_path, options=ReaderOptions(fs=100))


def test_csv_needs_fs(tmp_path):
    (tmp_path / "a.csv").write_text("1,2\n")
    with pytest.raises(ConfigError, match="--fs"):
        read_dataset(tmp_path)


# --- ninapro -----------------------------------------------------------------------------------

def test_ninapro_mat(tmp_path):
    n = 300
    stim = np.repeat([0, 1, 0, 2, 0, 1, 0, 2, 0, 0], 30)[:, None]
    rep = np.repeat([0, 1, 0, 1, 0, 2, 0, 2, 0, 0], 30)[:, None]
    scipy.io.savemat(tmp_path / "S3_E1_A1.mat", {
        "emg": np.random.default_rng(0).normal(size=(n, 10)), "restimulus": stim,
        "rerepetition": rep, "frequency": np.array([[100]])})
    ds = read_dataset(tmp_path)
    rec = ds.recordings[0]
    assert ds.format == "ninapro" and rec.person == "S3" and rec.fs == 100 and rec.n_chans == 10
    assert ds.label_names[:3] == ["rest", "movement 1", "movement 2"]
    assert rec.repetition[35] == 0 and rec.repetition[155] == 1 and rec.repetition[0] == -1


def test_ninapro_missing_variables(tmp_path):
    scipy.io.savemat(tmp_path / "S1_E1.mat", {"emg": np.zeros((5, 2))})
    with pytest.raises(DataFormatError, match=r"S1_E1\.mat: expected variables 'emg' and one of"):
        read_dataset(tmp_path)


# --- edf ---------------------------------------------------------------------------------------

def test_edf_with_annotations(tmp_path):
    pyedflib = pytest.importorskip("pyedflib")
    fs, n = 200, 2000
    path = tmp_path / "rec.edf"
    x = np.random.default_rng(0).normal(size=(2, n)) * 100
    with pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_EDFPLUS) as w:
        w.setSignalHeaders([{"label": f"emg{i}", "dimension": "uV", "sample_frequency": fs,
                             "physical_max": 1000, "physical_min": -1000,
                             "digital_max": 32767, "digital_min": -32768} for i in range(2)])
        w.writeSamples(list(x))
        w.writeAnnotation(1.0, 2.0, "fist")
        w.writeAnnotation(5.0, 2.0, "open")
    ds = read_dataset(tmp_path)
    rec = ds.recordings[0]
    assert ds.format == "edf" and ds.label_names == ["fist", "open"] and rec.fs == fs
    assert rec.labels[fs * 2] == 0 and rec.labels[fs * 6] == 1 and rec.labels[fs * 4] == -1
    np.testing.assert_allclose(rec.signals[:, 0], x[0], atol=0.1)  # physical units


# --- detection ---------------------------------------------------------------------------------

def test_unknown_layout_and_empty_folder(tmp_path):
    with pytest.raises(DataFormatError, match="empty folder"):
        detect_format(tmp_path)
    (tmp_path / "notes.doc").write_text("x")
    with pytest.raises(DataFormatError, match="unknown layout"):
        detect_format(tmp_path)


def test_forced_format_with_typo_suggests():
    with pytest.raises(ConfigError, match="did you mean 'ninapro'"):
        read_dataset(".", format="ninapr")


# --- discovery: symlinks, notes, bad rows ------------------------------------------------------

def _csv_session(d, rows=30, seed=0, labels=(0, 1)):
    """One <label>.txt per label: headerless rows c0..c3,label."""
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    for label in labels:
        body = np.column_stack([rng.normal(size=(rows, 4)).round(4), np.full(rows, label)])
        np.savetxt(d / f"{label}.txt", body, delimiter=",", fmt="%g")


TREE_REGEX = r"(?P<hand>[^/]+)/(?P<person>[^/-]+)-(?P<session>[^/]+)/"


def test_directory_symlinks_are_followed_once(tmp_path):
    _csv_session(tmp_path / "store/ann-s1")
    (tmp_path / "root/left").mkdir(parents=True)
    (tmp_path / "root/left/ann-s1").symlink_to(tmp_path / "store/ann-s1", target_is_directory=True)
    (tmp_path / "store/ann-s1/loop").symlink_to(tmp_path / "root", target_is_directory=True)
    opts = ReaderOptions(fs=100, label_column="-1", path_regex=TREE_REGEX)
    ds = read_dataset(tmp_path / "root", options=opts)
    assert [(r.person, r.session, r.n_samples) for r in ds.recordings] == [("ann", "s1", 60)]
    assert detect_format(tmp_path / "root") == "csv"


def test_myo_session_behind_a_symlink(tmp_path):
    real = _write_myo(tmp_path / "elsewhere", "P1", "training0")
    (tmp_path / "root/P1").mkdir(parents=True)
    (tmp_path / "root/P1/training0").symlink_to(real, target_is_directory=True)
    assert detect_format(tmp_path / "root") == "myo-dat"
    assert read_dataset(tmp_path / "root").recordings[0].n_samples == 14 * 40


def test_notes_are_skipped_not_reported_as_problems(tmp_path):
    """The README's --glob '**/*.txt' example on a tree that holds the dataset's own notes."""
    _csv_session(tmp_path / "left/ann-s1")
    (tmp_path / "curated.txt").write_text("ann s1: good\nbob s2: electrode 3 loose\n")
    (tmp_path / "README.txt").write_text("Recorded 2021 at 200 Hz.\n\nColumns: c0..c3, label\n")
    opts = ReaderOptions(fs=100, label_column="-1", glob="**/*.txt", path_regex=TREE_REGEX)
    ds = read_dataset(tmp_path, options=opts)           # strict: would raise on a problem
    assert [r.person for r in ds.recordings] == ["ann"]
    skipped = sorted(p.path.rsplit("/", 1)[-1] for p in ds.problems if p.severity == "info")
    assert skipped == ["README.txt", "curated.txt"]


def test_a_file_of_wrong_numbers_is_still_an_error(tmp_path):
    """The notes rule must not hide data in an unexpected shape: '1;2;3' rows read with a forced
    ',' delimiter are numbers, so the file is data and its rows are bad."""
    (tmp_path / "x.csv").write_text("1;2;3\n4;5;6\n")
    with pytest.raises(DataFormatError, match=r"x\.csv:line 1: no valid data rows"):
        read_dataset(tmp_path, options=ReaderOptions(fs=100, delimiter=",", header=False))


def test_unknown_layout_says_what_it_looked_for_and_found(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"\x00")
    (tmp_path / "b.bin").write_bytes(b"\x00")
    with pytest.raises(DataFormatError, match=r"looked for .*classe_<i>\.dat.*found 2 file\(s\) "
                                              r"\(directory symlinks followed\): \.bin x2"):
        detect_format(tmp_path)


def test_bad_rows_skipped_each_located(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p/a.csv").write_text("1,2,0\n3,4,0\n5,6,07,8,1\n9,x,1\n1,2,1\n")
    strict = ReaderOptions(fs=100, label_column="-1")
    with pytest.raises(DataFormatError, match=r"a\.csv:line 3: expected 3 columns, got 5"):
        read_dataset(tmp_path, options=strict)
    ds = read_dataset(tmp_path, options=ReaderOptions(fs=100, label_column="-1",
                                                      on_bad_row="skip"))
    assert [r.n_samples for r in ds.recordings] == [2, 1]   # split where rows were dropped
    assert [(p.line, p.detail) for p in ds.problems] == [
        (3, "row skipped: expected 3 columns, got 5"),
        (4, "row skipped: column 1: expected a number, got 'x'")]
    with pytest.raises(ConfigError, match="--on-bad-row 'drop'"):
        read_dataset(tmp_path, options=ReaderOptions(fs=100, on_bad_row="drop"))


def test_a_skipped_row_splits_the_recording_so_no_window_crosses_it(tmp_path):
    """Review item 14: dropping a row must not splice the time series. The session is split
    where rows were dropped: filters restart and no window spans the gap; repetition ids are
    those of the whole file (the hold goes on across the gap)."""
    from edgekd.data.windowing import dataset_windows
    from edgekd.signal import FilterSpec, PreprocessSpec, WindowSpec
    rng = np.random.default_rng(0)
    good = np.column_stack([rng.normal(size=(200, 4)).round(4), np.repeat([0, 1], 100)])
    lines = [",".join(f"{v:g}" for v in row) for row in good]
    lines.insert(150, "1,2,nan,4,1")               # file line 151
    lines.insert(151, "1,2,3,4,15,6,7,8,1")        # 152: two rows merged
    (tmp_path / "p").mkdir()
    (tmp_path / "p/s.csv").write_text("\n".join(lines) + "\n")
    ds = read_dataset(tmp_path, options=ReaderOptions(fs=100, label_column="-1",
                                                      on_bad_row="skip"))
    first, second = ds.recordings
    assert (first.n_samples, second.n_samples) == (150, 50)
    assert (first.person, first.session) == (second.person, second.session) == ("p", "s")
    np.testing.assert_array_equal(np.vstack([first.signals, second.signals]),
                                  good[:, :4].astype(np.float32))
    assert second.meta["after_skipped_line"] == 152
    assert set(first.repetition[100:]) == set(second.repetition) == {0}
    spec = PreprocessSpec(100.0, 4, WindowSpec(20, 1), FilterSpec(highpass_hz=5.0, notch_hz=None))
    windows = dataset_windows(ds, spec)
    assert windows.recording.tolist().count(1) == 50 - 20 + 1
    alone = dataset_windows(replace(ds, recordings=[second]), spec)
    np.testing.assert_array_equal(windows.x[windows.recording == 1], alone.x)


def test_a_long_preamble_is_not_mistaken_for_notes(tmp_path):
    """Review item 15: a recording whose first 30 lines are a preamble (an OpenBCI-style
    export) is read, not skipped as notes; the preamble is listed as a warning."""
    rng = np.random.default_rng(0)
    rows = np.column_stack([rng.normal(size=(50, 4)).round(4), np.repeat([0, 1], 25)])
    preamble = [f"%Note {i}: electrode placement as in protocol" for i in range(29)]
    preamble += ["%Sample Rate = 100 Hz"]
    text = "\n".join(preamble + ["c0,c1,c2,c3,label"] +
                     [",".join(f"{v:g}" for v in r) for r in rows]) + "\n"
    (tmp_path / "p").mkdir()
    (tmp_path / "p/s.csv").write_text(text)
    ds = read_dataset(tmp_path, options=ReaderOptions(fs=100, label_column="label"))
    (rec,) = ds.recordings
    assert rec.n_samples == 50 and rec.channels == ["c0", "c1", "c2", "c3"]
    np.testing.assert_array_equal(rec.signals, rows[:, :4].astype(np.float32))
    assert [(p.severity, p.line, p.detail) for p in ds.problems] == [
        ("warning", 1, "preamble of 30 line(s) before the header skipped (lines 1-30)")]


def test_only_files_without_any_numeric_row_are_notes(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p/s.csv").write_text("1,2,0\n3,4,1\n")
    notes = "\n".join(["Recorded 2021 by the lab."] * 40 + ["see s.csv"]) + "\n"
    (tmp_path / "p/notes.txt").write_text(notes)
    ds = read_dataset(tmp_path, options=ReaderOptions(fs=100, label_column="-1"))
    assert [(p.severity, p.path.rsplit("/", 1)[-1]) for p in ds.problems] == \
        [("info", "notes.txt")]
    assert "no numeric row" in ds.problems[0].detail


def test_a_data_file_that_cannot_be_read_as_text_is_an_error_under_strict(tmp_path):
    """Review item 15: binary junk named like data is not quietly skipped as notes."""
    (tmp_path / "p").mkdir()
    (tmp_path / "p/good.csv").write_text("1,2,0\n3,4,1\n")
    (tmp_path / "p/broken.csv").write_bytes(bytes(range(256)) * 8)
    opts = ReaderOptions(fs=100, label_column="-1")
    with pytest.raises(DataFormatError, match=r"broken\.csv:byte 0: not a text file"):
        read_dataset(tmp_path, options=opts)
    ds = read_dataset(tmp_path, options=opts, strict=False)
    assert [r.n_samples for r in ds.recordings] == [2]
    assert [(p.severity, p.path.rsplit("/", 1)[-1]) for p in ds.problems] == \
        [("error", "broken.csv")]
