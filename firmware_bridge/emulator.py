"""A device emulator: streams a recording over a pty (or a TCP socket) in a wire protocol, at
the real-time rate (``speed`` scales it; 0 = as fast as possible), and injects faults on
request.

It behaves as the protocol's device does (the protocol's ``device()`` end answers the host's
commands): it waits for START, and every START makes it count sequence numbers from 0 again,
while its clock (the device time in each frame) keeps running. It writes the ground truth
beside the stream: the per-sample labels (online accuracy) and every frame it corrupted or
never sent (so counted losses can be checked). The last frame of a pass is never corrupted: a
receiver can only notice a loss when a later frame arrives. When the recording ends it sends
the protocol's end-of-stream frame (if it has one) and leaves once the host has gone or after
a short grace; it also leaves as soon as the host goes away.
"""

from __future__ import annotations

import json
import math
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekd.errors import ConfigError
from firmware_bridge.protocols.base import Command, check_samples_per_frame
from firmware_bridge.types import DeviceInfo

END_GRACE_S = 2.0      # how long a finished device waits for the host to leave
STALL_S = 5.0          # a host that reads nothing for this long is gone


@dataclass
class FaultSpec:
    """``bitflip`` and ``drop``: per-byte probabilities; ``garbage``: random bursts per second
    of signal; ``disconnect``: seconds of signal between disconnects (TCP: the connection is
    closed); ``outage``: seconds of signal lost per disconnect (a real armband keeps sampling
    while the host is away)."""

    bitflip: float = 0.0
    drop: float = 0.0
    garbage: float = 0.0
    disconnect: float = 0.0
    outage: float = 0.5

    @classmethod
    def parse(cls, text: str | None) -> "FaultSpec":
        spec = cls()
        for part in filter(None, (text or "").split(",")):
            key, _, value = part.partition("=")
            if key not in cls.__dataclass_fields__:
                raise ConfigError(f"--faults: unknown fault {key!r} (valid: "
                                  f"{', '.join(cls.__dataclass_fields__)})")
            try:
                setattr(spec, key, float(value))
            except ValueError:
                raise ConfigError(f"--faults: {key}={value!r} is not a number") from None
        spec.validate()
        return spec

    def validate(self) -> None:
        for key in self.__dataclass_fields__:
            value = getattr(self, key)
            top = 1.0 if key in ("bitflip", "drop") else math.inf
            if not (math.isfinite(value) and 0 <= value <= top):
                raise ConfigError(f"--faults: {key}={value} must lie in [0, {top:g}]")


@dataclass
class EmulatorLog:
    frames_sent: int = 0
    frames_corrupted: list[int] = field(default_factory=list)   # stream-order frame numbers
    frames_lost_in_outages: int = 0
    garbage_bursts: int = 0
    disconnects: int = 0
    starts: int = 0
    stops: int = 0
    host_left: bool = False


class HostGone(Exception):
    """The host closed its end (or stopped reading)."""


class Emulator:
    def __init__(self, signals_uv: np.ndarray, fs: float, protocol, labels: np.ndarray | None = None,
                 samples_per_frame: int = 4, speed: float = 1.0, faults: FaultSpec | None = None,
                 loop: bool = False, seed: int = 0, scale_uv: float | None = None,
                 keep_send_times: bool = False):
        if not (math.isfinite(speed) and speed >= 0):
            raise ConfigError(f"--speed {speed}: must be >= 0 (0: as fast as possible)")
        n, c = signals_uv.shape
        self.info = self._device_info(protocol, signals_uv, fs, scale_uv)
        self.protocol, self.fs, self.speed, self.loop = protocol, fs, speed, loop
        self.spf = check_samples_per_frame(protocol, samples_per_frame, c)
        if n < self.spf:
            raise ConfigError(f"the recording has {n} samples, fewer than one frame")
        self.faults = faults or FaultSpec()
        self.faults.validate()
        self.counts = np.round(signals_uv / self.info.scale_uv).astype(np.int32)
        self.labels = labels
        self.rng = np.random.default_rng(seed)
        self.log = EmulatorLog()
        self.send_times: list[tuple[int, int]] | None = [] if keep_send_times else None
        self._stop = threading.Event()
        self._frames = self._frame_source()
        self._position = 0          # frames of the recording consumed so far (the device clock)

    @staticmethod
    def _device_info(protocol, signals_uv: np.ndarray, fs: float, scale_uv) -> DeviceInfo:
        fixed = protocol.fixed_info
        n_chans = signals_uv.shape[1]
        if fixed is not None:
            if (fixed.n_chans, fixed.fs) != (n_chans, fs):
                raise ConfigError(f"{protocol.name} streams {fixed.n_chans} ch @ {fixed.fs:g} Hz; "
                                  f"this recording has {n_chans} ch @ {fs:g} Hz")
            return fixed
        peak = float(np.abs(signals_uv).max()) or 1.0
        return DeviceInfo(n_chans, fs, scale_uv or peak / 30000, "1.0.0",
                          f"emulated {protocol.name}")

    # -- ground truth ---------------------------------------------------------------------
    def write_ground_truth(self, path: str | Path) -> None:
        path = Path(path)
        np.savez(path.with_suffix(".npz"), labels=self.labels if self.labels is not None
                 else np.full(len(self.counts), -1), fs=self.fs, scale_uv=self.info.scale_uv,
                 samples_per_frame=self.spf)

    def write_fault_log(self, path: str | Path) -> None:
        Path(path).with_suffix(".faults.json").write_text(json.dumps(self.log.__dict__))

    def stop(self) -> None:
        self._stop.set()

    # -- frames ---------------------------------------------------------------------------
    def _frame_source(self):
        """(samples, is_last_of_pass) in recording order, forever when looping."""
        n_frames = len(self.counts) // self.spf
        while True:
            for k in range(n_frames):
                yield self.counts[k * self.spf:(k + 1) * self.spf], k == n_frames - 1
            if not self.loop:
                return

    def _encode(self, seq: int, samples: np.ndarray, last: bool) -> bytes:
        number = self._position
        t_us = int(number * self.spf / self.fs * 1e6)   # free-running: not reset by START
        data = self.protocol.encode_frame(seq, t_us, samples)
        return self._garbage() + self._corrupt(number, data, last)

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

    def _garbage(self) -> bytes:
        """Bursts at ``garbage`` per second of signal (so they fire at any speed)."""
        if self.faults.garbage and self.rng.random() < self.faults.garbage * self.spf / self.fs:
            self.log.garbage_bursts += 1
            # bytes that cannot start a frame (no 0xA0 or 0xA5), so a burst never hides one
            return bytes(self.rng.integers(0x01, 0x9F, int(self.rng.integers(1, 64)),
                                           dtype=np.uint8))
        return b""

    # -- one connection ----------------------------------------------------------------------
    def _serve(self, link, cut_after_frames: int | None = None) -> str:
        """Answer the host and stream while started. Returns why it stopped: ``gone`` (the
        host left), ``finished`` (the recording ended), ``cut`` (a disconnect fault) or
        ``stopped`` (stop() was called)."""
        device, streaming, seq, sent = self.protocol.device(self.info), False, 0, 0
        period = self.spf / self.fs / self.speed if self.speed > 0 else 0.0
        anchor = 0.0
        try:
            while not self._stop.is_set():
                due = anchor + sent * period
                wait = max(0.0, due - time.perf_counter()) if streaming else 0.05
                reply, commands = device.feed(link.read(wait))
                if reply:
                    link.write(reply)
                for command in commands:
                    if command is Command.START:
                        streaming, seq, sent, anchor = True, 0, 0, time.perf_counter()
                        self.log.starts += 1
                    elif command is Command.STOP:
                        streaming = False
                        self.log.stops += 1
                if not streaming or time.perf_counter() < anchor + sent * period:
                    continue
                if cut_after_frames is not None and sent >= cut_after_frames:
                    return "cut"
                item = next(self._frames, None)
                if item is None:
                    return self._finish(link)
                data = self._encode(seq, *item)
                t_ns = time.monotonic_ns()   # before the write: a descheduled write must not
                link.write(data)             # shorten the measured sent -> decision latency
                self._sent(t_ns)
                seq, sent = seq + 1, sent + 1
                self._position += 1
        except HostGone:
            self.log.host_left = True
            return "gone"
        return "stopped"

    def _sent(self, t_ns: int) -> None:
        """A frame went out; ``t_ns`` (CLOCK_MONOTONIC) was taken just before its write."""
        self.log.frames_sent += 1
        if self.send_times is not None:
            self.send_times.append((self._position, t_ns))

    def _finish(self, link) -> str:
        end = self.protocol.encode_end()
        if end:
            link.write(end)
        link.wait_gone(END_GRACE_S if end else 0.5)
        return "finished"

    def _skip_outage(self) -> bool:
        """Frames the device made while the host was away are lost; False at the end."""
        for _ in range(int(round(self.faults.outage * self.fs / self.spf))):
            if next(self._frames, None) is None:
                return False
            self._position += 1
            self.log.frames_lost_in_outages += 1
        return True

    # -- endpoints -------------------------------------------------------------------------
    def serve_pty(self) -> tuple[str, threading.Thread]:
        """Open a pseudo-terminal; returns its device path and the streaming thread."""
        import tty
        if self.faults.disconnect:
            raise ConfigError("--faults disconnect=...: only over TCP (--tcp PORT)")
        master, slave = os.openpty()
        tty.setraw(slave)
        path = os.ttyname(slave)
        os.close(slave)  # the host's open is then the only one: its close is visible as POLLHUP
        thread = threading.Thread(target=self._pty_loop, args=(master,), daemon=True)
        thread.start()
        return path, thread

    def _pty_loop(self, master: int) -> None:
        try:
            self._serve(_PtyLink(master))
        finally:
            os.close(master)

    def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, threading.Thread]:
        """Listen on ``host:port`` (loopback by default); returns ``socket://host:port``."""
        if not 0 <= port < 65536:
            raise ConfigError(f"--tcp {port}: must lie in 0..65535 (0: any free port)")
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind((host, port))
        except OSError as err:
            server.close()
            raise ConfigError(f"--tcp {port}: cannot listen on {host}:{port} ({err.strerror})") \
                from None
        server.listen(1)
        server.settimeout(0.2)
        url = f"socket://{host}:{server.getsockname()[1]}"
        thread = threading.Thread(target=self._tcp_loop, args=(server,), daemon=True)
        thread.start()
        return url, thread

    def _tcp_loop(self, server: socket.socket) -> None:
        cut = int(round(self.faults.disconnect * self.fs / self.spf)) or None
        try:
            while not self._stop.is_set():
                try:
                    conn, _ = server.accept()
                except socket.timeout:
                    continue
                with conn:
                    why = self._serve(_TcpLink(conn), cut)
                if why != "cut":
                    return
                self.log.disconnects += 1
                if not self._skip_outage():
                    return
        finally:
            server.close()


class _PtyLink:
    """The master side of a pty whose slave only the host holds open."""

    def __init__(self, fd: int):
        os.set_blocking(fd, False)
        self.fd, self.host_seen = fd, False
        self.poll = select.poll()
        self.poll.register(fd, select.POLLIN)

    def read(self, timeout: float) -> bytes:
        events = dict(self.poll.poll(timeout * 1000))
        ev = events.get(self.fd, 0)
        if ev & select.POLLIN:
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            if data:
                self.host_seen = True
                return data
        if ev & select.POLLHUP:
            if self.host_seen:
                raise HostGone()
            time.sleep(timeout)   # nobody has opened the pty yet: POLLHUP would spin
        return b""

    def write(self, data: bytes) -> None:
        view, stalled = memoryview(data), time.monotonic()
        while view:
            try:
                view = view[os.write(self.fd, view):]
                stalled = time.monotonic()
            except BlockingIOError:
                if time.monotonic() - stalled > STALL_S:
                    raise HostGone() from None
                self.read_check(0.01)

    def read_check(self, timeout: float) -> None:
        ev = dict(self.poll.poll(timeout * 1000)).get(self.fd, 0)
        if ev & select.POLLHUP and self.host_seen:
            raise HostGone()

    def wait_gone(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.read(0.05)
        except HostGone:
            pass


class _TcpLink:
    def __init__(self, conn: socket.socket):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(STALL_S)
        self.conn = conn

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.conn], [], [], timeout)
        if not ready:
            return b""
        try:
            data = self.conn.recv(4096)
        except OSError:
            raise HostGone() from None
        if not data:
            raise HostGone()
        return data

    def write(self, data: bytes) -> None:
        try:
            self.conn.sendall(data)
        except OSError:
            raise HostGone() from None

    def wait_gone(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.read(0.05)
        except HostGone:
            pass


def run_emulator(emu: Emulator, tcp_port: int | None, wait_s: float | None, on_ready) -> str:
    """Serve ``emu`` over a pty (``tcp_port`` None) or TCP until the recording ends, the host
    leaves or Ctrl-C; ``on_ready(url)`` is called once the endpoint is open. Raises EdgekdError
    when no host starts the stream within ``wait_s`` seconds. Returns the URL."""
    from edgekd.errors import EdgekdError
    if wait_s is not None and not wait_s > 0:
        raise ConfigError(f"--wait {wait_s}: must be > 0 seconds")
    url, thread = emu.serve_tcp(port=tcp_port) if tcp_port is not None else emu.serve_pty()
    on_ready(url)
    deadline = time.monotonic() + wait_s if wait_s else None
    try:
        while thread.is_alive():
            thread.join(0.2)
            if deadline and not emu.log.starts and time.monotonic() > deadline:
                emu.stop()
                thread.join(2)
                raise EdgekdError(f"no host sent the start command within {wait_s:g} s")
    except KeyboardInterrupt:
        emu.stop()
        thread.join(2)
    return url
