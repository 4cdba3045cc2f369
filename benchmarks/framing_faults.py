"""Fault injection for the edgekd framers (test and benchmark tooling, kept out of the edge
package firmware_bridge), shared by the property test (CI-sized) and
``benchmarks/framing_fuzz.py`` (millions of cases): build a stream of frames in which some are
damaged (bit flips, dropped or inserted bytes, truncation), some repeated, with random garbage
between them, feed it in random pieces, and check what the framer and decoder make of it.

What must hold (issue 12): nothing raises; every intact frame comes out exactly once, in order,
with its own samples; the decoder's gap and duplicate counters equal what was injected; every
byte is accounted for (in an accepted frame or counted as garbage).
"""

from __future__ import annotations

import difflib
import random
from dataclasses import dataclass, field

import numpy as np

from firmware_bridge.decoder import BlockDecoder
from firmware_bridge.types import DeviceInfo, Frame, GapEvent

FS_HZ = 1000                     # the sampling rate the fuzzed streams claim (clock µs/sample)
DAMAGE = ("flip", "flips", "drop", "drop_run", "insert", "truncate", "truncate_last")


@dataclass
class FuzzCase:
    """One stream: ``slots`` frames (the cases), each intact, damaged or a repeat; the first
    and the last are intact."""

    stream: bytes
    intact: list[int]                       # sequence numbers the framer must return, in order
    samples: dict[int, np.ndarray]          # the samples of each intact sequence number
    damaged_samples: dict[int, np.ndarray] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)   # every slot's number, in stream order
    damaged: int = 0
    duplicates: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def damage(rng: random.Random, frame: bytes, kind: str) -> bytes:
    """``frame`` changed by one fault of ``kind`` (always a real change)."""
    b = bytearray(frame)
    if kind == "flip":
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    elif kind == "flips":                     # heavy damage: up to 24 bits anywhere
        for _ in range(rng.randint(2, 24)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == "drop":
        del b[rng.randrange(len(b))]
    elif kind == "drop_run":
        i = rng.randrange(len(b))
        del b[i:i + rng.randint(2, 8)]
    elif kind == "insert":
        b.insert(rng.randrange(1, len(b)), rng.randrange(256))  # inside: a real change
    elif kind == "truncate":
        del b[rng.randrange(1, len(b)):]
    else:                                     # the frame that borrows its neighbour's sync
        del b[-1]
    return bytes(b)


def make_case(rng: random.Random, protocol, slots: int, p_damage: float = 0.2,
              p_dup: float = 0.03, p_garbage: float = 0.2, seq0: int = 0) -> FuzzCase:
    n_chans, spf = rng.randint(1, 8), rng.randint(1, 4)
    case = FuzzCase(b"", [], {})
    parts, seq = [], seq0
    clock_us = rng.randrange(1 << 32)     # a free-running device clock at FS_HZ, any phase
    for slot in range(slots):
        if rng.random() < p_garbage:
            parts.append(rng.randbytes(rng.randint(1, 24)))
        x = np.array([rng.randint(-32768, 32767) for _ in range(n_chans * spf)],
                     np.int32).reshape(spf, n_chans)
        frame = protocol.encode_frame(seq, clock_us, x)
        case.order.append(seq)
        last = slot == slots - 1   # the first and last frames are intact: a receiver can
        edge = last or slot == 0   # only see a loss between two frames it received
        if not edge and rng.random() < p_damage:
            kind = rng.choice(DAMAGE)
            parts.append(damage(rng, frame, kind))
            case.damaged_samples[seq] = x
            case.damaged += 1
            case.kinds[kind] = case.kinds.get(kind, 0) + 1
        else:
            parts.append(frame)
            case.intact.append(seq)
            case.samples[seq] = x
            if not last and rng.random() < p_dup:
                parts.append(frame)
                case.intact.append(seq)
                case.duplicates += 1
        seq = (seq + 1) % protocol.seq_modulus
        clock_us = (clock_us + spf * 1_000_000 // FS_HZ) % (1 << 32)
    case.stream = b"".join(parts)
    return case


@dataclass
class FuzzResult:
    exceptions: int = 0
    lost_intact: int = 0          # intact frames not returned, returned twice or out of order
    wrong_frames: int = 0         # returned with samples or a number that were never sent:
                                  # the silent errors a CRC exists to prevent
    restored: int = 0             # damaged frames whose damage the following bytes undid by
                                  # chance (e.g. a lost last byte equal to the next one):
                                  # returned with exactly the samples sent, so harmless
    counter_mismatches: int = 0   # frames_missing / duplicates / gaps / byte accounting
    messages: list[str] = field(default_factory=list)


def check_case(protocol, case: FuzzCase, rng: random.Random, result: FuzzResult) -> None:
    """Feed ``case`` in random pieces; add what went wrong to ``result``."""
    framer = protocol.framer()
    try:
        frames = _feed(framer, case.stream, rng)
        framer.flush()
    except Exception as err:  # the property under test: this never happens
        result.exceptions += 1
        result.messages.append(f"{type(err).__name__}: {err}")
        return
    data = [f for f in frames if type(f) is Frame]
    got = [f.seq for f in data]
    restored, wrong = set(), 0
    for f in data:
        sent = case.samples.get(f.seq)
        if sent is None:
            sent = case.damaged_samples.get(f.seq)
            if sent is not None and _same(f.samples, sent):
                restored.add(f.seq)
        if sent is None or not _same(f.samples, sent):
            wrong += 1
    result.restored += len(restored)
    result.wrong_frames += wrong
    intact = set(case.intact)
    result.lost_intact += _lost([s for s in got if s in intact], case.intact)
    if not wrong:
        _check_counters(protocol, framer, data, case, restored, result)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


def _feed(framer, stream: bytes, rng: random.Random) -> list:
    out, pos = [], 0
    while pos < len(stream):
        step = rng.choice((1, 7, 64, 500, 5000))
        out += framer.feed(stream[pos:pos + step])
        pos += step
    return out


def _lost(got: list[int], want: list[int]) -> int:
    """Intact frames lost, repeated or out of order (0 only when ``got == want``): what is
    not in the longest run-preserving match between the two."""
    if got == want:
        return 0
    match = difflib.SequenceMatcher(None, want, got, autojunk=False)
    kept = sum(block.size for block in match.get_matching_blocks())
    return max(len(want) - kept + len(got) - kept, 1)


def _check_counters(protocol, framer, data: list[Frame], case: FuzzCase, restored: set[int],
                    result: FuzzResult) -> None:
    st = framer.stats
    n_chans = data[0].samples.shape[1] if data else 1
    decoder = BlockDecoder.for_protocol(protocol, DeviceInfo(n_chans, FS_HZ, 1.0), st)
    events = [e for f in data for e in decoder.decode(f)]
    gaps = sum(type(e) is GapEvent for e in events)
    lost = [s in case.damaged_samples and s not in restored for s in case.order]
    want_gaps = sum(x and not prev for prev, x in zip([False] + lost, lost))
    problems = []
    if st.frames_missing != sum(lost):
        problems.append(f"frames_missing {st.frames_missing} != injected {sum(lost)}")
    if st.duplicates != case.duplicates:
        problems.append(f"duplicates {st.duplicates} != injected {case.duplicates}")
    if gaps != want_gaps:
        problems.append(f"gaps {gaps} != injected {want_gaps}")
    if st.bytes_in != st.frame_bytes + st.garbage_bytes:
        problems.append(f"bytes {st.bytes_in} != frames {st.frame_bytes} + garbage "
                        f"{st.garbage_bytes}")
    if problems:
        result.counter_mismatches += 1
        result.messages.append("; ".join(problems))
