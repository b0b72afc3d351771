"""The verdict of one claim and how it is told: ``ClaimResult``, the summary, JSON, terminal lines.

Text meant for a reader (a diagnosis, a reason, a reading) may carry maths between ``$…$``: the
reports typeset it, the terminal prints it plainly (``plain``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .claims import ClaimsFile, ClaimSpec

__all__ = [
    "RENDERERS",
    "CheckResults",
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
    # for reports: the sides of the claim and of each step printed from the parse tree (never the
    # notes' own text); empty when the claim does not parse
    sides_latex: list[str] = field(default_factory=list)
    relations: list[str] = field(default_factory=list)  # of each link: "=" or ":="
    steps_latex: list[tuple[str, str]] = field(default_factory=list)
    point_latex: dict[str, str] = field(default_factory=dict)  # LaTeX of the counterexample's non-numbers
    for_all_sizes: bool = False  # held with the file's sizes symbolic (sizes: {n: any}), not on an instance

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
        if self.for_all_sizes:
            out["for_all_sizes"] = True
        return out


# Renderers of a file's results (HTML page, notebook fragment), registered by derive.render.check_report
# when it is imported, so that this module never imports the one above it.
RENDERERS: dict[str, Callable[[CheckResults], str]] = {}


@dataclass
class CheckResults:
    """The results of checking a claims file: ``claims`` holds one ``ClaimResult`` per claim, in
    the file's order (index it by position or by claim id); ``summary`` counts the verdicts;
    ``to_json()`` is the ``derive check --json`` document. In a notebook it shows itself as the
    HTML report."""

    file: str
    claims: list[ClaimResult]
    source: ClaimsFile = field(repr=False)
    interrupted: bool = False  # stopped by Ctrl-C: ``claims`` holds those decided before

    @property
    def summary(self) -> dict[str, int]:
        return summarize(self.claims)

    @property
    def ok(self) -> bool:
        """True when every claim holds (and the check was not interrupted)."""
        return all(r.verdict == "holds" for r in self.claims) and not self.interrupted

    def __len__(self) -> int:
        return len(self.claims)

    def __iter__(self) -> Iterator[ClaimResult]:
        return iter(self.claims)

    def __getitem__(self, key: int | str) -> ClaimResult:
        if isinstance(key, str):
            for r in self.claims:
                if r.id == key:
                    return r
            raise KeyError(key)
        return self.claims[key]

    def to_json(self) -> dict[str, Any]:
        return to_json(self.file, self.claims, self.interrupted)

    def __str__(self) -> str:
        return format_terminal(self.file, self.claims, colour=False)

    def __repr__(self) -> str:
        counts = self.summary
        return (
            f"<CheckResults {self.file}: {counts['holds']} hold, {counts['fails']} fail, "
            f"{counts['undecided']} undecided>"
        )

    def to_html(self) -> str:
        """The HTML report (the page ``derive check --report OUT.html`` writes)."""
        return _render("html", self)

    def _repr_html_(self) -> str:
        return _render("html_fragment", self)


def _render(kind: str, results: CheckResults) -> str:
    try:
        renderer = RENDERERS[kind]
    except KeyError:
        raise RuntimeError("no check report renderers are registered (import derive)") from None
    return renderer(results)


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
        parts = [f"({r.evidence}, for every size)" if r.for_all_sizes else f"({r.evidence})"]
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
