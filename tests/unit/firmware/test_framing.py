"""edgekd-v1/v2 and Cyton framing: exact round trips, property tests under corruption, and the
framing defects of issue 12 as regression tests."""

import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.decoder import BlockDecoder
from benchmarks.framing_faults import FuzzResult, check_case, make_case
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.protocols import edgekd_v1 as v1
from firmware_bridge.protocols import edgekd_v2 as v2
from firmware_bridge.protocols.cyton import CytonFramer, cyton_scale_uv, encode_packet
from firmware_bridge.protocols.edgekd_payloads import TYPE_DATA, TYPE_DECISION, TYPE_INFO
from firmware_bridge.types import DeviceInfo, Frame, GapEvent, InfoFrame, LinkStats, SampleBlock

EDGEKD = ["edgekd-v1", "edgekd-v2"]


def test_crcs_are_the_published_ones():
    assert v1.crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value
    assert v2.crc32(b"123456789") == 0xCBF43926  # CRC-32 (zlib) check value


@pytest.mark.parametrize("mod", [v1, v2])
def test_int16_and_int24_round_trip(mod):
    rng = np.random.default_rng(0)
    top_seq = 65535 if mod is v1 else 2 ** 32 - 1
    framer = v1.EdgekdV1Framer() if mod is v1 else v2.EdgekdV2Framer()
    for fmt, lim in ((v1.FMT_INT16, 2 ** 15), (v1.FMT_INT24, 2 ** 23)):
        x = rng.integers(-lim, lim, size=(6, 8))
        x[0, 0], x[0, 1] = -lim, lim - 1
        (frame,) = framer.feed(mod.encode_data(top_seq, 2 ** 32 - 1, x, fmt))
        np.testing.assert_array_equal(frame.samples, x)
        assert frame.seq == top_seq and frame.device_time_us == 2 ** 32 - 1


@settings(max_examples=40, deadline=None, derandomize=True)
@given(protocol=st.sampled_from(EDGEKD), seed=st.integers(0, 2 ** 32 - 1),
       p_damage=st.floats(0.0, 0.6), p_garbage=st.floats(0.0, 0.6), p_dup=st.floats(0, 0.2))
def test_every_intact_frame_survives_random_damage(protocol, seed, p_damage, p_garbage, p_dup):
    """The CI-sized run of benchmarks/framing_fuzz.py: flips, drops, inserts, truncations and
    garbage; every intact frame exactly once, in order, with its samples; counters exact."""
    wire = PROTOCOLS.get(protocol)
    rng = random.Random(seed)
    result = FuzzResult()
    for _ in range(5):
        case = make_case(rng, wire, 60, p_damage, p_dup, p_garbage,
                         seq0=rng.randrange(wire.seq_modulus))
        check_case(wire, case, rng, result)
    assert (result.exceptions, result.lost_intact, result.wrong_frames,
            result.counter_mismatches) == (0, 0, 0, 0), result.messages[:3]


@settings(max_examples=150, deadline=None)
@given(protocol=st.sampled_from(["edgekd-v1", "edgekd-v2", "cyton"]), data=st.data())
def test_no_byte_sequence_makes_a_framer_raise(protocol, data):
    wire = PROTOCOLS.get(protocol)
    framer = wire.framer()
    stream = data.draw(st.binary(max_size=600))
    if data.draw(st.booleans()):   # plausible headers make the deep paths run
        sync = b"\xa5\x5a" + bytes([int(protocol[-1]) if protocol != "cyton" else 0xA0])
        stream = stream.replace(b"\x00", sync)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    for a, b in zip([0] + cuts, cuts + [len(stream)]):
        for frame in framer.feed(stream[a:b]):
            assert isinstance(frame, (Frame, InfoFrame)) or protocol == "edgekd-v2"
    framer.flush()
    stats = framer.stats
    assert stats.bytes_in == stats.frame_bytes + stats.garbage_bytes


@pytest.mark.parametrize("mod", [v1, v2])
@pytest.mark.parametrize("kind", ["empty", "short", "zero_samples", "samples_run_past"])
def test_crc_valid_frames_with_a_wrong_layout_are_dropped_not_raised(mod, kind):
    """Issue 12, defect 2: a CRC-valid frame whose payload is shorter than its header killed
    the stream (struct.error), and later feeds re-raised on the same bytes."""
    head = struct.Struct("<HIBBBB" if mod is v1 else "<IIBBBB")
    payload = {"empty": b"", "short": b"\x00" * 5,
               "zero_samples": head.pack(0, 0, 8, 0, 1, 0),
               "samples_run_past": head.pack(0, 0, 8, 4, 1, 0) + b"\x00" * 10}[kind]
    x = np.ones((4, 8))
    framer = v1.EdgekdV1Framer() if mod is v1 else v2.EdgekdV2Framer()
    stream = mod.encode_data(1, 0, x) + mod.FORMAT.pack(TYPE_DATA, payload) + \
        mod.encode_data(2, 0, x)
    frames = framer.feed(stream[:30]) + framer.feed(stream[30:])
    assert [f.seq for f in frames] == [1, 2]
    assert framer.stats.bad_frames == 1
    assert framer.feed(mod.encode_data(3, 0, x))[0].seq == 3   # and nothing sticks


@pytest.mark.parametrize("mod", [v1, v2])
def test_info_and_decision_lengths_are_checked(mod):
    framer = v1.EdgekdV1Framer() if mod is v1 else v2.EdgekdV2Framer()
    bad = [mod.FORMAT.pack(TYPE_INFO, b"\x08\x00")]               # info cut short
    if mod is v2:
        bad.append(v2.FORMAT.pack(TYPE_DECISION, struct.pack("<IIBBf", 0, 9, 1, 3, 0.5)))
        bad.append(v2.FORMAT.pack(TYPE_DECISION, struct.pack("<IIBBf", 0, 9, 1, 0, 1.5)))
    assert framer.feed(b"".join(bad)) == []
    assert framer.stats.bad_frames == len(bad)


@pytest.mark.parametrize("mod", [v1, v2])
def test_a_truncated_frame_never_takes_its_intact_neighbour(mod):
    """Issue 12, defect 4: a frame that lost its last byte borrowed the next frame's first
    byte (0xA5), passed its CRC when the lost byte was 0xA5 as well, and the intact next frame
    was lost. Build exactly that case: a frame whose last CRC byte is 0xA5. The two share one
    byte and both carry what was sent, so both come out."""
    x = np.arange(32).reshape(4, 8)
    seq = next(s for s in range(100000) if mod.encode_data(s, 0, x)[-1] == 0xA5)
    damaged = mod.encode_data(seq, 0, x)[:-1]
    intact = mod.encode_data(seq + 1, 0, x)
    framer = v1.EdgekdV1Framer() if mod is v1 else v2.EdgekdV2Framer()
    got = framer.feed(damaged + intact)
    assert [f.seq for f in got] == [seq, seq + 1]
    assert all(np.array_equal(f.samples, x) for f in got)
    # review item 18: ``overlaps`` counts dropped frames; none was dropped here
    assert framer.stats.overlaps == 0 and framer.stats.shared_sync_words == 1
    stats = framer.stats
    assert stats.bytes_in == stats.frame_bytes + stats.garbage_bytes


def test_a_frame_that_borrowed_more_than_a_sync_word_gives_it_back():
    """The worst case for the CRC: a forged frame whose CRC passes although it ends six bytes
    into its intact neighbour (as a frame that lost bytes mid-payload might, by a 2^-16
    chance). The neighbour wins."""
    nxt = v1.encode_data(7, 0, np.arange(8).reshape(1, 8))
    head = struct.Struct("<HIBBBB")
    for free in range(65536):   # search the one free sample for a CRC equal to nxt[4:6]
        payload = head.pack(6, 0, 1, 3, 1, 0) + struct.pack("<H", free) + nxt[:4]
        forged = v1.SYNC + struct.pack("<BBH", 1, TYPE_DATA, len(payload)) + payload
        if v1.crc16(forged[2:]).to_bytes(2, "little") == nxt[4:6]:
            break
    else:
        pytest.fail("no 16-bit value gives that CRC")
    framer = v1.EdgekdV1Framer()
    got = framer.feed(forged + nxt[4:])     # forged + its CRC (= nxt[4:6]) + the rest of nxt
    assert [f.seq for f in got] == [7] and framer.stats.overlaps == 1
    assert framer.stats.shared_sync_words == 0


def test_a_corrupted_length_does_not_hold_later_frames_back():
    x = np.ones((4, 8))
    bad = bytearray(v2.encode_data(1, 0, x))
    bad[4:6] = (4000).to_bytes(2, "little")    # promises 4 KiB that never come
    framer = v2.EdgekdV2Framer()
    got = framer.feed(bytes(bad) + v2.encode_data(2, 0, x) + v2.encode_data(3, 0, x))
    assert [f.seq for f in got] == [2, 3]


def test_v2_skips_frame_types_it_does_not_know():
    framer = v2.EdgekdV2Framer()
    x = np.ones((1, 2))
    got = framer.feed(v2.encode_data(1, 0, x) + v2.FORMAT.pack(0x42, b"future") +
                      v2.encode_data(2, 0, x))
    assert [f.seq for f in got] == [1, 2] and framer.stats.unknown_frames == 1


def test_bounded_memory_on_endless_garbage():
    framer = v2.EdgekdV2Framer()
    rng = np.random.default_rng(1)
    for _ in range(100):
        framer.feed(bytes(rng.integers(0, 256, 10_000, dtype=np.uint8)))
    assert len(framer._buf) <= 4096 + 10
    assert framer.stats.garbage_bytes > 900_000


def _decode(seqs, modulus=1 << 16, times=None):
    stats = LinkStats()
    dec = BlockDecoder(DeviceInfo(2, 200.0, 0.5), modulus, stats)
    x = np.ones((4, 2), dtype=np.int32)
    events = []
    for i, s in enumerate(seqs):
        if s == "START":
            dec.restart()
            continue
        t = times[i] if times else None
        events += dec.decode(Frame(s, t, x))
    return stats, events


def test_sequence_gaps_wrap_and_duplicates():
    stats, events = _decode([65533, 65534, 1, 2, 2, 3])  # 65535 and 0 lost across the wrap
    gaps = [e for e in events if isinstance(e, GapEvent)]
    blocks = [e for e in events if isinstance(e, SampleBlock)]
    assert stats.frames_missing == 2 and stats.duplicates == 1
    assert len(gaps) == 1 and gaps[0].first_sample == 8 and gaps[0].missing_samples == 8
    assert [b.first_sample for b in blocks] == [0, 4, 16, 20, 24]
    assert blocks[0].samples[0, 0] == 0.5      # scaled to microvolts


def test_a_device_that_restarts_at_zero_after_start_keeps_its_data():
    """Issue 12, defect 3: after START (sent on every reconnect) the device counts from 0; the
    decoder kept the old number and dropped the whole new session as duplicates. The device
    clock (200 Hz: 20 ms per 4-sample frame) measures the 10 frames lost in between."""
    seqs = [500, 501, 502, "START", 0, 1, 2, 3]
    times = [0, 20_000, 40_000, None, 260_000, 280_000, 300_000, 320_000]
    stats, events = _decode(seqs, times=times)
    blocks = [e for e in events if isinstance(e, SampleBlock)]
    assert len(blocks) == 7 and stats.duplicates == 0
    (gap,) = [e for e in events if isinstance(e, GapEvent)]
    assert gap.missing_samples == 40 and stats.frames_missing == 10
    assert [b.first_sample for b in blocks][3:] == [52, 56, 60, 64]


def test_a_device_that_reboots_without_start_is_a_restart_not_duplicates():
    stats, events = _decode([9000, 9001, 0, 1, 2])
    assert sum(isinstance(e, SampleBlock) for e in events) == 5
    assert stats.restarts == 1 and stats.duplicates == 0


def test_an_outage_longer_than_half_the_sequence_space_loses_nothing_after_it():
    """Issue 12: an outage longer than half the sequence space made every later frame a
    'duplicate'. With START the new session is kept whatever its numbers."""
    stats, events = _decode([10, 11, "START", 40000, 40001], modulus=1 << 16)
    assert sum(isinstance(e, SampleBlock) for e in events) == 4 and stats.duplicates == 0


def test_cyton_packets_scale_and_resync():
    assert cyton_scale_uv(24) == 4.5 / 24 / (2 ** 23 - 1) * 1e6
    counts = np.array([0, 1, -1, 2 ** 23 - 1, -(2 ** 23), 12345, -54321, 7])
    stream = b"\x00\xa0\x13" + encode_packet(250, counts) + encode_packet(251, counts, 0xC3)
    framer = CytonFramer()
    got = framer.feed(stream[:20]) + framer.feed(stream[20:])
    assert [f.seq for f in got] == [250, 251]
    np.testing.assert_array_equal(got[0].samples[0], counts)
    assert framer.stats.garbage_bytes == 3


@pytest.mark.parametrize("mod", [v1, v2])
def test_oversized_or_empty_frames_are_refused_at_the_encoder(mod):
    with pytest.raises(ValueError, match="maximum is 4096"):
        mod.encode_data(0, 0, np.zeros((32, 64)))
    with pytest.raises(ValueError, match="1..255"):
        mod.encode_data(0, 0, np.zeros((0, 8)))


@pytest.mark.parametrize("mod", [v1, v2])
def test_a_frame_fed_in_usb_packets_is_scanned_once_not_once_per_packet(mod, monkeypatch):
    """Review item 10: every feed re-scanned the buffer and re-ran the look-ahead on the
    partial frame (~10 µs a call: 2.5 ms per 2 KB frame fed 8 bytes at a time). Until the bytes
    a scan waited for have arrived, and unless new bytes bring a sync word, nothing is
    re-scanned."""
    from firmware_bridge.protocols.framing import SyncFramer
    frame = mod.encode_data(3, 0, np.zeros((16, 64)))
    assert frame.count(v1.SYNC) == 1 and len(frame) > 2000
    scans = []
    real = SyncFramer._scan
    monkeypatch.setattr(SyncFramer, "_scan", lambda self, *a: scans.append(1) or real(self, *a))
    framer = v1.EdgekdV1Framer() if mod is v1 else v2.EdgekdV2Framer()
    stream, got = frame + mod.encode_data(4, 0, np.zeros((1, 8))), []
    for i in range(0, len(stream), 64):
        got += framer.feed(stream[i:i + 64])
    assert [f.seq for f in got] == [3, 4] and len(scans) <= 3 < len(stream) // 64
