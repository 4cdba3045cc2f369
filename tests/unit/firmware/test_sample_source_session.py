"""A source that delivers decoded samples (lsl://, brainflow://) feeding the same LiveSession
as a byte protocol: same decisions as from bytes, losses it declares or that acquisition
times reveal after a reconnect are gaps, and every decision carries the acquisition time of
its window's last sample."""

import numpy as np
import pytest

from firmware_bridge.consumer import LiveSession
from firmware_bridge.decision import DecisionPolicy
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.types import DeviceInfo
from tests.unit.firmware.fakes import centroid_model, recording

WIRE = PROTOCOLS.get("edgekd-v2")
CHUNK = 10
T0 = 1_000_000_000


@pytest.fixture(scope="module")
def setup():
    rec, names = recording()
    info = DeviceInfo(rec.n_chans, rec.fs, 1.0, "lsl", "source")
    return rec, centroid_model(rec, names), info


def _session(model, info):
    s = LiveSession(WIRE, model, DecisionPolicy(), info=info, keep_decisions=True)
    s.check_device(info)
    s.on_connect(reconnect=False)
    return s


def _acq(info, last_index):
    return int(T0 + last_index * 1e9 / info.fs)


def _feed(session, x, info, start, stop, missing_before=0):
    out = []
    for k in range(start, stop, CHUNK):
        block = x[k:min(k + CHUNK, stop)]
        out += session.on_samples(block, _acq(info, k + len(block) - 1), 0,
                                  missing_before if k == start else 0)
    return out


def test_a_clean_source_decides_like_the_model_offline(setup):
    rec, model, info = setup
    x = rec.signals.astype(np.float32)
    session = _session(model, info)
    out = _feed(session, x, info, 0, len(x))
    ends, probs = model.new_stream().push(x)
    assert [d.end_sample for d in out] == ends.tolist()
    assert [d.label for d in out] == probs.argmax(1).tolist()
    # acquisition time of each window's last sample, from the source's own stamps
    assert [d.acquired_ns for d in out] == [_acq(info, e) for e in ends.tolist()]
    report = session.report()
    assert report["samples"] == len(x) and report["gaps"] == 0 and report["samples_missing"] == 0


def test_declared_and_reconnect_losses_are_gaps(setup):
    rec, model, info = setup
    x = rec.signals.astype(np.float32)
    session = _session(model, info)
    _feed(session, x, info, 0, 400)
    _feed(session, x, info, 430, 800, missing_before=30)   # the source says 30 were lost
    session.on_outage()
    session.on_connect(reconnect=True)                     # back 50 samples later
    out = _feed(session, x, info, 850, len(x))
    report = session.report()
    assert report["gaps"] == 2 and report["samples_missing"] == 80
    assert report["outages"] == 1 and report["samples"] == len(x) - 80
    # the host axis keeps the samples where they were acquired: no decision inside a gap
    assert out and all(d.end_sample >= 850 for d in out)
    assert all(d.acquired_ns == _acq(info, d.end_sample) for d in out)
