"""The one way edgekd imports onnxruntime: with its telemetry switched off.

onnxruntime can send usage events (ETW on Windows builds); an edge toolkit that runs next to a
person's armband should not, so every edgekd process that touches onnxruntime turns it off
before the first session is created. Torch-free.
"""

from __future__ import annotations

_telemetry_off = False


def onnxruntime():
    """The ``onnxruntime`` module, telemetry disabled (once per process)."""
    global _telemetry_off
    import onnxruntime as ort
    if not _telemetry_off:
        disable = getattr(ort, "disable_telemetry_events", None)
        if disable is not None:  # present in every release edgekd supports; guard anyway
            disable()
        _telemetry_off = True
    return ort
