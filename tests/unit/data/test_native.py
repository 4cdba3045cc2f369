import json

import numpy as np
import pytest

from edgekd.data import native
from edgekd.data.readers import read_dataset
from edgekd.errors import DataFormatError, EdgekdError


def test_round_trip_keeps_everything(tmp_path, small_synth):
    native.write_dataset(small_synth, tmp_path / "ds")
    back = read_dataset(tmp_path / "ds")
    assert back.format == "npz" and back.label_names == small_synth.label_names
    assert back.modalities == ["emg", "hd-emg"]
    for a, b in zip(small_synth.recordings, back.recordings):
        np.testing.assert_array_equal(a.signals, b.signals)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.repetition, b.repetition)
        assert (a.person, a.session, a.modality, a.channels) == (b.person, b.session, b.modality,
                                                                 b.channels)


def test_failed_write_leaves_nothing_and_keeps_old(tmp_path, small_synth, monkeypatch):
    out = tmp_path / "ds"
    native.write_dataset(small_synth, out)
    before = sorted(p.name for p in out.iterdir())
    calls = {"n": 0}
    real = np.savez_compressed

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(native.np, "savez_compressed", failing)
    with pytest.raises(OSError):
        native.write_dataset(small_synth, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temporary folder left


def test_existing_output_refused(tmp_path, small_synth):
    native.write_dataset(small_synth, tmp_path / "ds")
    with pytest.raises(EdgekdError, match="--overwrite"):
        native.write_dataset(small_synth, tmp_path / "ds")


def test_missing_npz_named(tmp_path, small_synth):
    native.write_dataset(small_synth, tmp_path / "ds")
    entry = json.loads((tmp_path / "ds/dataset.json").read_text())["recordings"][1]["file"]
    (tmp_path / "ds" / entry).unlink()
    with pytest.raises(DataFormatError, match=f"{entry}: listed as recording 1"):
        read_dataset(tmp_path / "ds")
