"""The package's version and distribution name, in a base module that every layer may read.

pyproject.toml reads the version from here. The distribution is published as ``derive-backprop``
(the name ``derive`` belongs to an unrelated project on the package index); the import name and
the command stay ``derive``, so install hints name the distribution.
"""

__version__ = "0.1.0"
DISTRIBUTION = "derive-backprop"  # pip install derive-backprop; tests/test_packaging.py checks pyproject.toml
