"""A device emulator: streams a recording over a pty (or a TCP socket) in a wire protocol, at
the real-time rate (``speed`` scales it), and injects faults on request.

It waits for the host's start command (edgekd-v1 START frame, Cyton ``b``) so the first frame
the host sees is sample 0, and it writes the ground truth beside the stream: the per-sample
labels (so online accuracy can be measured) and every frame it corrupted or dropped (so counted
losses can be checked). The last frame of a pass is never corrupted: a receiver can only notice
a loss when a later frame arrives.
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekd.errors import ConfigError
from firmware_bridge.types import DeviceInfo


@dataclass
class FaultSpec:
    """``bitflip`` and ``drop``: per-byte probabilities; ``garbage``: random bursts per second;
    ``disconnect``: seconds between disconnects (TCP: the connection is closed)."""

    bitflip: float = 0.0
    drop: float = 0.0
    garbage: float = 0.0
    disconnect: float = 0.0

    @classmethod
    def parse(cls, text: str | None) -> "FaultSpec":
        spec = cls()
        for part in filter(None, (text or "").split(",")):
            key, _, value = part.partition("=")
            if key not in cls.__dataclass_fields__:
                raise ConfigError(f"--faults: unknown fault {key!r} (valid: bitflip, drop, "
                                  "garbage, disconnect)")
            try:
                setattr(spec, key, float(value))
            except ValueError:
                raise ConfigError(f"--faults: {key}={value!r} is not a number") from None
        return spec


@dataclass
class EmulatorLog:
    frames_sent: int = 0
    frames_corrupted: list[int] = field(default_factory=list)   # stream-order frame numbers
    garbage_bursts: int = 0
    disconnects: int = 0


class Emulator:
    def __init__(self, signals_uv: np.ndarray, fs: float, protocol, labels: np.ndarray | None = None,
                 samples_per_frame: int = 4, speed: float = 1.0, faults: FaultSpec | None = None,
                 loop: bool = False, seed: int = 0, scale_uv: float | None = None):
        self.protocol, self.fs, self.speed, self.loop = protocol, fs, speed, loop
        self.faults = faults or FaultSpec()
        self.spf = 1 if protocol.name == "cyton" else samples_per_frame
        info = protocol.default_info()
        peak = float(np.abs(signals_uv).max()) or 1.0
        scale = scale_uv or (info.scale_uv if protocol.name == "cyton" else peak / 30000)
        self.info = DeviceInfo(signals_uv.shape[1], fs, scale, "1.0.0", f"emulated {protocol.name}")
        self.counts = np.round(signals_uv / scale).astype(np.int32)
        self.labels = labels
        self.rng = np.random.default_rng(seed)
        self.log = EmulatorLog()
        self._stop = threading.Event()

    # -- ground truth ---------------------------------------------------------------------
    def write_ground_truth(self, path: str | Path) -> None:
        path = Path(path)
        np.savez(path.with_suffix(".npz"), labels=self.labels if self.labels is not None
                 else np.full(len(self.counts), -1), fs=self.fs, scale_uv=self.info.scale_uv,
                 samples_per_frame=self.spf)

    def write_fault_log(self, path: str | Path) -> None:
        Path(path).with_suffix(".faults.json").write_text(json.dumps(self.log.__dict__))

    # -- frames ---------------------------------------------------------------------------
    def frames(self):
        """(frame number, bytes, is_last_of_pass) in stream order, forever when looping."""
        n_frames = len(self.counts) // self.spf
        number = 0
        while True:
            for k in range(n_frames):
                block = self.counts[k * self.spf:(k + 1) * self.spf]
                t_us = int(number * self.spf / self.fs * 1e6)
                seq = number % self.protocol.seq_modulus if self.protocol.name != "cyton" \
                    else (number * self.spf) % 256
                yield number, self.protocol.encode_frame(seq, t_us, block), k == n_frames - 1
                number += 1
            if not self.loop:
                return

    def _corrupt(self, number: int, data: bytes, last: bool) -> bytes:
        f = self.faults
        if last or not (f.bitflip or f.drop):
            return data
        arr = np.frombuffer(data, dtype=np.uint8).copy()
        flips = self.rng.random(len(arr)) < f.bitflip
        drops = self.rng.random(len(arr)) < f.drop
        if not (flips.any() or drops.any()):
            return data
        arr[flips] ^= (1 << self.rng.integers(0, 8, flips.sum())).astype(np.uint8)
        self.log.frames_corrupted.append(number)
        return arr[~drops].tobytes()

    def _garbage(self, dt: float) -> bytes:
        if self.faults.garbage and self.rng.random() < self.faults.garbage * dt:
            self.log.garbage_bursts += 1
            # bytes that cannot start a frame, so a burst never hides a real one
            return bytes(self.rng.integers(0x01, 0x9F, int(self.rng.integers(1, 64)),
                                           dtype=np.uint8))
        return b""

    def stream_to(self, write, wait_for_start) -> None:
        """Pace frames onto ``write`` after ``wait_for_start()`` returns True."""
        if not wait_for_start():
            return
        period = self.spf / self.fs / self.speed if self.speed > 0 else 0.0
        start = time.perf_counter()
        for number, data, last in self.frames():
            if self._stop.is_set():
                return
            due = start + number * period
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            write(self._garbage(period) + self._corrupt(number, data, last))
            self.log.frames_sent += 1

    def stop(self) -> None:
        self._stop.set()

    # -- endpoints -------------------------------------------------------------------------
    def serve_pty(self) -> tuple[str, threading.Thread]:
        """Open a pseudo-terminal; returns its device path and the streaming thread."""
        import tty
        master, slave = os.openpty()
        tty.setraw(slave)
        path = os.ttyname(slave)
        thread = threading.Thread(target=self._pty_loop, args=(master, slave), daemon=True)
        thread.start()
        return path, thread

    def _pty_loop(self, master: int, slave: int) -> None:
        def write(data: bytes) -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(master, view):]
        try:
            self.stream_to(write, lambda: self._await_start(lambda: _read_fd(master), write))
        finally:
            time.sleep(0.2)  # let the host drain the last frames before the pty goes away
            os.close(master)
            os.close(slave)

    def _await_start(self, read, write) -> bool:
        """Answer info queries until the host sends start."""
        from firmware_bridge.protocols.edgekd_v1 import CMD_QUERY_INFO, CMD_START, encode_info
        framer = self.protocol.framer()
        if hasattr(framer, "accept_commands"):
            framer.accept_commands = True
        pending = b""
        while not self._stop.is_set():
            chunk = read()
            if not chunk:
                continue
            if self.protocol.name == "cyton":
                pending += chunk
                if b"b" in pending:
                    return True
                continue
            framer.feed(chunk)
            for op, _ in framer.commands:
                if op == CMD_QUERY_INFO:
                    write(encode_info(self.info))
                if op == CMD_START:
                    return True
            framer.commands.clear()
        return False

    def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, threading.Thread]:
        """Listen on ``host:port`` (loopback by default); returns ``socket://host:port``."""
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((host, port))
        server.listen(1)
        server.settimeout(0.2)
        url = f"socket://{host}:{server.getsockname()[1]}"
        thread = threading.Thread(target=self._tcp_loop, args=(server,), daemon=True)
        thread.start()
        return url, thread

    def _tcp_loop(self, server: socket.socket) -> None:
        frames = self.frames()
        try:
            while not self._stop.is_set():
                try:
                    conn, _ = server.accept()
                except socket.timeout:
                    continue
                with conn:
                    conn.settimeout(0.05)
                    if not self._await_start(lambda: _recv(conn), conn.sendall):
                        return
                    if not self._tcp_session(conn, frames):
                        return
        finally:
            server.close()

    def _tcp_session(self, conn: socket.socket, frames) -> bool:
        """Stream until the recording ends (False) or a disconnect fault (True: reconnect)."""
        period = self.spf / self.fs / self.speed if self.speed > 0 else 0.0
        start, sent_here = time.perf_counter(), 0
        next_cut = self.faults.disconnect or float("inf")
        for number, data, last in frames:
            if self._stop.is_set():
                return False
            delay = start + sent_here * period - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                conn.sendall(self._garbage(period) + self._corrupt(number, data, last))
            except OSError:
                return True
            self.log.frames_sent += 1
            sent_here += 1
            if sent_here * period >= next_cut and not last:
                self.log.disconnects += 1
                return True  # the frames not sent while disconnected are the outage
        time.sleep(0.2)
        return False


def _read_fd(fd: int) -> bytes:
    ready, _, _ = select.select([fd], [], [], 0.05)
    return os.read(fd, 4096) if ready else b""


def _recv(conn: socket.socket) -> bytes:
    try:
        return conn.recv(4096)
    except socket.timeout:
        return b""
