"""What a derivation report shows, as plain data: the templates only lay it out.

``build_report(derivation)`` gathers everything once (so HTML, LaTeX and Markdown of the same
network agree): the network's picture (unit positions for an SVG or a LaTeX ``picture``), its
definitions and notation, the steps with their verdicts, the derivation's numeric witness as a
table (derive.engine.witness: the engine against a high-precision reference and central
differences, at the network's own sizes) and the engine's generated source.

The reference columns are exact integer and mpmath arithmetic, the same bytes on every machine;
relative errors are printed as one significant figure or as the band "< 1e-12" so that BLAS and
libm differences in the engine column never change a committed report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import mpmath

from ..engine.witness import (
    EXAMPLES,
    FD_STEP_BITS,
    REFERENCE_METHOD,
    SEED,
    Entry,
    GradientWitness,
    WitnessRow,
    gradient_witness,
    witness_point,
)
from ..model import rules

if TYPE_CHECKING:
    from ..model.network import Network
    from ..proof.derivation import Derivation

__all__ = [
    "SEED",
    "TABLE_CAP",
    "Diagram",
    "NumericCheck",
    "ReportData",
    "StepView",
    "build_report",
    "format_error",
    "format_value",
]

TABLE_CAP = 40  # gradient entries shown at most; big networks show a few of each layer

VERDICT_BADGES = {
    "proved": "proved exactly",
    "numeric": "numeric witness only",
    "fails": "fails",
}


# ------------------------------------------------------------------------------------------
# Formatting numbers so that golden files do not depend on the machine.
# ------------------------------------------------------------------------------------------


def format_value(value: float | mpmath.mpf | None) -> str:
    """A gradient entry with 9 significant digits (mpmath values rounded to float first)."""
    if value is None:
        return "—"
    return f"{float(value):.9g}"


def format_error(error: float | mpmath.mpf | None) -> str:
    """A relative error as one significant figure, or the band "< 1e-12"."""
    if error is None:
        return "—"
    err = float(error)
    if math.isnan(err):
        return "nan"
    if err < 1e-12:
        return "< 1e-12"
    return f"{err:.0e}"


# ------------------------------------------------------------------------------------------
# The report's data.
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    """One step as the templates show it (tolerant of fields the Step may not have yet)."""

    number: int
    title: str
    latex: str
    rule: str
    layer: int | None
    kind: str
    boxed: bool
    verdict: str
    badge: str
    evidence: str
    numeric_error: str  # banded, "" when the step has none

    @property
    def anchor(self) -> str:
        return f"step-{self.number}"


@dataclass(frozen=True)
class Unit:
    x: float
    y: float
    label: str  # plain text for the SVG: x₁, σ, ReLU
    latex: str  # the same in LaTeX math: x_{1}, \sigma


@dataclass(frozen=True)
class LayerView:
    """One column of the network picture."""

    x: float
    units: tuple[Unit, ...]
    ellipsis_y: float | None  # where "⋮" stands for the units not drawn
    caption: str  # "input", "hidden 1", "output"
    detail: str  # "2 units", "σ, 3 units"
    detail_latex: str


@dataclass(frozen=True)
class Diagram:
    """Unit positions of the network picture, in px (SVG); the LaTeX picture scales them."""

    width: float
    height: float
    radius: float
    layers: tuple[LayerView, ...]
    edges: tuple[tuple[float, float, float, float], ...]

    def flipped_y(self, y: float) -> float:
        """y measured upwards, as LaTeX's picture environment wants it."""
        return self.height - y


@dataclass(frozen=True)
class NumericRow:
    label_latex: str
    label_text: str
    closed: str
    engine: str
    fd: str
    engine_error: str
    fd_error: str
    ok: bool


@dataclass
class NumericCheck:
    """The gradient at a fixed random point, three ways."""

    rows: list[NumericRow]
    total: int  # gradient entries of the network (rows may show fewer)
    examples: int
    seed: int
    engine_available: bool
    engine_note: str  # why the engine column is empty, or ""
    ok: bool  # every shown entry agrees (engine when available, and finite differences)
    max_engine_error: str
    max_fd_error: str
    targets: str  # how the targets at the point were drawn, in words
    compared: int = 0  # entries compared (all, or a sample of a large network)
    fd_entries: int = 0  # entries checked by central differences
    reference: str = REFERENCE_METHOD

    @property
    def description(self) -> str:
        """What the table compares, in words with $…$ maths (every report format shows it)."""
        sample = (
            "every gradient entry" if self.compared == self.total
            else f"{self.compared} of the {self.total} gradient entries, drawn at random (seed {self.seed}) "
            "from every layer's weights and biases"
        )
        differenced = "every entry" if self.fd_entries == self.compared else f"{self.fd_entries} of them"
        return (
            f"The gradient at one random point (seed {self.seed}, $m = {self.examples}$ examples; weights and "
            "inputs drawn from $N(0, 1)$ and rounded to 2 decimals — weights from $N(0, 1/n_{l-1})$ to 4 decimals "
            f"where $n_{{l-1}} > 16$ —, biases from $N(0, 0.25)$; targets {self.targets}) at the network's own "
            f"sizes, for {sample}, three ways: the closed form, the boxed formulas evaluated in {self.reference}; "
            "the engine, the generated NumPy code in float64; finite differences, central differences of $J$ "
            f"itself (step $2^{{-{FD_STEP_BITS}}}$, same precision) for {differenced}. Relative error "
            r"$= |\text{value} - \text{closed form}| / \max(|\text{closed form}|, 10^{-8})$."
        )

    @property
    def capped(self) -> bool:
        return len(self.rows) < self.compared


@dataclass
class ReportData:
    """Everything one report shows."""

    name: str
    label: str
    sizes: tuple[int, ...]
    steps: list[StepView]
    summary: dict[str, int]
    all_proved: bool
    diagram: Diagram
    definitions: list[tuple[str, str]]  # (what, LaTeX)
    rules_used: list[tuple[str, str]]  # (rule name, LaTeX)
    notation: list[tuple[str, str]]  # (LaTeX symbol, meaning in rich text: text with $math$)
    numeric: NumericCheck
    engine_source: str | None
    engine_note: str
    for_all_sizes: bool = False  # every lemma proved with symbolic sizes
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sizes_sentence(self) -> str:
        """Whether the proof holds for every width (text with $…$ maths), or ""."""
        if not self.for_all_sizes:
            return ""
        last = len(self.sizes) - 1
        return (
            rf"Proved for all $n_0, \dots, n_{{{last}}} \ge 1$ and $m \ge 1$: the lemmas hold with the sizes "
            f"left symbolic, and this network ({' → '.join(map(str, self.sizes))}) instantiates them."
        )

    @property
    def status(self) -> str:
        """"proved", "numeric" (nothing fails, some step only numeric) or "fails"."""
        if self.summary["fails"]:
            return "fails"
        if self.summary["numeric"]:
            return "numeric"
        return "proved"

    @property
    def ok(self) -> bool:
        """What ``derive report`` exits 0 on: every step proved and the numbers agree."""
        return self.all_proved and self.numeric.ok


def build_report(derivation: Derivation, *, seed: int = SEED, engine: object | None = None) -> ReportData:
    """Collect what the report of ``derivation`` shows: its witness, or (another ``seed``, or an
    ``engine`` instead of ``net.compile()``) the witness at that point."""
    net = derivation.network
    steps = [_step_view(i, s) for i, s in enumerate(derivation.steps, start=1)]
    summary = {"steps": len(steps), "proved": 0, "numeric": 0, "fails": 0}
    for s in steps:
        summary[s.verdict if s.verdict in summary else "fails"] += 1
    given = engine is not None
    engine, engine_note = (engine, "") if given else _load_engine(net)
    source = getattr(engine, "source", None) if engine is not None else None
    if engine is not None and not isinstance(source, str):
        source, engine_note = None, "the engine does not expose its generated source"
    witness = derivation.witness
    if witness is None or witness.seed != seed or given or witness.engine_note != engine_note:
        params, X, Y = witness_point(net, seed, EXAMPLES)  # another point, engine or verdict: witness again
        witness = gradient_witness(net, params, X, Y, engine, engine_note, seed=seed)
    return ReportData(
        name=report_name(net),
        label=net.label,
        sizes=net.sizes,
        steps=steps,
        summary=summary,
        all_proved=bool(steps) and summary["proved"] == len(steps),
        diagram=diagram(net),
        definitions=definitions(net, getattr(derivation, "definitions", None)),
        rules_used=rules_used(net),
        notation=notation(net),
        numeric=numeric_check(net, witness),
        for_all_sizes=derivation.for_all_sizes,
        engine_source=source,
        engine_note=engine_note,
    )


def report_name(net: Network) -> str:
    """The network's name, or one made from its spec: net-2-3-1-relu-identity-mse."""
    if net.name:
        return net.name
    acts = "-".join(dict.fromkeys(net.activation_names))
    name = f"net-{'-'.join(map(str, net.sizes))}-{acts}-{net.loss}"
    if net.l2:
        name += f"-l2-{net.l2:g}"
    if net.bias == "column":
        name += "-bias-column"
    return name


_TIMING = re.compile(r"\s+in\s+\d+(?:\.\d+)?\s*(?:s|ms|seconds?)\b")
_MATHY = re.compile(r"\\[A-Za-z]+|[_^]\{")
_PIECES = re.compile(r"(: |, |; )")


def _without_timings(text: str) -> str:
    """Evidence without "in 0.26 s": timings belong on the terminal, not in committed reports."""
    return _TIMING.sub("", text)


def _with_math(text: str) -> str:
    """Rule text with LaTeX pieces wrapped in $…$ (pieces split at ": ", ", ", "; ").

    Rules may carry bare LaTeX ("chain rule: \\partial z_j / \\partial W_{jk} = a_k"); text that
    already marks its math with $ is kept as it is.
    """
    if "$" in text or not _MATHY.search(text):
        return text
    parts = _PIECES.split(text)
    return "".join(f"${p}$" if i % 2 == 0 and _MATHY.search(p) else p for i, p in enumerate(parts))


def _step_view(number: int, step: object) -> StepView:
    verdict = str(getattr(step, "verdict", "fails"))
    error = getattr(step, "numeric_max_error", None)
    return StepView(
        number=number,
        title=str(getattr(step, "title", f"Step {number}")),
        latex=str(getattr(step, "latex", "")),
        rule=_with_math(str(getattr(step, "rule", ""))),
        layer=getattr(step, "layer", None),
        kind=str(getattr(step, "kind", "")),
        boxed=bool(getattr(step, "boxed", False)),
        verdict=verdict,
        badge=VERDICT_BADGES.get(verdict, verdict),
        evidence=_without_timings(str(getattr(step, "evidence", ""))),
        numeric_error="" if error is None else _step_error(error),
    )


def _step_error(error: object) -> str:
    """A step's numeric witness error (50-digit mpmath, so the same on every machine), 1 digit."""
    try:
        value = float(error)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(error)
    return "0" if value == 0 else f"{value:.0e}"


def _load_engine(net: Network) -> tuple[object | None, str]:
    """``net.compile()``, or None and the reason the engine is not available."""
    try:
        return net.compile(), ""
    except (ImportError, NotImplementedError) as err:
        return None, f"engine not available ({type(err).__name__}: {err})"
    except Exception as err:  # a broken engine is a finding of the report (exit 1), not a crash
        return None, f"engine failed: {type(err).__name__}: {err}"


# ------------------------------------------------------------------------------------------
# The picture.
# ------------------------------------------------------------------------------------------

MAX_DRAWN = 7  # units drawn per layer; more are shown as the first 5, "⋮" and the last


def diagram(net: Network) -> Diagram:
    """Positions of the units and edges of the network picture (left to right)."""
    longest = max(len(rules.activation(a).diagram) for a in net.activation_names)
    # a unit holds its label: 9.5 px type (about 5.5 px a letter) for labels of more than 2 letters
    radius = max(15.0, 2.9 * longest + 4) if longest > 2 else 15.0
    gap_x, gap_y, margin_top, margin_bottom = 150.0, max(46.0, 2 * radius + 14), 24.0, 56.0
    shown = [min(n, MAX_DRAWN) for n in net.sizes]
    tallest = max(shown)
    height = margin_top + (tallest - 1) * gap_y + 2 * radius + margin_bottom
    width = 2 * 60.0 + gap_x * (len(net.sizes) - 1)
    centre = margin_top + radius + (tallest - 1) * gap_y / 2
    layers: list[LayerView] = []
    symbols = ["x"] + [_unit_symbol(a) for a in net.activation_names]
    symbols_latex = ["x"] + [_unit_symbol_latex(a) for a in net.activation_names]
    for l, n in enumerate(net.sizes):
        x = 60.0 + gap_x * l
        slots = shown[l]
        top = centre - (slots - 1) * gap_y / 2
        if n <= MAX_DRAWN:
            indices: list[int | None] = list(range(1, n + 1))
        else:
            indices = [1, 2, 3, 4, 5, None, n]
        units = []
        ellipsis_y = None
        for slot, index in enumerate(indices):
            y = top + slot * gap_y
            if index is None:
                ellipsis_y = y
                continue
            if l == 0:
                units.append(Unit(x, y, f"x{_subscript(index)}", f"x_{{{index}}}"))
            else:
                units.append(Unit(x, y, symbols[l], symbols_latex[l]))
        if l == 0:
            caption, detail, detail_latex = "input", f"{n} units", f"{n} units"
        else:
            act = net.activation_names[l - 1]
            caption = "output" if l == len(net.sizes) - 1 else f"hidden {l}"
            detail = f"{act}, {n} unit{'s' if n != 1 else ''}"
            detail_latex = f"{act}, {n} unit{'s' if n != 1 else ''}"
        layers.append(LayerView(x, tuple(units), ellipsis_y, caption, detail, detail_latex))
    edges = tuple(
        (u.x + radius, u.y, v.x - radius, v.y)
        for left, right in zip(layers, layers[1:], strict=False)
        for u in left.units
        for v in right.units
    )
    return Diagram(width, height, radius, tuple(layers), edges)


def _unit_symbol(activation: str) -> str:
    return rules.activation(activation).diagram


def _unit_symbol_latex(activation: str) -> str:
    return rules.activation(activation).latex


def _subscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# ------------------------------------------------------------------------------------------
# Definitions, rules and notation (LaTeX written from the registry rows).
# ------------------------------------------------------------------------------------------


def definitions(net: Network, given: Sequence[tuple[str, str, str]] | None = None) -> list[tuple[str, str]]:
    """(what, LaTeX) rows defining the network: z, a, the loss, J and the L2 term.

    ``given`` are the derivation's own definitions (symbol, equation, words) when it has them:
    the report then shows exactly the model the steps talk about, plus the value of λ.
    """
    if given:
        rows = [(str(words), str(equation)) for _, equation, words in given]
        if net.l2:
            rows.append(("L2 strength (biases excluded)", rf"\lambda = {net.l2:g}"))
        else:
            rows.append(("L2", r"\lambda = 0 \text{ (no weight decay)}"))
        return rows
    L = net.depth
    rows = [("input", rf"a^{{(0)}} = x \in \mathbb{{R}}^{{{net.sizes[0]}}}")]
    if net.bias == "column":
        rows.append((
            "pre-activation",
            r"z^{(l)} = \Theta^{(l)} \begin{bmatrix} 1 \\ a^{(l-1)} \end{bmatrix},"
            r"\quad \Theta^{(l)} = \begin{bmatrix} b^{(l)} & W^{(l)} \end{bmatrix},"
            rf"\quad l = 1, \dots, {L}",
        ))
    else:
        rows.append(("pre-activation", r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}," rf"\quad l = 1, \dots, {L}"))
    for l, act in enumerate(net.activations, start=1):
        what = "output" if l == L else f"layer {l}"
        space = rf"\in \mathbb{{R}}^{{{net.sizes[l]}}}"
        rows.append((what, rf"a^{{({l})}} = {act.latex}\left(z^{{({l})}}\right) {space}"))
    loss = net.loss_rule
    rows.append((f"loss ({loss.name})", rf"\ell\left(a^{{(L)}}, y\right) = {loss.latex}"))
    if loss.logits_latex:
        rows.append(("same loss on the logits", rf"\ell = {loss.logits_latex}"))
    cost = r"J = \frac{1}{m} \sum_{i=1}^{m} \ell\left(a^{(L)}(x^{(i)}), y^{(i)}\right)"
    if net.l2:
        cost += r" + \frac{\lambda}{2m} \sum_{l=1}^{L} \lVert W^{(l)} \rVert_F^2"
    rows.append(("cost", cost))
    if net.l2:
        rows.append(("L2 strength (biases excluded)", rf"\lambda = {net.l2:g}"))
    else:
        rows.append(("L2", r"\lambda = 0 \text{ (no weight decay)}"))
    return rows


def rules_used(net: Network) -> list[tuple[str, str]]:
    """The registry identities the steps cite: each activation's derivative and δ^(L)."""
    rows = [(act.rule, act.derivative_latex) for act in dict.fromkeys(net.activations)]
    rows.append((f"output error of {net.loss}", rf"\delta^{{(L)}} = {net.loss_rule.delta_latex}"))
    T = r"^{\mathsf{T}}"
    back = rf"\left({{W^{{(l+1)}}}}{T} \delta^{{(l+1)}}\right)"
    recursion = rf"\delta^{{(l)}} = {back} \odot g_l'\left(z^{{(l)}}\right)"
    mean = r"\frac{1}{m} \sum_{i} \delta^{(l)}"
    weights = rf"\frac{{\partial J}}{{\partial W^{{(l)}}}} = {mean} {{a^{{(l-1)}}}}{T}"
    if net.l2:
        weights += r" + \frac{\lambda}{m} W^{(l)}"
    rows.append(("chain rule (backward recursion)", recursion))
    rows.append(("gradient of the weights", weights))
    rows.append(("gradient of the biases", rf"\frac{{\partial J}}{{\partial b^{{(l)}}}} = {mean}"))
    return rows


def notation(net: Network) -> list[tuple[str, str]]:
    """(LaTeX symbol, meaning) rows; meanings are text with $…$ math."""
    sizes = ", ".join(map(str, net.sizes))
    acts = ", ".join(f"${a.latex}$" for a in net.activations)
    rows = [
        ("L", f"number of weight layers (here ${net.depth}$)"),
        ("n_l", f"units in layer $l$; here $n_0, \\dots, n_L = {sizes}$"),
        ("x,\\ y", "one input ($n_0$ entries) and its target ($n_L$ entries)"),
        ("m", "number of examples the cost averages over"),
        ("W^{(l)}", "weights into layer $l$, an $n_l \\times n_{l-1}$ matrix; "
                    "$W^{(l)}_{jk}$ connects unit $k$ of layer $l-1$ to unit $j$ of layer $l$"),
        ("b^{(l)}", "biases of layer $l$ ($n_l$ entries)"),
    ]
    if net.bias == "column":
        rows.append(("\\Theta^{(l)}", "$[\\,b^{(l)}\\ W^{(l)}\\,]$: the bias as column $0$ of the weights"))
    rows += [
        ("z^{(l)}", "pre-activation of layer $l$"),
        ("a^{(l)}", "activation of layer $l$; $a^{(0)} = x$"),
        ("g_l", f"activation function of layer $l$ (here {acts})"),
        ("\\ell", "loss of one example"),
        ("J", "cost: the loss averaged over the examples" + (", plus the L2 term" if net.l2 else "")),
        ("\\delta^{(l)}", "error of layer $l$: $\\partial \\ell / \\partial z^{(l)}$ for one example"),
        ("\\odot", "entrywise (Hadamard) product"),
        ("{}^{\\mathsf{T}}", "transpose"),
    ]
    if net.l2:
        rows.append(("\\lambda", f"L2 strength (here ${net.l2:g}$); biases are not regularised"))
    return rows


# ------------------------------------------------------------------------------------------
# The numeric table.
# ------------------------------------------------------------------------------------------


def _shown_rows(rows: list[WitnessRow], net: Network, cap: int = TABLE_CAP) -> list[WitnessRow]:
    """Every compared entry of a small network; otherwise a few of each layer's W and b."""
    if len(rows) <= cap:
        return rows
    per_layer = max(4, cap // net.depth)
    shown: list[WitnessRow] = []
    for l in range(1, net.depth + 1):
        weights = [r for r in rows if r.entry.layer == l and not r.entry.is_bias]
        biases = [r for r in rows if r.entry.layer == l and r.entry.is_bias]
        differenced = [r for r in weights if r.finite_difference is not None]
        n_w = max(2, per_layer - 2)
        picked = differenced[:1] + [r for r in weights if r.finite_difference is None][: n_w - 2] + weights[-1:]
        shown += picked + biases[:1] + biases[-1:]
    return list({id(r): r for r in shown}.values())


def _labels(net: Network, e: Entry) -> tuple[str, str]:
    """(LaTeX, plain text) name of one parameter."""
    wide = max(net.sizes) >= 10
    if net.bias == "column":
        j, k = e.j + 1, 0 if e.is_bias else e.k + 1
        sub = f"{j},{k}" if wide else f"{j}{k}"
        return rf"\Theta^{{({e.layer})}}_{{{sub}}}", f"Theta({e.layer})[{j},{k}]"
    if e.is_bias:
        return rf"b^{{({e.layer})}}_{{{e.j + 1}}}", f"b({e.layer})[{e.j + 1}]"
    sub = f"{e.j + 1},{e.k + 1}" if wide else f"{e.j + 1}{e.k + 1}"
    return rf"W^{{({e.layer})}}_{{{sub}}}", f"W({e.layer})[{e.j + 1},{e.k + 1}]"


def numeric_check(net: Network, w: GradientWitness) -> NumericCheck:
    """The witness as the report's table (numbers formatted so committed reports are stable)."""
    rows = []
    for r in _shown_rows(w.rows, net):
        latex, text = _labels(net, r.entry)
        rows.append(NumericRow(
            latex, text, format_value(r.reference), format_value(r.engine), format_value(r.finite_difference),
            format_error(r.engine_error), format_error(r.fd_error), r.ok,
        ))
    return NumericCheck(
        rows=rows, total=w.total, compared=w.compared, examples=w.examples, seed=w.seed,
        engine_available=w.engine_available, engine_note=w.engine_note, ok=w.ok,
        max_engine_error=format_error(w.max_engine_error) if w.engine_available else "—",
        max_fd_error=format_error(w.max_fd_error), targets=w.targets, fd_entries=w.fd_entries,
    )
