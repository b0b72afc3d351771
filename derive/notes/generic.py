"""Claims for every size: a claims file whose sizes are ``any`` is checked with the sizes symbolic.

``sizes: {n: any}`` makes n a positive integer symbol. A vector or matrix whose shape uses it
(``symbols: {z: vector[n]}``) has indexed entries ``z_k``; ``\\sum_{k=1}^{n}`` is a sum with a
symbolic bound; ``\\frac{\\partial}{\\partial z_j}`` differentiates through it (a Kronecker delta
per index); a free index (``j``) ranges over the size it indexes. Each link of the claim is then
a statement for every size and every index in range, checked by the one prover exactly as the
derivation's lemmas are (derive.proof.lemmas): at several small concrete sizes and every index
value numerically, then exactly with the sizes left symbolic. A counterexample names its sizes.

What this reads: numbers, names (scalars, entries of shaped names, sizes, bound and free indices,
Kronecker's δ_ij), + − × / and powers, registry and elementary functions and their derivatives
(σ'(z)), sums over a range, derivatives by a name or an entry, and definitions (``a_i = σ(z_i)``
entry by entry, or of a scalar). Whole vectors and matrices have no value when their size is a
symbol: such a claim is undecided and says to give the size a value.
"""

from __future__ import annotations

import sympy as sp

from ..exprs import as_expr
from ..model import rules
from ..proof import lemmas
from .lexer import Token
from .meaning import INDEX_LETTERS, Env, Evaluator, apply_function, make_key
from .notation import Abs, BinOp, Call, Deriv, Name, Neg, Node, Num, Pow, Sqrt, Sum
from .values import MeaningError

__all__ = ["GenericLink", "Unsupported", "check_generic_link"]

MAX_NESTED_SUMS = 6  # sums inside sums (with definitions substituted) that a claim may hold
MAX_LIMIT = 64  # the largest whole number in a sum's limit (as for a size checked on an instance)
_PRODUCTS = ("juxt", "cdot", "times", "star", "odot")


class Unsupported(MeaningError):  # noqa: N818 - reads as what it is
    """A construction that has no meaning while a size is a symbol."""


class GenericEvaluator:
    """Evaluates a side of a claim with symbolic sizes: a SymPy expression with sums and indexed
    entries. ``free`` collects the claim's free indices and their ranges (low, high)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.names = Evaluator(env)  # how names, subscripts and functions are spelled and looked up
        self.free: dict[str, tuple[sp.Symbol, tuple[sp.Expr, sp.Expr] | None]] = {}
        self.nesting = 0  # sums around the node being read
        self.sums = 0  # sum indices are numbered, never reused: a substituted definition cannot capture one
        self.where: dict[str, str] = {}  # the first entry each free index letter indexes
        self.opaque: set[str] = set()  # defined names held as variables while differentiating by them

    # ---- indices --------------------------------------------------------------------------

    def index(self, letter: str, bound: dict[str, sp.Expr], size: sp.Expr | None, where: str = "") -> sp.Expr:
        """The value of an index letter: bound by a sum, or a free index of the claim (``where``:
        the entry it indexes, for messages)."""
        if letter in bound:
            return bound[letter]
        value = self.names.int_value(letter)
        if value is not None:
            return sp.Integer(value)
        symbol, rng = self.free.get(letter, (sp.Symbol(letter, integer=True, positive=True), None))
        if size is not None:
            if rng is not None and rng[1] != size:
                first = self.where.get(letter, "")
                raise Unsupported(f"the index {letter} runs over {sp.latex(rng[1])} in {first} and over "
                                  f"{sp.latex(size)} in {where}: are its indices swapped?")
            rng = (sp.S.One, size)
            self.where.setdefault(letter, where)
        self.free[letter] = (symbol, rng)
        return symbol

    def atoms(self, name: Name, bound: dict[str, sp.Expr], dims: tuple[sp.Expr, ...]) -> list[sp.Expr]:
        if name.sub is None:
            raise Unsupported(f"{name.base} has a symbolic size: only its entries ({name.base}_k) have a value")
        atoms = self.names.sub_atoms(name.sub)
        if atoms is None and all(t.kind == "WORD" and all(c in bound for c in t.value) for t in name.sub):
            atoms = [(Token("WORD", c, t.pos),) for t in name.sub for c in t.value]  # z_a under \sum_{a=1}^{n}
        if atoms is None or len(atoms) != len(dims):
            raise Unsupported(f"{name.base}_{{…}} needs {len(dims)} index{'es' if len(dims) > 1 else ''}")
        key = make_key(self.names.name_base(name), self.names.sup_texts(name))
        where = f"{key}_{{{self.names.sub_key(name.sub)}}}"
        out = []
        for atom, dim in zip(atoms, dims):
            if len(atom) != 1:
                raise Unsupported("an index must be a letter or a number")
            token = atom[0]
            if token.kind == "NUM":  # z_5 exists only from n = 5 on
                raise Unsupported(f"{where} is a numbered entry: it needs a concrete size")
            out.append(self.index(token.value, bound, dim, where))
        return out

    # ---- evaluation -----------------------------------------------------------------------

    def eval(self, node: Node, bound: dict[str, sp.Expr] | None = None) -> sp.Expr:
        bound = bound or {}
        method = getattr(self, f"eval_{type(node).__name__}", None)
        if method is None:
            raise Unsupported(f"{type(node).__name__.lower()} has no meaning while a size is a symbol")
        return method(node, bound)

    def eval_Num(self, node: Num, bound: dict[str, sp.Expr]) -> sp.Expr:
        return sp.Rational(node.text)

    def eval_Neg(self, node: Neg, bound: dict[str, sp.Expr]) -> sp.Expr:
        return -self.eval(node.operand, bound)

    def eval_BinOp(self, node: BinOp, bound: dict[str, sp.Expr]) -> sp.Expr:
        a, b = self.eval(node.left, bound), self.eval(node.right, bound)
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "/":
            if b.is_zero:
                raise MeaningError("division by zero")
            return a / b
        if node.op in _PRODUCTS:
            return a * b
        raise Unsupported(f"the operation {node.op} has no meaning while a size is a symbol")

    def eval_Pow(self, node: Pow, bound: dict[str, sp.Expr]) -> sp.Expr:
        return self.eval(node.base, bound) ** self.eval(node.exponent, bound)

    def eval_Sqrt(self, node: Sqrt, bound: dict[str, sp.Expr]) -> sp.Expr:
        return sp.sqrt(self.eval(node.operand, bound))

    def eval_Abs(self, node: Abs, bound: dict[str, sp.Expr]) -> sp.Expr:
        return sp.Abs(self.eval(node.operand, bound))

    def eval_Name(self, name: Name, bound: dict[str, sp.Expr]) -> sp.Expr:
        base = self.names.name_base(name)
        plain = base.lstrip("\\")
        if name.sub is None and not name.sups:
            if base in bound:
                return bound[base]
            if plain in self.env.symbolic_sizes:
                return self.env.symbolic_sizes[plain]
            if self.names.int_value(plain) is not None and (plain in self.env.sizes or plain in self.env.constants):
                return sp.Integer(self.names.int_value(plain))
        key = make_key(base, self.names.sup_texts(name))
        definition = self.env.generic_definitions.get(key)
        if definition is not None and key in self.opaque:
            if name.sub is None:
                return sp.Symbol(key, real=True)
            return sp.IndexedBase(key, real=True)[tuple(self.atoms(name, bound, self.definition_dims(key)))]
        if definition is not None:
            return self.defined(name, definition, bound)
        if key in self.env.generic_shapes:
            dims = self.env.generic_shapes[key]
            entries = sp.IndexedBase(key, real=True)
            return entries[tuple(self.atoms(name, bound, dims))]
        if base == "\\delta" and not name.sups and name.sub is not None:
            atoms = self.names.sub_atoms(name.sub)
            if atoms is not None and len(atoms) == 2 and all(len(a) == 1 for a in atoms):
                values = [self.index(a[0].value, bound, None) if a[0].kind == "WORD"
                          else sp.Integer(int(a[0].value)) for a in atoms]
                return sp.KroneckerDelta(*values)
        if name.sub is None and not name.sups and plain == "e":
            return sp.E
        if name.sub is None and not name.sups and base == "\\pi":
            return sp.pi
        if self.names.function_of(name) is not None:
            raise Unsupported(f"{base} is a function; give it an argument")
        if name.sub is not None and self.names.sub_atoms(name.sub) is not None:
            raise Unsupported(f"{key} is not a vector or matrix of the file (declare its shape in symbols:)")
        return sp.Symbol(key if name.sub is None else f"{key}_{{{self.names.sub_key(name.sub)}}}", real=True)

    def letters(self, key: str) -> list[str]:
        """The index letters of a definition's left side (``a_i = …``: [i])."""
        lhs = self.env.generic_definitions[key][0]
        atoms = (self.names.sub_atoms(lhs.sub) or []) if isinstance(lhs, Name) and lhs.sub is not None else []
        return [a[0].value for a in atoms if len(a) == 1 and a[0].kind == "WORD"]

    def definition_dims(self, key: str) -> tuple[sp.Expr | None, ...]:
        rhs = self.env.generic_definitions[key][1]
        return self.env.generic_shapes.get(key) or self.shape_of_definition(rhs, self.letters(key))

    def defined(self, name: Name, definition: tuple[Node, Node], bound: dict[str, sp.Expr]) -> sp.Expr:
        """A defined name: its right side, entry by entry when the definition has indices."""
        key = make_key(self.names.name_base(name), self.names.sup_texts(name))
        letters = self.letters(key)
        if not letters and name.sub is not None:
            lhs = self.env.generic_definitions[key][0]
            if isinstance(lhs, Name) and lhs.sub is not None and self.names.sub_atoms(lhs.sub) is None:
                letters_text = ", ".join(sorted(INDEX_LETTERS))
                raise Unsupported(
                    f"the subscript of {name.base} in its definition is not read as indices: single letters"
                    f" {letters_text} are; separate others with commas ({name.base}_{{i,e}})"
                )
            raise Unsupported(f"{name.base} is defined as a whole, not entry by entry")
        indices = self.atoms(name, bound, self.definition_dims(key)) if letters else []
        return self.entry(key, indices)

    def entry(self, key: str, indices: list[sp.Expr] | tuple[sp.Expr, ...]) -> sp.Expr:
        """The value of a defined name at ``indices`` (none for a scalar)."""
        return self.eval(self.env.generic_definitions[key][1], dict(zip(self.letters(key), indices)))

    def shape_of_definition(self, rhs: Node, letters: list[str]) -> tuple[sp.Expr | None, ...]:
        """The range of each index letter of an entrywise definition, from what its right side
        indexes with it (s_i = e^{z_i}/… runs over z's size)."""
        probe = GenericEvaluator(self.env)
        probe.eval(rhs)
        return tuple(probe.free[c][1][1] if c in probe.free and probe.free[c][1] else None for c in letters)

    def eval_Call(self, node: Call, bound: dict[str, sp.Expr]) -> sp.Expr:
        fname = self.names.function_of(node.func)
        if fname is None:
            if len(node.args) == 1:  # a (1 - a): a product
                return self.eval(node.func, bound) * self.eval(node.args[0], bound)
            raise Unsupported(f"{node.func.base} is not a function")
        args = [self.eval(a, bound) for a in node.args]
        if node.func.primes:
            return self.names.apply_derivative(fname, args[0], node.func.primes)
        act = rules.ACTIVATIONS.get(fname)
        if act is not None and not act.elementwise:
            raise Unsupported(f"{fname} of a vector has no meaning while its size is a symbol")
        return as_expr(apply_function(fname, args))

    def eval_Sum(self, node: Sum, bound: dict[str, sp.Expr]) -> sp.Expr:
        if node.var is None or node.hi is None:
            raise Unsupported("write the sum's range, as in \\sum_{k=1}^{n}, while a size is a symbol")
        lo = self.eval(node.lo, bound) if node.lo is not None else sp.S.One
        hi = self.eval(node.hi, bound)
        for limit in (lo, hi):
            if not _small_linear(limit):  # n^{100} would be written out at every instance
                raise Unsupported(f"a sum runs to ${sp.latex(limit)}$: its limits must be sizes or indices"
                                  " plus or times small whole numbers")
        if self.nesting >= MAX_NESTED_SUMS:  # an instance at size 3 writes out 3^depth terms
            raise Unsupported(f"more than {MAX_NESTED_SUMS} nested sums")
        self.sums += 1
        k = sp.Symbol(f"{node.var}_{{{self.sums}}}", integer=True)
        self.nesting += 1
        try:
            return sp.Sum(self.eval(node.body, {**bound, node.var: k}), (k, lo, hi))
        finally:
            self.nesting -= 1

    def eval_Deriv(self, node: Deriv, bound: dict[str, sp.Expr]) -> sp.Expr:
        """∂F/∂X; by a defined X (z_j = …) along the computation graph: F with X's entries held as
        variables, differentiated, then X's definition put back."""
        key = None
        if isinstance(node.X, Name):
            key = make_key(self.names.name_base(node.X), self.names.sup_texts(node.X))
            key = key if key in self.env.generic_definitions and key not in self.opaque else None
        if key is not None:
            self.opaque.add(key)
        try:
            variable = self.eval(node.X, bound)
            if not isinstance(variable, (sp.Symbol, sp.Indexed)):
                raise Unsupported("the variable of a derivative must be a name or an entry")
            value = self.eval(node.F, bound)
            for _ in range(node.order):
                value = lemmas.deltas_out(sp.diff(value, variable))
        finally:
            if key is not None:
                self.opaque.discard(key)
        if key is not None:
            held = sp.IndexedBase(key, real=True)
            value = value.replace(lambda e: isinstance(e, sp.Indexed) and e.base == held,
                                  lambda e: self.entry(key, e.indices))
            value = value.xreplace({sp.Symbol(key, real=True): self.entry(key, [])}) if not self.letters(key) else value
        return value if node.sign > 0 else -value


def _small_linear(limit: sp.Expr) -> bool:
    """A sum's limit an instance can write out: a whole number, or sizes and indices (integer
    symbols) with small whole coefficients (1, n, n - 1, 2h)."""
    if not limit.is_integer:
        return False
    symbols = sorted(limit.free_symbols, key=str)
    if not symbols:
        return abs(int(limit)) <= MAX_LIMIT
    poly = sp.Poly(limit, *symbols)
    return poly.total_degree() <= 1 and all(c.is_Integer and abs(int(c)) <= MAX_LIMIT for c in poly.coeffs())


class GenericLink:
    """One link checked for every size: its verdict, evidence and (when it fails) the point."""

    def __init__(self, verdict: str, evidence: str, counterexample: dict | None = None) -> None:
        self.verdict, self.evidence, self.counterexample = verdict, evidence, counterexample


def check_generic_link(env: Env, lhs: Node, rhs: Node, timeout: float, seed: int) -> GenericLink:
    """``lhs = rhs`` for every value of the file's symbolic sizes and of the claim's free indices.

    Raises Unsupported (a MeaningError) when a side has no meaning with symbolic sizes."""
    ev = GenericEvaluator(env)
    left, right = ev.eval(lhs), ev.eval(rhs)
    if any(side.has(sp.zoo, sp.nan, sp.oo, -sp.oo) for side in (left, right)):
        raise MeaningError("division by zero")
    ranges: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]] = {}
    for letter, (symbol, rng) in ev.free.items():
        if rng is None:
            raise Unsupported(f"the index {letter} has no range: it indexes no vector or matrix")
        ranges[symbol] = rng
    left, right = lemmas.in_ranges(left, ranges), lemmas.in_ranges(right, ranges)
    sizes = tuple(s for s in env.symbolic_sizes.values() if left.has(s) or right.has(s) or any(
        as_expr(hi).has(s) for _, hi in ranges.values()))
    lemma = lemmas.Lemma(
        "claim", "claim", "", "", [(left, right)], sizes or tuple(env.symbolic_sizes.values())[:1], ranges,
        sizes_text=", ".join(sp.latex(s) for s in sizes),
    )
    check = lemmas.verify_lemma(lemma, timeout, seed)
    if check.verdict == "fails":
        witness = check.verification.witness
        point: dict = dict(check.counterexample_sizes)
        if witness is not None and witness.counterexample:
            point.update({s.name: round(float(v), 6) for s, v in sorted(witness.counterexample.items(),
                                                                          key=lambda kv: kv[0].name)[:40]})
        counterexample = {
            "point": point,
            "lhs": float(f"{witness.lhs_value:.12g}") if witness and witness.lhs_value is not None else None,
            "rhs": float(f"{witness.rhs_value:.12g}") if witness and witness.rhs_value is not None else None,
        }
        return GenericLink("fails", "symbolic", counterexample)
    if check.verdict == "undecided":
        raise Unsupported(check.evidence)
    return GenericLink("holds", "symbolic" if check.verdict == "proved" else "numeric")
