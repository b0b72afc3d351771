"""derive: proves backpropagation.

A network is modelled in SymPy, its gradient is derived step by step with every step proved by
computer algebra, and the proved closed forms are compiled into a NumPy backprop engine. Notes'
hand-written formulas are checked with ``derive.check``.
"""

from .engine import compiled as _compiled  # noqa: F401 - registers Network.compile()
from .model.network import Network, NetworkError
from .notes.check import check
from .notes.results import CheckResults, ClaimResult
from .proof import builder as _builder  # noqa: F401 - registers Network.derive()
from .render import check_report as _check_report  # noqa: F401 - registers CheckResults.to_html()
from .render import report as _report  # noqa: F401 - registers Derivation.to_html() and friends
from .version import __version__

__all__ = ["CheckResults", "ClaimResult", "Network", "NetworkError", "__version__", "check"]
