"""The I/O runner against the emulator, in this process, unpaced, with a fake model: a finite
source ends the stream, TCP outages lose exactly what the device made while away, the stop
command goes out on exit, the emulator leaves with the host, Cyton behaves like a Cyton,
faults fire at any speed, and a replay at full speed is lossless."""

import os
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge import runner
from firmware_bridge.emulator import Emulator, FaultSpec
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.protocols.cyton import BANNER, DEFAULTS_REPLY
from firmware_bridge.runner import StreamOptions, run_stream
from tests.unit.firmware.fakes import centroid_model, recording


@pytest.fixture(scope="module")
def rec_model():
    rec, names = recording()
    return rec, centroid_model(rec, names)


def _emulator(rec, protocol="edgekd-v2", **kw):
    return Emulator(rec.signals, rec.fs, PROTOCOLS.get(protocol), rec.labels,
                    speed=kw.pop("speed", 0.0), **kw)


def _offline_decisions(rec, model, emu):
    raw = emu.counts[:len(emu.counts) // emu.spf * emu.spf].astype(np.float32) * \
        np.float32(emu.info.scale_uv)
    ends, _ = model.new_stream().push(raw)
    return len(ends)


def test_a_finite_source_ends_the_stream_not_an_outage(rec_model, tmp_path):
    rec, model = rec_model
    emu = _emulator(rec)
    emu.write_ground_truth(tmp_path / "gt")
    path, thread = emu.serve_pty()
    seen = []
    report = run_stream(StreamOptions(port=path, ground_truth=tmp_path / "gt",
                                      sinks=[seen.append]), model)
    thread.join(5)
    assert report["ended_by"] == "the device ended the stream" and report["outages"] == 0
    assert report["decisions"] == len(seen) == _offline_decisions(rec, model, emu)
    assert report["lossy"] is False and report["online_accuracy"] > 0.5
    assert not thread.is_alive() and emu.log.stops == 0


def test_tcp_outages_lose_exactly_what_the_device_made_while_away(rec_model):
    """Issue 12/19: a device that restarts at sequence 0 after each reconnect keeps its data;
    the frames missing are the ones it made while away (measured by its clock), 0 extra."""
    rec, model = rec_model
    emu = _emulator(rec, faults=FaultSpec(disconnect=8.0, outage=0.5))
    url, thread = emu.serve_tcp()
    report = run_stream(StreamOptions(port=url, duration=60), model)
    thread.join(5)
    log = emu.log
    assert log.disconnects >= 4 and log.starts == log.disconnects + 1
    assert report["outages"] == report["reconnects"] == log.disconnects
    assert report["frames_missing"] == log.frames_lost_in_outages
    assert report["samples_missing"] == log.frames_lost_in_outages * emu.spf
    assert report["duplicates"] == 0 and report["ended_by"] == "the device ended the stream"
    assert report["frames_ok"] == log.frames_sent
    assert report["samples"] + report["samples_missing"] == len(emu.counts) // emu.spf * emu.spf


def test_the_stop_command_is_sent_and_the_emulator_leaves_with_the_host(rec_model):
    rec, model = rec_model
    emu = _emulator(rec, speed=4.0, loop=True)
    path, thread = emu.serve_pty()
    report = run_stream(StreamOptions(port=path, duration=1.5), model)
    thread.join(5)
    assert report["ended_by"] == "duration reached" and report["decisions"] > 0
    assert emu.log.stops == 1 and emu.log.host_left and not thread.is_alive()


def test_faults_fire_at_full_speed_and_are_counted_exactly(rec_model):
    rec, model = rec_model
    emu = _emulator(rec, faults=FaultSpec(bitflip=2e-4, drop=2e-4, garbage=2.0), seed=3)
    path, thread = emu.serve_pty()
    report = run_stream(StreamOptions(port=path), model)
    thread.join(5)
    assert emu.log.garbage_bursts > 20 and len(emu.log.frames_corrupted) > 10
    assert report["frames_missing"] == len(emu.log.frames_corrupted)
    assert report["garbage_bytes"] > 0 and report["lossy"] is True


def test_replay_at_full_speed_is_lossless_and_identical(rec_model, tmp_path, monkeypatch):
    rec, model = rec_model
    emu = _emulator(rec)
    path, thread = emu.serve_pty()
    live, again = [], []
    run_stream(StreamOptions(port=path, record=tmp_path / "s.rec", sinks=[live.append]), model)
    thread.join(5)
    monkeypatch.setattr(runner, "QUEUE_CHUNKS", 2)       # a tiny queue: back-pressure must hold
    report = run_stream(StreamOptions(port=f"replay://{tmp_path / 's.rec'}?speed=0",
                                      sinks=[again.append]), model)
    assert report["host_dropped_bytes"] == 0 and report["frames_missing"] == 0
    assert [(d.end_sample, d.label) for d in live] == [(d.end_sample, d.label) for d in again]


def test_the_cyton_emulator_answers_like_a_cyton(tmp_path):
    """BrainFlow's Cyton driver sends 'v' and waits for '$$$', sends 'd' and checks the reply
    does not start with 'Failure', then 'b' starts 33-byte packets."""
    rec, _ = recording(fs=250.0)
    emu = _emulator(rec, "cyton")
    path, thread = emu.serve_pty()
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        got = _exchange(fd, b"v", BANNER[-3:])
        assert got == BANNER and b"Firmware: v3" in got
        assert _exchange(fd, b"d", b"$$$") == DEFAULTS_REPLY
        packets = _exchange(fd, b"b", None, size=33 * 5)
        assert packets[0] == 0xA0 and packets[1] == 0 and packets[33 + 1] == 1
        assert 0xC0 <= packets[32] <= 0xC6
    finally:
        os.close(fd)
    thread.join(5)
    assert emu.log.host_left


def _exchange(fd, command, until, size=0, timeout=5.0):
    os.write(fd, command)
    got, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline and not (until and got.endswith(until)) and \
            not (size and len(got) >= size):
        got += os.read(fd, 4096)
    return got[:size] if size else got


def test_a_cyton_stream_feeds_a_250_hz_model(tmp_path):
    rec, names = recording(fs=250.0)
    model = centroid_model(rec, names, window=64, hop=8)
    emu = _emulator(rec, "cyton")
    path, thread = emu.serve_pty()
    report = run_stream(StreamOptions(port=path, protocol="cyton", reconnect=False), model)
    thread.join(5)
    assert report["decisions"] == _offline_decisions(rec, model, emu)
    assert report["frames_missing"] == 0 and report["ended_by"].startswith("device lost")


def test_a_device_that_classifies_on_board_needs_no_model(tmp_path):
    """edgekd-v2 decision frames, with no raw samples and no host model: shown as they are."""
    import json
    import socket
    import threading

    from firmware_bridge.protocols import edgekd_v2 as v2
    from firmware_bridge.sinks import JsonLinesSink
    from firmware_bridge.types import DeviceInfo
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def device():
        conn, _ = server.accept()
        conn.recv(100)                       # QUERY_INFO + START
        conn.sendall(v2.encode_info(DeviceInfo(8, 200.0, 1.0, "2.0.0", "smart band")) +
                     b"".join(v2.encode_decision(i, 51 + 5 * i, i % 3, 0.9, [0.05, 0.05, 0.9])
                              for i in range(20)) + v2.encode_end())
        conn.recv(100)                       # STOP
        conn.close()
        server.close()
    threading.Thread(target=device, daemon=True).start()
    sink = JsonLinesSink(str(tmp_path / "d.jsonl"), ["rest", "fist", "open"])
    report = run_stream(StreamOptions(port=f"socket://127.0.0.1:{server.getsockname()[1]}",
                                      sinks=[sink]), None)
    lines = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert report["device_decisions"] == 20 and report["decisions"] == 0
    assert report["device"].startswith("smart band fw 2.0.0")
    assert lines[1]["source"] == "device" and lines[1]["label"] == "fist"
    assert [x["end_sample"] for x in lines] == [51 + 5 * i for i in range(20)]


@pytest.mark.parametrize("speed", ["0", "1"])
def test_a_cyton_recording_replays(tmp_path, speed):
    """Review item 2: the Cyton handshake waited for '$$$' on the replayed file and read it
    all: 0 samples at any speed."""
    from firmware_bridge.protocols.cyton import encode_packet
    from firmware_bridge.transport import Recorder
    rec = Recorder(tmp_path / "c.rec")
    for k in range(100):
        rec.write(k * 4_000_000, encode_packet(k, np.arange(8) * 10 + k))
    rec.close()
    report = run_stream(StreamOptions(port=f"replay://{tmp_path / 'c.rec'}?speed={speed}",
                                      protocol="cyton"), None)
    assert report["samples"] == report["frames_ok"] == 100
    assert report["ended_by"] == "end of the recording" and report["lossy"] is False


class _ClosingSink(list):
    closed = False

    def __call__(self, d):
        self.append(d)

    def close(self):
        self.closed = True


def test_a_failed_start_keeps_an_existing_json_file_and_closes_the_sinks(tmp_path):
    """Review item 6: the --json file was opened 'w' before the port: a failed start erased
    it, and sinks were never closed on the open/handshake failure paths."""
    from edgekd.errors import EdgekdError
    from firmware_bridge.sinks import JsonLinesSink
    keep = tmp_path / "keep.jsonl"
    keep.write_text('{"earlier": "decisions"}\n')
    other = _ClosingSink()
    with pytest.raises(EdgekdError, match="cannot open"):
        run_stream(StreamOptions(port=str(tmp_path / "no_tty"),
                                 sinks=[JsonLinesSink(str(keep), []), other]), None)
    assert keep.read_text() == '{"earlier": "decisions"}\n' and other.closed
    fresh = tmp_path / "fresh.jsonl"
    with pytest.raises(EdgekdError):
        run_stream(StreamOptions(port=str(tmp_path / "no_tty"),
                                 sinks=[JsonLinesSink(str(fresh), [])]), None)
    assert not fresh.exists()


def test_a_failed_handshake_keeps_existing_files(tmp_path, monkeypatch):
    from edgekd.errors import EdgekdError
    from firmware_bridge.protocols import cyton
    from firmware_bridge.sinks import JsonLinesSink
    monkeypatch.setattr(cyton.Cyton, "handshake",
                        lambda self: cyton.Handshake(b"v", b"$$$", b"b", timeout_s=0.2))
    keep, rec = tmp_path / "keep.jsonl", tmp_path / "keep.rec"
    keep.write_text("old\n")
    rec.write_bytes(b"old recording")
    with pytest.raises(EdgekdError, match="did not answer"):
        run_stream(StreamOptions(port="loop://", protocol="cyton", record=rec,
                                 sinks=[JsonLinesSink(str(keep), [])]), None)
    assert keep.read_text() == "old\n" and rec.read_bytes() == b"old recording"


def test_an_unwritable_record_path_fails_before_the_device_starts(rec_model):
    """Review item 7: the Recorder was created after START, outside any guard: a bad --record
    path left the armband streaming (emulator: starts=1, stops=0)."""
    from edgekd.errors import EdgekdError
    rec, model = rec_model
    emu = _emulator(rec, speed=1.0)
    path, thread = emu.serve_pty()
    try:
        with pytest.raises(EdgekdError, match="--record /nonexistent/dir/x.rec: cannot write"):
            run_stream(StreamOptions(port=path, record=Path("/nonexistent/dir/x.rec")), model)
        thread.join(1.0)                  # time for the emulator to see a START, if one came
    finally:
        emu.stop()
        thread.join(5)
    assert emu.log.starts == emu.log.stops == 0
