"""``python -m derive.cli`` is the ``derive`` command."""

import sys

from . import main

sys.exit(main())
