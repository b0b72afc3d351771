"""derive: proves backpropagation.

A network is modelled in SymPy, its gradient is derived step by step with every step proved by
computer algebra, and the proved closed forms are compiled into a NumPy backprop engine.
"""

from .engine import compiled as _compiled  # noqa: F401 - registers Network.compile()
from .model.network import Network, NetworkError
from .proof import builder as _builder  # noqa: F401 - registers Network.derive()
from .render import report as _report  # noqa: F401 - registers Derivation.to_html() and friends
from .version import __version__

__all__ = ["Network", "NetworkError", "__version__"]
