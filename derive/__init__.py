"""derive: proves backpropagation.

A network is modelled in SymPy, its gradient is derived step by step with every step proved by
computer algebra, and the proved closed forms are compiled into a NumPy backprop engine.
"""

from .model.network import Network, NetworkError
from .version import __version__

__all__ = ["Network", "NetworkError", "__version__"]
