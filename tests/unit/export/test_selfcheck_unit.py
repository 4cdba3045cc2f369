"""export.selfcheck's pure parts: the stored record round-trips bit for bit, the error measure
is the one documented, the window choice is stratified and skips near ties."""

import json

import numpy as np
import pytest

from edgekd.errors import EdgekdError
from export import selfcheck


def test_record_round_trips_and_the_replay_input_is_bit_identical():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3, 11)).astype(np.float32)
    q, scale = selfcheck.quantize_windows(x)
    assert q.dtype == np.int8 and np.abs(q).max() == selfcheck.LEVELS
    windows = selfcheck.decode_windows(q, scale)
    logits = rng.normal(size=(5, 4)).astype(np.float32)
    rec = selfcheck.encode(q, scale, logits, selfcheck.gates(0.97, 0.01), {"host_rel_error": 0.01})
    info, got_w, got_l = selfcheck.decode(json.dumps(rec), "a.onnx")
    assert np.array_equal(got_w, windows) and np.array_equal(got_l, logits)
    assert info["min_agreement"] == 0.97 and info["max_rel_error"] == pytest.approx(0.03)
    assert np.abs(windows - x).max() <= scale.max() / 2 + 1e-7    # rounding, nothing more


def test_gates_allow_twice_the_graph_error_or_plus_two_percent():
    assert selfcheck.gates(0.9, 0.001)["max_rel_error"] == pytest.approx(0.021)
    assert selfcheck.gates(0.9, 0.05)["max_rel_error"] == pytest.approx(0.1)


def test_rel_error_ignores_a_shift_and_scales_with_the_reference():
    ref = np.array([[1.0, -1.0, 0.0], [2.0, 0.0, -2.0]])
    assert selfcheck.rel_error(ref + 5.0, ref) == 0.0               # softmax ignores shifts
    # centred reference |values| average 2/3 and 4/3 → 1; a 0.1 change on one logit moves
    # the centred values by (0.0667, 0.0333, 0.0333) → mean over 6 values 0.0222
    got = ref.copy()
    got[0, 0] += 0.1
    assert selfcheck.rel_error(got, ref) == pytest.approx(0.1333 / 6, rel=1e-3)
    assert selfcheck.agreement(got, ref) == 1.0


def test_pick_windows_is_stratified_and_skips_near_ties():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(400, 4)) * 3
    logits[:100] = [5.0, 4.99, 0, 0]                                 # near ties
    idx = selfcheck.pick_windows(np.zeros((400, 1, 1)), logits, n=24)
    assert len(idx) == 24 == len(set(idx.tolist())) and idx.min() >= 100
    counts = np.bincount(logits[idx].argmax(1), minlength=4)
    assert counts.max() - counts.min() <= 1


def test_damaged_records_name_the_artifact():
    with pytest.raises(EdgekdError, match=r"m\.onnx: the self-check record is damaged"):
        selfcheck.decode('{"version": 1, "shape": [1, 2, 3]}', "m.onnx")
    with pytest.raises(EdgekdError, match="newer than this edgekd"):
        selfcheck.decode('{"version": 99}', "m.onnx")


def test_telemetry_is_switched_off_once(monkeypatch):
    import onnxruntime

    from export import ortlib
    calls = []
    monkeypatch.setattr(onnxruntime, "disable_telemetry_events", lambda: calls.append(1),
                        raising=False)
    monkeypatch.setattr(ortlib, "_telemetry_off", False)
    assert ortlib.onnxruntime() is onnxruntime and ortlib.onnxruntime() is onnxruntime
    assert calls == [1]
