"""firmware_bridge: wire protocols, framing, transports and the live loop that run next to the
armband without torch (DESIGN §2-3). Imports ``edgekd.signal``, ``edgekd.errors``/``registry``,
numpy and pyserial only; the model is handed in by the caller (never loaded here).

Modules: ``protocols/`` (pure framers and codecs, one per wire protocol, with their
capabilities), ``decoder`` (frames → sample blocks, sequence rules), ``consumer`` (the pure
live session: bytes in, decisions out), ``transport`` (ports and the one reader thread),
``runner`` (``edgekd stream`` as library code), ``emulator`` (a device on a pty or TCP),
``sinks``/``view`` (where decisions go), ``lsl`` (LSL inlet ``lsl://`` and outlets, pylsl) and
``brainflow_source`` (``brainflow://`` boards): sources that deliver decoded samples and import
their package only when used. The framers' fault injection (test and benchmark tooling) lives in
``benchmarks/framing_faults.py``, not in this edge package.
"""
