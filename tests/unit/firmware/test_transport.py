"""Ports and the reader thread: bytes handed on as they arrive, nothing lost on a disconnect,
back-pressure for files, reconnect counting, the handshake, the stop command on exit."""

import os
import queue
import socket
import threading
import time
import tty

import pytest
import serial

from edgekd.errors import ConfigError, EdgekdError
from firmware_bridge.protocols.base import Handshake
from firmware_bridge.transport import (Chunk, Connected, EndOfStream, Outage, ReaderThread,
                                       Recorder, SerialPort, handshake, open_port)

HS = Handshake(b"", b"", b"START")


def _drain(q: queue.Queue, until=EndOfStream, timeout=10.0) -> list:
    out, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            out.append(q.get(timeout=0.1))
        except queue.Empty:
            continue
        if isinstance(out[-1], until):
            break
    return out


def test_a_tty_read_returns_as_soon_as_bytes_arrive():
    """Issue 12, defect 1: read(4096) with a 50 ms timeout returned only at the timeout, so
    every frame waited up to 50 ms. With a 5 s timeout, a read must still come back at once."""
    master, slave = os.openpty()
    tty.setraw(slave)
    port = SerialPort(serial.Serial(os.ttyname(slave), timeout=5))
    try:
        os.write(master, b"0123456789")
        t0 = time.monotonic()
        got = port.read_available()
        while len(got) < 10:
            got += port.read_available()
        assert got == b"0123456789" and time.monotonic() - t0 < 2.0
    finally:
        port.close()
        os.close(master)
        os.close(slave)


def test_reader_stamps_chunks_when_they_are_read():
    master, slave = os.openpty()
    tty.setraw(slave)
    q: queue.Queue = queue.Queue()
    reader = ReaderThread(SerialPort(serial.Serial(os.ttyname(slave), timeout=5)), None, q, HS)
    reader.start()
    try:
        time.sleep(0.2)
        before = time.monotonic_ns()
        os.write(master, b"abc")
        chunks = [q.get(timeout=3)]
        while b"".join(c.data for c in chunks) != b"abc":
            chunks.append(q.get(timeout=3))
        assert all(isinstance(c, Chunk) and c.t_ns >= before for c in chunks)
    finally:
        reader.stop()
        os.close(master)
        os.close(slave)


def _serve_once(payload: bytes) -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def run():
        conn, _ = server.accept()
        conn.recv(100)                   # the start command
        conn.sendall(payload)
        conn.close()                     # right after sending: the bytes are in flight
        server.close()
    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


def test_a_tcp_disconnect_loses_no_bytes():
    """Issue 19: pyserial's socket:// read(4096) discarded what it had collected when the peer
    closed. Every byte sent before the close must be handed on, then the outage."""
    payload = bytes(range(256)) * 300
    port_no = _serve_once(payload)
    port = open_port(f"socket://127.0.0.1:{port_no}")
    handshake(port, HS, "test")
    q: queue.Queue = queue.Queue()
    reader = ReaderThread(port, lambda: (_ for _ in ()).throw(OSError("gone")), q, HS)
    reader.start()
    msgs = _drain(q, until=Outage)
    reader.stop()
    assert b"".join(m.data for m in msgs if isinstance(m, Chunk)) == payload
    assert isinstance(msgs[-1], Outage)


def test_replay_at_full_speed_applies_back_pressure(tmp_path):
    """Issue 19: replay://FILE?speed=0 dropped chunks when the queue was full."""
    rec = Recorder(tmp_path / "r.rec")
    chunks = [bytes([i % 256]) * (1 + i % 50) for i in range(500)]
    for i, c in enumerate(chunks):
        rec.write(i * 1000, c)
    rec.close()
    q: queue.Queue = queue.Queue(maxsize=2)
    reader = ReaderThread(open_port(f"replay://{tmp_path / 'r.rec'}?speed=0"), None, q, HS)
    reader.start()
    got = []
    while True:
        msg = q.get(timeout=5)
        if isinstance(msg, EndOfStream):
            break
        got.append(msg.data)
        time.sleep(0.0005)               # a slow consumer
    reader.stop()
    assert got == chunks and reader.overflow_bytes == 0


def test_a_live_port_that_outruns_the_consumer_counts_what_it_drops():
    port = open_port("loop://", timeout=0.05)
    q: queue.Queue = queue.Queue(maxsize=1)
    reader = ReaderThread(port, None, q, HS)
    reader.start()
    for _ in range(20):
        port.write(b"x" * 100)
        time.sleep(0.01)
    time.sleep(0.2)
    reader.stop()
    assert reader.overflow_bytes > 0


class _FlakyPort:
    finite = False

    def __init__(self, log, fail_reads=0):
        self.log, self.fail_reads = log, fail_reads

    def read_available(self):
        time.sleep(0.01)
        if self.fail_reads:
            self.fail_reads -= 1
            raise OSError("unplugged")
        return b""

    def write(self, data):
        self.log.append(data)

    def close(self):
        self.log.append(b"<closed>")


def test_reconnects_count_reconnections_and_the_stop_command_is_sent_on_exit():
    """Issue 12: `reconnects` counted losses; the stop command was never sent."""
    log, attempts = [], []

    def opener():
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError("not back yet")
        return _FlakyPort(log)
    q: queue.Queue = queue.Queue()
    reader = ReaderThread(_FlakyPort(log, fail_reads=1), opener, q, HS, b"STOP",
                          backoff=(0.01, 0.02))
    reader.start()
    msgs = _drain(q, until=Connected)
    time.sleep(0.05)
    reader.stop()
    assert [type(m) for m in msgs] == [Outage, Connected] and reader.reconnects == 1
    assert len(attempts) == 3 and log[-2:] == [b"STOP", b"<closed>"]
    assert b"START" in log                       # the handshake was redone


class _AnsweringPort(_FlakyPort):
    def __init__(self, answer):
        super().__init__([])
        self.answer = answer

    def read_available(self):
        time.sleep(0.01)
        out, self.answer = self.answer[:5], self.answer[5:]
        return out


def test_handshake_waits_for_the_ready_marker_and_refuses_a_silent_device():
    hs = Handshake(b"v", b"$$$", b"b", timeout_s=0.3)
    port = _AnsweringPort(b"OpenBCI V3 8-16 channel\n$$$")
    handshake(port, hs, "/dev/ttyUSB0")
    assert port.log == [b"v", b"b"]
    with pytest.raises(EdgekdError, match=r"/dev/ttyUSB0: the device did not answer b'v' with "
                                          r"b'\$\$\$' within 0.3 s"):
        handshake(_AnsweringPort(b"garbage"), hs, "/dev/ttyUSB0")


@pytest.mark.parametrize("url,error", [
    ("replay://missing.rec", EdgekdError), ("replay://x.rec?speed=fast", ConfigError),
    ("socket://127.0.0.1:99999", ConfigError), ("socket://nohost", ConfigError),
    ("/dev/does-not-exist", EdgekdError)])
def test_bad_urls_are_one_line_errors(url, error):
    with pytest.raises(error):
        open_port(url)


def test_the_handshake_hands_on_what_followed_the_ready_marker_and_skips_a_finite_source():
    """Review item 2: a replayed Cyton recording never contains '$$$', so the handshake read and
    threw away the whole recording. A finite source is not a device: nothing is written to it
    or awaited; and bytes a live device sent after its ready marker are handed on, not lost."""
    hs = Handshake(b"v", b"$$$", b"b", timeout_s=0.3)
    port = _AnsweringPort(b"banner$$$\xa0\x00tail")      # read 5 bytes at a time
    assert handshake(port, hs, "dev") == b"\xa0" and port.answer == b"\x00tail"
    assert port.log == [b"v", b"b"]
    finite = _AnsweringPort(b"\xa0" * 99)
    finite.finite = True
    assert handshake(finite, hs, "replay") == b"" and finite.log == [] and finite.answer


def test_stop_during_a_reconnect_leaves_no_device_streaming():
    """Review item 5: stop() gave up after join(timeout=2) while a reconnect was waiting in the
    handshake; the reopened port was never stopped or closed, and the thread outlived stop()."""
    log, opened = [], []

    def opener():
        opened.append(1)
        return _FlakyPort(log)             # never answers 'v' with '$$$'

    hs = Handshake(b"v", b"$$$", b"b", timeout_s=5.0)
    q: queue.Queue = queue.Queue()
    reader = ReaderThread(_FlakyPort([], fail_reads=1), opener, q, hs, b"s", backoff=(0.01, 0.02))
    reader.start()
    deadline = time.monotonic() + 5
    while not opened and time.monotonic() < deadline:   # the reconnect's handshake is waiting
        time.sleep(0.01)
    time.sleep(0.1)
    t0 = time.monotonic()
    reader.stop()
    assert time.monotonic() - t0 < 1.5 and not reader.is_alive()
    assert log[0] == b"v" and b"b" not in log and log[-1] == b"<closed>"


def test_stop_after_a_slow_reopen_stops_and_closes_the_new_port():
    log = []

    def slow_opener():
        time.sleep(0.3)
        return _FlakyPort(log)
    q: queue.Queue = queue.Queue()
    reader = ReaderThread(_FlakyPort([], fail_reads=1), slow_opener, q, HS, b"STOP",
                          backoff=(0.01, 0.02))
    reader.start()
    time.sleep(0.1)                        # the reader is inside slow_opener now
    reader.stop()
    assert not reader.is_alive() and log and log[-1] == b"<closed>"
    assert b"START" not in log or log[-2:] == [b"STOP", b"<closed>"]
