"""The verdict of one claim and how it is told: ``ClaimResult``, the summary, JSON, terminal lines.

Text meant for a reader (a diagnosis, a reason, a reading) may carry maths between ``$…$``: the
reports typeset it, the terminal prints it plainly (``plain``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .claims import ClaimSpec

__all__ = [
    "ClaimResult",
    "format_line",
    "format_section",
    "format_summary",
    "format_terminal",
    "plain",
    "summarize",
    "to_json",
    "undecided",
]

VERDICTS = ("holds", "fails", "undecided")


@dataclass
class ClaimResult:
    """What the checker decided about one claim (the JSON contract's fields, and what reports show)."""

    id: str
    verdict: str
    evidence: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    expected: str | None = None
    counterexample: dict[str, Any] | None = None
    diagnosis: str | None = None
    reason: str | None = None
    latex: str = ""
    note: str | None = None
    expect: str | None = None
    seconds: float = 0.0
    section: str | None = None  # the title of its part, in a file of several YAML documents
    # how undeclared names applied to parentheses were read ("$f(x)$ read as the product $f \cdot x$")
    readings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The contract's fields, in the contract's order; then ``section`` in a file of several
        parts and ``readings`` when a name was read one way of several (only when there are any)."""
        out = {
            "id": self.id,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "steps": self.steps,
            "expected": self.expected,
            "counterexample": self.counterexample,
            "diagnosis": self.diagnosis,
            "reason": self.reason,
        }
        if self.section is not None:
            out["section"] = self.section
        if self.readings:
            out["readings"] = list(self.readings)
        return out


def undecided(spec: ClaimSpec, reason: str, steps: list | None = None) -> ClaimResult:
    """An ``undecided`` result for ``spec`` with ``reason``."""
    return ClaimResult(
        spec.id, "undecided", None, steps or [], reason=reason, latex=spec.latex, note=spec.note, expect=spec.expect
    )


def summarize(results: list[ClaimResult]) -> dict[str, int]:
    """How many claims hold, fail, are undecided."""
    counts = dict.fromkeys(VERDICTS, 0)
    for r in results:
        counts[r.verdict] += 1
    return counts


def to_json(path: str, results: list[ClaimResult], interrupted: bool = False) -> dict[str, Any]:
    """The ``--json`` document; ``interrupted`` (only when true) marks a check stopped by Ctrl-C."""
    out: dict[str, Any] = {"file": path, "claims": [r.as_json() for r in results], "summary": summarize(results)}
    if interrupted:
        out["interrupted"] = True
    return out


# ----------------------------------------------------------------------------------------------
# Terminal
# ----------------------------------------------------------------------------------------------

_COLOURS = {"holds": "\033[32m", "fails": "\033[31m", "undecided": "\033[33m"}
_MARKS = {"holds": "✓", "fails": "✗", "undecided": "?"}
_MATH = re.compile(r"\$([^$]*)\$")


def plain(text: str | None) -> str:
    """``text`` for the terminal: maths between ``$…$`` printed as its LaTeX, without the dollars."""
    return _MATH.sub(r"\1", text or "")


def format_section(title: str) -> str:
    return f"— {plain(title)}"


def format_line(r: ClaimResult, width: int = 4, colour: bool = False) -> str:
    """The one line of a claim: mark, verdict, id, then the evidence, diagnosis or reason."""
    verdict = f"{r.verdict:<9}"
    if colour:
        verdict = f"{_COLOURS[r.verdict]}{verdict}\033[0m"
    if r.verdict == "holds":
        parts = [f"({r.evidence})"]
    elif r.verdict == "fails":
        parts = []
        failing = [k for k, s in enumerate(r.steps) if s["verdict"] == "fails"]
        if len(r.steps) > 1 and failing:
            which = ", ".join(str(k + 1) for k in failing)
            parts.append(f"step{'s' if len(failing) > 1 else ''} {which} of {len(r.steps)}")
        if r.diagnosis:
            parts.append(plain(r.diagnosis))
        if r.expected:
            parts.append(f"expected {r.expected}")
    else:
        parts = [plain(r.reason)]
    parts += [f"reading: {plain(text)}" for text in r.readings]
    detail = "; ".join(p for p in parts if p)
    return f"{_MARKS[r.verdict]} {verdict} {r.id:<{width}}  {detail}".rstrip()


def format_summary(path: str, results: list[ClaimResult], total: int | None = None) -> str:
    """The last line; ``total`` (when some claims were not reached) says how far the check got."""
    counts = summarize(results)
    line = f"{path}: {counts['holds']} hold, {counts['fails']} fail, {counts['undecided']} undecided"
    if total is not None and total != len(results):
        line += f" (interrupted after {len(results)} of {total} claims)"
    return line


def format_terminal(path: str, results: list[ClaimResult], colour: bool) -> str:
    """One line per claim (a heading before each part), then the summary line."""
    lines = []
    width = max([len(r.id) for r in results] + [4])
    section = None
    for r in results:
        if r.section is not None and r.section != section:
            section = r.section
            lines.append(format_section(section))
        lines.append(format_line(r, width, colour))
    lines.append(format_summary(path, results))
    return "\n".join(lines)
