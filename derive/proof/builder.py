"""Builds a network's derivation: lemmas proved for every size, then instantiated, layer by layer.

The order is the order of the notes:

1. the generic identities of the rules in use (σ' = σ(1−σ) for a free x, the softmax Jacobian
   and δ^(L) = a − y for n units, the overflow-free forms the engine uses);
2. the lemmas, proved once for symbolic widths and m (derive.proof.lemmas): pre-activation
   derivatives, the loss derivative, the output error, the δ recursion of each hidden
   activation, the gradient of one example and of the cost (mean over m, L2 without the bias);
3. the chain for this network, by induction on l = L, …, 1: δ^(L) by the output lemma, δ^(l) from
   δ^(l+1) by the recursion lemma, ∂J/∂W^(l) and ∂J/∂b^(l) by the gradient lemmas — each step
   the lemma instantiated with the network's sizes. Small networks also get the instance
   cross-check (SymPy's derivative of the written-out J, derive.proof.instance).

Every step is verified as it is made; a lemma is proved once per process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import sympy as sp

from ..engine import witness
from ..engine.compiled import compile_network
from ..model import network as network_module
from ..model import rules
from ..model.network import Network, NetworkError
from . import identities, lemmas, prover
from .derivation import Derivation, Step
from .instance import CROSS_CHECK_PARAMETERS, cross_check_layer
from .prover import Verification, verify

__all__ = ["DEFAULT_EXAMPLES", "DerivationBuilder", "derive"]

Pair = tuple[sp.Expr, sp.Expr]


def _n(l: int | str) -> str:
    return f"n_{{{l}}}"


class DerivationBuilder:
    def __init__(self, net: Network, m: int, options: dict[str, Any]) -> None:
        self.net, self.m, self.options = net, m, options
        self.L = net.depth
        self.loss = net.loss_rule
        self.steps: list[Step] = []
        self.lemma_steps: dict[int, Step] = {}

    def act(self, l: int) -> rules.Activation:
        return self.net.activations[l - 1]

    # ---- recording ---------------------------------------------------------------------------

    def add(self, title: str, latex: str, rule: str, pairs: list[Pair], *, numeric_pairs: list[Pair] | None = None,
            layer: int | None = None, kind: str = "identity", boxed: bool = False) -> Step:
        result = verify(
            pairs, numeric_pairs, timeout=self.options["timeout"], points=self.options["points"],
            seed=self.options["seed"] + len(self.steps),
        )
        return self.record(title, latex, rule, result.verdict, result.evidence, layer=layer, kind=kind, boxed=boxed,
                           seconds=result.seconds, error=result.witness.max_error if result.witness else None)

    def record(self, title: str, latex: str, rule: str, verdict: str, evidence: str, *, layer: int | None = None,
               kind: str, boxed: bool = False, seconds: float = 0.0, error: float | None = None,
               cites: tuple[str, ...] = ()) -> Step:
        step = Step(
            title=title, latex=latex, rule=rule, layer=layer, kind=kind,  # type: ignore[arg-type]
            boxed=boxed, verdict=verdict, evidence=evidence, exact_seconds=seconds,  # type: ignore[arg-type]
            numeric_max_error=error, cites=cites,
        )
        self.steps.append(step)
        if self.options.get("progress") is not None:
            self.options["progress"](step)
        return step

    def lemma(self, lemma: lemmas.Lemma) -> Step:
        """A lemma's step (proved once per process, for every size)."""
        if id(lemma) in self.lemma_steps:
            return self.lemma_steps[id(lemma)]
        check = lemmas.checked(lemma, self.options["timeout"])
        evidence = check.evidence
        if check.verdict == "proved":
            sizes = f"${lemma.sizes_text} \\ge 1$"
            evidence = f"proved for all {sizes} and every index in range (sizes symbolic); {evidence}"
        step = self.record(lemma.title, lemma.latex, lemma.rule, check.verdict, evidence, kind="lemma",
                           seconds=check.verification.seconds)
        self.lemma_steps[id(lemma)] = step
        return step

    def instance(self, title: str, latex: str, cited: list[Step], sizes: list[tuple[str, int]], *, layer: int,
                 boxed: bool = True, cross_check: Verification | None = None, kind: str = "chain") -> Step:
        """A step of this network: the cited lemmas with its sizes substituted."""
        at = ", ".join(f"${name} = {value}$" for name, value in sizes)
        names = "; ".join(f"“{s.title}”" for s in cited)
        evidence = f"instance of {names} with {at}"
        verdicts = [s.verdict for s in cited]
        verdict = "fails" if "fails" in verdicts else "numeric" if "numeric" in verdicts else "proved"
        if cross_check is not None:
            evidence += f"; cross-check on the instance ({cross_check.evidence})"
            if cross_check.verdict == "fails" or cross_check.verdict == "numeric" and verdict == "proved":
                verdict = cross_check.verdict
        sizes_latex = r",\ ".join(f"{name} = {value}" for name, value in sizes)
        latex = rf"{latex}\qquad\left({sizes_latex}\right)"
        return self.record(title, latex, f"lemma{'s' if len(cited) > 1 else ''} instantiated", verdict, evidence,
                           layer=layer, kind=kind, boxed=boxed, cites=tuple(s.title for s in cited))

    # ---- the derivation, in order ------------------------------------------------------------

    def build(self) -> Derivation:
        derivation = Derivation(self.net, definitions=self.definitions())
        self.generic_identities()
        generic = self.generic_lemmas()
        self.induction_note()
        self.chain(generic)
        derivation.steps = self.steps
        return derivation

    def definitions(self) -> list[tuple[str, str, str]]:
        L, net = self.L, self.net
        sizes = ", ".join(f"$n_{{{l}}} = {n}$" for l, n in enumerate(net.sizes))
        defs = [
            ("n_l", rf"n_0, \dots, n_{{{L}}} = {', '.join(map(str, net.sizes))}",
             f"the widths ({sizes}); the lemmas hold for all widths and every $m \\ge 1$"),
            ("a^{(0)}", r"a^{(0)} = x", f"the input, $n_0 = {net.sizes[0]}$ entries"),
            ("z^{(l)}", r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}",
             f"pre-activation of layer $l = 1, \\dots, {L}$; $W^{{(l)}}$ is $n_l \\times n_{{l-1}}$, "
             "row $j$ holds the weights into unit $j$"),
        ]
        for l in range(1, L + 1):
            act = self.act(l)
            if act.elementwise:
                rhs = rf"{act.latex}\left(z^{{({l})}}\right)"
            else:
                rhs = (rf"{act.latex}\left(z^{{({l})}}\right),"
                       r"\ a_i = \frac{e^{z_i}}{\sum_k e^{z_k}}")
            units = "unit" if net.sizes[l] == 1 else "units"
            defs.append((f"a^{{({l})}}", f"a^{{({l})}} = {rhs}",
                         f"layer {l}: $n_{{{l}}} = {net.sizes[l]}$ {units}, {act.name}"))
        defs.append((r"\ell", rf"\ell = {self.loss.latex}", f"the loss of one example ({self.loss.name})"))
        reg = r" + \frac{\lambda}{2m} \sum_{l} \lVert W^{(l)} \rVert_F^2" if net.l2 else ""
        defs.append(("J", rf"J = \frac{{1}}{{m}} \sum_{{e=1}}^{{m}} \ell^{{(e)}}{reg}",
                     "the cost: mean loss over $m$ examples"
                     + (", plus L2 on the weights (biases excluded)" if net.l2 else "")))
        defs.append((r"\delta^{(l)}", r"\delta^{(l)} = \frac{\partial \ell}{\partial z^{(l)}}",
                     "the error of layer $l$, for one example"))
        if net.bias == "column":
            defs.append((r"\Theta^{(l)}", r"\Theta^{(l)} = \left[\, b^{(l)} \;\; W^{(l)} \,\right]",
                         r"bias column convention: column $0$ holds the bias, $z = \Theta\,[1;\ a]$"))
        return defs

    def generic_identities(self) -> None:
        for act in dict.fromkeys(self.net.activations):
            for idn in identities.activation_identities(act):
                self.add(idn.title, idn.latex, idn.rule, idn.pairs, numeric_pairs=idn.numeric_pairs)
        for idn in identities.loss_identities(self.loss):
            self.add(idn.title, idn.latex, idn.rule, idn.pairs, numeric_pairs=idn.numeric_pairs)

    def generic_lemmas(self) -> dict[str, Step]:
        """The lemmas this network's chain cites, each proved for every size."""
        out: dict[str, Step] = {"pre": self.lemma(lemmas.preactivation())}
        output = self.act(self.L)
        out["loss"] = self.lemma(lemmas.loss_derivative(self.loss))
        if output.elementwise:
            out["output"] = self.lemma(lemmas.output_error(output, self.loss))
        else:  # softmax + CCE: δ = a − y for n units is the identity proved above
            out["output"] = next(s for s in self.steps if s.kind == "identity" and "δ = a − y" in s.title)
        for act in dict.fromkeys(self.act(l) for l in range(1, self.L)):
            out[f"recursion-{act.name}"] = self.lemma(lemmas.delta_recursion(act))
        out["example"] = self.lemma(lemmas.example_gradient())
        out["cost"] = self.lemma(lemmas.cost_gradient(bool(self.net.l2), self.net.bias))
        return out

    def induction_note(self) -> None:
        """Depth: the lemma for layer l uses only layer l + 1's error, so any depth is the lemmas chained."""
        lemma_steps = list(self.lemma_steps.values())
        verdicts = {s.verdict for s in lemma_steps}
        verdict = "fails" if "fails" in verdicts else "numeric" if "numeric" in verdicts else "proved"
        self.record(
            "every depth: induction on l",
            r"\delta^{(L)} \text{ by the output lemma};\quad \delta^{(l+1)} \Rightarrow \delta^{(l)}"
            r" \text{ by the recursion lemma},\ l = L-1, \dots, 1;\quad"
            r" \delta^{(l)} \Rightarrow \frac{\partial J}{\partial W^{(l)}}, \frac{\partial J}{\partial b^{(l)}}"
            r" \text{ by the gradient lemmas}",
            "induction on the layer index (the step for layer l uses only layer l + 1's δ)",
            verdict,
            "the chain below cites only lemmas proved for all sizes; each layer's step uses the layer above it",
            kind="lemma",
        )

    def chain(self, generic: dict[str, Step]) -> None:
        net, L, sizes = self.net, self.L, self.net.sizes
        cross = self.options.get("cross_check", False)
        self.instance(
            f"output error, layer {L}",
            rf"\delta^{{({L})}} = {self.loss.delta_latex.replace('(L)', f'({L})')}",
            [generic["loss"], generic["output"]], [(_n(L), sizes[L])], layer=L,
        )
        for l in range(L, 0, -1):
            if l < L:
                act = self.act(l)
                self.instance(
                    f"error of layer {l} (δ recursion)",
                    rf"\delta^{{({l})}} = \left(W^{{({l + 1})}}\right)^{{\top}} \delta^{{({l + 1})}} "
                    rf"\odot {act.latex}'\!\left(z^{{({l})}}\right)",
                    [generic[f"recursion-{act.name}"]], [(_n(l), sizes[l]), (_n(l + 1), sizes[l + 1])], layer=l,
                )
            check = cross_check_layer(net, l, self.m, self.options) if cross else None
            a_prev = "x" if l == 1 else f"a^{{({l - 1})}}"
            if net.bias == "column":
                latex = (
                    rf"\frac{{\partial J}}{{\partial \Theta^{{({l})}}}} = \frac{{1}}{{m}} \sum_{{e=1}}^{{m}} "
                    rf"\delta^{{({l})(e)}} \begin{{bmatrix}} 1 \\ {{{a_prev}}}^{{(e)}} \end{{bmatrix}}^{{\top}}"
                    + (rf" + \frac{{\lambda}}{{m}}\left[\,0 \;\; W^{{({l})}}\,\right]" if net.l2 else "")
                )
                title = f"gradient of J, layer {l} (Θ)"
            else:
                latex = (
                    rf"\frac{{\partial J}}{{\partial W^{{({l})}}}} = \frac{{1}}{{m}} \sum_{{e=1}}^{{m}} "
                    rf"\delta^{{({l})(e)}} \left({{{a_prev}}}^{{(e)}}\right)^{{\top}}"
                    + (rf" + \frac{{\lambda}}{{m}} W^{{({l})}}" if net.l2 else "")
                    + rf",\qquad \frac{{\partial J}}{{\partial b^{{({l})}}}} = \frac{{1}}{{m}} "
                    rf"\sum_{{e=1}}^{{m}} \delta^{{({l})(e)}}"
                )
                title = f"gradient of J, layer {l}"
            self.instance(
                title, latex, [generic["pre"], generic["example"], generic["cost"]],
                [(_n(l - 1), sizes[l - 1]), (_n(l), sizes[l])], layer=l, cross_check=check, kind="instance",
            )


# --------------------------------------------------------------------------------------------
# derive(): the derivation and the witness of one network.
# --------------------------------------------------------------------------------------------

DEFAULT_EXAMPLES = 2  # m of the instance cross-check: 2 so that a missing 1/m cannot hide


def derive(
    network: Network,
    m: int = DEFAULT_EXAMPLES,
    timeout: float | None = None,
    points: int | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[Step], None] | None = None,
    cross_check: bool | None = None,
    witness_seed: int = witness.SEED,
    engine: Any = None,
) -> Derivation:
    """The derivation of ∂J/∂W^(l), ∂J/∂b^(l) for ``network``, every step verified, and the
    numeric witness at its own sizes.

    The lemmas are proved for symbolic sizes (once per process) and instantiated with the
    network's; ``timeout`` bounds the exact algebra of each step (seconds), after which the step
    rests on the numeric witness (``points`` random points, 50 digits). ``cross_check`` adds,
    for every layer, the instance proof against SymPy's derivative of the written-out cost with
    ``m`` examples (default: for networks of at most CROSS_CHECK_PARAMETERS parameters; its
    ``workers`` processes default to all cores above 60 parameters). The witness compares the
    engine's gradient (``engine``, default ``network.compile()``) with a high-precision reference
    and central differences at a point drawn from ``witness_seed``. ``progress(step)`` is called
    as each step is verified.
    """
    if m < 1:
        raise NetworkError(f"the instance cross-check needs at least one example, not m={m}")
    if cross_check is None:
        cross_check = network.n_parameters <= CROSS_CHECK_PARAMETERS
    options = {
        "timeout": prover.DEFAULT_TIMEOUT if timeout is None else timeout,
        "points": prover.DEFAULT_POINTS if points is None else points,
        "seed": seed,
        "workers": workers or ((os.cpu_count() or 1) if network.n_parameters > 60 else 1),
        "progress": progress,
        "cross_check": cross_check,
    }
    start = time.perf_counter()
    derivation = DerivationBuilder(network, m, options).build()
    derivation.symbolic_seconds = time.perf_counter() - start
    note = ""
    if engine is None:
        try:
            engine = compile_network(network)
        except Exception as err:  # a broken engine is a finding of the witness, not a crash of derive()
            engine, note = None, f"engine failed: {type(err).__name__}: {err}"
    params, X, Y = witness.witness_point(network, witness_seed, witness.EXAMPLES)
    derivation.witness = witness.gradient_witness(network, params, X, Y, engine, note, seed=witness_seed)
    derivation.seconds = time.perf_counter() - start
    derivation.witness_seconds = derivation.seconds - derivation.symbolic_seconds
    return derivation


network_module.OPERATIONS["derive"] = derive
