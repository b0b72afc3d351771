"""Naming the mistake in a failing claim.

The true value L (the left side, evaluated) and the claimed value R are known. Each test below
asks "would the claim hold if this one usual mistake were undone?" — flip the sign, divide out a
constant, read a product the other way, swap two operands or indices, move a layer by one,
use another unit's name, another activation's derivative rule, another loss — and compares at
random points. The first test that explains the difference names the diagnosis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import sympy as sp

from ..exprs import as_expr
from ..model import rules
from ..proof.prover import numeric_value, random_points
from ..timelimit import Deadline, deadline
from .lexer import Token
from .meaning import (
    DefSymbol,
    Env,
    Evaluator,
    MeaningError,
    Options,
    Value,
    is_matrix,
    make_key,
    walk,
)
from .notation import BinOp, Deriv, Name, Node, Transpose
from .printing import latex_of

__all__ = ["diagnose"]

_PRODUCTS = ("juxt", "cdot", "times", "star", "odot")


def _entries(v: Value) -> list[sp.Expr]:
    return list(v) if is_matrix(v) else [v]  # type: ignore[arg-type]


class _Same:
    """Numeric equality of two expanded values at a few fixed random points (30 digits)."""

    def __init__(self, env: Env, seed: int, symbols: Iterable[sp.Symbol]) -> None:
        self.env = env
        self.symbols = sorted(set(symbols), key=lambda s: s.name)
        self.points = random_points(self.symbols, 4, seed + 7)

    def values(self, v: Value) -> list[list[sp.Float | None]] | None:
        out = []
        for pt in self.points:
            row = []
            for e in _entries(v):
                e = rules.textbook_form(as_expr(e))
                extra = e.free_symbols - set(pt)
                p = dict(pt)
                for s in extra:  # a symbol only the mutation brought in
                    p[s] = sp.Float(0.37, 30)
                row.append(numeric_value(e, p))
            out.append(row)
        return out

    def equal(self, A: Value, B: Value) -> bool:
        if is_matrix(A) != is_matrix(B) or (is_matrix(A) and A.shape != B.shape):  # type: ignore[union-attr]
            return False
        va, vb = self.values(A), self.values(B)
        if va is None or vb is None:
            return False
        good = 0
        for ra, rb in zip(va, vb, strict=False):
            for a, b in zip(ra, rb, strict=False):
                if a is None or b is None:
                    continue
                if abs(a - b) > sp.Float("1e-20") * max(1, abs(a), abs(b)):
                    return False
                good += 1
        return good > 0


def diagnose(
    env: Env,
    cf: object,
    lhs: Node,
    rhs: Node,
    assignment: dict[str, int],
    L: Value,
    R: Value,
    Lf: Value,
    Rf: Value,
    seed: int,
    budget: float,
) -> str | None:
    """The name of the mistake that explains ``lhs = rhs`` failing, or None."""
    start = time.monotonic()
    syms = set()
    for v in (Lf, Rf):
        for e in _entries(v):
            syms |= as_expr(e).free_symbols
    same = _Same(env, seed, syms)

    def reval(node: Node, options: Options) -> Value | None:
        try:
            return env.expand(Evaluator(env, assignment, options).eval(node))
        except (MeaningError, ZeroDivisionError, TypeError, ValueError, RecursionError):
            return None

    tests: list[Callable[[], str | None]] = [
        lambda: _sign_or_factor(env, same, Lf, Rf),
        lambda: _transpose(same, Lf, Rf),
        lambda: _product_kind(same, rhs, Lf, reval),
        lambda: _derivative_factor(env, same, Lf, Rf),
        lambda: _swapped_operands(same, rhs, Lf, reval),
        lambda: _swapped_indices(same, rhs, Lf, assignment, reval),
        lambda: _regularization(env, Lf, Rf, lhs, assignment),
        lambda: _activation_rule(env, same, lhs, Rf, reval),
        lambda: _loss_rule(env, cf, same, lhs, Rf, assignment),
        lambda: _renamed(env, same, lhs, rhs, Lf, Rf, assignment, reval),
        lambda: _symbolic_factor(env, Lf, Rf),
        lambda: _wrong_entries(env, same, Lf, Rf),
    ]
    for test in tests:
        left = budget - (time.monotonic() - start)
        if left <= 0.1:
            return None
        try:
            with deadline(left):
                found = test()
        except Deadline:
            return None
        except (MeaningError, ZeroDivisionError, TypeError, ValueError, RecursionError, AttributeError):
            found = None
        if found:
            return found
    return None


# ---- the tests --------------------------------------------------------------------------------


def _ratio(same: _Same, Lf: Value, Rf: Value) -> sp.Float | None:
    """L / R when it is the same constant at every point (and entry), else None."""
    va, vb = same.values(Lf), same.values(Rf)
    if va is None or vb is None:
        return None
    ratio = None
    for ra, rb in zip(va, vb, strict=False):
        for a, b in zip(ra, rb, strict=False):
            if a is None or b is None:
                continue
            if abs(b) < 1e-30:
                if abs(a) < 1e-30:
                    continue
                return None
            r = a / b
            if ratio is None:
                ratio = r
            elif abs(r - ratio) > 1e-18 * max(1, abs(ratio)):
                return None
    return ratio


def _sign_or_factor(env: Env, same: _Same, Lf: Value, Rf: Value) -> str | None:
    r = _ratio(same, Lf, Rf)
    if r is None:
        return None
    c = sp.nsimplify(sp.Float(r, 25), rational=True, tolerance=1e-15)
    if c == 0:
        return "the true value is 0: the left side does not depend on that variable"
    if c == -1:
        return "sign: the right side has the wrong sign"
    names = {v: k for k, v in env.sizes.items() if k in ("m", "n", "N")}
    sign = "the negative of " if c < 0 else ""
    a = abs(c)
    if a.is_Rational and a.q in names and a.p == 1:
        extra = f" (= 1/{a.q})" + (" and the sign" if sign else "")
        return f"factor 1/{names[a.q]}: the right side misses the factor 1/{names[a.q]}{extra}"
    if a.is_Integer and int(a) in names:
        extra = f" (= 1/{int(a)})" + (" and the wrong sign" if sign else "")
        return f"factor 1/{names[int(a)]}: the right side has an extra factor 1/{names[int(a)]}{extra}"
    if a == 2:
        return f"factor 2: the true value is {sign}twice the right side (a missing factor 2)"
    if a == sp.Rational(1, 2):
        return f"factor 2: the true value is {sign}half the right side (an extra factor 2, or a missing 1/2)"
    if a.is_Rational and a.q in names and a.p == 1:
        return f"factor 1/{names[a.q]}: the right side misses the factor 1/{names[a.q]}" + (
            " and the sign" if sign else ""
        )
    if a.is_Integer and int(a) in names:
        return f"factor 1/{names[int(a)]}: the right side has an extra factor 1/{names[int(a)]}" + (
            " and the wrong sign" if sign else ""
        )
    if a != 1 and a.is_Rational and a.q < 100 and a.p < 100:
        return f"factor {sp.latex(c)}: the true value is {sp.latex(c)} times the right side"
    return None


def _transpose(same: _Same, Lf: Value, Rf: Value) -> str | None:
    if is_matrix(Rf) and same.equal(Lf, Rf.T):  # type: ignore[union-attr]
        return "transpose: the right side is the transpose of the true value"
    return None


def _product_nodes(node: Node) -> list[BinOp]:
    return [n for n in walk(node) if isinstance(n, BinOp) and n.op in _PRODUCTS]


def _product_kind(same: _Same, rhs: Node, Lf: Value, reval) -> str | None:
    for n in _product_nodes(rhs):
        for kind in ("matrix", "elementwise"):
            v = reval(rhs, Options(product_override={id(n): kind}))
            if v is not None and same.equal(Lf, v):
                if kind == "matrix":
                    return "elementwise vs matrix product: the product read elementwise should be a matrix product"
                return "elementwise vs matrix product: this product should be elementwise (⊙), not a matrix product"
    return None


_T = sp.Dummy("t", real=True)
# The registry's elementwise activations by the class of g(z) (the identity has none).
_ACTIVATION_OF: dict[type, rules.Activation] = {
    type(act.function(_T)): act
    for act in rules.ACTIVATIONS.values()
    if act.elementwise and isinstance(act.function(_T), sp.Function)
}
_A = sp.Symbol("a")  # the layer's output, as the rules are written


def _activation_factors(env: Env) -> list[tuple[sp.Expr, str]]:
    """g'(z) for each activation in the definitions, with the LaTeX of g'(z)."""
    out = []
    seen = set()
    for p in env.order:
        value = as_expr(env.definition[p])
        for f in value.atoms(sp.Function):
            if type(f) in _ACTIVATION_OF and f not in seen:
                seen.add(f)
                t = sp.Dummy("t")
                d = sp.diff(type(f)(t), t).xreplace({t: f.args[0]})
                out.append((d, f))
    return out


def _derivative_factor(env: Env, same: _Same, Lf: Value, Rf: Value) -> str | None:
    for d, f in _activation_factors(env):
        dfull = env.expand(d)
        prime = latex_of(sp.Function(f"{_fname(f)}'")(f.args[0]))
        if not is_matrix(Rf) and same.equal(Lf, env.expand(Rf * dfull)):
            return f"missing derivative factor: the right side lacks {prime}"
        if not is_matrix(Lf) and same.equal(env.expand(Lf * dfull), Rf):
            return f"extra derivative factor: the right side has a factor {prime} too many"
    return None


def _fname(f: sp.Function) -> str:
    act = _ACTIVATION_OF.get(type(f))
    return act.latex if act is not None else type(f).__name__


def _swapped_operands(same: _Same, rhs: Node, Lf: Value, reval) -> str | None:
    for n in _product_nodes(rhs):
        v = reval(rhs, Options(swap_operands={id(n)}))
        if v is not None and same.equal(Lf, v):
            return "swapped operands: the two factors of a product are in the wrong order"
    for n in walk(rhs):
        if isinstance(n, Transpose):
            v = reval(rhs, Options(rename={}, product_override={}, swap_operands=set()))
            _ = v
    return None


def _swapped_indices(same: _Same, rhs: Node, Lf: Value, assignment: dict[str, int], reval) -> str | None:
    letters = sorted(assignment)
    for i, a in enumerate(letters):
        for b in letters[i + 1 :]:
            if assignment[a] == assignment[b]:
                continue
            v = reval(rhs, Options(index_swap={a: b, b: a}))
            if v is not None and same.equal(Lf, v):
                return f"swapped indices: {a} and {b} are exchanged on the right side"
    return None


def _regularization(env: Env, Lf: Value, Rf: Value, lhs: Node, assignment: dict[str, int]) -> str | None:
    lam = [s for e in _entries(Lf) + _entries(Rf) for s in as_expr(e).free_symbols if s.name == "\\lambda"]
    if not lam:
        return None
    lam_s = lam[0]
    for a, b in zip(_entries(Lf), _entries(Rf), strict=False):
        d = sp.expand(as_expr(b) - as_expr(a))
        if d == 0:
            continue
        if not d.has(lam_s) or sp.expand(d.subs(lam_s, 0)) != 0:
            return None
        bias = [s for s in d.free_symbols if s.name.startswith("\\Theta") and s.name.endswith(",0}")]
        term = sp.latex(-d) if d.could_extract_minus_sign() else sp.latex(d)
        if bias and not d.could_extract_minus_sign():
            return "regularized bias: the bias column (j = 0) is not regularized"
        if d.could_extract_minus_sign():
            return "missing regularization: the L2 term (\u03bb/m)\u0398 of this weight is missing"
        return f"extra regularization term {term}"
    return None


def _rule_text(derivative: sp.Expr) -> str:
    return rules.formula_latex(derivative)


def _activation_rule(env: Env, same: _Same, lhs: Node, Rf: Value, reval) -> str | None:
    """The claim holds with another derivative for an activation: another rule of the registry, or
    a mistake its row lists (the rule applied to z, a sign slip, g instead of g')."""
    if not any(isinstance(n, Deriv) for n in walk(lhs)):
        return None
    present = set()
    for p in env.order:
        for f in as_expr(env.definition[p]).atoms(sp.Function):
            present.add(type(f))
    z = sp.Symbol("z")
    for cls, act in _ACTIVATION_OF.items():
        if cls not in present:
            continue
        true = _rule_text(act.derivative(z, _A))
        candidates = [
            (f"uses {other.name}'s derivative {_rule_text(other.derivative(z, _A))}", other.derivative)
            for other in rules.ACTIVATIONS.values()
            if other.elementwise and other is not act
        ]
        candidates += [(f"writes {mistake.text}", mistake.derivative) for mistake in act.mistakes]
        for text, wrong in candidates:
            v = reval(lhs, Options(derivative_rules={cls: lambda g, wrong=wrong: wrong(g.args[0], g)}))
            if v is not None and same.equal(v, Rf):
                return f"wrong activation derivative: {text} for a {act.name} unit ({act.name}' = {true})"
    return None


def _loss_rule(env: Env, cf: object, same: _Same, lhs: Node, Rf: Value, assignment: dict[str, int]) -> str | None:
    info = env.loss_info
    if not info or getattr(cf, "definitions", None):
        return None
    from .presets import NetworkSpec, build_preset

    spec: NetworkSpec = info["spec"]
    for loss in rules.LOSSES:
        if loss == spec.loss or not rules.loss(loss).accepts(spec.output):
            continue
        alt = Env(functions=dict(env.functions), aliases=dict(env.aliases), sizes=dict(env.sizes))
        try:
            build_preset(
                alt,
                NetworkSpec(spec.notation, spec.layers, spec.hidden, spec.output, loss, spec.l2),
                info["m"],
            )
            v = alt.expand(Evaluator(alt, assignment).eval(lhs))
        except (MeaningError, ValueError):
            continue
        if same.equal(v, Rf):
            return f"wrong loss derivative: the right side is the one for the {loss} loss, not {spec.loss}"
    return None


def _neighbours(env: Env, ev: Evaluator, name: Name) -> list[tuple[Name, str]]:
    """Names one usual slip away: the layer ± 1, another unit (out_{h2} for out_{h1}), or the
    sibling parameter (w for b, z for a) of the same layer."""
    out: list[tuple[Name, str]] = []
    base = ev.name_base(name)
    _e, key, _rest = ev.lookup(name)
    # layer off by one
    for k, sup in enumerate(name.sups):
        for delta in (1, -1):
            toks = list(sup) + [Token("OP", "+" if delta > 0 else "-", 0), Token("NUM", "1", 0)]
            new_sups = tuple(tuple(toks) if j == k else s for j, s in enumerate(name.sups))
            cand = Name(name.base, name.sub, new_sups, pos=name.pos)
            out.append((cand, "layer"))
    # another unit or the sibling parameter
    sups = ev.sup_texts(name)
    prefix_keys = [k for k in env.entries if k != key]
    for other in prefix_keys:
        b, s_other, sub_other = _split_key(other)
        if b == base and name.sub is not None and sub_other is not None and s_other == sups:
            out.append((_name_from(b, name.sups, sub_other, name.pos), "unit"))
        elif b != base and s_other == sups and (sub_other is None) == (name.sub is None) and sups:
            out.append((Name(b, name.sub, name.sups, pos=name.pos), "swap"))
    return out


def _split_key(key: str) -> tuple[str, list[str], str | None]:
    sub = None
    body = key
    if "_{" in key and key.endswith("}"):
        body, sub = key.rsplit("_{", 1)
        sub = sub[:-1]
    sups: list[str] = []
    if "^{(" in body:
        body, rest = body.split("^{", 1)
        rest = rest[:-1]
        sups = [p for p in rest.strip("()").split(")(")]
    return body, sups, sub


def _name_from(base: str, sups: tuple, sub: str, pos: int) -> Name:
    toks = tuple(Token("NUM" if ch.isdigit() else "WORD", ch, 0) for ch in sub if ch not in ",")
    if "," in sub:
        parts = sub.split(",")
        toks = tuple(
            t
            for i, p in enumerate(parts)
            for t in (
                (Token("NUM" if p.isdigit() else "WORD", p, 0),)
                + ((Token("OP", ",", 0),) if i < len(parts) - 1 else ())
            )
        )
    return Name(base, toks, sups, pos=pos)


def _key_text(ev: Evaluator, name: Name) -> str:
    try:
        return ev.lookup(name)[1]
    except MeaningError:
        return name.base


def _has_meaning(env: Env, assignment: dict[str, int], name: Name) -> bool:
    try:
        Evaluator(env, assignment, allow_unknown=False).eval(name)
    except (MeaningError, TypeError, ValueError):
        return False
    return True


def _renamed(
    env: Env, same: _Same, lhs: Node, rhs: Node, Lf: Value, Rf: Value, assignment: dict[str, int], reval
) -> str | None:
    ev = Evaluator(env, assignment)
    kinds = {"layer": "layer off by one", "unit": "wrong unit", "swap": "swapped names"}
    for n in [x for x in walk(rhs) if isinstance(x, Name)]:
        for cand, kind in _neighbours(env, ev, n):
            if not _has_meaning(env, assignment, cand):
                continue
            v = reval(rhs, Options(rename={id(n): cand}))
            if v is not None and same.equal(Lf, v):
                return f"{kinds[kind]}: {_key_text(ev, n)} should be {_key_text(ev, cand)}"
    # the slip may be on the left: ∂C/∂b written where ∂C/∂w is meant
    for d in [x for x in walk(lhs) if isinstance(x, Deriv)]:
        for target in (d.X, d.F):
            if not isinstance(target, Name):
                continue
            for cand, kind in _neighbours(env, ev, target):
                if not _has_meaning(env, assignment, cand):
                    continue  # w^{(3)} in a two-layer net: a derivative by it is 0, which says nothing
                v = reval(lhs, Options(rename={id(target): cand}))
                if v is not None and same.equal(v, Rf):
                    return (
                        f"{kinds[kind]}: the right side is the value for {_key_text(ev, cand)}, "
                        f"not {_key_text(ev, target)}"
                    )
    return None


def _symbolic_factor(env: Env, Lf: Value, Rf: Value) -> str | None:
    """The right side has a factor the true value lacks (or lacks one it has)."""
    if is_matrix(Lf) or is_matrix(Rf) or Lf == 0 or Rf == 0:
        return None
    if sp.count_ops(Lf) + sp.count_ops(Rf) > 400:
        return None  # too large for a readable factor anyway
    with deadline(2.0):
        ratio = sp.factor(sp.cancel(as_expr(Rf) / as_expr(Lf)))
    if ratio.is_Number:
        return None
    ratio = env.fold(ratio)
    num, den = sp.fraction(ratio)
    if len(sp.Mul.make_args(num)) <= 2 and den == 1:
        return f"the right side has a factor {latex_of(num)} that the true value lacks"
    if num == 1 and len(sp.Mul.make_args(den)) <= 2:
        return f"the right side lacks the factor {latex_of(den)}"
    return None


def _wrong_entries(env: Env, same: _Same, Lf: Value, Rf: Value) -> str | None:
    """A matrix right in some entries: which entries are wrong, and how when one mistake explains
    each (the signs lost in a softmax Jacobian written out by hand)."""
    if not (is_matrix(Lf) and is_matrix(Rf)) or Lf.shape != Rf.shape:  # type: ignore[union-attr]
        return None
    rows, cols = Lf.shape  # type: ignore[union-attr]
    wrong = [(r, c) for r in range(rows) for c in range(cols) if not same.equal(Lf[r, c], Rf[r, c])]  # type: ignore[index]
    if not wrong or len(wrong) == rows * cols:
        return None
    how = {(r, c): _sign_or_factor(env, same, Lf[r, c], Rf[r, c]) for r, c in wrong}  # type: ignore[index]
    where = ", ".join(f"({r + 1}, {c + 1})" for r, c in wrong)
    kinds = {h.split(":")[0] if h else None for h in how.values()}
    if len(kinds) == 1 and None not in kinds:
        return f"{kinds.pop()} in entries {where} only (the other entries agree)"
    explained = [f"entry ({r + 1}, {c + 1}): {h.split(':')[0]}" for (r, c), h in how.items() if h]
    return f"entries {where} are wrong (the other entries agree)" + (f"; {', '.join(explained)}" if explained else "")


_ = (DefSymbol, make_key)
