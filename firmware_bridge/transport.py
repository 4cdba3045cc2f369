"""Transports chosen by URL, and the one reader thread.

* a tty or pty path, ``loop://`` and other pyserial URLs: pyserial's ``serial_for_url``, read
  the way ``serial.threaded`` reads: ``read(in_waiting or 1)``, so bytes are handed on as soon
  as they arrive instead of when a 4 KiB read times out;
* ``socket://host:port``: a plain TCP socket (pyserial's socket transport discards what a read
  had collected when the peer closes, and its ``in_waiting`` says 1 whatever is waiting);
* ``replay://FILE[?speed=X]``: a ``--record`` file played back (a finite source);
* ``lsl://NAME`` (:mod:`firmware_bridge.lsl`) and ``brainflow://BOARD?...``
  (:mod:`firmware_bridge.brainflow_source`): sources that deliver decoded samples, not bytes
  (``delivers_samples``); they need no wire protocol.

The reader thread only reads, stamps each chunk with the time it was read (CLOCK_MONOTONIC,
the same clock in every process of the machine) and hands it on as a small typed message.
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekd.errors import ConfigError, EdgekdError
from firmware_bridge.outfile import OutputFile
from firmware_bridge.protocols.base import Handshake

RECORD_MAGIC = b"EDGEKDREC1\n"
_REC = struct.Struct("<QI")  # receive time ns since the first chunk, chunk length
clock = time.monotonic_ns    # CLOCK_MONOTONIC: comparable across processes of one machine


# -- messages from the reader thread ----------------------------------------------------------
@dataclass(frozen=True)
class Chunk:
    data: bytes
    t_ns: int                # when the read that returned these bytes came back


@dataclass(frozen=True)
class Samples:
    """Decoded samples from a source that delivers them so (LSL, BrainFlow)."""

    data: np.ndarray         # float32 [n, n_chans], microvolts
    acquired_ns: int         # acquisition time of the last sample (CLOCK_MONOTONIC ns)
    t_ns: int                # when the read that returned them came back
    missing_before: int = 0  # samples the source knows it lost just before these


@dataclass(frozen=True)
class Connected:
    """The port was (re)opened and the start command sent: the device counts from 0 again."""

    reconnect: bool


@dataclass(frozen=True)
class Outage:
    reason: str


@dataclass(frozen=True)
class EndOfStream:
    """A finite source has nothing more (not an outage)."""

    reason: str


Message = Chunk | Samples | Connected | Outage | EndOfStream


class SourceEnded(Exception):
    """Raised by a finite port's read once everything was read."""


# -- ports ------------------------------------------------------------------------------------
class SerialPort:
    """A pyserial port (tty, pty, loop://) read as soon as bytes arrive."""

    finite = False

    def __init__(self, ser):
        self.ser = ser

    def read_available(self) -> bytes:
        """Whatever is waiting, or wait (up to the port timeout) for the first byte and take
        what came with it. Each pyserial read here is one ``os.read`` on POSIX, so an error
        never discards bytes already read."""
        waiting = self.ser.in_waiting
        data = self.ser.read(waiting or 1)
        if not waiting and data:
            more = self.ser.in_waiting
            if more:
                data += self.ser.read(more)
        return data

    def write(self, data: bytes) -> None:
        self.ser.write(data)

    def close(self) -> None:
        self.ser.close()


class SocketPort:
    """``socket://host:port``: every byte received is handed on before a close is reported."""

    finite = False

    def __init__(self, host: str, port: int, timeout: float):
        self.sock = socket.create_connection((host, port), timeout=2.0)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)

    def read_available(self) -> bytes:
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return b""
        if not data:
            raise ConnectionError("the peer closed the connection")
        return data

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()


class ReplayPort:
    """Plays back a ``--record`` file with its original timing (``?speed=X`` scales it; 0 = as
    fast as possible). A finite source: the reader applies back-pressure instead of dropping,
    and the end of the file is the end of the stream."""

    finite = True

    def __init__(self, spec: str):
        path, _, query = spec.partition("?")
        self.speed = _replay_speed(query, spec)
        self.chunks = list(read_recording(path))
        self._i, self._t0 = 0, None

    def read_available(self) -> bytes:
        if self._i >= len(self.chunks):
            raise SourceEnded("end of the recording")
        t_ns, data = self.chunks[self._i]
        if self._t0 is None:
            self._t0 = time.perf_counter_ns()
        if self.speed > 0:
            wait = t_ns / self.speed - (time.perf_counter_ns() - self._t0)
            if wait > 0:
                time.sleep(min(wait / 1e9, 0.1))
                return b""   # come back (the reader checks for stop in between)
        self._i += 1
        return data

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def _replay_speed(query: str, spec: str) -> float:
    if not query:
        return 1.0
    key, _, value = query.partition("=")
    try:
        speed = float(value)
    except ValueError:
        speed = -1.0
    if key != "speed" or not speed >= 0:
        raise ConfigError(f"replay://{spec}: expected ?speed=X with X >= 0 (0: as fast as "
                          "possible)")
    return speed


def open_port(url: str, baudrate: int = 115200, timeout: float = 0.05):
    """A port object with ``read_available()``, ``write(b)``, ``close()`` and ``finite``;
    sample sources also have ``delivers_samples = True`` and ``info`` (their layout)."""
    if url.startswith("lsl://"):
        from firmware_bridge.lsl import LslInletPort
        return LslInletPort(url[len("lsl://"):])
    if url.startswith("brainflow://"):
        from firmware_bridge.brainflow_source import BrainFlowPort
        return BrainFlowPort(url[len("brainflow://"):])
    if url.startswith("replay://"):
        return ReplayPort(url[len("replay://"):])
    if url.startswith("socket://"):
        host, _, port = url[len("socket://"):].partition("?")[0].rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"--port {url!r}: expected socket://HOST:PORT with PORT in 1..65535")
        try:
            return SocketPort(host, int(port), timeout)
        except OSError as err:
            raise EdgekdError(f"cannot open {url!r}: {err}") from None
    import serial

    try:
        return SerialPort(serial.serial_for_url(url, baudrate=baudrate, timeout=timeout))
    except (serial.SerialException, ValueError, OSError) as err:
        raise EdgekdError(f"cannot open {url!r}: {err}") from None


class HandshakeAborted(EdgekdError):
    """The host was told to stop while it waited for the device to answer."""


def handshake(port, hs: Handshake, where: str, stop: threading.Event | None = None) -> bytes:
    """Bring the device up (see :class:`Handshake`); raises EdgekdError naming what was
    expected when the device does not answer, HandshakeAborted as soon as ``stop`` is set.
    Returns the bytes that arrived after the ready marker (handed on, never thrown away). A
    finite source (a replayed recording) is not a device: nothing is written or awaited."""
    if getattr(port, "finite", False):
        return b""
    if hs.hello:
        port.write(hs.hello)
    rest = b""
    if hs.ready:
        seen, deadline = b"", time.monotonic() + hs.timeout_s
        while hs.ready not in seen:
            if stop is not None and stop.is_set():
                raise HandshakeAborted(f"{where}: stopped while waiting for {hs.ready!r}")
            if time.monotonic() > deadline:
                raise EdgekdError(f"{where}: the device did not answer {hs.hello!r} with "
                                  f"{hs.ready!r} within {hs.timeout_s:g} s (got {seen[-60:]!r})")
            seen += port.read_available()
        rest = seen[seen.index(hs.ready) + len(hs.ready):]
    port.write(hs.start)
    return rest


# -- recordings -------------------------------------------------------------------------------
class Recorder:
    """Saves every received chunk with its receive time, for exact replay. The path is checked
    at once; the file is created (an existing one replaced) by ``start()``, once the device is
    up, or by the first ``write``."""

    def __init__(self, path: str | Path):
        self._out = OutputFile(path, "--record", "wb")
        self._t0: int | None = None

    def start(self) -> None:
        if self._out.file is None:
            self._out.open().write(RECORD_MAGIC)

    def write(self, t_ns: int, data: bytes) -> None:
        self.start()
        self._t0 = t_ns if self._t0 is None else self._t0
        self._out.file.write(_REC.pack(t_ns - self._t0, len(data)) + data)

    def close(self) -> None:
        self._out.close()


def read_recording(path: str | Path):
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise EdgekdError(f"{path}: cannot read the recording ({err.strerror})") from None
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


# -- the reader thread ------------------------------------------------------------------------
class ReaderThread(threading.Thread):
    """The only thread that does I/O. Reads whatever has arrived, stamps it and puts a
    :class:`Chunk` on a bounded queue. When the device disappears it puts an :class:`Outage`,
    reopens with exponential back-off, redoes the handshake and puts ``Connected(True)``
    (``reconnects`` counts those). A finite source puts :class:`EndOfStream` at its end and
    waits for room in the queue instead of dropping; a live one that outruns the consumer
    drops the chunk and counts it in ``overflow_bytes`` (``overflow_samples`` for a sample
    source; never silently). Bytes for the device (``send``) are written by this thread too,
    between reads."""

    def __init__(self, port, opener, out: queue.Queue, hs: Handshake, stop_bytes: bytes = b"",
                 backoff: tuple[float, float] = (0.1, 2.0), recorder: Recorder | None = None,
                 where: str = "device", first: bytes = b""):
        """``port`` is already open and started (errors surface before the thread starts);
        ``opener`` reopens it after an outage; ``first``: bytes the handshake read after the
        device's ready marker, handed on before anything else."""
        super().__init__(daemon=True, name="edgekd-reader")
        self.port, self.opener, self.out, self.hs = port, opener, out, hs
        self.stop_bytes, self.backoff, self.recorder, self.where = stop_bytes, backoff, recorder, where
        self.stop_event = threading.Event()
        self.overflow_bytes = 0
        self.overflow_samples = 0
        self.reconnects = 0
        self._first = first
        self._outgoing: deque[bytes] = deque()   # appended by the consumer, written here

    def send(self, data: bytes) -> None:
        """Queue ``data`` for the device (e.g. a repeated QUERY_INFO); thread-safe."""
        self._outgoing.append(data)

    def run(self) -> None:
        if self._first:
            self._put_chunk(Chunk(self._first, clock()))
        delay = self.backoff[0]
        while not self.stop_event.is_set():
            if self.port is None:
                if not self._reopen():
                    self.stop_event.wait(delay)
                    delay = min(delay * 2, self.backoff[1])
                    continue
                delay = self.backoff[0]
            try:
                while self._outgoing:
                    self.port.write(self._outgoing.popleft())
                data = self.port.read_available()
            except SourceEnded as end:
                self._put_control(EndOfStream(str(end)))
                return
            except Exception as err:  # pyserial and sockets raise several types on unplug
                self._lost(err)
                continue
            if type(data) is bytes:
                if data:
                    self._put_chunk(Chunk(data, clock()))
            elif data is not None:          # a sample source: Samples, or a tuple of them
                for item in data if type(data) is tuple else (data,):
                    self._put_data(item, item.data.shape[0])

    def _reopen(self) -> bool:
        """Reopen and restart the device. A stop requested meanwhile wins: the handshake gives
        up at once, and a port already open is kept for ``stop()`` to stop and close."""
        try:
            port = self.opener()
        except Exception:
            return False
        if self.stop_event.is_set():
            self.port = port
            return False
        try:
            rest = handshake(port, self.hs, self.where, self.stop_event)
        except Exception:
            _close_quietly(port)     # a device that did not answer: try a fresh open later
            return False
        self.port = port
        if self.stop_event.is_set():
            return False
        self.reconnects += 1
        self._outgoing.clear()       # requests meant for the session that was lost
        self._put_control(Connected(reconnect=True))
        if rest:
            self._put_chunk(Chunk(rest, clock()))
        return True

    def _put_chunk(self, chunk: Chunk) -> None:
        if self.recorder is not None:
            self.recorder.write(chunk.t_ns, chunk.data)
        self._put_data(chunk, 0)

    def _put_data(self, item: Chunk | Samples, n_samples: int) -> None:
        if self.port.finite:
            self._put_control(item)
            return
        try:
            self.out.put_nowait(item)
        except queue.Full:
            if n_samples:
                self.overflow_samples += n_samples
            else:
                self.overflow_bytes += len(item.data)

    def _put_control(self, item: Message) -> None:
        """Blocks until there is room (a control message or a file's bytes are never lost)."""
        while not self.stop_event.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _lost(self, err: Exception) -> None:
        _close_quietly(self.port)
        self.port = None
        self._put_control(Outage(f"{type(err).__name__}: {err}"))

    def stop(self) -> None:
        """Stop reading, wait until this thread has exited (a reconnect in progress gives up or
        finishes first: its device must be stopped too), then tell the device to stop
        streaming and close the port. Safe before ``start()``."""
        self.stop_event.set()
        if self.ident is not None:
            self.join()
        if self.port is not None:
            try:
                if self.stop_bytes:
                    self.port.write(self.stop_bytes)
            except Exception:
                pass
            _close_quietly(self.port)
            self.port = None


def _close_quietly(port) -> None:
    try:
        port.close()
    except Exception:   # closing a port that is already gone is not an error worth raising
        pass
