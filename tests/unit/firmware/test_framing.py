"""edgekd-v1 and Cyton framing: exact round trips and property tests under corruption."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.decoder import BlockDecoder
from firmware_bridge.protocols.cyton import CytonFramer, cyton_scale_uv, encode_packet
from firmware_bridge.protocols.edgekd_v1 import (FMT_INT16, FMT_INT24, EdgekdV1Framer, crc16,
                                                 encode_data)
from firmware_bridge.types import DeviceInfo, LinkStats


def test_crc_is_ccitt_false():
    assert crc16(b"123456789") == 0x29B1  # the published check value of CRC-16/CCITT-FALSE


def test_int16_and_int24_round_trip():
    rng = np.random.default_rng(0)
    for fmt, lim in ((FMT_INT16, 2 ** 15), (FMT_INT24, 2 ** 23)):
        x = rng.integers(-lim, lim, size=(6, 8))
        x[0, 0], x[0, 1] = -lim, lim - 1
        (frame,) = EdgekdV1Framer().feed(encode_data(65535, 2 ** 32 - 1, x, fmt))
        np.testing.assert_array_equal(frame.samples, x)
        assert frame.seq == 65535 and frame.device_time_us == 2 ** 32 - 1


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return [encode_data(i, i * 20000, rng.integers(-3000, 3000, size=(4, 8))) for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_intact_frame_survives_random_corruption(data):
    frames = _frames(40, seed=data.draw(st.integers(0, 1000)))
    damaged = set(data.draw(st.sets(st.integers(0, 39), max_size=10)))
    stream = b""
    for i, f in enumerate(frames):
        garbage = data.draw(st.binary(max_size=20))
        stream += garbage
        if i in damaged:
            kind = data.draw(st.sampled_from(["flip", "drop", "truncate"]))
            pos = data.draw(st.integers(0, len(f) - 1))
            if kind == "flip":
                f = f[:pos] + bytes([f[pos] ^ (1 << data.draw(st.integers(0, 7)))]) + f[pos + 1:]
            elif kind == "drop":
                f = f[:pos] + f[pos + 1:]
            else:
                f = f[:pos]
        stream += f
    framer = EdgekdV1Framer()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=30)))
    got = []
    for a, b in zip([0] + cuts, cuts + [len(stream)]):
        got += framer.feed(stream[a:b])
    seqs = [f.seq for f in got]
    intact = [i for i in range(40) if i not in damaged]
    # every intact frame is recovered, in order; nothing else slips through
    assert [s for s in seqs if s in intact] == intact
    assert set(seqs) <= set(range(40))


def test_bounded_memory_on_endless_garbage():
    framer = EdgekdV1Framer()
    rng = np.random.default_rng(1)
    for _ in range(100):
        framer.feed(bytes(rng.integers(0, 256, 10_000, dtype=np.uint8)))
    assert len(framer._buf) <= 4096 + 8
    assert framer.stats.garbage_bytes > 900_000


def test_sequence_gaps_wrap_and_duplicates():
    stats = LinkStats()
    dec = BlockDecoder(DeviceInfo(2, 200.0, 0.5), 1 << 16, stats)
    framer = EdgekdV1Framer()
    x = np.ones((4, 2), dtype=np.int64)
    seqs = [65533, 65534, 1, 2, 2, 3]          # 65535 and 0 lost across the wrap; 2 repeated
    events = []
    for s in seqs:
        for frame in framer.feed(encode_data(s, 0, x)):
            events += dec.decode(frame)
    gaps = [e for e in events if e.__class__.__name__ == "GapEvent"]
    blocks = [e for e in events if e.__class__.__name__ == "SampleBlock"]
    assert stats.frames_missing == 2 and stats.duplicates == 1
    assert len(gaps) == 1 and gaps[0].first_sample == 8 and gaps[0].missing_samples == 8
    assert [b.first_sample for b in blocks] == [0, 4, 16, 20, 24]
    assert blocks[0].samples[0, 0] == 0.5      # scaled to microvolts


def test_cyton_packets_scale_and_resync():
    assert cyton_scale_uv(24) == 4.5 / 24 / (2 ** 23 - 1) * 1e6
    counts = np.array([0, 1, -1, 2 ** 23 - 1, -(2 ** 23), 12345, -54321, 7])
    stream = b"\x00\xa0\x13" + encode_packet(250, counts) + encode_packet(251, counts, 0xC3)
    framer = CytonFramer()
    got = framer.feed(stream[:20]) + framer.feed(stream[20:])
    assert [f.seq for f in got] == [250, 251]
    np.testing.assert_array_equal(got[0].samples[0], counts)
    assert framer.stats.garbage_bytes == 3


def test_oversized_frames_are_refused_at_the_encoder():
    import pytest
    with pytest.raises(ValueError, match="maximum is 4096"):
        encode_data(0, 0, np.zeros((32, 64)), FMT_INT16)
