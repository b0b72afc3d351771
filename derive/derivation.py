"""The derivation as data: an ordered list of verified steps. No printing here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import sympy as sp

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Derivation", "Step", "derive"]

Verdict = Literal["proved", "numeric", "fails"]


@dataclass
class Step:
    """One equation of the derivation with the rule that justifies it and its verdict.

    ``lhs``/``rhs`` are what was checked (SymPy); ``latex`` is the equation as the report
    shows it; ``verdict`` is "proved" (exact computer algebra), "numeric" (the exact proof ran
    out of time or size; agreement at random points in 50-digit arithmetic is the evidence) or
    "fails". ``evidence`` says in words what was done; ``boxed`` marks a closed form.
    """

    title: str
    latex: str
    rule: str
    lhs: sp.Expr
    rhs: sp.Expr
    layer: int | None = None
    kind: Literal["definition", "identity", "chain", "closed-form", "instance"] = "chain"
    boxed: bool = False
    verdict: Verdict = "fails"
    evidence: str = "not verified yet"
    exact_seconds: float = 0.0
    numeric_max_error: float | None = None


@dataclass
class Derivation:
    """The steps deriving ∂J/∂W^(l) and ∂J/∂b^(l) for one network, in order."""

    network: Network
    steps: list[Step] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts = {"steps": len(self.steps), "proved": 0, "numeric": 0, "fails": 0}
        for step in self.steps:
            counts[step.verdict] += 1
        return counts

    @property
    def ok(self) -> bool:
        """True when no step fails (numeric-only steps are allowed, and said so)."""
        return all(step.verdict != "fails" for step in self.steps)

    @property
    def all_proved(self) -> bool:
        return all(step.verdict == "proved" for step in self.steps)

    def to_html(self) -> str:
        from .report import render_html

        return render_html(self)

    def to_latex(self) -> str:
        from .report import render_latex

        return render_latex(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_latex_(self) -> str:
        from .report import render_latex_fragment

        return render_latex_fragment(self)


def derive(network: Network, **options: object) -> Derivation:
    """Build and verify the derivation of ``network`` (see module docs)."""
    raise NotImplementedError("being written")
