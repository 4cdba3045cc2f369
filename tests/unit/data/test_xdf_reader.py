"""The XDF reader on small files this test writes from the XDF specification
(tests/xdf_writer.py), as LabRecorder would: an EMG stream in millivolts, a marker stream, an
unrelated stream, jittered timestamps and a clock offset."""

import numpy as np
import pytest

from edgekd.data.readers import ReaderOptions, detect_format, read_dataset
from edgekd.errors import ConfigError, DataFormatError
from tests.xdf_writer import XdfStream, write_xdf

pytest.importorskip("pyxdf", reason="pyxdf (the xdf extra) is not installed")

FS = 200.0


def _emg(n=2000, t0=1000.0, unit="millivolts", kind="EMG", jitter=2e-4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    stamps = t0 + np.arange(n) / FS + rng.uniform(-jitter, jitter, n)   # as LSL stamps them
    chans = [(f"EMG{i}", unit, "EMG") for i in range(4)]
    return x, XdfStream("armband", kind, "float32", FS, x, stamps, chans)


def _markers(events):
    return XdfStream("gestures", "Markers", "string", 0.0, [[t] for _, t in events],
                     np.array([s for s, _ in events]))


def test_emg_and_markers_become_a_labelled_recording(tmp_path):
    x, emg = _emg()
    # fist at 1001 s, rest at 1003 s, end at 1005 s, fist again at 1006 s until the end
    events = [(1001.0, "fist"), (1003.0, "rest"), (1005.0, "end"), (1006.0, "fist")]
    battery = XdfStream("battery", "Battery", "float32", 1.0, np.ones((10, 1)),
                        1000.0 + np.arange(10.0))
    write_xdf(tmp_path / "sub-P07_ses-S2_task-gestures_run-001_emg.xdf",
              [emg, _markers(events), battery])
    assert detect_format(tmp_path) == "xdf"
    ds = read_dataset(tmp_path)
    assert ds.label_names == ["fist", "rest"] and len(ds.recordings) == 1
    rec = ds.recordings[0]
    assert (rec.person, rec.session, rec.fs, rec.unit) == ("P07", "S2", FS, "uV")
    assert rec.channels == ["EMG0", "EMG1", "EMG2", "EMG3"]
    np.testing.assert_allclose(rec.signals, x * 1000.0, rtol=1e-6)   # mV → µV
    # pyxdf dejitters the stamps: sample k sits at 1000 + k / 200 s
    expected = np.full(len(x), -1)
    expected[200:600], expected[600:1000], expected[1200:] = 0, 1, 0
    mismatch = np.flatnonzero(rec.labels != expected)
    assert len(mismatch) <= 2, mismatch          # a boundary may move by one sample of jitter
    assert rec.repetition[300] == 0 and rec.repetition[1500] == 1 and rec.repetition[1100] == -1


def test_clock_offsets_are_applied_to_the_markers(tmp_path):
    _, emg = _emg(jitter=0.0)
    markers = _markers([(1001.0 - 0.5, "fist")])        # stamped on a clock 0.5 s behind
    write_xdf(tmp_path / "a.xdf", [emg, markers])
    assert np.flatnonzero(read_dataset(tmp_path, "xdf").recordings[0].labels == 0)[0] == 100
    markers.clock_offset = 0.5                          # as LabRecorder measured it
    write_xdf(tmp_path / "a.xdf", [emg, markers])
    assert np.flatnonzero(read_dataset(tmp_path, "xdf").recordings[0].labels == 0)[0] == 200


def test_a_file_without_an_emg_stream_is_located(tmp_path):
    _, a = _emg(kind="EEG")
    _, b = _emg(kind="Accelerometer", seed=1)
    write_xdf(tmp_path / "two.xdf", [a, b])
    with pytest.raises(DataFormatError, match=r"two.xdf: no stream of type 'emg' "
                                              r"\(numeric fixed-rate streams: armband \(EEG\)"):
        read_dataset(tmp_path, "xdf")
    write_xdf(tmp_path / "two.xdf", [a])          # one numeric stream: taken, with a warning
    ds = read_dataset(tmp_path, "xdf", strict=False)
    assert len(ds.recordings) == 1 and "reading the only numeric stream" in ds.problems[0].detail


def test_a_broken_file_is_reported_not_fatal_when_lenient(tmp_path):
    (tmp_path / "bad.xdf").write_bytes(b"XDX:garbage")
    _, emg = _emg()
    write_xdf(tmp_path / "good.xdf", [emg, _markers([(1001.0, "fist")])])
    ds = read_dataset(tmp_path, "xdf", strict=False)
    assert len(ds.recordings) == 1 and "bad.xdf" in ds.problems[0].path
    with pytest.raises(DataFormatError, match="bad.xdf: not a readable XDF file"):
        read_dataset(tmp_path, "xdf")


def test_label_names_option_orders_and_checks_markers(tmp_path):
    _, emg = _emg()
    write_xdf(tmp_path / "a.xdf", [emg, _markers([(1001.0, "fist"), (1002.0, "open")])])
    ds = read_dataset(tmp_path, "xdf", ReaderOptions(label_names=["open", "fist"]))
    assert ds.label_names == ["open", "fist"] and ds.recordings[0].labels[300] == 1
    with pytest.raises(ConfigError, match=r"markers \['open'\] are not in --label-names"):
        read_dataset(tmp_path, "xdf", ReaderOptions(label_names=["fist"]))
