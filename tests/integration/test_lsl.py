"""LSL on this machine only (discovery restricted to 127.0.0.1): an LSL EMG stream in
(``lsl://NAME``), the raw-EMG outlet and the decision outlet out, checked with pylsl inlets:
samples and decisions identical to the offline run, acquisition-time stamps, standard channel
metadata. Skips with the reason when pylsl is absent or cannot load liblsl."""

import os
import threading
import time

import numpy as np
import pytest

from firmware_bridge.runner import StreamOptions, run_stream
from tests.unit.firmware.fakes import centroid_model, recording

FS, CHUNK = 200.0, 100


@pytest.fixture(scope="module")
def pylsl(tmp_path_factory):
    cfg = tmp_path_factory.mktemp("lsl") / "lsl_api.cfg"
    cfg.write_text("[ports]\nIPv6 = disable\n[multicast]\nResolveScope = machine\n"
                   "[lab]\nKnownPeers = {127.0.0.1}\n")
    old = os.environ.get("LSLAPICFG")
    os.environ["LSLAPICFG"] = str(cfg)
    try:
        import pylsl
        pylsl.local_clock()
    except ImportError:
        pytest.skip("pylsl (the lsl extra) is not installed")
    except RuntimeError as err:
        pytest.skip(f"pylsl cannot load liblsl: {err}")
    yield pylsl
    if old is None:
        os.environ.pop("LSLAPICFG", None)
    else:
        os.environ["LSLAPICFG"] = old


def _emg_outlet(pylsl, name, n_chans, unit="microvolts"):
    info = pylsl.StreamInfo(name, "EMG", n_chans, FS, pylsl.cf_float32, f"src-{name}")
    chans = info.desc().append_child("channels")
    for i in range(n_chans):
        ch = chans.append_child("channel")
        ch.append_child_value("label", f"M{i}")
        ch.append_child_value("unit", unit)
        ch.append_child_value("type", "EMG")
    return pylsl.StreamOutlet(info)


def _inlet(pylsl, name):
    found = pylsl.resolve_byprop("name", name, timeout=10)
    assert found, f"no LSL stream {name!r}"
    inlet = pylsl.StreamInlet(found[0], processing_flags=pylsl.proc_clocksync)
    inlet.open_stream(timeout=10)
    return inlet


def _wait_consumers(outlet, what):
    deadline = time.monotonic() + 20
    while not outlet.have_consumers():
        assert time.monotonic() < deadline, f"nobody connected to {what}"
        time.sleep(0.01)


def _pull_all(inlet, until, out):
    while not until.is_set() or inlet.samples_available():
        x, ts = inlet.pull_chunk(timeout=0.1)
        if ts:
            out.append((np.asarray(x, np.float32), np.asarray(ts)))


def test_lsl_in_raw_and_decisions_out(pylsl):
    from firmware_bridge.lsl import LslDecisionSink, LslRawSink
    rec, names = recording()
    model = centroid_model(rec, names, hop=20)
    x = rec.signals[:len(rec.signals) // CHUNK * CHUNK] / 1000.0   # sent in millivolts
    source = _emg_outlet(pylsl, "edgekd-t-emg", rec.n_chans, unit="millivolts")
    decided = []
    decisions_out = LslDecisionSink("edgekd-t-dec", list(model.label_names))
    raw_out = LslRawSink("edgekd-t-raw", ["a", "b", "c", "d", "e", "f", "g", "h"])
    opts = StreamOptions(port="lsl://edgekd-t-emg?timeout=10", reconnect=False,
                         sinks=[decided.append, decisions_out], sample_sinks=[raw_out])
    report = {}
    runner = threading.Thread(target=lambda: report.update(run_stream(opts, model)))
    runner.start()
    dec_inlet, done, dec_got, raw_got = _inlet(pylsl, "edgekd-t-dec"), threading.Event(), [], []
    _wait_consumers(source, "the EMG source")
    t0 = pylsl.local_clock()
    stamps = t0 + np.arange(len(x)) / FS
    source.push_chunk(x[:CHUNK], stamps[CHUNK - 1])
    raw_inlet = _inlet(pylsl, "edgekd-t-raw")           # the raw outlet opens with block 1
    readers = [threading.Thread(target=_pull_all, args=(i, done, g))
               for i, g in ((dec_inlet, dec_got), (raw_inlet, raw_got))]
    for r in readers:
        r.start()
    time.sleep(0.5)
    for k in range(CHUNK, len(x), CHUNK):
        source.push_chunk(x[k:k + CHUNK], stamps[k + CHUNK - 1])
        time.sleep(0.005)
    time.sleep(1.0)
    del source                                           # the outlet goes: the stream ends
    runner.join(timeout=60)
    done.set()
    for r in readers:
        r.join(timeout=10)
    assert not runner.is_alive() and report["ended_by"].startswith("device lost")
    assert report["samples"] == len(x) and report["samples_missing"] == 0

    # decisions: the offline run's, stamped with the acquisition time of each window's end
    ends, probs = model.new_stream().push((x * 1000.0).astype(np.float32))
    assert [d.end_sample for d in decided] == ends.tolist()
    np.testing.assert_allclose(np.stack([d.probs for d in decided]), probs, atol=1e-5)
    lsl_t = np.array([decisions_out.clock.to_lsl(d.acquired_ns) for d in decided])
    assert np.abs(lsl_t - stamps[ends]).max() < 0.005      # acquisition, not push, time
    dec_x = np.concatenate([c for c, _ in dec_got])
    dec_t = np.concatenate([t for _, t in dec_got])
    assert len(dec_x) == len(decided)
    np.testing.assert_array_equal(dec_x[:, 0], [-1 if d.label is None else d.label
                                                for d in decided])
    assert np.abs(dec_t - stamps[ends]).max() < 0.005

    # raw outlet: the samples in µV, stamped with their acquisition times, standard metadata
    raw_x = np.concatenate([c for c, _ in raw_got])
    raw_t = np.concatenate([t for _, t in raw_got])
    n = len(raw_x)
    assert n >= len(x) - 2 * CHUNK
    np.testing.assert_allclose(raw_x, x[-n:] * 1000.0, rtol=1e-5, atol=1e-3)
    assert np.abs(raw_t - stamps[-n:]).max() < 0.005
    info = raw_inlet.info(timeout=5)
    ch = info.desc().child("channels").child("channel")
    assert (info.type(), info.nominal_srate(), ch.child_value("label"), ch.child_value("unit"),
            ch.child_value("type")) == ("EMG", FS, "a", "microvolts", "EMG")


def test_an_unknown_lsl_stream_is_one_clear_error(pylsl):
    from edgekd.errors import EdgekdError
    with pytest.raises(EdgekdError, match="no LSL stream named 'nobody-here'"):
        run_stream(StreamOptions(port="lsl://nobody-here?timeout=0.5"), None)
