"""Signal processing with numpy/scipy only: causal filters, windows, normalisation.

Imported by the torch-free edge path (``firmware_bridge``, ``export.runtime``): never import
torch here.
"""

from edgekd.signal.filters import CausalFilter, FilterSpec, design_sos
from edgekd.signal.normalize import ChannelNormalizer
from edgekd.signal.pipeline import Preprocessor, PreprocessSpec
from edgekd.signal.windows import StreamingWindower, WindowSpec, window_labels

__all__ = ["CausalFilter", "ChannelNormalizer", "FilterSpec", "Preprocessor", "PreprocessSpec",
           "StreamingWindower", "WindowSpec", "design_sos", "window_labels"]
