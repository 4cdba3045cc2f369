"""Transports chosen by URL (pyserial's ``serial_for_url``: a tty or pty path, ``loop://``,
``socket://host:port``) plus ``replay://FILE`` for recorded sessions, and the one reader
thread: it only reads and hands bytes on, through a bounded queue, reconnecting with back-off
when the device disappears."""

from __future__ import annotations

import queue
import struct
import threading
import time
from pathlib import Path

from edgekd.errors import EdgekdError

RECORD_MAGIC = b"EDGEKDREC1\n"
_REC = struct.Struct("<QI")  # receive time ns since the first chunk, chunk length
DISCONNECTED, RECONNECTED = "disconnected", "reconnected"


def open_port(url: str, baudrate: int = 115200, timeout: float = 0.05):
    """An object with ``read(n)``, ``write(b)`` and ``close()``."""
    if url.startswith("replay://"):
        return ReplayPort(url[len("replay://"):])
    import serial

    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)
    except (serial.SerialException, ValueError, OSError) as err:
        raise EdgekdError(f"cannot open {url!r}: {err}") from None


class ReplayPort:
    """Plays back a ``--record`` file with its original timing (``?speed=X`` scales it; 0 = as
    fast as possible). Ends with an empty read once everything was played."""

    def __init__(self, spec: str):
        path, _, query = spec.partition("?")
        self.speed = float(query.split("=", 1)[1]) if query.startswith("speed=") else 1.0
        self.chunks = list(read_recording(path))
        self._i, self._t0 = 0, None
        self.finished = False

    def read(self, n: int = 4096) -> bytes:
        if self._i >= len(self.chunks):
            self.finished = True
            time.sleep(0.01)
            return b""
        t_ns, data = self.chunks[self._i]
        if self._t0 is None:
            self._t0 = time.perf_counter_ns()
        if self.speed > 0:
            wait = t_ns / self.speed - (time.perf_counter_ns() - self._t0)
            if wait > 0:
                time.sleep(wait / 1e9)
        self._i += 1
        return data

    def write(self, data: bytes) -> int:
        return len(data)

    def close(self) -> None:
        pass


class Recorder:
    """Saves every received chunk with its receive time, for exact replay."""

    def __init__(self, path: str | Path):
        self._file = open(path, "wb")
        self._file.write(RECORD_MAGIC)
        self._t0: int | None = None

    def write(self, t_ns: int, data: bytes) -> None:
        self._t0 = t_ns if self._t0 is None else self._t0
        self._file.write(_REC.pack(t_ns - self._t0, len(data)) + data)

    def close(self) -> None:
        self._file.close()


def read_recording(path: str | Path):
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EdgekdError(f"{path}: recording not found") from None
    if not raw.startswith(RECORD_MAGIC):
        raise EdgekdError(f"{path}: not an edgekd stream recording (bad magic at byte 0)")
    pos = len(RECORD_MAGIC)
    while pos < len(raw):
        if len(raw) - pos < _REC.size:
            raise EdgekdError(f"{path}:byte {pos}: truncated record header")
        t_ns, n = _REC.unpack_from(raw, pos)
        pos += _REC.size
        if len(raw) - pos < n:
            raise EdgekdError(f"{path}:byte {pos}: record of {n} bytes is truncated")
        yield t_ns, raw[pos:pos + n]
        pos += n


class ReaderThread(threading.Thread):
    """The only thread that does I/O: read → (receive time, bytes) on a bounded queue. When the
    device disappears it puts ``DISCONNECTED``, retries with exponential back-off and puts
    ``RECONNECTED``. If the consumer falls behind and the queue is full, the chunk is dropped
    and counted in ``overflow_bytes`` (never silently)."""

    def __init__(self, port, opener, out: queue.Queue, start_bytes: bytes | None = None,
                 backoff: tuple[float, float] = (0.1, 2.0), recorder: Recorder | None = None):
        """``port`` is already open (opening errors surface before the thread starts);
        ``opener`` reopens it after an outage."""
        super().__init__(daemon=True, name="edgekd-reader")
        self.opener, self.out, self.start_bytes = opener, out, start_bytes
        self.port = port
        self.backoff, self.recorder = backoff, recorder
        self.stop_event = threading.Event()
        self.overflow_bytes = 0
        self.reconnects = 0

    def run(self) -> None:
        delay = self.backoff[0]
        if self.start_bytes:
            self.port.write(self.start_bytes)
        while not self.stop_event.is_set():
            try:
                if self.port is None:
                    self.port = self.opener()
                    if self.start_bytes:
                        self.port.write(self.start_bytes)
                    delay = self.backoff[0]
                    self._put((RECONNECTED, 0))
                data = self.port.read(4096)
            except Exception:  # pyserial and sockets raise several types on unplug
                self._lost()
                self.stop_event.wait(delay)
                delay = min(delay * 2, self.backoff[1])
                continue
            if data:
                self._put((time.perf_counter_ns(), data))
            elif getattr(self.port, "finished", False):
                self._put(("end", 0))
                return

    def _put(self, item) -> None:
        if self.recorder is not None and isinstance(item[0], int):
            self.recorder.write(*item)
        try:
            self.out.put_nowait(item)
        except queue.Full:
            self.overflow_bytes += len(item[1]) if isinstance(item[1], bytes) else 0

    def _lost(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except Exception:
                pass
            self.port = None
            self.reconnects += 1
            self._put((DISCONNECTED, 0))

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=2)
        if self.port is not None:
            try:
                self.port.close()
            except Exception:
                pass
