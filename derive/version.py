"""The package version, in a base module so that every layer can read it (pyproject.toml reads it too)."""

__version__ = "0.1.0"
