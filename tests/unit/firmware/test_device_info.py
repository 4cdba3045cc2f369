"""A device that has not described itself yet (review item 3): its data frames are held, not
scaled by a guess; the host asks again; the held frames are used once the answer comes."""

import socket
import threading

import numpy as np

from firmware_bridge.consumer import QUERY_INFO_EVERY, LiveSession
from firmware_bridge.decision import DecisionPolicy
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.protocols import edgekd_v2 as v2
from firmware_bridge.runner import StreamOptions, run_stream
from firmware_bridge.types import DeviceInfo, StreamModel

V2 = PROTOCOLS.get("edgekd-v2")
INFO = DeviceInfo(8, 200.0, 0.05, "1.0.0", "band")


class _Peak:
    """Records the largest |sample| pushed; one window per 4 samples."""

    def __init__(self, seen):
        self.seen = seen

    def push(self, x):
        self.seen.append(float(np.abs(x).max()))
        k = len(x) // 4
        return np.arange(k) * 4 + 3, np.tile(np.float32([0.9, 0.1]), (k, 1))


def _frames(n, first=0):
    return [v2.encode_data(k, k * 20_000, np.full((4, 8), 1000)) for k in range(first, n)]


def test_data_before_the_device_info_is_held_not_scaled_by_a_guess():
    """One bit flipped in the info frame: samples were scaled at an assumed 1 uV/LSB (1000 uV
    instead of 50) and 20 decisions made from them."""
    seen: list[float] = []
    model = StreamModel(8, 200.0, 4, 4, ("a", "b"), lambda: _Peak(seen))
    session = LiveSession(V2, model, DecisionPolicy())
    damaged = bytearray(v2.encode_info(INFO))
    damaged[10] ^= 1
    out = session.on_bytes(bytes(damaged))
    for frame in _frames(QUERY_INFO_EVERY + 5):
        out += session.on_bytes(frame)
    r = session.report()
    assert out == [] and seen == [] and r["samples"] == 0
    assert r["frames_without_info"] == QUERY_INFO_EVERY + 5 and r["info_requests"] == 1
    assert session.take_outgoing() == v2.encode_command(v2.CMD_QUERY_INFO)
    assert session.take_outgoing() == b""
    out = session.on_bytes(v2.encode_info(INFO))         # the answer to the repeated request
    out += session.on_bytes(b"".join(_frames(QUERY_INFO_EVERY + 10, QUERY_INFO_EVERY + 5)))
    r = session.report()
    assert max(seen) == 50.0 and len(out) == QUERY_INFO_EVERY + 10
    assert r["samples"] == (QUERY_INFO_EVERY + 10) * 4 and r["frames_without_info"] == 0
    assert r["device"].startswith("band")


def test_a_device_that_never_describes_itself_makes_a_lossy_run(tmp_path):
    from firmware_bridge.transport import Recorder
    rec = Recorder(tmp_path / "r.rec")
    for k, frame in enumerate(_frames(30)):
        rec.write(k * 1000, frame)
    rec.close()
    r = run_stream(StreamOptions(port=f"replay://{tmp_path / 'r.rec'}?speed=0"), None)
    assert r["frames_without_info"] == 30 and r["samples"] == 0 and r["lossy"] is True
    assert "frames_without_info=30" in r["lossy_because"]


def test_the_runner_asks_a_device_again_for_its_info():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    asked = []

    def device():
        conn, _ = server.accept()
        conn.recv(100)                                   # QUERY_INFO + START; the reply is lost
        conn.sendall(b"".join(_frames(QUERY_INFO_EVERY)))
        asked.append(conn.recv(100))                     # asked again
        conn.sendall(v2.encode_info(INFO) + b"".join(_frames(QUERY_INFO_EVERY + 20,
                                                             QUERY_INFO_EVERY)) + v2.encode_end())
        conn.recv(100)                                   # STOP
        conn.close()
        server.close()
    threading.Thread(target=device, daemon=True).start()
    r = run_stream(StreamOptions(port=f"socket://127.0.0.1:{server.getsockname()[1]}",
                                 duration=20), None)
    assert asked == [v2.encode_command(v2.CMD_QUERY_INFO)]
    assert r["samples"] == (QUERY_INFO_EVERY + 20) * 4 and r["frames_without_info"] == 0
    assert r["device"].startswith("band") and r["ended_by"] == "the device ended the stream"


def test_a_reconnect_while_frames_are_held_is_replayed_in_order():
    session = LiveSession(V2, None, DecisionPolicy())
    x = np.zeros((4, 8))
    for k in range(10):
        session.on_bytes(v2.encode_data(k, k * 20_000, x))
    session.on_outage()
    session.on_connect(reconnect=True)                   # START: the device counts from 0
    for j in range(10):                                  # its clock ran on: 5 frames lost
        session.on_bytes(v2.encode_data(j, (15 + j) * 20_000, x))
    session.on_bytes(v2.encode_info(INFO))
    r = session.report()
    assert r["samples"] == 80 and r["device_restarts"] == 0 and r["duplicates"] == 0
    assert r["frames_missing"] == 5 and r["samples_missing"] == 20
