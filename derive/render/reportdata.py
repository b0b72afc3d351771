"""What a derivation report shows, as plain data: the templates only lay it out.

``build_report(derivation)`` gathers everything once (so HTML, LaTeX and Markdown of the same
network agree and the numeric work runs once): the network's picture (unit positions for an SVG
or a LaTeX ``picture``), its definitions and notation, the steps with their verdicts, a numeric
table at a fixed random point and the engine's generated source.

The numeric table compares three independent numbers for each gradient entry:

* **closed form** — the proved closed forms (δ^(L) from the loss row, δ^(l) = (W^(l+1)ᵀ δ^(l+1)) ⊙
  g_l'(z^(l)), ∂J/∂W^(l) = (1/m) Σ δ^(l) a^(l−1)ᵀ + (λ/m) W^(l)) evaluated in 40-digit mpmath;
* **engine** — ``net.compile().loss_and_grad`` in float64, when the engine is importable;
* **finite differences** — central differences of the cost J itself (forward pass only) in
  40-digit mpmath.

Both mpmath columns are pure Python, so they are the same bytes on every machine; relative
errors are printed as one significant figure or as the band "< 1e-12" so that BLAS and libm
differences in the engine column never change a committed report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import mpmath
import numpy as np
import sympy as sp

from ..exprs import as_expr
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

SEED = 20240601  # the numeric point of every report; fixed so committed reports are stable
N_EXAMPLES = 3  # m at the numeric point: enough to exercise the (1/m) Σ over examples
TABLE_CAP = 40  # gradient entries shown at most; big networks show the first/last of each layer
DIGITS = 40  # mpmath working precision of the two reference columns
FD_STEP = "1e-12"  # central-difference step; truncation error ~h² ≈ 1e-24, far below what we print
AGREE = 1e-7  # relative error under which the engine (float64) and the references agree

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

    @property
    def capped(self) -> bool:
        return len(self.rows) < self.total


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
    extra: dict[str, Any] = field(default_factory=dict)

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
    """Collect what the report of ``derivation`` shows. ``engine`` overrides ``net.compile()``."""
    net = derivation.network
    steps = [_step_view(i, s) for i, s in enumerate(derivation.steps, start=1)]
    summary = {"steps": len(steps), "proved": 0, "numeric": 0, "fails": 0}
    for s in steps:
        summary[s.verdict if s.verdict in summary else "fails"] += 1
    engine, engine_note = _load_engine(net) if engine is None else (engine, "")
    source = getattr(engine, "source", None) if engine is not None else None
    if engine is not None and not isinstance(source, str):
        source, engine_note = None, "the engine does not expose its generated source"
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
        numeric=numeric_check(net, engine, engine_note, seed=seed),
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
    gap_x, gap_y, radius, margin_top, margin_bottom = 150.0, 46.0, 15.0, 24.0, 56.0
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


def random_point(net: Network, seed: int = SEED, m: int = N_EXAMPLES
                 ) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Parameters, inputs and targets at the report's point (2 decimals, so easy to retype)."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(net.sizes, net.sizes[1:], strict=False):
        W = np.round(rng.normal(0.0, 1.0, (n_out, n_in)), 2)
        b = np.round(rng.normal(0.0, 0.5, n_out), 2)
        params.append((W, b))
    X = np.round(rng.normal(0.0, 1.0, (m, net.sizes[0])), 2)
    Y = net.loss_rule.targets(rng, m, net.sizes[-1], True)
    return params, X, Y


@dataclass(frozen=True)
class _Entry:
    layer: int  # 1-based
    is_bias: bool
    j: int  # 0-based row
    k: int  # 0-based column (0 for biases)


def _entries(net: Network) -> list[_Entry]:
    """Every gradient entry in parameter order: per layer W row-major, then b."""
    out = []
    for l, (n_in, n_out) in enumerate(zip(net.sizes, net.sizes[1:], strict=False), start=1):
        out += [_Entry(l, False, j, k) for j in range(n_out) for k in range(n_in)]
        out += [_Entry(l, True, j, 0) for j in range(n_out)]
    return out


def _shown_entries(net: Network, cap: int = TABLE_CAP) -> list[_Entry]:
    """All entries of a small network; otherwise a few of each layer's W and b, first and last."""
    entries = _entries(net)
    if len(entries) <= cap:
        return entries
    per_layer = max(4, cap // net.depth)
    shown: list[_Entry] = []
    for l in range(1, net.depth + 1):
        weights = [e for e in entries if e.layer == l and not e.is_bias]
        biases = [e for e in entries if e.layer == l and e.is_bias]
        n_w = max(2, per_layer - 2)
        shown += weights[: n_w - 1] + weights[-1:] + biases[:1] + biases[-1:]
    return list(dict.fromkeys(shown))


def _labels(net: Network, e: _Entry) -> tuple[str, str]:
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


Params = list[tuple[list[list[Any]], list[Any]]]  # per layer (W rows, b), mpmath numbers
Forward = tuple[list[list[Any]], list[list[Any]]]  # z and a of every layer, for one example


class _Reference:
    """The network evaluated in mpmath from the registry rows: cost and closed-form gradient."""

    def __init__(self, net: Network) -> None:
        self.net = net
        x = sp.Symbol("x", real=True)
        self.g: list[Callable[[Any], Any] | None] = []
        self.gprime: list[Callable[[Any], Any]] = []
        for act in net.activations:
            self.g.append(sp.lambdify(x, act.textbook(x), "mpmath") if act.elementwise else None)
            closed = rules.textbook_form(as_expr(act.derivative(x, act.apply(x))))
            self.gprime.append(sp.lambdify(x, closed, "mpmath"))
        loss = net.loss_rule
        n = net.sizes[-1]
        A = sp.symbols(f"a0:{n}", real=True)
        Y = sp.symbols(f"y0:{n}", real=True)
        self.loss = sp.lambdify([A, Y], loss.per_example(list(A), list(Y)), "mpmath")
        a, y, gp = sp.symbols("a y gp", real=True)
        self.delta = sp.lambdify([a, y, gp], loss.delta(a, y, gp), "mpmath")

    def activate(self, l: int, z: list[Any]) -> list[Any]:
        """a^(l) = g_l(z^(l)) for 1-based layer ``l``."""
        g = self.g[l - 1]
        if g is not None:
            return [g(zi) for zi in z]
        top = max(z)  # softmax, shifted by the max so that exp never overflows
        e = [mpmath.exp(zi - top) for zi in z]
        total = mpmath.fsum(e)
        return [ei / total for ei in e]

    def forward(self, params: Params, x: Sequence[Any], start: int = 1, z_start: list[Any] | None = None
                ) -> tuple[list[list[Any]], list[list[Any]]]:
        """z and a of every layer; from layer ``start`` with its z given, when ``z_start`` is."""
        zs: list[list[Any]] = [[]]
        acts: list[list[Any]] = [list(x)]
        for l, (W, b) in enumerate(params, start=1):
            if l == start and z_start is not None:
                z = z_start
            elif l < start:
                z, acts[-1] = [], []  # not needed: the caller starts above
            else:
                prev = acts[-1]
                z = [mpmath.fsum(w * ai for w, ai in zip(row, prev, strict=True)) + bj
                     for row, bj in zip(W, b, strict=True)]
            zs.append(z)
            acts.append(self.activate(l, z) if z else [])
        return zs, acts

    def cost(self, params: Params, X: Sequence[Sequence[Any]], Y: Sequence[Sequence[Any]]) -> Any:
        """J at the point, from scratch."""
        outputs = [self.forward(params, x)[1][-1] for x in X]
        return self._cost(outputs, Y, self.squared_weights(params))

    @staticmethod
    def squared_weights(params: Params) -> Any:
        """Σ‖W^(l)‖², the L2 term without λ/(2m) (biases excluded)."""
        return mpmath.fsum(w**2 for W, _ in params for row in W for w in row)

    def _cost(self, outputs: Sequence[Sequence[Any]], Y: Sequence[Sequence[Any]], squares: Any) -> Any:
        m = len(outputs)
        total = mpmath.fsum(self.loss(a, y) for a, y in zip(outputs, Y, strict=True)) / m
        if self.net.l2:
            total += mpmath.mpf(self.net.l2) / (2 * m) * squares
        return total

    def perturbed_cost(self, params: Params, X: Sequence[Sequence[Any]], Y: Sequence[Sequence[Any]],
                       cache: list[Forward], squares: Any, e: _Entry, h: Any) -> Any:
        """J with one parameter moved by ``h``; only the layers it feeds are recomputed.

        ``cache`` holds the unperturbed forward pass of each example and ``squares`` Σ‖W‖².
        """
        W, b = params[e.layer - 1]
        holder, index = (b, e.j) if e.is_bias else (W[e.j], e.k)
        saved = holder[index]
        holder[index] = saved + h
        try:
            outputs = []
            for (zs, acts), x in zip(cache, X, strict=True):
                z = list(zs[e.layer])
                z[e.j] += h if e.is_bias else h * acts[e.layer - 1][e.k]
                outputs.append(self.forward(params, x, e.layer, z)[1][-1])
            if not e.is_bias:
                squares = squares + (saved + h) ** 2 - saved**2
            return self._cost(outputs, Y, squares)
        finally:
            holder[index] = saved

    def deltas(self, params: Params, cache: Sequence[tuple[list[list[Any]], list[list[Any]]]],
               Y: Sequence[Sequence[Any]]) -> list[list[list[Any]]]:
        """δ^(l) of each example: δ^(L) from the loss row, then δ^(l) = (Wᵀδ) ⊙ g'(z) downwards."""
        L = len(params)
        out = []
        for (zs, acts), y in zip(cache, Y, strict=True):
            g_out = self.gprime[L - 1]
            delta = [self.delta(a, yy, g_out(z)) for a, yy, z in zip(acts[L], y, zs[L], strict=True)]
            per_layer = [delta]
            for l in range(L, 1, -1):
                W = params[l - 1][0]
                g, z = self.gprime[l - 2], zs[l - 1]
                back = [mpmath.fsum(W[j][k] * dj for j, dj in enumerate(delta)) for k in range(len(z))]
                delta = [bk * g(zk) for bk, zk in zip(back, z, strict=True)]
                per_layer.append(delta)
            out.append([[], *reversed(per_layer)])  # index by layer, 1..L
        return out

    def gradient_entry(self, params: Params, cache: Sequence[tuple[list[list[Any]], list[list[Any]]]],
                       deltas: list[list[list[Any]]], e: _Entry) -> Any:
        """∂J/∂W^(l)_jk = (1/m) Σ δ_j a_k + (λ/m) W_jk, or ∂J/∂b^(l)_j = (1/m) Σ δ_j."""
        m = len(deltas)
        if e.is_bias:
            return mpmath.fsum(d[e.layer][e.j] for d in deltas) / m
        total = mpmath.fsum(
            d[e.layer][e.j] * acts[e.layer - 1][e.k] for d, (_, acts) in zip(deltas, cache, strict=True)
        )
        return total / m + mpmath.mpf(self.net.l2) / m * params[e.layer - 1][0][e.j][e.k]


def _relative(value: Any, reference: Any) -> Any:
    """|value − reference| / max(|reference|, 1e-8): the floor keeps zero gradients meaningful."""
    return abs(mpmath.mpf(value) - reference) / max(abs(reference), mpmath.mpf("1e-8"))


def numeric_check(net: Network, engine: object | None, engine_note: str = "", *,
                  seed: int = SEED) -> NumericCheck:
    """The gradient table at the report's fixed random point."""
    params, X, Y = random_point(net, seed)
    shown = _shown_entries(net)
    with mpmath.workdps(DIGITS):
        ref = _Reference(net)
        mp_params = [([[mpmath.mpf(float(w)) for w in row] for row in W], [mpmath.mpf(float(v)) for v in b])
                     for W, b in params]
        mp_X = [[mpmath.mpf(float(v)) for v in row] for row in X]
        mp_Y = [[mpmath.mpf(float(v)) for v in row] for row in Y]
        cache = [ref.forward(mp_params, x) for x in mp_X]
        deltas = ref.deltas(mp_params, cache, mp_Y)
        squares = ref.squared_weights(mp_params)
        fd = [_central_difference(ref, mp_params, mp_X, mp_Y, cache, squares, e) for e in shown]
        engine_grads, engine_note = _engine_gradient(engine, params, X, Y, engine_note)
        rows, max_e, max_f, ok = [], mpmath.mpf(0), mpmath.mpf(0), True
        for e, fd_value in zip(shown, fd, strict=True):
            c = ref.gradient_entry(mp_params, cache, deltas, e)
            err_f = _relative(fd_value, c)
            max_f = max(max_f, err_f)
            eng = err_e = None
            if engine_grads is not None:
                gW, gb = engine_grads[e.layer - 1]
                eng = float(gb[e.j] if e.is_bias else gW[e.j, e.k])
                err_e = _relative(eng, c) if math.isfinite(eng) else mpmath.inf
                max_e = max(max_e, err_e)
            row_ok = err_f < AGREE and (err_e is None or err_e < AGREE)
            ok &= row_ok
            latex, text = _labels(net, e)
            rows.append(NumericRow(latex, text, format_value(c), format_value(eng), format_value(fd_value),
                                   format_error(err_e), format_error(err_f), row_ok))
    available = engine_grads is not None
    if engine is not None and not available and not engine_note:
        engine_note = "engine not available"
    ok &= engine_note.startswith("engine not available") or available
    return NumericCheck(
        rows=rows, total=len(_entries(net)), examples=len(X), seed=seed,
        engine_available=available, engine_note=engine_note, ok=ok,
        max_engine_error=format_error(max_e) if available else "—", max_fd_error=format_error(max_f),
        targets=net.loss_rule.targets_text,
    )


def _central_difference(ref: _Reference, params: Params, X: list[Any], Y: list[Any],
                        cache: list[Any], squares: Any, e: _Entry) -> Any:
    h = mpmath.mpf(FD_STEP)
    up = ref.perturbed_cost(params, X, Y, cache, squares, e, h)
    return (up - ref.perturbed_cost(params, X, Y, cache, squares, e, -h)) / (2 * h)


def _engine_gradient(engine: object | None, params: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray,
                     Y: np.ndarray, note: str) -> tuple[list[tuple[np.ndarray, np.ndarray]] | None, str]:
    """The engine's gradient at the point, or None and what went wrong (shown in the report)."""
    if engine is None:
        return None, note or "engine not available"
    try:
        _, grads = engine.loss_and_grad([(W.copy(), b.copy()) for W, b in params], X.copy(), Y.copy())
        return [(np.asarray(gW, float), np.asarray(gb, float).reshape(-1)) for gW, gb in grads], ""
    except NotImplementedError as err:
        return None, f"engine not available ({type(err).__name__}: {err})"
    except Exception as err:  # a broken engine is a finding of the report, not a crash of it
        return None, f"engine failed: {type(err).__name__}: {err}"
