"""edgekd: from EMG recordings to a distilled, quantized student running next to the armband.

This module stays import-light on purpose: ``import edgekd.signal`` must work on an edge host
that has numpy/scipy but no torch.
"""

__version__ = "0.1.0"
