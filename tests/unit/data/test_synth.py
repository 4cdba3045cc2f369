import numpy as np

from edgekd.data.synth import SynthConfig, synthesize
from edgekd.data.windowing import dataset_windows
from edgekd.signal import FilterSpec, PreprocessSpec, WindowSpec
from tests.lda import LDA, td_features


def test_deterministic_and_shaped():
    a = synthesize(SynthConfig(people=2, sessions=1, seed=3))
    b = synthesize(SynthConfig(people=2, sessions=1, seed=3))
    np.testing.assert_array_equal(a.recordings[1].signals, b.recordings[1].signals)
    rec = a.recordings[0]
    assert rec.signals.dtype == np.float32 and rec.n_chans == 8 and rec.unit == "uV"
    counts = np.bincount(rec.labels[rec.labels >= 0])
    assert len(counts) == 7 and counts.min() == counts.max()  # balanced gestures
    assert (rec.labels == -1).mean() > 0.2                      # rest between gestures


def test_paired_modality_shares_time_base_and_labels(small_synth):
    emg = small_synth.of_modality("emg")
    hd = small_synth.of_modality("hd-emg")
    assert len(emg) == len(hd) and hd[0].n_chans == 16
    for a, b in zip(emg, hd):
        assert a.key == b.key and a.n_samples == b.n_samples
        np.testing.assert_array_equal(a.labels, b.labels)


def test_mains_interference_present_before_filtering():
    rec = synthesize(SynthConfig(people=1, sessions=1, fs=1000, mains_hz=50, seed=0)).recordings[0]
    rest = rec.signals[rec.labels == -1]
    spec = np.abs(np.fft.rfft(rest[:4000, 0]))
    freqs = np.fft.rfftfreq(4000, 1 / 1000)
    assert spec[np.argmin(np.abs(freqs - 50))] > 5 * np.median(spec)


def test_learnable_but_not_trivial():
    """LDA on Hudgins features, trained on a person's first 3 repetitions, tested on the last."""
    ds = synthesize(SynthConfig(people=6, sessions=1, seed=0))
    ws = dataset_windows(ds, PreprocessSpec(200.0, 8, WindowSpec(52, 10), FilterSpec()))
    accs = []
    for p in sorted(set(ws.person)):
        train = (ws.person == p) & (ws.repetition < 3)
        test = (ws.person == p) & (ws.repetition == 3)
        clf = LDA().fit(td_features(ws.x[train]), ws.y[train])
        accs.append(float((clf.predict(td_features(ws.x[test])) == ws.y[test]).mean()))
    assert 0.6 < np.mean(accs) < 0.99, accs    # chance is 1/7
    assert min(accs) < 1.0, accs
