"""edgekd → UDP on 127.0.0.1 → LibEMG's own ``ClassifierController``: the class, the rejects,
the velocity and (probabilities format) the probabilities and timestamp arrive as LibEMG reads
them. The live path runs for real (LiveSession with the fake centroid model, samples in,
rejection threshold on); only LibEMG's side is LibEMG.

libemg 2.0.3 requires numpy<2, so it usually lives in its own environment; this test skips
where it is not importable (tests/unit/firmware/test_libemg_format.py always runs, against a
documented copy of LibEMG's code). To run it: a venv with ``pip install libemg pytest`` and
``PYTHONPATH=<checkout> python -m pytest tests/integration/test_libemg_udp.py``.
"""

import socket
import time

import numpy as np
import pytest

controllers = pytest.importorskip(
    "libemg.environments.controllers",
    reason="libemg is not importable here (libemg 2.0.3 requires numpy<2; run this test in a "
           "venv with libemg installed)")

from firmware_bridge.consumer import LiveSession  # noqa: E402
from firmware_bridge.decision import DecisionPolicy  # noqa: E402
from firmware_bridge.protocols import PROTOCOLS  # noqa: E402
from firmware_bridge.sinks import UdpLibEmgSink  # noqa: E402
from tests.unit.firmware.fakes import centroid_model, recording  # noqa: E402


def _free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _stream(fmt: str, port: int, threshold: float):
    rec, names = recording()
    model = centroid_model(rec, names, hop=25)
    sent = []
    sink = UdpLibEmgSink(f"127.0.0.1:{port}", "host", fmt, len(model.label_names))
    session = LiveSession(PROTOCOLS.get("edgekd-v2"), model, DecisionPolicy(threshold),
                          [sink, sent.append])
    for k in range(0, len(rec.signals), 50):
        session.on_samples(rec.signals[k:k + 50], acquired_ns=time.monotonic_ns())
    sink.close()
    return sent, len(model.label_names)


def _received(controller, info, n):
    got, deadline = [], time.monotonic() + 10
    while len(got) < n and time.monotonic() < deadline:
        data = controller.get_data(info)
        if data is None:
            time.sleep(0.001)
        else:
            got.append(data)
    return got


@pytest.mark.parametrize("fmt", ["predictions", "probabilities"])
def test_libemg_classifier_controller_reads_edgekd(fmt):
    port = _free_udp_port()
    controller = controllers.ClassifierController(fmt, 7, ip="127.0.0.1", port=port)
    controller.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    t0 = time.time()
    sent, n_classes = _stream(fmt, port, threshold=0.6)
    controller.num_classes = n_classes
    info = ["predictions", "pc"] + (["probabilities", "timestamp"] if fmt == "probabilities"
                                    else [])
    got = _received(controller, info, len(sent))
    assert len(got) == len(sent) > 50
    rejected = [d.label is None for d in sent]
    assert 0 < sum(rejected) < len(sent)            # the threshold rejected some, not all
    for d, data in zip(sent, got):
        pred, pc = data[0][0], data[1][0]
        assert pc == (0.0 if d.label is None else round(d.confidence, 2))
        if fmt == "predictions":
            assert pred == (-1 if d.label is None else d.label)
        else:
            probs, stamp = data[2], data[3]
            np.testing.assert_allclose(probs, d.probs, atol=0.005 + 1e-9)
            assert pred == float(np.argmax(probs)) and t0 <= stamp <= time.time()
            if d.label is not None and np.sort(d.probs)[-2] < d.probs.max() - 0.01:
                assert pred == d.label
    controller.sock.close()
