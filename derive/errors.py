"""The one error type the CLI turns into a one-line message and exit status 2."""

from __future__ import annotations

__all__ = ["DeriveError", "InputError"]


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
