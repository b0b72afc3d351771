"""The derivation as data: an ordered list of verified steps. No printing here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..engine.witness import GradientWitness
    from ..model.network import Network

__all__ = ["RENDERERS", "Derivation", "Step"]

Verdict = Literal["proved", "numeric", "fails"]


@dataclass
class Step:
    """One equation of the derivation with the rule that justifies it and its verdict.

    ``latex`` is the equation as the report shows it; ``verdict`` is "proved" (exact computer
    algebra, or an instance of lemmas proved exactly), "numeric" (the exact proof ran out of time
    or size; agreement at random points in 50-digit arithmetic is the evidence) or "fails".
    ``evidence`` says in words what was done; ``boxed`` marks a closed form; ``kind`` is
    "identity" (a rule for a free variable), "lemma" (a step for symbolic sizes), "chain" or
    "instance" (this network's step, citing the lemmas in ``cites``).
    """

    title: str
    latex: str
    rule: str
    layer: int | None = None
    kind: Literal["identity", "lemma", "chain", "instance"] = "chain"
    boxed: bool = False
    verdict: Verdict = "fails"
    evidence: str = "not verified yet"
    exact_seconds: float = 0.0
    numeric_max_error: float | None = None
    cites: tuple[str, ...] = ()


# Renderers of a derivation (HTML, LaTeX, and their notebook fragments), registered by the render
# package when it is imported, so that this module never imports the one above it.
RENDERERS: dict[str, Callable[[Derivation], str]] = {}


def _render(kind: str, derivation: Derivation) -> str:
    try:
        renderer = RENDERERS[kind]
    except KeyError:
        raise RuntimeError("no report renderers are registered (import derive, or derive.render.report)") from None
    return renderer(derivation)


@dataclass
class Derivation:
    """The steps deriving ∂J/∂W^(l) and ∂J/∂b^(l) for one network, in order, and the numeric
    witness at the network's own sizes."""

    network: Network
    steps: list[Step] = field(default_factory=list)
    # (symbol LaTeX, defining equation LaTeX, words with $…$ maths): the model the steps talk about
    definitions: list[tuple[str, str, str]] = field(default_factory=list)
    witness: GradientWitness | None = None
    seconds: float = 0.0
    symbolic_seconds: float = 0.0  # lemmas, identities and the chain
    witness_seconds: float = 0.0

    @property
    def summary(self) -> dict[str, int]:
        counts = {"steps": len(self.steps), "proved": 0, "numeric": 0, "fails": 0}
        for step in self.steps:
            counts[step.verdict] += 1
        return counts

    @property
    def for_all_sizes(self) -> bool:
        """Every lemma proved with the sizes left symbolic: the chain holds for every width and m."""
        lemmas = [s for s in self.steps if s.kind == "lemma"]
        return bool(lemmas) and all(s.verdict == "proved" for s in lemmas)

    @property
    def ok(self) -> bool:
        """True when no step fails and the witness agrees (numeric-only steps are allowed)."""
        witness_ok = self.witness is None or self.witness.ok
        return witness_ok and all(step.verdict != "fails" for step in self.steps)

    @property
    def all_proved(self) -> bool:
        return all(step.verdict == "proved" for step in self.steps)

    def to_html(self) -> str:
        return _render("html", self)

    def to_latex(self) -> str:
        return _render("latex", self)

    def _repr_html_(self) -> str:
        return _render("html_fragment", self)

    def _repr_latex_(self) -> str:
        return _render("latex_fragment", self)
