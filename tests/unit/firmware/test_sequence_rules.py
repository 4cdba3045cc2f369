"""Per-protocol sequence rules (review item 4): duplicate, gap or restart, decided with the
device clock where the protocol has one; Cyton's 8-bit counter never hides a loss; and a run
with any loss says it is lossy."""

import numpy as np
import pytest

from firmware_bridge.consumer import LiveSession
from firmware_bridge.decision import DecisionPolicy
from firmware_bridge.decoder import BlockDecoder
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.protocols import edgekd_v2 as v2
from firmware_bridge.protocols.cyton import encode_packet
from firmware_bridge.runner import StreamOptions, run_stream
from firmware_bridge.transport import Recorder
from firmware_bridge.types import DeviceInfo, Frame, GapEvent, LinkStats, SampleBlock

CYTON = PROTOCOLS.get("cyton")


def _cyton(seqs):
    session = LiveSession(CYTON, None, DecisionPolicy())
    for k in seqs:
        session.on_bytes(encode_packet(k, np.full(8, k)))
    return session.report()


@pytest.mark.parametrize("lost", [5, 127, 130, 250, 255])
def test_a_cyton_counter_jump_is_a_gap_never_a_restart_or_duplicates(lost):
    """Review item 4: 130 lost packets were read as a device restart of unknown length
    (frames_missing 0); 250 lost made 6 good packets 'duplicates'. A Cyton never repeats a
    packet and never starts counting again without the host's 'b'."""
    r = _cyton(list(range(100)) + list(range(100 + lost, 400 + lost)))
    assert r["samples"] == 400 and r["duplicates"] == 0 and r["device_restarts"] == 0
    assert r["frames_missing"] == r["samples_missing"] == lost
    assert r["outages_of_unknown_length"] == 0


def _decoder(modulus=1 << 32, fs=200.0):
    stats = LinkStats()
    return BlockDecoder(DeviceInfo(2, fs, 1.0), modulus, stats), stats


def _frame(seq, t_us, n=4):
    return Frame(seq, t_us, np.ones((n, 2), np.int32))


def test_the_device_clock_tells_a_late_duplicate_from_a_restart():
    dec, stats = _decoder()
    for k in range(40):
        dec.decode(_frame(k, k * 20_000))
    assert dec.decode(_frame(15, 15 * 20_000)) == []      # 25 behind, with its own time
    assert stats.duplicates == 1 and stats.restarts == 0


def test_a_device_that_reboots_a_few_frames_into_its_session_is_not_a_duplicate():
    """Counter 3 behind (inside the duplicate window), clock 10 frames ahead: the device
    started counting again; its data is kept and the samples lost are measured by the clock."""
    dec, stats = _decoder()
    for k in range(6):
        dec.decode(_frame(k, k * 20_000))
    events = dec.decode(_frame(2, 16 * 20_000))
    assert stats.duplicates == 0 and stats.restarts == 1
    assert [type(e) for e in events] == [GapEvent, SampleBlock]
    assert events[0].missing_samples == 10 * 4


def test_a_gap_longer_than_half_the_sequence_space_is_measured_by_the_clock():
    """edgekd-v1's 16-bit counter: 40 000 one-sample frames (200 s at 200 Hz) lost on a link
    that never noticed (no START): the clock measures it; it is a gap, not a restart."""
    dec, stats = _decoder(modulus=1 << 16)
    dec.decode(_frame(100, 0, n=1))
    events = dec.decode(_frame((100 + 40_001) % (1 << 16), 40_001 * 5_000, n=1))
    assert stats.restarts == 0 and stats.frames_missing == 40_000
    assert events[0].missing_samples == 40_000


def _replay(tmp_path, chunks, protocol):
    rec = Recorder(tmp_path / "r.rec")
    for k, data in enumerate(chunks):
        rec.write(k * 1000, data)
    rec.close()
    return run_stream(StreamOptions(port=f"replay://{tmp_path / 'r.rec'}?speed=0",
                                    protocol=protocol), None)


def test_a_cyton_gap_makes_the_run_lossy(tmp_path):
    r = _replay(tmp_path, [encode_packet(k, np.zeros(8)) for k in [*range(100), *range(230, 300)]],
                "cyton")
    assert r["frames_missing"] == 130 and r["lossy"] is True
    assert "frames_missing=130" in r["lossy_because"]


def test_missing_device_decisions_and_restarts_make_the_run_lossy(tmp_path):
    info = v2.encode_info(DeviceInfo(8, 200.0, 1.0, "1.0.0", "band"))
    decisions = [v2.encode_decision(k, 51 + 5 * k, 1, 0.9) for k in (0, 1, 3)]
    r = _replay(tmp_path, [info, *decisions], "edgekd-v2")
    assert r["decisions_missing"] == 1 and r["lossy"] is True
    assert "decisions_missing=1" in r["lossy_because"]
    x = np.zeros((4, 8))
    frames = [v2.encode_data(k, 9_000_000_000 % (1 << 32) + k * 20_000, x) for k in range(50)]
    frames += [v2.encode_data(k, k * 20_000, x) for k in range(50)]   # rebooted: clock reset
    r = _replay(tmp_path, [info, *frames], "edgekd-v2")
    assert r["device_restarts"] == 1 and r["lossy"] is True
    assert "device_restarts=1" in r["lossy_because"]
