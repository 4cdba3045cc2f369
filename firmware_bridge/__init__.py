"""firmware_bridge: wire protocols, framing, transports and the live loop that run next to the
armband without torch (DESIGN §2-3). Imports ``edgekd.signal``, numpy and pyserial only.

The protocol and streaming code land with issue 7; this package exists now so the torch-free
import contract is tested from the start.
"""
