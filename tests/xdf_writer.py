"""A minimal XDF 1.0 writer for tests, built from the specification
(https://github.com/sccn/xdf/wiki/Specifications, "File Format" and "Chunk" sections), which is
what LabRecorder writes: the magic ``XDF:``, then chunks ``[NumLengthBytes][Length][Tag][Content]``
where Length counts the 2-byte tag and the content. Tags used: 1 FileHeader (XML), 2 StreamHeader
(StreamId u32 + XML), 3 Samples (StreamId u32 + [NumSampleBytes][NumSamples] + per sample
``[TimeStampBytes: 8][Timestamp f64][values]``, strings as ``[NumLengthBytes][Length][bytes]``),
4 ClockOffset (StreamId, CollectionTime f64, OffsetValue f64), 6 StreamFooter (StreamId + XML).
All numbers little-endian. Variable-length integers are written with 1, 4 or 8 bytes as the
value needs (readers must accept all three)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

NUMERIC = {"float32": "<f4", "double64": "<f8", "int16": "<i2", "int32": "<i4"}


def varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + struct.pack("<B", n)
    if n < 1 << 32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def chunk(tag: int, content: bytes) -> bytes:
    return varlen(len(content) + 2) + struct.pack("<H", tag) + content


@dataclass
class XdfStream:
    name: str
    type: str
    channel_format: str                 # float32 | double64 | int16 | int32 | string
    nominal_srate: float
    values: object                      # ndarray [n, C] or list of lists of str
    stamps: np.ndarray
    channels: list[tuple[str, str, str]] = field(default_factory=list)  # label, unit, type
    clock_offset: float = 0.0           # what LabRecorder measured: local clock − this stream's

    @property
    def channel_count(self) -> int:
        return len(self.values[0]) if len(self.values) else len(self.channels) or 1

    def header_xml(self) -> bytes:
        chans = "".join(f"<channel><label>{escape(lab)}</label><unit>{escape(u)}</unit>"
                        f"<type>{escape(t)}</type></channel>" for lab, u, t in self.channels)
        return (f'<?xml version="1.0"?><info><name>{escape(self.name)}</name>'
                f"<type>{escape(self.type)}</type><channel_count>{self.channel_count}"
                f"</channel_count><nominal_srate>{self.nominal_srate}</nominal_srate>"
                f"<channel_format>{self.channel_format}</channel_format>"
                f"<created_at>0</created_at><desc><channels>{chans}</channels></desc>"
                "</info>").encode()

    def sample_bytes(self, k: int) -> bytes:
        out = b"\x08" + struct.pack("<d", float(self.stamps[k]))
        if self.channel_format == "string":
            return out + b"".join(varlen(len(v.encode())) + v.encode() for v in self.values[k])
        return out + np.asarray(self.values[k]).astype(NUMERIC[self.channel_format]).tobytes()


def write_xdf(path: str | Path, streams: list[XdfStream], per_chunk: int = 100) -> Path:
    """Write ``streams`` as LabRecorder would: headers, interleaved sample chunks, two clock
    offset measurements per stream (pyxdf adds the fitted offset to the stamps), footers."""
    path = Path(path)
    out = [b"XDF:", chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')]
    for sid, s in enumerate(streams, 1):
        out.append(chunk(2, struct.pack("<I", sid) + s.header_xml()))
    longest = max(len(s.stamps) for s in streams)
    for start in range(0, longest, per_chunk):
        for sid, s in enumerate(streams, 1):
            ks = range(start, min(start + per_chunk, len(s.stamps)))
            if len(ks):
                out.append(chunk(3, struct.pack("<I", sid) + varlen(len(ks)) +
                                 b"".join(s.sample_bytes(k) for k in ks)))
    for sid, s in enumerate(streams, 1):
        for t in (s.stamps[0] - 1, s.stamps[-1] + 1) if len(s.stamps) else ():
            out.append(chunk(4, struct.pack("<Idd", sid, float(t), s.clock_offset)))
        footer = (f'<?xml version="1.0"?><info><first_timestamp>{s.stamps[0] if len(s.stamps) else 0}'
                  f"</first_timestamp><sample_count>{len(s.stamps)}</sample_count></info>")
        out.append(chunk(6, struct.pack("<I", sid) + footer.encode()))
    path.write_bytes(b"".join(out))
    return path
