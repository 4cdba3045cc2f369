"""The emulator's own bookkeeping, driven through a fake link (no pty, no pacing)."""

import time

import numpy as np

from firmware_bridge.emulator import Emulator, HostGone
from firmware_bridge.protocols import PROTOCOLS
from firmware_bridge.protocols import edgekd_v2 as v2


class _SlowLink:
    """Sends START once, then takes 20 ms per write (a descheduled writer); leaves after
    ``frames`` data writes."""

    def __init__(self, frames: int):
        self.frames, self.write_entered = frames, []
        self._start = v2.encode_command(v2.CMD_START)

    def read(self, timeout: float) -> bytes:
        out, self._start = self._start, b""
        return out

    def write(self, data: bytes) -> None:
        if len(self.write_entered) == self.frames:
            raise HostGone()
        self.write_entered.append(time.monotonic_ns())
        time.sleep(0.02)

    def wait_gone(self, timeout: float) -> None:
        pass


def test_send_times_are_stamped_before_the_write():
    """Review item 13: the stamp was taken after write() returned, so a writer descheduled in
    between under-reported sent -> decision (and sent -> arrival could go negative)."""
    x = np.zeros((400, 8), np.float32)
    emu = Emulator(x, 200.0, PROTOCOLS.get("edgekd-v2"), speed=0.0, keep_send_times=True)
    link = _SlowLink(frames=5)
    assert emu._serve(link) == "gone"
    assert [k for k, _ in emu.send_times] == [0, 1, 2, 3, 4]
    assert all(t <= entered for (_, t), entered in zip(emu.send_times, link.write_entered))
    assert emu.log.frames_sent == 5
