"""The derivation as data: an ordered list of verified steps. No printing here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import sympy as sp

if TYPE_CHECKING:
    from ..model.network import Network

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
    # (symbol LaTeX, defining equation LaTeX, words): the model the steps talk about
    definitions: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0

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
        from ..render.report import render_html

        return render_html(self)

    def to_latex(self) -> str:
        from ..render.report import render_latex

        return render_latex(self)

    def _repr_html_(self) -> str:
        from ..render.report import render_html_fragment

        return render_html_fragment(self)

    def _repr_latex_(self) -> str:
        from ..render.report import render_latex_fragment

        return render_latex_fragment(self)


# --------------------------------------------------------------------------------------------
# Building the derivation.
# --------------------------------------------------------------------------------------------

DEFAULT_EXAMPLES = 2  # m in the instance proofs: 2 so that a missing 1/m cannot hide
# Symbolic work grows with the parameters; past this the derivation is refused at once instead of
# running for hours (the engine has no such limit).
MAX_SYMBOLIC_PARAMETERS = 1_000


def derive(
    network: Network,
    m: int = DEFAULT_EXAMPLES,
    timeout: float | None = None,
    points: int | None = None,
    seed: int = 0,
    workers: int | None = None,
    max_parameters: int = MAX_SYMBOLIC_PARAMETERS,
    progress: Callable[[Step], None] | None = None,
) -> Derivation:
    """Build the derivation of ∂J/∂W^(l), ∂J/∂b^(l) for ``network`` and verify every step.

    The generic identities are proved for a free variable (or n units); every layer-level step is
    proved on the instance: the network's own sizes, with symbols for every weight, input and
    target, ``m`` examples. ``timeout`` bounds the exact algebra of each step (seconds), after
    which the step rests on the numeric witness (``points`` random points, 50 digits).
    ``workers`` processes share the instance proofs (default: all cores for networks with more
    than 60 parameters, else 1). ``progress(step)`` is called as each step is verified.
    """
    import os

    from ..model.network import NetworkError

    if network.n_parameters > max_parameters:
        raise NetworkError(
            f"network {network.label} has {network.n_parameters} parameters; the symbolic derivation "
            f"is limited to {max_parameters} (the engine, train and gradcheck --no-symbolic have no such limit)"
        )
    if m < 1:
        raise NetworkError(f"the instance proof needs at least one example, not m={m}")

    from . import prover as _verify
    from .builder import DerivationBuilder

    options = {
        "timeout": _verify.DEFAULT_TIMEOUT if timeout is None else timeout,
        "points": _verify.DEFAULT_POINTS if points is None else points,
        "seed": seed,
        "workers": workers or ((os.cpu_count() or 1) if network.n_parameters > 60 else 1),
        "progress": progress,
    }
    start = time.perf_counter()
    derivation = DerivationBuilder(network, m, options).build()
    derivation.seconds = time.perf_counter() - start
    return derivation
