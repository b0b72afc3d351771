"""Writing files so that nothing is ever half-written: temp file in the same folder, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["safe_join", "write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically: readers see the old file or the new one, never a part."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode(encoding) if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:  # also on Ctrl-C: the previous file stays as it was
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def safe_join(directory: str | os.PathLike[str], name: str) -> Path:
    """``directory / name``, refusing names that would land outside ``directory``."""
    base = Path(directory).resolve()
    candidate = (base / name).resolve()
    if candidate != base and base not in candidate.parents:
        from .errors import InputError

        raise InputError(f"output name {name!r} would escape the output directory {str(directory)!r}")
    return candidate
