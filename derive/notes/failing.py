"""A failing link of a claim, as the diagnosis sees it.

The true value (the left side) and the claimed one (the right side) at the failing index values and
at a few others, compared at a few points where every symbol has its own value (``Points``); the
claim's names as the notes spell them (``Claim.spell``); the right side as a syntax tree whose
parts the candidates change (``substitute``, product chains, sums) and the test that a changed
right side makes the claim hold at every index value (``mutations``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from ..exprs import as_expr
from ..proof.prover import NotReal, evaluate
from ..timelimit import Deadline
from .lexer import Token
from .meaning import (
    Env,
    Evaluator,
    MeaningError,
    Options,
    Value,
    is_matrix,
    shape_of,
    walk,
)
from .notation import (
    BinOp,
    Call,
    Given,
    Name,
    Neg,
    Node,
    Sum,
    Transpose,
)
from .printing import latex_of, node_latex

PRODUCTS = ("juxt", "cdot", "times", "star", "odot")
MAX_CASES = 4  # index values a candidate is checked at (the failing one first)
ERRORS = (MeaningError, ZeroDivisionError, TypeError, ValueError, RecursionError, AttributeError, IndexError)


# ----------------------------------------------------------------------------------------------
# Numbers: every symbol gets its own value at each point, the same wherever it appears
# ----------------------------------------------------------------------------------------------

# where sigmoids and probabilities live, the negative side of ReLU-like rules, away from 0 and 1
_REGIONS = ((0.15, 0.85), (-1.6, -0.2), (0.55, 2.3), (-1.4, 1.4))


class _Points:
    """Values of expressions at a few points; a symbol's value depends only on its name and the
    point, so any two values (true, claimed, mutated) are compared at the same inputs."""

    def __init__(self, seed: int, count: int = 4, digits: int = 30) -> None:
        self.seed = seed
        self.count = count
        self.digits = digits
        self._values: dict[tuple[str, int], mpmath.mpf] = {}
        self._memo: dict[Value, list[list[mpmath.mpf | None]]] = {}  # values already computed

    def _value(self, sym: sp.Symbol, k: int) -> mpmath.mpf:
        key = (sym.name, k)
        if key not in self._values:
            h = int(hashlib.sha256(f"{self.seed}:{k}:{sym.name}".encode()).hexdigest()[:12], 16)
            lo, hi = _REGIONS[k % len(_REGIONS)]
            v = lo + (hi - lo) * (h / 16**12)
            if abs(v) < 0.05:
                v = 0.37
            if sym.is_nonnegative and v < 0:
                v = -v
            self._values[key] = mpmath.mpf(repr(round(v, 6)))
        return self._values[key]

    def values(self, v: Value) -> list[list[mpmath.mpf | None]]:
        try:
            hit = self._memo.get(v)
        except TypeError:  # not hashable
            hit = None
        if hit is not None:
            return hit
        out = self._compute(v)
        if len(self._memo) < 4096:
            try:
                self._memo[v] = out
            except TypeError:
                pass
        return out

    def _compute(self, v: Value) -> list[list[mpmath.mpf | None]]:
        entries = [_concrete(as_expr(e)) for e in entries_of(v)]
        out = []
        with mpmath.workdps(self.digits):
            for k in range(self.count):
                memo: dict = {}
                row = []
                for e in entries:
                    point = {s: self._value(s, k) for s in e.free_symbols}
                    try:
                        row.append(evaluate(e, point, memo))
                    except (NotReal, ZeroDivisionError, ValueError, TypeError, OverflowError, KeyError):
                        row.append(None)
                out.append(row)
        return out

    def same(self, a: Value | None, b: Value | None) -> bool:
        """Whether two values agree at every point where both are defined (and somewhere)."""
        if a is None or b is None or shape_of(a) != shape_of(b) or is_matrix(a) != is_matrix(b):
            return False
        good = 0
        tol = mpmath.mpf(10) ** (-(self.digits - 8))
        for ra, rb in zip(self.values(a), self.values(b), strict=True):
            for x, y in zip(ra, rb, strict=True):
                if x is None or y is None:
                    continue
                if abs(x - y) > tol * max(1, abs(x), abs(y)):
                    return False
                good += 1
        return good > 0

    def ratio(self, a: Value, b: Value) -> mpmath.mpf | None:
        """a / b when it is one constant at every point and entry, else None."""
        if shape_of(a) != shape_of(b):
            return None
        ratio = None
        tol = mpmath.mpf(10) ** (-(self.digits - 10))
        for ra, rb in zip(self.values(a), self.values(b), strict=True):
            for x, y in zip(ra, rb, strict=True):
                if x is None or y is None:
                    continue
                if abs(y) < tol:
                    if abs(x) < tol:
                        continue
                    return None
                r = x / y
                if ratio is None:
                    ratio = r
                elif abs(r - ratio) > tol * max(1, abs(ratio)):
                    return None
        return ratio


def _concrete(e: sp.Expr) -> sp.Expr:
    """Arbitrary functions (``symbols: {u: function}``) replaced by fixed smooth ones, the same for
    a name wherever it appears: exp(a + b t + c t^2) + (d t + e)^2 with coefficients from its name."""
    classes = {f.func for f in e.atoms(AppliedUndef)}
    if not classes:
        return e
    t = sp.Dummy("t", real=True)
    for f in sorted(classes, key=str):
        h = hashlib.sha256(str(f).encode()).digest()
        a, b, c, d, k = (sp.Rational(h[n] % 19 - 9, 10) for n in range(5))
        e = e.replace(f, sp.Lambda(t, sp.exp(a + b * t + c * t**2) + (d * t + k) ** 2))
    return e.doit()


def _lagrange(e: sp.Expr) -> sp.Expr:
    """u(x), u'(x) of an arbitrary function of the implicit x written as the rules write them."""
    primes = {
        d: sp.Symbol(f"{d.expr.func}" + "'" * d.derivative_count)
        for d in e.atoms(sp.Derivative)
        if isinstance(d.expr, AppliedUndef) and len(d.expr.args) == 1 and d.variables == d.expr.args * len(d.variables)
    }
    plain = {f: sp.Symbol(str(f.func)) for f in e.atoms(AppliedUndef) if len(f.args) == 1 and f.args[0].is_Symbol}
    return e.xreplace(primes).xreplace(plain) if primes or plain else e


def entries_of(v: Value) -> list[sp.Expr]:
    return list(v) if is_matrix(v) else [v]  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# The claim at its index values
# ----------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One value of the claim's free indices: the true value and the claimed one (expanded)."""

    assignment: dict[str, int]
    L: Value | None = None
    R: Value | None = None


class Claim:
    """A failing link ``lhs = rhs`` and what every candidate needs: evaluation at each case."""

    def __init__(
        self, env: Env, cf: object, lhs: Node, rhs: Node, cases: list[dict[str, int]], seed: int
    ) -> None:
        self.env = env
        self.cf = cf
        self.lhs = lhs
        self.rhs = _products_written_as_calls(env, rhs, cases[0])
        self.points = _Points(seed)
        self._spelling: dict[str, str] | None = None
        self._layer_spelling: dict[str, str] | None = None
        self._index_spelling: dict[str, str] = {}
        self.cases = [Case(a) for a in cases]
        for case in self.cases:
            case.L = self.value(lhs, case)
            case.R = self.value(rhs, case)
        self.cases = [c for c in self.cases if c.L is not None] or self.cases[:1]

    def value(self, node: Node, case: Case, options: Options | None = None) -> Value | None:
        """The expanded value of ``node`` at ``case``, or None where it has no meaning."""
        try:
            return self.env.expand(Evaluator(self.env, case.assignment, options).eval(node))
        except ERRORS:
            return None

    @property
    def first(self) -> Case:
        return self.cases[0]

    def spelling(self) -> dict[str, str]:
        """How the notes write each name the claim uses, by key: ``a^{(3)}`` -> ``\\alpha^{(L-1)}``,
        ``a_{2}`` -> ``a_{j}`` (at the failing index values), and the file's aliases."""
        if self._spelling is not None:
            return self._spelling
        ev = Evaluator(self.env, self.first.assignment)
        out: dict[str, str] = {}
        layers: dict[str, str] = {}
        for side in (self.lhs, self.rhs):
            for n in walk(side):
                if not isinstance(n, Name) or n.primes:
                    continue
                try:
                    key = key_of(ev, n)
                    out.setdefault(key, node_latex(n))
                    for sup, text in zip(ev.sup_texts(n), n.sups, strict=True):
                        written = "".join(t.value for t in text).replace(" ", "")
                        if sup.isdigit() and not written.isdigit():
                            layers.setdefault(sup, written)
                            letter = written[0]
                            if letter.isalpha() and written[1:] in ("", *(f"{c}{k}" for c in "+-" for k in "123")):
                                base = int(sup) - int(written[1:] or 0)  # L = 3 from L-1 = 2
                                for offset in (-2, -1, 0, 1, 2):
                                    tail = "" if offset == 0 else f"{offset:+d}"
                                    layers.setdefault(str(base + offset), letter + tail)
                    base = ev.name_base(n)
                    if base != n.base:
                        out.setdefault(base, n.base)
                except ERRORS:
                    continue
        self._spelling = out
        self._layer_spelling = layers
        by_value: dict[str, str] = {}
        for letter, value in sorted(self.first.assignment.items()):
            by_value.setdefault(str(value), letter)
        self._index_spelling = by_value
        return out

    def spell(self, expr: Value) -> str:
        """LaTeX of a value with the names as the notes write them."""
        mapping = {}
        for e in entries_of(expr):
            for sym in as_expr(e).free_symbols:
                mapping[sym] = sp.Symbol(self.spell_key(sym.name), real=True)
        spelled = expr.xreplace(mapping) if mapping else expr
        return latex_of(map_value(spelled, _lagrange) if not is_matrix(spelled) else spelled)

    def spell_key(self, key: str) -> str:
        names = self.spelling()
        if key in names:
            return names[key]
        base, sups, sub = split_key(key)
        base = names.get(base, base)
        layers = self._layer_spelling or {}
        sups = [layers.get(s, s) for s in sups]
        if sub is not None:  # z_{1} where the claim's j is 1: z_{j}
            sub = ",".join(self._index_spelling.get(part, part) for part in sub.split(","))
        return _join_key(base, sups, sub)

    def rhs_explains(self, new_rhs: Node, options: Options | None = None) -> bool:
        """Whether the claim holds at every case with ``new_rhs`` for its right side."""
        for case in self.cases:
            if case.L is None or not self.points.same(case.L, self.value(new_rhs, case, options)):
                return False
        return True

    def lhs_explains(self, options: Options | None = None, transform: Callable | None = None) -> bool:
        """Whether the claimed value is the left side computed with a mistake (``options``: another
        derivative rule; ``transform``: the true value rewritten by a wrong identity)."""
        for case in self.cases:
            if case.R is None:
                return False
            wrong = self.value(self.lhs, case, options) if options is not None else case.L
            if wrong is not None and transform is not None:
                wrong = map_value(wrong, transform)
            if not self.points.same(wrong, case.R):
                return False
        return True

    def holds_at_every_case(self, test: Callable[[Case], bool]) -> bool:
        return all(test(c) for c in self.cases)


def _products_written_as_calls(env: Env, node: Node, assignment: dict[str, int]) -> Node:
    """``a(1 - a)``, ``a^{(2)}(\\delta^{(3)})^T``: a name that is no function, before parentheses, is a
    product; written as one, so that its factors can be moved, transposed or dropped."""
    ev = Evaluator(env, assignment)

    def visit(n: Node) -> Node:
        try:
            if isinstance(n, Transpose) and ev.product_call(n.operand):  # a (x)^T is a times x^T
                call = n.operand
                return BinOp("juxt", call.func, Transpose(visit(call.args[0]), pos=n.pos), pos=n.pos)  # type: ignore[attr-defined]
        except ERRORS:
            pass
        changes = {}
        for f in dataclasses.fields(n):
            v = getattr(n, f.name)
            if isinstance(v, Node):
                nv = visit(v)
                if nv is not v:
                    changes[f.name] = nv
            elif isinstance(v, list) and v and isinstance(v[0], Node):
                nl = [visit(x) for x in v]
                if any(a is not b for a, b in zip(nl, v, strict=True)):
                    changes[f.name] = nl
        n = dataclasses.replace(n, **changes) if changes else n
        try:
            if isinstance(n, Call) and ev.product_call(n):
                return BinOp("juxt", n.func, n.args[0], pos=n.pos)
        except ERRORS:
            return n
        return n

    try:
        return visit(node)
    except RecursionError:
        return node


def map_value(v: Value, f: Callable[[sp.Expr], sp.Expr]) -> Value:
    return v.applyfunc(f) if is_matrix(v) else f(as_expr(v))  # type: ignore[union-attr]


Candidate = Callable[[], "str | None"]


class CandidateTimeout(Deadline):
    """One family of candidates ran out of its share of the budget (the claim's own limit is a
    plain Deadline, which passes through)."""


Mutation = tuple[Node, str]  # a new right side, and the words for the mistake it undoes
HOLE = Given(sp.S.Zero, latex="?")  # where a run of factors is taken out, to be put back changed


def mutations(claim: Claim, candidates: Iterator[Mutation]) -> str | None:
    seen: set[str] = {tex(claim.lhs)}  # x := x + y without its term says only x = x
    for new_rhs, words in candidates:
        shown = tex(new_rhs)
        if shown in seen:
            continue
        seen.add(shown)
        if claim.rhs_explains(new_rhs):
            return words
    return None


def substitute(node: Node, target: Node, new: Node) -> Node:
    """A copy of ``node`` with the subtree ``target`` (by identity) replaced by ``new``."""
    if node is target:
        return new
    changes = {}
    for f in dataclasses.fields(node):
        v = getattr(node, f.name)
        if isinstance(v, Node):
            nv = substitute(v, target, new)
            if nv is not v:
                changes[f.name] = nv
        elif isinstance(v, list) and v and isinstance(v[0], Node):
            nl = [substitute(x, target, new) for x in v]
            if any(a is not b for a, b in zip(nl, v, strict=True)):
                changes[f.name] = nl
        elif isinstance(v, list) and v and isinstance(v[0], list):
            nr = [[substitute(x, target, new) for x in row] for row in v]
            if any(a is not b for r1, r2 in zip(nr, v, strict=True) for a, b in zip(r1, r2, strict=True)):
                changes[f.name] = nr
    return dataclasses.replace(node, **changes) if changes else node


def nodes_of(claim: Claim) -> list[Node]:
    return list(walk(claim.rhs))


def products_of(claim: Claim) -> list[BinOp]:
    return [n for n in nodes_of(claim) if isinstance(n, BinOp) and n.op in PRODUCTS]


def shape_in(claim: Claim, node: Node) -> tuple[int, int] | None:
    try:
        return shape_of(Evaluator(claim.env, claim.first.assignment).eval(node))
    except ERRORS:
        return None


def tex(node: Node) -> str:
    return node_latex(node)


def _factors(node: Node) -> tuple[list[Node], list[str]]:
    """A product chain ``f1 o1 f2 o2 f3`` (parsed to the left) as its factors and operators."""
    if isinstance(node, BinOp) and node.op in PRODUCTS:
        fs, ops = _factors(node.left)
        return [*fs, node.right], [*ops, node.op]
    return [node], []


def chain_of(factors: list[Node], ops: list[str], pos: int) -> Node:
    node = factors[0]
    for f, op in zip(factors[1:], ops, strict=True):
        node = BinOp(op, node, f, pos=pos)
    return node


def product_chains(claim: Claim) -> list[tuple[BinOp, list[Node], list[str]]]:
    """Every maximal product chain of the right side, with its factors."""
    out = []
    inner: set[int] = set()
    for n in nodes_of(claim):
        if isinstance(n, BinOp) and n.op in PRODUCTS and id(n) not in inner:
            fs, ops = _factors(n)
            out.append((n, fs, ops))
            m = n
            while isinstance(m, BinOp) and m.op in PRODUCTS:
                inner.add(id(m))
                m = m.left
    return out


def terms_of(node: Node) -> list[tuple[int, Node]]:
    """A sum ``t1 ± t2 ± …`` as signed terms (the parser nests sums to the left)."""
    if isinstance(node, BinOp) and node.op in ("+", "-"):
        return [*terms_of(node.left), (1 if node.op == "+" else -1, node.right)]
    if isinstance(node, Neg):
        return [(-s, t) for s, t in terms_of(node.operand)] if _is_sum(node.operand) else [(-1, node.operand)]
    return [(1, node)]


def _is_sum(node: Node) -> bool:
    return isinstance(node, BinOp) and node.op in ("+", "-")


def sums_of(claim: Claim) -> list[Node]:
    out = []
    inner: set[int] = set()
    for n in nodes_of(claim):
        if _is_sum(n) and id(n) not in inner:
            out.append(n)
            m = n
            while _is_sum(m):
                inner.add(id(m))
                m = m.left  # type: ignore[attr-defined]
    return out


def rebuild_sum(terms: list[tuple[int, Node]], pos: int) -> Node:
    sign, first = terms[0]
    node: Node = first if sign > 0 else Neg(first, pos=pos)
    for s, t in terms[1:]:
        node = BinOp("+" if s > 0 else "-", node, t, pos=pos)
    return node


def index_letters(claim: Claim) -> list[str]:
    letters = set(claim.first.assignment)
    for n in nodes_of(claim):
        if isinstance(n, Sum) and n.var:
            letters.add(n.var)
    return sorted(letters)


def split_key(key: str) -> tuple[str, list[str], str | None]:
    """``a^{(2)}_{1}`` -> ("a", ["2"], "1"); ``W^{[1]}`` -> ("W", ["[1]"], None)."""
    sub = None
    body = key
    depth = 0
    for k in range(len(key) - 1, -1, -1):  # the last top-level _{
        ch = key[k]
        depth += ch == "}"
        depth -= ch == "{"
        if ch == "_" and depth == 0 and key[k + 1 : k + 2] == "{" and key.endswith("}"):
            body, sub = key[:k], key[k + 2 : -1]
            break
    sups: list[str] = []
    if "^{" in body and body.endswith("}"):
        body, rest = body.split("^{", 1)
        rest = rest[:-1]
        group = ""
        for ch in rest:
            group += ch
            if ch in ")]" and group.count(ch) and (group[0] == "(" and ch == ")" or group[0] == "[" and ch == "]"):
                sups.append(group[1:-1] if group[0] == "(" else group)
                group = ""
    return body, sups, sub


def _join_key(base: str, sups: list[str], sub: str | None) -> str:
    key = base
    if sups:
        key += "^{" + "".join(s if s.startswith("[") else f"({s})" for s in sups) + "}"
    if sub is not None:
        key += "_{" + sub + "}"
    return key


def sub_tokens(sub: str) -> tuple[Token, ...]:
    out: list[Token] = []
    for part_k, part in enumerate(sub.split(",")):
        if part_k:
            out.append(Token("OP", ",", 0))
        out.append(Token("NUM" if part.isdigit() else "WORD", part, 0))
    return tuple(out)


def key_of(ev: Evaluator, name: Name) -> str:
    """The key of a name, an entry's included (``a_{2}``, ``W^{(1)}_{1,2}``)."""
    try:
        _entry, key, rest = ev.lookup(name)
        if rest == "sub" and name.sub is not None:
            key += "_{" + ev.sub_key(name.sub) + "}"
        return key
    except ERRORS:
        return name.base


def has_meaning(claim: Claim, name: Name) -> bool:
    """Whether ``name`` means something here (a letter a sum binds stands for its first value)."""
    indices = {**{c: 1 for c in index_letters(claim)}, **claim.first.assignment}
    try:
        Evaluator(claim.env, indices, allow_unknown=False).eval(name)
    except ERRORS:
        return False
    return True


def strip_sub(key: str) -> str:
    """The key of the vector or matrix an entry belongs to (``a_{2}`` -> ``a``)."""
    b, sups, _sub = split_key(key)
    return b + ("^{" + "".join(s if s.startswith("[") else f"({s})" for s in sups) + "}" if sups else "")
