"""The one error type the CLI turns into a one-line message and exit status 2."""

from __future__ import annotations

import os

__all__ = ["DeriveError", "InputError", "OutputError"]


class DeriveError(Exception):
    """Base of every error derive reports to a user (never shown as a traceback)."""

    exit_code = 2


class InputError(DeriveError):
    """Unusable input: the message names the file, the place and the problem, in one line.

    >>> str(InputError("bad size", file="net.yaml", line=3))
    'net.yaml:3: bad size'
    """

    def __init__(self, problem: str, file: str | None = None, line: int | None = None) -> None:
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(f"{where}{problem}")
        self.problem, self.file, self.line = problem, file, line


class OutputError(DeriveError):
    """A file could not be written (no permission, disk full, name too long), in one line.

    >>> str(OutputError("out/a.html", PermissionError(13, "Permission denied")))
    'out/a.html: cannot write: Permission denied'
    """

    def __init__(self, path: str | os.PathLike[str], err: OSError) -> None:
        reason = err.strerror or str(err) or type(err).__name__
        super().__init__(f"{os.fspath(path)}: cannot write: {reason}")
        self.path, self.reason = os.fspath(path), reason
