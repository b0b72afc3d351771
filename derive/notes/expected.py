"""The expected value of a failing claim, tidied into the notes' own terms.

The true value of the left side is an expanded SymPy expression in the notes' inputs. A student
reads it best written with the names the notes define (a^{(L)} rather than σ(w a + b)), the
rules' own forms (σ(1 − σ) rather than e^{-z}/(1 + e^{-z})²), leading minus signs taken into a
sum, and arbitrary functions in Lagrange's notation (u' rather than d/dx u(x)). Each candidate
form is tried and the shortest kept; every step has a time limit and falls back to a plainer form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import sympy as sp
from sympy.core.function import AppliedUndef

from ..exprs import as_expr
from ..model import rules
from ..timelimit import Deadline, deadline
from .meaning import IMPLICIT_VARIABLE, Env, Evaluator, MeaningError
from .notation import Node
from .printing import latex_of
from .values import Value, is_matrix

__all__ = ["EXPECTED_TIME_LIMIT", "NotesNames", "expected_latex", "expected_of_side", "printable_name"]

EXPECTED_TIME_LIMIT = 3.0  # seconds to tidy one expected value before a plainer form is printed
SIGNIFICANT_DIGITS = 10  # of an expected value that is a number


def expected_of_side(env: Env, side: Node, assignment: dict[str, int], names: NotesNames | None = None) -> str | None:
    """The expected value of ``side`` (evaluated at the index values ``assignment``), or None."""
    try:
        value = Evaluator(env, assignment).eval(side)
        return expected_latex(env, value, names=names)
    except (MeaningError, RecursionError, Deadline):
        return None


def expected_latex(
    env: Env, value: Value, budget: float = EXPECTED_TIME_LIMIT, names: NotesNames | None = None
) -> str | None:
    """The true value ``value``, simplified and written with the notes' names, as LaTeX."""
    names = names or NotesNames()
    try:
        full = env.expand(value)
        with deadline(budget):
            if not _free_symbols(full):  # every input has a number: the expected value is one too
                return latex_of(full.applyfunc(_number) if is_matrix(full) else _number(full))  # type: ignore[union-attr]
            if is_matrix(full):
                nice = full.applyfunc(lambda e: _nicest(env, e))  # type: ignore[union-attr]
            else:
                nice = _nicest(env, full)
            return latex_of(names.rename(nice, env))
    except Deadline:  # no time to simplify: the value folded into the notes' names as it is
        full = env.expand(value)
        plain = full.applyfunc(env.fold) if is_matrix(full) else env.fold(full)  # type: ignore[union-attr]
        return latex_of(names.rename(plain, env))
    except (RecursionError, ValueError, TypeError):
        return None


@dataclass
class NotesNames:
    """How the notes write the names of a value: the aliases they declare (``\\alpha`` for ``a``,
    preferring those the claim itself uses) and names TeX can print (``{h_{\\Theta}}_{1}``, not a
    double subscript; ``{f'}^{2}``; an ng example's ``\\delta^{(3)}(x^{(2)})``, not ``\\delta^{(2)(3)}``)."""

    aliases: dict[str, str] = field(default_factory=dict)  # alias key -> target key, as declared
    claim: str = ""  # the claim's LaTeX: an alias it uses is preferred

    def rename(self, value: Value, env: Env) -> Value:
        symbols = _free_symbols(value)
        per_example = env.loss_info.get("spec") is not None and env.loss_info["spec"].notation == "ng"
        mapping: dict[sp.Basic, sp.Basic] = {}
        for sym in symbols:
            name = self.name(sym.name, per_example)
            if name != sym.name:
                mapping[sym] = sp.Symbol(name, real=True)
        value = value.xreplace(mapping) if mapping else value  # type: ignore[union-attr]
        powers = {  # u'^{2} is a double superscript: {u'}^{2}
            p: sp.Pow(sp.Symbol(f"{{{p.base.name}}}", real=True), p.exp, evaluate=False)
            for e in (list(value) if is_matrix(value) else [value])  # type: ignore[arg-type]
            for p in as_expr(e).atoms(sp.Pow)
            if isinstance(p.base, sp.Symbol) and p.base.name.endswith("'")
        }
        value = value.xreplace(powers) if powers else value  # type: ignore[union-attr]
        return self._function_names(value, env)

    def _function_names(self, value: Value, env: Env) -> Value:
        """A registry function the notes call by another name (``g: sigmoid``) written with it."""
        declared: dict[str, str] = {}
        for base, fname in env.functions.items():
            if fname in rules.ACTIVATIONS and (fname not in declared or _mentions(self.claim, base)):
                declared[fname] = base
        if not declared:
            return value
        entries = list(value) if is_matrix(value) else [value]  # type: ignore[arg-type]
        mapping = {}
        for e in entries:
            for f in as_expr(e).atoms(sp.Function):
                base = declared.get(str(f.func)) if rules.is_defined(f) and len(f.args) == 1 else None
                if base is not None and not latex_of(f).startswith(base):
                    mapping[f] = sp.Function(base)(*f.args)
        return value.xreplace(mapping) if mapping else value  # type: ignore[union-attr]

    def name(self, name: str, per_example: bool = False) -> str:
        name = self._alias(name)
        if per_example:
            name = _example_argument(name)
        return printable_name(name)

    def _alias(self, name: str) -> str:
        if not self.aliases:
            return name
        written = {key: target for key, target in self.aliases.items() if _mentions(self.claim, key)}
        for table in (written, self.aliases):
            for key, target in table.items():
                if name == target:
                    return key
            base, rest = _split_base(name)
            for key, target in table.items():
                if base == target and _split_base(key)[1] == "":  # \alpha for a: every a^{(l)}_j
                    return key + rest
        return name


def _mentions(text: str, key: str) -> bool:
    """Whether the claim writes ``key`` (C_{o} also as C_o; a bare \\alpha anywhere)."""
    base, scripts = _split_base(key)
    if not text:
        return False
    if not scripts:
        return re.search(re.escape(base) + r"(?![A-Za-z])", text) is not None
    return key in text or re.sub(r"([_^])\{(\w)\}", r"\1\2", key) in text


def _split_base(name: str) -> tuple[str, str]:
    """``a^{(L)}_{j}`` -> (``a``, ``^{(L)}_{j}``): the base and its scripts (at brace depth 0)."""
    depth = 0
    for i, ch in enumerate(name):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch in "^_" and depth == 0 and i > 0:
            return name[:i], name[i:]
    return name, ""


_EXAMPLE_LAYER = re.compile(
    r"^(?P<base>[^\\^_]*?|\\[A-Za-z]+)\^\{\((?P<example>\d+)\)\((?P<layer>[^()]*)\)\}(?P<rest>.*)$"
)


def _example_argument(name: str) -> str:
    """An ng name of example e at layer l, ``a^{(e)(l)}_{j}``, as ``a^{(l)}_{j}(x^{(e)})``."""
    m = _EXAMPLE_LAYER.match(name)
    if not m:
        return name
    return f"{m['base']}^{{({m['layer']})}}{m['rest']}(x^{{({m['example']})}})"


def printable_name(name: str) -> str:
    """A name TeX (and MathML) can print: a name with two subscripts (``h_{\\Theta}_{1}``, an
    entry of a subscripted name) braces the first."""
    depth, subs = 0, []
    for i, ch in enumerate(name):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "_" and depth == 0:
            subs.append(i)
    if len(subs) >= 2:
        return f"{{{name[: subs[-1]]}}}{name[subs[-1]:]}"
    return name


def _free_symbols(v: Value) -> set[sp.Symbol]:
    return set().union(*(as_expr(e).free_symbols for e in (v if is_matrix(v) else [v])))  # type: ignore[union-attr]


def _number(e: sp.Expr) -> sp.Expr:
    """An exact number as the notes would write it: a simple fraction as it is, anything else
    to 10 significant digits (the notes' numbers are decimals)."""
    e = as_expr(e)
    if e.is_Rational and e.q <= 1000:  # type: ignore[attr-defined]
        return e
    return sp.Float(e.evalf(30), SIGNIFICANT_DIGITS)


def _lagrange(e: sp.Expr) -> sp.Expr:
    """Arbitrary functions of the implicit x as the rules write them: u(x) -> u, u'(x) -> u'."""
    x = IMPLICIT_VARIABLE
    primes = {
        d: sp.Symbol(f"{d.expr.func}" + "'" * d.derivative_count, real=True)
        for d in e.atoms(sp.Derivative)
        if isinstance(d.expr, AppliedUndef) and d.expr.args == (x,) and set(d.variables) == {x}
    }
    outer = {  # d/dg(x) f(g(x)) -> f'(g(x))
        d: sp.Function(f"{d.expr.func}" + "'" * d.derivative_count)(d.expr.args[0])
        for d in e.atoms(sp.Derivative)
        if d not in primes
        and isinstance(d.expr, AppliedUndef)
        and len(d.expr.args) == 1
        and set(d.variables) == {d.expr.args[0]}
    }
    plain = {f: sp.Symbol(str(f.func), real=True) for f in e.atoms(AppliedUndef) if f.args == (x,)}
    if not (primes or outer or plain):
        return e
    return e.xreplace(primes).xreplace(outer).xreplace(plain)


def _nicest(env: Env, e: sp.Expr) -> sp.Expr:
    folded = [_lagrange(env.fold(as_expr(e))), _lagrange(env.fold(as_expr(e), algebraic=True))]
    factored = []
    for f in folded:
        try:
            factored.append(sp.factor(f))
        except (sp.PolynomialError, ValueError, TypeError):
            pass
    candidates = folded + [_absorb_sign(f) for f in factored] + factored
    for f in folded:
        candidates += [_absorb_sign(r) for r in _in_rule_terms(f, _notes_functions(env))]
    candidates += [c for c in (_over_m(env, f) for f in list(candidates)) if c is not None]
    candidates = [c for c in candidates if _prints(c)] or folded
    # the shortest; e^{x} counts double (the notes write σ(1 − σ), not e^{x}/(e^{x} + 1)^2) and so
    # does a fraction 1/m written as a number (the notes write 1/m)
    m = env.sizes.get("m") or 0

    def size(c: sp.Expr) -> tuple[int, int]:
        over_m = sum(1 for r in c.atoms(sp.Rational) if m > 1 and r.q % m == 0)  # type: ignore[attr-defined]
        return sp.count_ops(c) + c.count(sp.exp) + over_m, _leading_minuses(c)

    return min(candidates, key=size)


def _prints(e: sp.Expr) -> bool:
    """Whether the notes' printer can write ``e``: it prints a registry function to a positive
    whole power only (σ(x)^{-1} has no form of its own there)."""
    return not any(
        rules.is_defined(p.base) and not (p.exp.is_Integer and p.exp > 0) for p in e.atoms(sp.Pow)
    )


def _notes_functions(env: Env) -> list[type]:
    """The registry functions the notes use: declared in symbols:, or the preset's activations."""
    names = set(env.functions.values())
    spec = env.loss_info.get("spec")
    if spec is not None:
        names |= {spec.hidden, spec.output}
    x = sp.Symbol("x", real=True)
    out = []
    for name in sorted(names & set(rules.ACTIVATIONS)):
        applied = rules.ACTIVATIONS[name].function(x)
        if isinstance(applied, sp.Function) and rules.is_defined(applied):
            out.append(applied.func)
    return out


def _in_rule_terms(e: sp.Expr, functions: list[type]) -> list[sp.Expr]:
    """``e`` with each e^{x} written with a registry function f(x) when f's textbook form gives
    e^{x} back: σ(x)/(e^{x} + 1) is σ(x)(1 − σ(x)), since e^{x} = σ/(1 − σ). The functions are
    those in ``e`` at x, and ``functions`` (the notes') for an e^{x} alone."""
    applied = {a for a in e.atoms(sp.Function) if rules.is_defined(a) and len(a.args) == 1}
    for power in e.atoms(sp.exp):
        arg = power.args[0]
        for base in {arg, -arg}:
            applied |= {func(base) for func in functions}
    out = []
    for f in sorted(applied, key=str):
        inverse = _exp_from(f.func)
        arg = f.args[0]
        if inverse is None or not (e.has(sp.exp(arg)) or e.has(sp.exp(-arg))):
            continue
        written = e.subs({sp.exp(arg): inverse(f), sp.exp(-arg): 1 / inverse(f)})
        try:
            out.append(sp.factor(sp.cancel(written)))
        except (sp.PolynomialError, ValueError, TypeError):
            continue
    return out


@cache
def _exp_from(func: type) -> sp.Lambda | None:
    """e^{x} in terms of f(x), from the registry's textbook form of f, when it is one formula."""
    x, t, s = sp.Dummy("x", real=True), sp.Dummy("t", positive=True), sp.Dummy("s", positive=True)
    form = rules.textbook_form(func(x))
    in_t = form.subs(sp.exp(-x), 1 / t).subs(sp.exp(x), t)
    if in_t.has(x) or not in_t.has(t):
        return None
    try:
        solutions = sp.solve(sp.Eq(in_t, s), t)
    except (NotImplementedError, ValueError, TypeError):
        return None
    return sp.Lambda(s, solutions[0]) if len(solutions) == 1 else None


# 1/m as the notes write it, in front of the sum it divides (a name printed verbatim)
ONE_OVER_M = sp.Symbol(r"\frac{1}{m}", positive=True)


def _over_m(env: Env, e: sp.Expr) -> sp.Expr | None:
    """``e`` written as (1/m)(m e) when the file has a size m: J's 1/m and λ/m read as the notes
    write them, not as ½ for m = 2 (exact: m is that number)."""
    m = env.sizes.get("m")
    if not m or m < 2 or e.is_Number:
        return None
    inner = sp.Add(*[t * m for t in e.args]) if isinstance(e, sp.Add) else e * m  # m's factor cancels
    if inner.has(sp.Rational(1, m)) or any(
        r.q % m == 0 for r in inner.atoms(sp.Rational) if not r.is_Integer  # type: ignore[attr-defined]
    ):
        return None  # a 1/m would be left inside: no simpler
    return sp.Mul(ONE_OVER_M, inner, evaluate=False)


def _leading_minuses(e: sp.Expr) -> int:
    """How many sums start with a minus when printed: on a tie of size σ_1(1 - σ_1) reads better
    than -σ_1² + σ_1, and 2a(1 - a)(a - y) better than 2a(-a + y)(a - 1)."""
    text = latex_of(e)
    return text.count(r"\left(- ") + text.startswith("-")


def _absorb_sign(e: sp.Expr) -> sp.Expr:
    """-σ(σ - 1) as σ(1 - σ): a leading minus taken into a sum among the factors."""
    if not (isinstance(e, sp.Mul) and e.could_extract_minus_sign()):
        return e
    positive = -e
    sums = [f for f in positive.args if isinstance(f, sp.Add)] if isinstance(positive, sp.Mul) else []
    if not sums:
        return e
    # with several sums, the one that reads better negated: (a - 1) becomes (1 - a)
    flipped = next((f for f in sums if f.as_coeff_Add()[0].is_negative), sums[0])
    return sp.Mul(*[(-f if f == flipped else f) for f in positive.args])
