"""Writing files so that nothing is ever half-written: temp file in the same folder, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError, OutputError

__all__ = ["TEMP_SUFFIX", "safe_join", "write_atomic"]

TEMP_SUFFIX = ".tmp"
_TEMP_STEM = 60  # characters of the target's name kept in the temp file's name (255-byte limit)


def write_atomic(path: str | os.PathLike[str], data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically: readers see the old file or the new one, never a part.

    The data goes to a hidden temp file beside ``path`` (``.NAME.XXXXXXXX.tmp``), is flushed to
    disk, then renamed over ``path``. On any failure, Ctrl-C included, the temp file is removed and
    the previous file is left as it was. An operating-system failure (no permission, disk full, a
    name too long) is an :class:`OutputError` naming the file, in one line.
    """
    target = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:_TEMP_STEM]}.", suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as err:
        raise OutputError(target, err) from None
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would have: the
        # previous file's mode when there is one, else 0666 less the umask.
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as err:  # also on Ctrl-C: the previous file stays as it was
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OutputError(target, err) from None
        raise
    return target


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def safe_join(directory: str | os.PathLike[str], name: str) -> Path:
    """``directory / name``, refusing names that would land outside ``directory``."""
    base = Path(directory).resolve()
    candidate = (base / name).resolve()
    if candidate != base and base not in candidate.parents:
        raise InputError(f"output name {name!r} would escape the output directory {str(directory)!r}")
    return candidate
