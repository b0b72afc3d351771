"""What the notes' formulas mean: syntax tree (``derive.notation``) -> SymPy values.

A value is a SymPy scalar expression or an ``ImmutableMatrix`` (1×1 results collapse to
scalars). Names are looked up in an ``Env``:

* inputs: plain real symbols (``w^{(L)}``), or matrices of entry symbols for shaped names;
* defined names: a *placeholder* symbol (or matrix of them) standing for the definition, so a
  formula keeps the computation graph. ``Env.expand`` substitutes every definition (in order);
  ``Env.expand(value, opaque=...)`` stops at the given placeholders, which is how
  ``∂F/∂X`` for a defined X means "F as a function of X, the other inputs held fixed";
* functions from the registry (``\\sigma: sigmoid``), aliases, sizes.

Errors are ``MeaningError`` subclasses with one-sentence messages; the checker turns them into
``undecided`` (or, for a shape mismatch between the two sides of a claim, ``fails``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sympy as sp

from ..exprs import as_expr
from ..model import rules
from .ellipsis import expand as expand_ellipsis
from .lexer import Token
from .notation import (
    Abs,
    BinOp,
    Call,
    Cases,
    Cond,
    Deriv,
    Dots,
    Given,
    Index,
    Matrix,
    Name,
    Neg,
    Node,
    Norm,
    Num,
    ParseError,
    PlusMinus,
    Pow,
    Prime,
    Script,
    Sqrt,
    Sum,
    Transpose,
    children,
    parse_expression,
    parse_script,
    to_latex,
    walk,
)
from .values import DefSymbol, MeaningError, ShapeError, UnknownName, Value, is_matrix, shape_of, shape_text

__all__ = [
    "DefSymbol",
    "Env",
    "Evaluator",
    "MeaningError",
    "ShapeError",
    "UnknownName",
    "INDEX_LETTERS",
    "is_matrix",
    "shape_of",
]

INDEX_LETTERS = frozenset("ijklnpqt")


class IndexRangeError(MeaningError):
    """An index beyond the size of what it indexes (w_{jk} of a 2×3 w with j = 3). No meaning, not
    a failure: notes that count from 0 write a_0 for the first entry."""


# Functions a name may stand for (``symbols: {\sigma: sigmoid}``): the registry's activations, the
# elementary ones, and an arbitrary differentiable function.
REGISTRY_FUNCTIONS = (*rules.ACTIVATIONS, "exp", "log", "function")
GENERIC = "function:"  # env.functions value prefix: an arbitrary differentiable function (u, v in (uv)' = ...)
# the variable that generic functions written bare depend on (u' = du/dx), as in Lagrange's f'(x)
IMPLICIT_VARIABLE = sp.Symbol("x", real=True)  # the same symbol as an x written in the claim
# Names callable directly in a claim: elementary functions, and each activation by its registry name
# and the words notes use for it (ReLU, GELU, swish; LaTeX commands such as \sigma need a declaration).
DIRECT_FUNCTIONS = {
    **{word: name for name, act in rules.ACTIVATIONS.items() for word in (name, *act.notes) if word.isidentifier()},
    **{name: name for name in ("exp", "log", "tanh", "sqrt", "sin", "cos", "sinh", "cosh", "max", "min", "erf")},
    "ln": "log",
    "\\exp": "exp",
}


def registry_name(word: str) -> str:
    """The registry's name for a word notes use for one of its functions (``swish`` -> ``silu``,
    ``ReLU`` -> ``relu``); other words unchanged."""
    if word in REGISTRY_FUNCTIONS:
        return word
    name = DIRECT_FUNCTIONS.get(word)
    return name if name in REGISTRY_FUNCTIONS else word


def _command_functions() -> dict[str, str]:
    """The registry's functions that print as a LaTeX command (``\\sigma(x)``, ``\\Phi(x)``): an
    undeclared ``\\sigma`` or ``\\Phi`` applied to parentheses is that function."""
    x = sp.Symbol("x")
    out = {}
    for name, cls in rules.FUNCTIONS.items():
        m = re.match(r"(\\[A-Za-z]+)\\left\(", sp.latex(cls(x)))
        if m:
            out.setdefault(m.group(1), name)
    return out


COMMAND_FUNCTIONS = _command_functions()  # {"\\sigma": "sigmoid", "\\Phi": "normal_cdf"}


def _collapse(v: Value) -> Value:
    if is_matrix(v) and v.shape == (1, 1):  # type: ignore[union-attr]
        return v[0, 0]  # type: ignore[index]
    if is_matrix(v):
        return sp.ImmutableMatrix(v)
    return v


def _example_pattern(letter: str) -> re.Pattern[str]:
    """The example letter as a whole superscript group or subscript of a key: (i), _{n}, {n,k}."""
    return re.compile(r"(?<=[(\[{,])" + re.escape(letter) + r"(?=[)\]},])")


def _example_key(key: str, letter: str, k: int) -> str:
    return _example_pattern(letter).sub(str(k), key)


_LAYER_IN_KEY = re.compile(r"\^\{[(\[](\d+)[)\]]")


def real_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


# ----------------------------------------------------------------------------------------------
# Names: canonical keys
# ----------------------------------------------------------------------------------------------


def canonical_base(base: str) -> str:
    # \theta^{(l)}_{ij} is an entry of \Theta^{(l)} (Coursera writes both).
    return "\\Theta" if base == "\\theta" else base


def tokens_text(script: Iterable[Token]) -> str:
    out = []
    for t in script:
        if t.kind == "CMD":
            out.append("\\" + ("Theta" if t.value == "theta" else t.value))
        else:
            out.append(t.value)
    return "".join(out)


def make_key(base: str, sups: Iterable[str] = (), sub: str | None = None) -> str:
    """The key of a name: ``a^{(L)}``, ``W^{[1]}`` (a superscript text already in brackets stays so),
    ``\\Theta^{(1)}_{1,0}``."""
    key = canonical_base(base)
    sups = list(sups)
    if sups:
        key += "^{" + "".join(s if s.startswith("[") else f"({s})" for s in sups) + "}"
    if sub is not None:
        key += "_{" + sub + "}"
    return key


@dataclass
class Entry:
    """A name in the environment. ``value`` is its symbol/placeholder (matrix for shaped names);
    ``row0``/``col0`` the number of the first row/column (0 for the bias column of Θ);
    ``zero`` the value of entry 0 of a vector that starts at 1 (a^{(l)}_0 = 1 in the ng preset)."""

    key: str
    value: Value
    defined: bool = False
    row0: int = 1
    col0: int = 1
    zero: sp.Expr | None = None
    params: tuple[str, ...] = ()  # a name defined as a function of these names (h_\Theta(x))
    param_values: tuple[Value, ...] = ()
    broken: str | None = None  # why its definition has no meaning (a shape mismatch ...)
    function: str | None = None  # a registry function this name stands for


@dataclass
class Env:
    """Everything a claims file says names mean."""

    entries: dict[str, Entry] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)  # base -> registry function name
    aliases: dict[str, str] = field(default_factory=dict)  # key or base -> key or base
    sizes: dict[str, int] = field(default_factory=dict)
    constants: dict[str, int] = field(default_factory=dict)  # L, K ... from a preset
    strict: bool = False  # unknown names in claims are errors (the file defines its names)
    order: list[DefSymbol] = field(default_factory=list)
    definition: dict[DefSymbol, sp.Expr] = field(default_factory=dict)
    full: dict[DefSymbol, sp.Expr] = field(default_factory=dict)
    _partial_cache: dict[frozenset, dict] = field(default_factory=dict)
    layer_values: set[int] = field(default_factory=set)
    loss_info: dict = field(default_factory=dict)  # what a preset built, for the diagnosis
    # example letters declared in the file (``n: 'example[N]'``) and how many examples each runs over
    examples: dict[str, int] = field(default_factory=dict)
    # sizes: {n: any} makes n a symbol; shapes that use one, and the definitions (read as written),
    # are then checked for every size (derive.notes.generic)
    symbolic_sizes: dict[str, sp.Symbol] = field(default_factory=dict)
    generic_shapes: dict[str, tuple[sp.Expr, ...]] = field(default_factory=dict)
    generic_definitions: dict[str, tuple[Node, Node]] = field(default_factory=dict)

    # ---- building -------------------------------------------------------------------------

    def add_input(
        self,
        key: str,
        shape: tuple[int, int] | None = None,
        row0: int = 1,
        col0: int = 1,
        nonneg: bool = False,
        zero: sp.Expr | None = None,
    ) -> Entry:
        """A new input: a real symbol, or a matrix of entry symbols named like the notes
        (``zero``: the value of entry 0 of a vector that starts at 1, as for ``define``)."""
        if shape is None or shape == (1, 1) and not (row0 != 1 or col0 != 1):
            value: Value = sp.Symbol(key, real=True, nonnegative=True) if nonneg else real_symbol(key)
        else:
            r, c = shape
            if c == 1:
                value = sp.ImmutableMatrix(r, 1, lambda i, _: real_symbol(f"{key}_{{{i + row0}}}"))
            else:
                value = sp.ImmutableMatrix(r, c, lambda i, j: real_symbol(f"{key}_{{{i + row0},{j + col0}}}"))
        entry = Entry(key, value, row0=row0, col0=col0, zero=zero)
        self.entries[key] = entry
        self._note_layers(key)
        for bound in self.example_bindings(key):  # x^{(i)}: one input per example, x^{(1)}, x^{(2)} ...
            letter, k = next(iter(bound.items()))
            copy = _example_key(key, letter, k)
            if copy not in self.entries:
                self.add_input(copy, shape, row0, col0, nonneg, zero)
        return entry

    def example_bindings(self, key: str) -> list[dict[str, int]]:
        """For a key that carries an example letter (``x^{(i)}``, ``E_{n}``), the letter bound to each
        example in turn; [] for any other key."""
        for letter, count in self.examples.items():
            if _example_pattern(letter).search(key):
                return [{letter: k} for k in range(1, count + 1)]
        return []

    def define(
        self,
        key: str,
        value: Value,
        row0: int = 1,
        col0: int = 1,
        zero: sp.Expr | None = None,
        params: tuple[str, ...] = (),
        param_values: tuple[Value, ...] = (),
    ) -> Entry:
        """Define ``key`` as ``value`` (in terms of earlier names): a placeholder keeps the graph."""
        value = _collapse(value)
        if is_matrix(value):
            r, c = value.shape  # type: ignore[union-attr]
            if c == 1:
                ph: Value = sp.ImmutableMatrix(r, 1, lambda i, _: DefSymbol(f"{key}_{{{i + row0}}}", real=True))
            else:
                ph = sp.ImmutableMatrix(r, c, lambda i, j: DefSymbol(f"{key}_{{{i + row0},{j + col0}}}", real=True))
            pairs = list(zip(ph, value, strict=False))  # type: ignore[arg-type]
        else:
            ph = DefSymbol(key, real=True)
            pairs = [(ph, value)]
        if not self._rebind(key, ph, pairs):
            for p, v in pairs:
                self.order.append(p)
                self.definition[p] = v
                self.full[p] = as_expr(v).xreplace(self.full)
        self._partial_cache.clear()
        entry = Entry(key, ph, defined=True, row0=row0, col0=col0, zero=zero, params=params, param_values=param_values)
        self.entries[key] = entry
        self._note_layers(key)
        return entry

    def _rebind(self, key: str, ph: Value, pairs: list[tuple[DefSymbol, Value]]) -> bool:
        """An input that a later definition gives a value (a preset's ``i_1``, then ``i_1 = 0.05``):
        the earlier definitions now use the new name, so the value holds everywhere, and a
        derivative by the name is still taken first and evaluated at the value after. False (and
        nothing changed) when ``key`` names no input, or when the value uses a name defined after
        the input's first use (the definitions would go round in a circle)."""
        old = self.entries.get(key)
        if old is not None and not old.defined and old.function is None:
            olds = list(old.value) if is_matrix(old.value) else [old.value]  # type: ignore[arg-type]
            news = list(ph) if is_matrix(ph) else [ph]  # type: ignore[arg-type]
            swap = {o: n for o, n in zip(olds, news) if type(o) is sp.Symbol} if len(olds) == len(news) else {}
        else:  # an entry of an input matrix, w^{(1)}_{1,1} of the 3b1b preset
            swap = {
                s: ph
                for e in self.entries.values()
                if not e.defined and is_matrix(e.value) and not is_matrix(ph)
                for s in e.value  # type: ignore[union-attr]
                if type(s) is sp.Symbol and s.name == key
            }
        if not swap:
            return False
        users = [k for k, p in enumerate(self.order) if as_expr(self.definition[p]).has(*swap)]
        first_use = users[0] if users else len(self.order)
        needs = {s for _p, v in pairs for s in as_expr(v).free_symbols if isinstance(s, DefSymbol)}
        if any(self.order.index(s) >= first_use for s in needs if s in self.definition):
            return False
        for p in self.order[first_use:]:
            self.definition[p] = as_expr(self.definition[p]).xreplace(swap)
        self.order[first_use:first_use] = [p for p, _v in pairs]
        self.definition.update(pairs)
        self.full = {}
        for p in self.order:
            self.full[p] = as_expr(self.definition[p]).xreplace(self.full)
        for e in self.entries.values():  # the input matrix itself and parameters (h_Θ(x)) too
            if not e.defined and is_matrix(e.value):
                e.value = sp.ImmutableMatrix(e.value.xreplace(swap))  # type: ignore[union-attr]
            e.param_values = tuple(
                sp.ImmutableMatrix(v.xreplace(swap)) if is_matrix(v) else as_expr(v).xreplace(swap)  # type: ignore[union-attr]
                for v in e.param_values
            )
        return True

    def _note_layers(self, key: str) -> None:
        m = _LAYER_IN_KEY.search(key)
        if m:
            self.layer_values.add(int(m.group(1)))

    def has_name(self, base: str) -> bool:
        """Whether the file gives ``base`` a meaning of its own (an entry such as ``\\sigma_i`` or
        ``\\Phi^{(1)}``, or an alias): then it is not a registry function by default."""
        prefixes = (base + "_", base + "^")
        return base in self.aliases or any(k == base or k.startswith(prefixes) for k in self.entries)

    # ---- expansion ------------------------------------------------------------------------

    def expand(self, value: Value, opaque: frozenset = frozenset()) -> Value:
        """``value`` with definitions substituted; placeholders in ``opaque`` are kept."""
        if not opaque:
            mapping = self.full
        else:
            mapping = self._partial_cache.get(opaque)
            if mapping is None:
                mapping = {}
                for p in self.order:
                    mapping[p] = p if p in opaque else as_expr(self.definition[p]).xreplace(mapping)
                self._partial_cache[opaque] = mapping
        if is_matrix(value):
            return sp.ImmutableMatrix(value.xreplace(mapping))  # type: ignore[union-attr]
        return as_expr(value).xreplace(mapping)

    def fold(self, expr: sp.Expr, algebraic: bool = False) -> sp.Expr:
        """Write an expanded expression back with the defined names (latest definition first),
        so ``expected`` reads like the notes: 2(a^{(L)} − y)(1 − (a^{(L)})²). ``algebraic`` also
        finds a name's value inside powers and products (e^{2x_1}/S² is σ_1²), which is slower."""
        out = expr
        for p in reversed(self.order):
            full = self.full[p]
            if isinstance(full, sp.Symbol) or full.is_Number or full == expr or isinstance(full, sp.MatrixBase):
                continue  # folding the whole value into its own name would say nothing
            if out.has(full):
                out = out.xreplace({full: p})
            if algebraic and isinstance(full, sp.Mul | sp.Pow | sp.Add) and full.free_symbols <= out.free_symbols:
                out = out.subs(full, p)
        return out


# ----------------------------------------------------------------------------------------------
# The evaluator
# ----------------------------------------------------------------------------------------------


@dataclass
class Options:
    """Knobs the diagnosis turns: read one product differently, swap operands or names, use
    another rule for a function's derivative."""

    product_override: dict[int, str] = field(default_factory=dict)  # node id -> "matrix"/"elementwise"
    swap_operands: set[int] = field(default_factory=set)
    rename: dict[int, Name] = field(default_factory=dict)  # node id -> replacement name
    derivative_rules: dict[type, Callable[[sp.Expr], sp.Expr]] = field(default_factory=dict)
    index_swap: dict[str, str] = field(default_factory=dict)
    # a wrong identity applied to what a derivative differentiates (log of a sum as a sum of logs)
    transform: Callable[[sp.Expr], sp.Expr] | None = None


class Evaluator:
    """Evaluates syntax trees in an ``Env`` with bound index letters."""

    def __init__(
        self,
        env: Env,
        indices: dict[str, int] | None = None,
        options: Options | None = None,
        allow_unknown: bool = True,
    ) -> None:
        self.env = env
        self.indices = dict(indices or {})
        self.options = options or Options()
        self.allow_unknown = allow_unknown
        self.unknown: dict[str, sp.Symbol] = {}  # names with no meaning met (lenient mode)
        self.derivative_vars: set[str] = set()
        self.used_defined: set[str] = set()
        # how the formula was read where it could be read two ways: one short sentence each, with
        # LaTeX between $…$ ("$f(x)$ read as the product $f \cdot x$ (f is not declared as a function)")
        self.readings: list[str] = []

    def note_reading(self, text: str) -> None:
        if text not in self.readings:
            self.readings.append(text)

    # ---- integers (layers, limits, indices) ----------------------------------------------------

    def int_value(self, name: str) -> int | None:
        if name in self.indices:
            return self.indices[name]
        if name in self.env.constants:
            return self.env.constants[name]
        if name in self.env.sizes:
            return self.env.sizes[name]
        return None

    def int_tokens(self, toks: Script) -> int | None:
        """Evaluate ``L-1``, ``l+1``, ``2``, ``s_{l+1}`` ... as an integer, or None."""
        text = tokens_text(toks).replace(" ", "")
        if not text:
            return None
        total = 0
        sign = 1
        i = 0
        seen = False
        while i < len(text):
            c = text[i]
            if c in "+-":
                sign = 1 if c == "+" else -1
                i += 1
                continue
            j = i
            if c.isdigit():
                while j < len(text) and text[j].isdigit():
                    j += 1
                total += sign * int(text[i:j])
            elif c.isalpha():
                j = i + 1
                v = self.int_value(c)
                if v is None:
                    return None
                total += sign * v
            else:
                return None
            seen = True
            sign = 1
            i = j
        return total if seen else None

    def int_node(self, node: Node) -> int:
        """A limit of a sum or a size: an integer expression of sizes and bound indices."""
        v = self.eval(node)
        if is_matrix(v):
            raise MeaningError("a limit of a sum must be a number")
        v = as_expr(v)
        if not v.is_Integer and v.free_symbols and all(isinstance(f, DefSymbol) for f in v.free_symbols):
            # a preset's whole-number names (L, K, s_{l}) are defined names: read them through
            expanded = as_expr(self.env.expand(v))
            if expanded.is_Integer:
                v = expanded
        if not v.is_Integer:
            raise MeaningError(f"the limit {sp.sstr(v)} of a sum is not a whole number known from sizes")
        return int(v)

    # ---- names ---------------------------------------------------------------------------------

    def sup_texts(self, name: Name) -> list[str]:
        """The layer superscripts as they appear in a key: ``L-1`` with L known is ``2``; one written
        in brackets keeps them (``[2]``)."""
        out = []
        for k, s in enumerate(name.sups):
            v = self.int_tokens(s)
            text = str(v) if v is not None else tokens_text(s).replace(" ", "")
            out.append(f"[{text}]" if name.bracket(k) == "[" else text)
        return out

    def sub_atoms(self, sub: Script) -> list[Script] | None:
        """A subscript read as indices: ``{i,j}`` -> [i], [j]; ``jk`` -> [j], [k]; ``12`` -> [12];
        None when it is not made of indices (``out_{h1}``, ``E_{total}``)."""
        if any(t.kind == "OP" and t.value == "," for t in sub):
            parts: list[list[Token]] = [[]]
            for t in sub:
                if t.kind == "OP" and t.value == ",":
                    parts.append([])
                else:
                    parts[-1].append(t)
            if any(not p for p in parts):
                return None
            return [tuple(p) for p in parts]
        if any(t.kind == "OP" and t.value in "+-" for t in sub):
            return [tuple(sub)]
        atoms: list[Script] = []
        for t in sub:
            if t.kind == "NUM":
                atoms.append((t,))
            elif t.kind == "WORD":
                for k, ch in enumerate(t.value):
                    atoms.append((Token("WORD", ch, t.pos + k),))
            else:
                return None
        for a in atoms:
            t = a[0]
            if t.kind == "WORD" and t.value not in INDEX_LETTERS and self.int_value(t.value) is None:
                return None
            if t.kind == "WORD" and t.value in self.env.examples and self.int_value(t.value) is None:
                return None  # E_n of the example n: a name (each example's when a sum binds n)
        return atoms

    def sub_key(self, sub: Script) -> str:
        """The subscript as it appears in a key, with bound index letters replaced by values."""
        atoms = self.sub_atoms(sub)
        if atoms is not None:
            vals = []
            for a in atoms:
                a = self._swap_index(a)
                v = self.int_tokens(a)
                vals.append(str(v) if v is not None else tokens_text(a))
            return ",".join(vals)
        return tokens_text(sub)

    def _swap_index(self, a: Script) -> Script:
        if self.options.index_swap and len(a) == 1 and a[0].value in self.options.index_swap:
            return (Token("WORD", self.options.index_swap[a[0].value], a[0].pos),)
        return a

    def alias(self, key: str) -> str:
        seen = set()
        while key in self.env.aliases and key not in seen:
            seen.add(key)
            key = self.env.aliases[key]
        return key

    def name_base(self, name: Name) -> str:
        base = canonical_base(name.base)
        return self.alias(base)

    def lookup(self, name: Name) -> tuple[Entry | None, str, str | None]:
        """(entry of the whole name or of its base, the key, the subscript left to index with)."""
        base = self.name_base(name)
        sups = self.sup_texts(name)
        if name.sub is not None:
            full_key = self.alias(make_key(base, sups, self.sub_key(name.sub)))
            if full_key in self.env.entries:
                return self.env.entries[full_key], full_key, None
            raw_key = self.alias(make_key(base, sups, tokens_text(name.sub)))
            if raw_key in self.env.entries:
                return self.env.entries[raw_key], raw_key, None
        base_key = self.alias(make_key(base, sups))
        if base_key in self.env.entries:
            return self.env.entries[base_key], base_key, "sub" if name.sub is not None else None
        if name.sub is not None:
            return None, self.alias(make_key(base, sups, self.sub_key(name.sub))), None
        return None, base_key, None

    def _entry_alias(self, name: Name) -> Name:
        """``symbols: {'\\theta_{10}': '\\Theta^{(1)}_{10}'}``: an alias of a whole name whose target is an
        entry of a matrix is that entry (the target's own subscript indexes it)."""
        if name.sub is None:
            return name
        key = make_key(self.name_base(name), self.sup_texts(name), self.sub_key(name.sub))
        target = self.alias(key)
        if target == key or target in self.env.entries:
            return name
        try:
            parsed = parse_expression(target)
        except ParseError:
            return name
        return parsed if isinstance(parsed, Name) and parsed.sub is not None else name

    def name_value(self, name: Name) -> Value:
        rid = id(name)
        if rid in self.options.rename:
            name = self.options.rename[rid]
        name = self._entry_alias(name)
        base = self.name_base(name)
        generic = self.function_of(name) if not name.sups and name.sub is None else None
        if generic is not None and generic.startswith(GENERIC):
            # u, u' written bare in a rule about functions: u(x), u'(x)
            if name.primes:
                return self.apply_derivative(generic, IMPLICIT_VARIABLE, name.primes)
            return apply_function(generic, [IMPLICIT_VARIABLE])
        if name.primes:
            raise MeaningError(f"{base}' needs an argument, as in {base}'(z)")
        if not name.sups and name.sub is None and name.base in self.indices:
            return sp.Integer(self.indices[name.base])  # a bound index used as a number
        entry, key, rest = self.lookup(name)
        if entry is not None:
            if entry.broken:
                raise MeaningError(f"the definition of {entry.key} has no meaning: {entry.broken}")
            if entry.defined:
                self.used_defined.add(entry.key)
            if rest == "sub":
                return self.index_into(entry, name.sub)  # type: ignore[arg-type]
            if entry.function:
                raise MeaningError(f"{key} is the function {entry.function}; give it an argument")
            return entry.value
        if (base in self.env.functions or base in DIRECT_FUNCTIONS) and name.sub is None and not name.sups:
            raise MeaningError(f"{base} is a function; give it an argument")
        # \delta_{ij}: Kronecker's delta when \delta is not a name of the notes
        if base == "\\delta" and not name.sups and name.sub is not None:
            atoms = self.sub_atoms(name.sub)
            if atoms is not None and len(atoms) == 2:
                a, b = (self.int_tokens(self._swap_index(x)) for x in atoms)
                if a is not None and b is not None:
                    return sp.S.One if a == b else sp.S.Zero
                raise MeaningError(f"the indices of \\delta_{{{tokens_text(name.sub)}}} have no values")
        if base == "e" and len(name.sups) == 1 and name.sub is None:
            # e^{(-z)}: parentheses around an exponent of Euler's number, not a layer
            try:
                exponent = self.eval(parse_script(name.sups[0]))
            except ParseError as err:
                raise MeaningError(f"the exponent of e does not parse: {err}") from None
            return _map(exponent, sp.exp)
        if not name.sups and name.sub is None:
            size = self.int_value(base.lstrip("\\"))
            if size is not None and base.lstrip("\\") in self.env.sizes or base in self.env.constants:
                return sp.Integer(self.int_value(base.lstrip("\\")))  # a size: m, K, n
            if base == "e":
                return sp.E
            if base == "\\pi":
                return sp.pi
        if name.sub is not None:
            atoms = self.sub_atoms(name.sub)
            if atoms is not None:
                for a in atoms:
                    if len(a) == 1 and a[0].kind == "WORD" and self.int_value(a[0].value) is None:
                        raise MeaningError(f"the index {a[0].value} of {key} has no range (no sum binds it)")
        for s in name.sups:
            letters = [t.value for t in s if t.kind == "WORD" and len(t.value) == 1]
            if (
                letters
                and any(ch in INDEX_LETTERS and self.int_value(ch) is None for ch in letters)
                and self.env.layer_values
                and self.env.strict
            ):
                raise UnknownName(key)
        return self.unknown_name(key)

    def unknown_name(self, key: str) -> sp.Symbol:
        if key not in self.unknown:
            if not self.allow_unknown:
                raise UnknownName(key)
            self.unknown[key] = real_symbol(key)
        return self.unknown[key]

    def index_into(self, entry: Entry, sub: Script) -> Value:
        value = entry.value
        atoms = self.sub_atoms(sub)
        rank = 1 if (not is_matrix(value) or value.shape[1] == 1) else 2  # type: ignore[union-attr]
        if atoms is None:
            raise MeaningError(f"{entry.key}_{{{tokens_text(sub)}}} is not an entry of {entry.key}")
        if rank == 2 and len(atoms) == 1 and atoms[0][0].kind == "NUM" and len(atoms[0][0].value) == 2:
            t = atoms[0][0]
            atoms = [(Token("NUM", t.value[0], t.pos),), (Token("NUM", t.value[1], t.pos + 1),)]
        if rank == 1 and len(atoms) == 1 and atoms[0][0].kind == "NUM" and len(atoms[0][0].value) == 2:
            rows = value.shape[0] if is_matrix(value) else 1  # type: ignore[union-attr]
            t = atoms[0][0]
            if int(t.value) >= entry.row0 + rows:  # \theta_{21} of a column: row 2, column 1
                atoms = [(Token("NUM", t.value[0], t.pos),), (Token("NUM", t.value[1], t.pos + 1),)]
        idx = []
        for a in atoms:
            v = self.int_tokens(self._swap_index(a))
            if v is None:
                raise MeaningError(f"the index {tokens_text(a)} of {entry.key} has no value (no sum binds it)")
            idx.append(v)
        if rank == 1 and len(idx) == 2 and idx[1] == entry.col0:
            idx = idx[:1]  # a column vector's entry (i, 1)
        if len(idx) != rank:
            raise MeaningError(
                f"{entry.key} is {shape_text(value)}, so {entry.key}_{{{tokens_text(sub)}}} needs "
                f"{rank} ind{'ex' if rank == 1 else 'ices'}"
            )
        if not is_matrix(value):
            if all(i == entry.row0 for i in idx):
                return value
            if rank == 1 and idx[0] == 0 and entry.zero is not None:
                return entry.zero
            raise IndexRangeError(f"{entry.key} has one entry; index {idx[0]} is out of range")
        rows, cols = value.shape  # type: ignore[union-attr]
        if rank == 1:
            i = idx[0]
            if i == 0 and entry.zero is not None and entry.row0 == 1:
                return entry.zero
            if not entry.row0 <= i < entry.row0 + rows:
                raise IndexRangeError(f"index {i} of {entry.key} is out of range {entry.row0}..{entry.row0 + rows - 1}")
            return value[i - entry.row0, 0]  # type: ignore[index]
        i, j = idx
        if not (entry.row0 <= i < entry.row0 + rows and entry.col0 <= j < entry.col0 + cols):
            raise IndexRangeError(
                f"entry ({i}, {j}) of {entry.key} is out of range (rows {entry.row0}..{entry.row0 + rows - 1},"
                f" columns {entry.col0}..{entry.col0 + cols - 1})"
            )
        return value[i - entry.row0, j - entry.col0]  # type: ignore[index]

    # ---- evaluation ------------------------------------------------------------------------

    def eval(self, node: Node) -> Value:
        method = getattr(self, "eval_" + type(node).__name__)
        return method(node)

    def eval_Given(self, node: Given) -> Value:
        if callable(node.value):  # a value that depends on the index values (the diagnosis's)
            return node.value(self)  # type: ignore[no-any-return]
        return node.value  # type: ignore[return-value]

    def eval_Dots(self, node: Dots) -> Value:
        return self.eval(_rebuilt(node, self))

    def eval_Num(self, node: Num) -> Value:
        return sp.Rational(node.text)

    def eval_Name(self, node: Name) -> Value:
        return self.name_value(node)

    def eval_Neg(self, node: Neg) -> Value:
        return _collapse(-self.eval(node.operand))

    def eval_PlusMinus(self, node: PlusMinus) -> Value:  # the checker reads a claim's ± before this
        raise MeaningError("± stands for two values; only a claim can hold it (read as +, then as −)")

    def eval_BinOp(self, node: BinOp) -> Value:
        if node.op in ("+", "-"):
            return self._eval_sum(node)
        left, right = node.left, node.right
        if id(node) in self.options.swap_operands:
            left, right = right, left
        if node.op == "odot" and self.is_function_name(left) and self.is_function_name(right):
            # (f \circ g): two functions composed, at the implicit variable
            inner = Call(right, [Name("x", pos=right.pos)], pos=right.pos)  # type: ignore[arg-type]
            return self.eval(Call(left, [inner], pos=left.pos))  # type: ignore[arg-type]
        a = self.eval(left)
        b = self.eval(right)
        if node.op == "/":
            if is_matrix(b):
                raise ShapeError(f"cannot divide by {shape_text(b)}")
            if b == 0:
                raise MeaningError("division by zero")
            return _collapse(a / b)
        kind = self.options.product_override.get(id(node))
        return multiply(a, b, "elementwise" if node.op == "odot" and kind is None else kind)

    def is_function_name(self, node: Node) -> bool:
        """A function written bare: ``f`` or ``f'`` in ``f \\circ g``, ``g = \\frac{1}{1+e^{-z}}``."""
        return isinstance(node, Name) and node.sub is None and not node.sups and self.function_of(node) is not None

    def _eval_sum(self, node: BinOp) -> Value:
        """``t0 ± t1 ± ... ± tn``: the parser nests a sum to the left, so its terms are gathered by
        a loop, not by recursion (a flat sum of thousands of terms is fine)."""
        spine: list[BinOp] = []
        n: Node = node
        while isinstance(n, BinOp) and n.op in ("+", "-") and id(n) not in self.options.swap_operands:
            spine.append(n)
            n = n.left
        if any(isinstance(link.right, Dots) for link in spine):
            return self.eval(_rebuilt(node, self))  # x_1 + \cdots + x_n, written out
        if isinstance(n, BinOp) and n.op in ("+", "-"):  # a swapped sum at the bottom
            a = self.eval(n.right)
            a = self._add(a, self.eval(n.left), n.op)
        else:
            a = self.eval(n)
        # scalar terms are gathered into one Add, not thousands of pairwise ones (each re-sorts the sum)
        pending: list[Value] = []
        for link in reversed(spine):
            v = self.eval(link.right)
            if not is_matrix(a) and not is_matrix(v):
                pending.append(v if link.op == "+" else -v)
                continue
            if pending:
                a, pending = _collapse(sp.Add(a, *pending)), []
            a = self._add(a, v, link.op)
        return _collapse(sp.Add(a, *pending)) if pending else a

    @staticmethod
    def _add(a: Value, b: Value, op: str) -> Value:
        # 1 - a^{(l)} with a vector a: the notes mean every entry (as in a .* (1 - a))
        if is_matrix(a) and not is_matrix(b):
            b = sp.ImmutableMatrix(*a.shape, lambda i, j: b)  # type: ignore[union-attr]
        elif is_matrix(b) and not is_matrix(a):
            a = sp.ImmutableMatrix(*b.shape, lambda i, j: a)  # type: ignore[union-attr]
        a, b = broadcast(a, b)
        if is_matrix(a) != is_matrix(b) or shape_of(a) != shape_of(b):
            raise ShapeError(f"cannot add {shape_text(a)} and {shape_text(b)}")
        return _collapse(a + b if op == "+" else a - b)

    def eval_Pow(self, node: Pow) -> Value:
        # y^n, \Theta^{1}: a declared or defined name spelled with a bare superscript
        if isinstance(node.base, Name) and node.raw and not node.base.sups:
            raw = tokens_text(node.raw).strip("{}")
            key = self.alias(make_key(self.name_base(node.base)) + "^{" + raw + "}")
            if node.base.sub is not None:
                key = self.alias(
                    make_key(self.name_base(node.base)) + "^{" + raw + "}_{" + self.sub_key(node.base.sub) + "}"
                )
            if key in self.env.entries:
                return self.env.entries[key].value
            # \Theta^{1} where only \Theta^{(1)} has a meaning: the notes dropped the parentheses
            inner = tuple(t for t in node.raw if not (t.kind == "OP" and t.value in "{}"))
            layered = Name(node.base.base, node.base.sub, (inner,), pos=node.base.pos)
            plain, _k, _r = self.lookup(node.base)
            if plain is None and self.lookup(layered)[0] is not None:
                return self.name_value(layered)
        if self.product_call(node.base):  # a (x)^2 is a times (x)^2
            call = node.base
            self._note_product_reading(call)  # type: ignore[arg-type]
            inner = Pow(call.args[0], node.exponent, pos=node.pos)  # type: ignore[attr-defined]
            return multiply(self.eval(call.func), self.eval(inner), None)  # type: ignore[attr-defined]
        base = self.eval(node.base)
        exp = self.eval(node.exponent)
        if is_matrix(exp):
            raise ShapeError("an exponent must be a scalar")
        if is_matrix(base):
            return _collapse(base.applyfunc(lambda x: x**exp))  # type: ignore[union-attr]
        _refuse_huge_power(base, exp)
        return base**exp

    def product_call(self, node: Node) -> bool:
        """True for ``a (x)`` parsed as a call but meaning a product (a is not a function)."""
        if not isinstance(node, Call) or node.func.primes or len(node.args) != 1:
            return False
        if self.function_of(node.func) is not None:
            return False
        entry, _key, rest = self.lookup(node.func)
        if entry is not None and rest is None:
            if entry.params:
                return False
            if all(isinstance(a, Name) and self._is_parameter_name(a, entry) for a in node.args):
                return False
        return True

    def eval_Transpose(self, node: Transpose) -> Value:
        if self.product_call(node.operand):  # a (x)^T is a times (x)^T
            call = node.operand
            self._note_product_reading(call)  # type: ignore[arg-type]
            arg = self.eval(call.args[0])  # type: ignore[attr-defined]
            arg_t = _collapse(arg.T) if is_matrix(arg) else arg  # type: ignore[union-attr]
            return multiply(self.eval(call.func), arg_t, None)  # type: ignore[attr-defined]
        v = self.eval(node.operand)
        return _collapse(v.T) if is_matrix(v) else v  # type: ignore[union-attr]

    def eval_Prime(self, node: Prime) -> Value:
        """(u)' differentiates by the expression's one variable, or by x when x is one of several
        (Lagrange's f'(x): (cx)' = c); otherwise it is ambiguous and has no meaning."""
        v = self.env.expand(self.eval(node.operand))
        free = _free_symbols(v)
        if not free:
            return _map(v, lambda e: sp.S.Zero)  # (1)' = 0
        named_x = [s for s in free if s.name == "x"]
        if len(free) != 1 and not named_x:
            raise MeaningError("(…)' needs an expression of exactly one variable, or of x; write \\frac{d}{dx}(…)")
        (x,) = named_x or free
        return _map(v, lambda e: sp.diff(e, x))

    def eval_Index(self, node: Index) -> Value:
        v = self.eval(node.operand)
        return self.index_into(Entry("(…)", v), node.sub)

    def eval_Sqrt(self, node: Sqrt) -> Value:
        v = self.eval(node.operand)
        return _map(v, sp.sqrt)

    def eval_Abs(self, node: Abs) -> Value:
        v = self.eval(node.operand)
        return _map(v, sp.Abs)

    def eval_Norm(self, node: Norm) -> Value:
        v = self.eval(node.operand)
        if not is_matrix(v):
            return sp.Abs(v)
        return sp.sqrt(sum((x**2 for x in v), sp.S.Zero))  # type: ignore[union-attr]

    def eval_Matrix(self, node: Matrix) -> Value:
        if any(isinstance(c, Dots) for row in node.rows for c in row):
            return self.eval(_rebuilt(node, self))
        rows = []
        for row in node.rows:
            cells = [self.eval(c) for c in row]
            blocks = [c if is_matrix(c) else sp.ImmutableMatrix([[c]]) for c in cells]
            heights = {b.shape[0] for b in blocks}
            if len(heights) > 1:
                raise ShapeError("the blocks of a matrix row have different heights")
            rows.append(sp.Matrix.hstack(*blocks))
        widths = {r.shape[1] for r in rows}
        if len(widths) > 1:
            raise ShapeError("the rows of the matrix have different widths")
        return _collapse(sp.ImmutableMatrix(sp.Matrix.vstack(*rows)))

    def eval_Cases(self, node: Cases) -> Value:
        pieces = []
        for value_node, cond in node.pieces:
            v = self.eval(value_node)
            if is_matrix(v):
                raise ShapeError("cases must be scalars")
            c = self.condition(cond)
            if c is sp.true:
                pieces.append((v, True))
                break
            if c is sp.false:
                continue
            pieces.append((v, c))
        if not pieces:
            raise MeaningError("no case applies")
        if pieces[0][1] is True:
            return pieces[0][0]
        if pieces[-1][1] is not True:
            pieces.append((sp.nan, True))
        return sp.Piecewise(*pieces)

    def condition(self, cond: Cond) -> sp.Basic:
        if cond.op is None:
            return sp.true
        a = self.eval(cond.left)  # type: ignore[arg-type]
        b = self.eval(cond.right)  # type: ignore[arg-type]
        if is_matrix(a) or is_matrix(b):
            raise ShapeError("a condition compares scalars")
        rel = {"<": sp.Lt, ">": sp.Gt, "<=": sp.Le, ">=": sp.Ge, "=": sp.Eq, "!=": sp.Ne}[cond.op]
        return rel(a, b)

    def eval_Sum(self, node: Sum) -> Value:
        var = node.var
        if var is None:
            body_free = sorted(free_index_letters(node.body, self) - set(self.indices))
            letters = free_index_letters(node.body, Evaluator(self.env)) if not body_free else set()
            if not body_free and len(letters) == 1:
                # \sigma_n = e^{x_n} / \sum e^{x_n}: the bare sum is over the one index it holds,
                # even when the claim's free n is that letter outside the sum
                body_free = sorted(letters)
            if not body_free:
                if isinstance(node.body, Deriv) and node.body.order == 1:
                    # \sum \frac{\partial f}{\partial X} over a vector f (one term per example): the
                    # sum of the derivatives, which is the derivative of the sum, X's shape
                    return self.eval_Deriv(node.body, summed=True)
                v = self.eval(node.body)
                if is_matrix(v):
                    return sum(v, sp.S.Zero)  # type: ignore[arg-type]
                raise MeaningError("a sum with no index (write \\sum_k)")
            if len(body_free) > 1:
                raise MeaningError("a sum with no index over several letters (write \\sum_k)")
            var = body_free[0]
        if node.lo is not None:
            lo = self.int_node(node.lo)
        else:
            lo = None
        if node.hi is not None:
            hi = self.int_node(node.hi)
        else:
            hi = None
        if (lo is None or hi is None) and var in self.env.examples:
            lo = 1 if lo is None else lo
            hi = self.env.examples[var] if hi is None else hi
        if lo is None or hi is None:
            rng = index_range(node.body, var, self)
            if rng is None:
                raise MeaningError(
                    f"the range of the index {var} of the sum is unknown (write \\sum_{{{var}=1}}^{{K}})"
                )
            lo = rng[0] if lo is None else lo
            hi = rng[1] if hi is None else hi
        if lo == 0 and node.lo is not None:
            rng = index_range(node.body, var, self)
            if rng is not None and rng == (1, hi + 1):
                # \sum_{k=0}^{N-1} over N entries: notes that count from 0 mean the same N entries
                lo, hi = 1, hi + 1
        if hi - lo > 400:
            raise MeaningError(f"the sum over {var} has {hi - lo + 1} terms; too many to check on an instance")
        saved = self.indices.get(var)
        total: Value | None = None
        try:
            for k in range(lo, hi + 1):
                self.indices[var] = k
                v = self.eval(node.body)
                if total is None:
                    total = v
                else:
                    if shape_of(total) != shape_of(v) or is_matrix(total) != is_matrix(v):
                        raise ShapeError(f"the terms of the sum over {var} have different shapes")
                    total = total + v
        finally:
            if saved is None:
                self.indices.pop(var, None)
            else:
                self.indices[var] = saved
        return _collapse(total) if total is not None else sp.S.Zero

    # ---- functions and calls -----------------------------------------------------------------

    def function_of(self, name: Name) -> str | None:
        """The registry/builtin function ``name`` stands for, or None."""
        if name.sub is not None or name.sups:
            entry, _key, _ = self.lookup(name)
            if entry is not None and entry.function:
                return entry.function
            return None
        base = self.name_base(name)
        if base in self.env.functions:
            return self.env.functions[base]
        entry = self.env.entries.get(base)
        if entry is not None:
            return entry.function
        if base in COMMAND_FUNCTIONS and not self.env.has_name(base):
            return COMMAND_FUNCTIONS[base]  # \sigma(z) with \sigma not declared: the sigmoid
        return DIRECT_FUNCTIONS.get(base.lstrip("\\")) if base.lstrip("\\") in DIRECT_FUNCTIONS else None

    def eval_Call(self, node: Call) -> Value:
        func = node.func
        fname = self.function_of(func)
        if fname is not None and fname.startswith(GENERIC) and not node.paren:
            # u'v in a rule about functions: u'(x) times v(x), not u' of v
            return multiply(self.eval(func), self.eval(node.args[0]), None)
        if func.primes:
            if fname is None:
                raise MeaningError(
                    f"{self.name_base(func)}' is the derivative of a function, but "
                    f"{self.name_base(func)} is not declared as one (symbols: {{{func.base}: sigmoid}})"
                )
            if len(node.args) != 1:
                raise MeaningError("a derivative f'(x) takes one argument")
            return self.apply_derivative(fname, self.eval(node.args[0]), func.primes)
        if fname is not None:
            args = [self.eval(a) for a in node.args]
            self._note_default_function(func, fname, node)
            return apply_function(fname, args)
        # a name defined as a function of its arguments: h_\Theta(x), J(\Theta)
        entry, key, rest = self.lookup(func)
        if entry is not None and rest is None:
            if entry.params:
                return self.call_defined(entry, node)
            if all(isinstance(a, Name) and self._is_parameter_name(a, entry) for a in node.args):
                return self.eval(func)  # J(\Theta): the name, its argument only says what it depends on
        if len(node.args) != 1:
            raise MeaningError(f"{key} is not a function of {len(node.args)} arguments")
        # a(1 - a): a product
        self._note_product_reading(node)
        return multiply(self.eval(func), self.eval(node.args[0]), None)

    def _note_default_function(self, func: Name, fname: str, node: Call) -> None:
        base = self.name_base(func)
        if base in COMMAND_FUNCTIONS and base not in self.env.functions and COMMAND_FUNCTIONS[base] == fname:
            what = "the sigmoid" if fname == "sigmoid" else f"the registry's {fname.replace('_', ' ')}"
            self.note_reading(f"${call_latex(node)}$ read as {what} (${base}$ is not declared)")

    def _note_product_reading(self, node: Call) -> None:
        """f(x) with f a name nobody declared or defined: a product, and the claim says so."""
        entry, key, _rest = self.lookup(node.func)
        if entry is not None or node.func.primes:
            return
        f = to_latex(node.func).strip()
        arg = _unwrapped(to_latex(node.args[0]))
        self.note_reading(
            f"${call_latex(node)}$ read as the product ${f} \\cdot {_wrapped(arg)}$ "
            f"(${f}$ is not declared as a function)"
        )

    def _is_parameter_name(self, a: Name, defined: Entry) -> bool:
        """True for an argument that names what a function depends on rather than a value: not
        itself a known name (J(\\Theta), J(\\theta)), or a name the definition is written in
        (\\sigma(x) with \\sigma = softmax(x))."""
        entry, _k, _ = self.lookup(a)
        if entry is None:
            return a.sub is None
        if not defined.defined or entry.function or a.sub is not None:
            return False
        # written in it directly: \sigma = softmax(x) is \sigma(x); \delta^{(L)} (\theta^{(L-1)}), whose
        # definition reaches \theta only through other definitions, is a product
        mine = _free_symbols(self.name_value(a))
        direct = set()
        for sym in _free_symbols(defined.value):  # one level: the right side of its own definition
            direct |= _free_symbols(self.env.definition[sym]) if sym in self.env.definition else {sym}
        return bool(mine) and mine <= direct

    def call_defined(self, entry: Entry, node: Call) -> Value:
        if len(node.args) != len(entry.params):
            raise MeaningError(f"{entry.key} takes {len(entry.params)} argument(s), not {len(node.args)}")
        mapping = {}
        same = True
        for pkey, pval, arg in zip(entry.params, entry.param_values, node.args, strict=False):
            if isinstance(arg, Name):
                _e, akey, _r = self.lookup(arg)
                if akey == pkey:
                    continue
            same = False
            v = self.eval(arg)
            if shape_of(v) != shape_of(pval):
                raise ShapeError(f"{entry.key} expects {shape_text(pval)} for {pkey}, not {shape_text(v)}")
            if is_matrix(pval):
                mapping.update(dict(zip(pval, v, strict=False)))  # type: ignore[arg-type]
            else:
                mapping[pval] = v
        if same:
            self.used_defined.add(entry.key)
            return entry.value
        full = self.env.expand(entry.value)
        if is_matrix(full):
            return _collapse(full.xreplace(mapping))  # type: ignore[union-attr]
        return as_expr(full).xreplace(mapping)

    def apply_derivative(self, fname: str, arg: Value, order: int) -> Value:
        t = sp.Dummy("t", real=True)
        f = apply_function(fname, [t])
        if fname.startswith(GENERIC):  # u'(g(x)): the derivative of u, evaluated at g(x)
            return _map(arg, lambda x: sp.diff(f, t, order).subs(t, x))
        if is_matrix(f):
            raise MeaningError(f"{fname}' of a vector is a Jacobian; write \\frac{{\\partial}}{{\\partial z}}")
        d = f
        for _ in range(order):
            d = sp.diff(d, t)
        return _map(arg, lambda x: d.xreplace({t: x}))

    # ---- derivatives ---------------------------------------------------------------------------

    def variable(self, node: Node) -> Value:
        """The symbol(s) a derivative is taken by: an input or a defined name (its placeholder)."""
        if isinstance(node, Call) and not node.func.primes:
            entry, _k, rest = self.lookup(node.func)
            if entry is not None and rest is None:
                return self.variable(node.func)
        if isinstance(node, Pow) and isinstance(node.base, Name):
            v = self.eval_Pow(node)
            if _all_symbols(v):
                self._note_variable(node.base)
                return v
            raise MeaningError("cannot differentiate by a power; declare the name in symbols:")
        if not isinstance(node, Name):
            raise MeaningError("the variable of a derivative must be a name")
        v = self.name_value(node)
        if not _all_symbols(v):
            raise MeaningError("the variable of a derivative must be a name, not a number")
        self._note_variable(node)
        return v

    def _note_variable(self, node: Name) -> None:
        _e, key, _ = self.lookup(node)
        self.derivative_vars.add(key)

    def eval_Deriv(self, node: Deriv, summed: bool = False) -> Value:
        X = self.variable(node.X)
        F = self.eval(node.F)
        if summed and is_matrix(F):
            F = sum(F, sp.S.Zero)  # type: ignore[arg-type]
        opaque = frozenset(s for s in (X if is_matrix(X) else [X]) if isinstance(s, DefSymbol))  # type: ignore[union-attr]
        F = self.env.expand(F, opaque)
        if self.options.transform is not None:
            F = _map(F, self.options.transform)
        result = differentiate(F, X, self.options.derivative_rules)
        if node.order == 2:
            if is_matrix(result) or is_matrix(X):
                raise MeaningError("second derivatives are checked for scalars only")
            result = differentiate(result, X, self.options.derivative_rules)
        return _collapse(result if node.sign > 0 else -result)


# ----------------------------------------------------------------------------------------------
# Helpers: products, functions, differentiation, indices
# ----------------------------------------------------------------------------------------------


def _unwrapped(text: str) -> str:
    """``(x + 1)`` -> ``x + 1`` when the outer parentheses enclose the whole text."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for k, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and k < len(text) - 1:
            return text
    return text[1:-1]


def _wrapped(text: str) -> str:
    return text if re.fullmatch(r"[\\A-Za-z0-9_{}^()]+", text) and "(" not in text else f"({text})"


def call_latex(node: Call) -> str:
    """``f(x + 1)`` as the notes write it (the tree's printer parenthesizes every operation)."""
    return f"{to_latex(node.func).strip()}({', '.join(_unwrapped(to_latex(a)) for a in node.args)})"


def _rebuilt(node: Node, ev: Evaluator) -> Node:
    """``node`` with its ellipses written out (no other side to take hidden entries from)."""
    return expand_ellipsis(node, ev)[0]


def broadcast(a: Value, b: Value) -> tuple[Value, Value]:
    """A bias vector added to a matrix of examples: ``W X + b`` (examples as columns, b a column
    of the rows' size) adds b to every column; ``X W + b`` (examples as rows, b of the columns'
    size) adds it to every row. Other shapes are returned as they are."""
    if not (is_matrix(a) and is_matrix(b)) or a.shape == b.shape:  # type: ignore[union-attr]
        return a, b
    swapped = shape_of(a)[1] == 1 and shape_of(b)[1] > 1 or shape_of(a)[0] == 1 and shape_of(b)[0] > 1
    matrix, vector = (b, a) if swapped else (a, b)
    (r, c), (vr, vc) = shape_of(matrix), shape_of(vector)
    if vc == 1 and vr == r and c > 1:
        wide = sp.ImmutableMatrix(r, c, lambda i, j: vector[i, 0])  # type: ignore[index]
    elif vc == 1 and vr == c and r > 1 or vr == 1 and vc == c and r > 1:
        flat = list(vector)  # type: ignore[arg-type]
        wide = sp.ImmutableMatrix(r, c, lambda i, j: flat[j])
    else:
        return a, b
    return (wide, matrix) if swapped else (matrix, wide)


def multiply(a: Value, b: Value, kind: str | None) -> Value:
    """A product as the notes mean it: scalar × anything; a matrix product where the inner sizes
    agree; elementwise for equal shapes otherwise (or always, for ⊙)."""
    if not is_matrix(a) or not is_matrix(b):
        return _collapse(a * b)
    ra, ca = a.shape  # type: ignore[union-attr]
    rb, cb = b.shape  # type: ignore[union-attr]
    if kind == "elementwise" or (kind is None and ca != rb):
        if a.shape != b.shape:  # type: ignore[union-attr]
            raise ShapeError(f"cannot multiply {shape_text(a)} and {shape_text(b)} elementwise")
        return _collapse(sp.ImmutableMatrix(a.multiply_elementwise(b)))  # type: ignore[union-attr]
    if ca != rb:
        raise ShapeError(f"cannot multiply {shape_text(a)} by {shape_text(b)} (inner sizes differ)")
    return _collapse(sp.ImmutableMatrix(a * b))


MAX_POWER_BITS = 1_000_000  # an exact number written as a power (9^{9^{9}}) has at most this many bits


def _refuse_huge_power(base: Value, exp: Value) -> None:
    """A power of exact numbers too large to compute: Python's integer power would hold the
    interpreter for minutes in C, where no time limit of this thread can stop it."""
    b, e = as_expr(base), as_expr(exp)
    if b.is_Rational and e.is_Integer and b not in (0, 1, -1):
        bits = abs(int(e)) * max(int(b.p).bit_length(), int(b.q).bit_length())  # type: ignore[attr-defined]
        if bits > MAX_POWER_BITS:
            raise MeaningError(f"the number {sp.sstr(b)}^{sp.sstr(e)} is too large to compute (about {bits} bits)")


def _free_symbols(v: Value) -> set[sp.Symbol]:
    items = list(v) if is_matrix(v) else [v]  # type: ignore[arg-type]
    return set().union(*(as_expr(x).free_symbols for x in items))


def _map(v: Value, f: Callable[[sp.Expr], sp.Expr]) -> Value:
    if is_matrix(v):
        return _collapse(v.applyfunc(f))  # type: ignore[union-attr]
    return f(v)


def _all_symbols(v: Value) -> bool:
    items = list(v) if is_matrix(v) else [v]  # type: ignore[arg-type]
    return all(isinstance(x, sp.Symbol) for x in items)


_SCALAR_FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    **rules.FUNCTIONS,
    **{name: act.function for name, act in rules.ACTIVATIONS.items() if act.elementwise},
    **{name: getattr(sp, name) for name in ("exp", "log", "sqrt", "sin", "cos", "sinh", "cosh", "erf")},
    "step": rules.step,
}


def apply_function(fname: str, args: list[Value]) -> Value:
    if fname in ("max", "min"):
        if any(is_matrix(a) for a in args) or len(args) < 2:
            raise MeaningError(f"{fname} takes two or more scalars")
        return (sp.Max if fname == "max" else sp.Min)(*args)
    if len(args) != 1:
        raise MeaningError(f"{fname} takes one argument")
    (x,) = args
    fname = DIRECT_FUNCTIONS.get(fname, fname)  # swish -> silu, ReLU -> relu
    if fname.startswith(GENERIC):
        f = sp.Function(fname[len(GENERIC) :])
        return _map(x, lambda a: f(a))
    vector = rules.ACTIVATIONS[fname].vector if fname in rules.ACTIVATIONS else None
    if vector is not None:
        if not is_matrix(x):
            raise ShapeError(f"{fname} takes a vector")
        cols = x.shape[1]  # type: ignore[union-attr]
        if cols != 1:
            raise ShapeError(f"{fname} takes a column vector")
        return sp.ImmutableMatrix(vector(list(x)))  # type: ignore[arg-type]
    f = _SCALAR_FUNCTIONS.get(fname)
    if f is None:
        raise MeaningError(f"unknown function {fname}")
    return _map(x, f)


def differentiate(F: Value, X: Value, derivative_rules: dict | None = None) -> Value:
    """∂F/∂X: scalar by scalar; scalar by a matrix (X's shape); vector by vector (the Jacobian,
    entry (i, j) = ∂F_i/∂X_j); a matrix by a scalar (entrywise)."""

    def d(f: sp.Expr, x: sp.Symbol) -> sp.Expr:
        if derivative_rules:
            return _diff_with_rules(f, x, derivative_rules)
        return sp.diff(f, x)

    if not is_matrix(X):
        if is_matrix(F):
            return _collapse(F.applyfunc(lambda f: d(f, X)))  # type: ignore[union-attr]
        return d(F, X)
    if not is_matrix(F):
        return _collapse(X.applyfunc(lambda x: d(F, x)))  # type: ignore[union-attr]
    fr, fc = F.shape  # type: ignore[union-attr]
    xr, xc = X.shape  # type: ignore[union-attr]
    if fc == 1 and xc == 1:
        return _collapse(sp.ImmutableMatrix(fr, xr, lambda i, j: d(F[i, 0], X[j, 0])))  # type: ignore[index]
    # a tensor: the notes write such chain-rule factors loosely, and no reading of them is certain
    raise MeaningError(
        f"the derivative of {shape_text(F)} by {shape_text(X)} is a tensor; only scalar-by-matrix and "
        "vector-by-vector derivatives have a meaning"
    )


class _Surrogate:
    """Builds stand-ins for registry functions whose derivative follows another rule (the
    diagnosis asks: does the claim hold if tanh' were computed like sigmoid'?)."""


def _diff_with_rules(f: sp.Expr, x: sp.Symbol, rules_map: dict) -> sp.Expr:
    replaced = f
    back = {}
    for cls, rule in rules_map.items():
        fake = type(
            f"wrong_{cls.__name__}",
            (sp.Function,),
            {
                "nargs": 1,
                "fdiff": (lambda rule_: lambda self, argindex=1: rule_(self))(rule),
            },
        )
        replaced = replaced.replace(cls, fake)
        back[fake] = cls
    out = sp.diff(replaced, x)
    for fake, cls in back.items():
        out = out.replace(fake, cls)
    return out


def index_range(node: Node, var: str, ev: Evaluator) -> tuple[int, int] | None:
    """The range of index ``var`` from the shapes it indexes inside ``node`` (None if none)."""
    ranges: list[tuple[int, int]] = []
    for name in _names(node):
        if name.sub is None:
            continue
        atoms = ev.sub_atoms(name.sub)
        if atoms is None:
            continue
        pos = [k for k, a in enumerate(atoms) if len(a) == 1 and a[0].value == var]
        if not pos:
            continue
        base = ev.name_base(name)
        try:
            sups = ev.sup_texts(name)
        except Exception:  # noqa: BLE001 - a probe: any failure means "no information"
            continue
        entry = ev.env.entries.get(ev.alias(make_key(base, sups)))
        if entry is None:
            continue
        v = entry.value
        shape = shape_of(v)
        rank = 1 if shape[1] == 1 else 2
        for p in pos:
            if rank == 1 and len(atoms) == 1:
                ranges.append((entry.row0, entry.row0 + shape[0] - 1))
            elif rank == 2 and len(atoms) == 2:
                if p == 0:
                    ranges.append((entry.row0, entry.row0 + shape[0] - 1))
                else:
                    ranges.append((entry.col0, entry.col0 + shape[1] - 1))
    if not ranges:
        return None
    lo = max(r[0] for r in ranges)
    hi = min(r[1] for r in ranges)
    return (lo, hi) if lo <= hi else None


def _names(node: Node) -> Iterable[Name]:
    for n in walk(node):
        if isinstance(n, Name):
            yield n


def free_index_letters(node: Node, ev: Evaluator | None = None) -> set[str]:
    """Index letters used in subscripts or layer superscripts that no sum binds. A bare
    ``\\sum`` binds the letters that occur only inside it (``\\sum e^{x_n}`` sums over n)."""
    outside: set[str] = set()
    inside_bare: set[str] = set()

    # a loop with a stack, not recursion: a flat sum of thousands of terms nests that deep
    stack: list[tuple[Node, frozenset, set[str]]] = [(node, frozenset(), outside)]
    while stack:
        n, bound, found = stack.pop()
        if isinstance(n, Sum):
            if n.var is None:
                stack.append((n.body, bound, inside_bare))
            else:
                stack.append((n.body, bound | {n.var}, found))
            for c in (n.hi, n.lo):
                if c is not None:
                    stack.append((c, bound, found))
            continue
        if isinstance(n, Name):
            scripts = list(n.sups) + ([n.sub] if n.sub is not None else [])
            for s in scripts:
                if n.sub is not None and s is n.sub and ev is not None and ev.sub_atoms(s) is None:
                    continue
                for t in s:
                    if t.kind == "WORD" and (len(t.value) == 1 or s is n.sub):
                        for ch in t.value:
                            if ch in INDEX_LETTERS and ch not in bound:
                                if ev is None or ev.int_value(ch) is None and ch not in ev.env.examples:
                                    found.add(ch)
        stack.extend((c, bound, found) for c in reversed(children(n)))
    return outside


def enumerate_assignments(
    letters: list[str], ranges: dict[str, tuple[int, int]], limit: int = 400
) -> list[dict[str, int]]:
    spans = [range(ranges[c][0], ranges[c][1] + 1) for c in letters]
    out = []
    for combo in itertools.product(*spans):
        out.append(dict(zip(letters, combo, strict=False)))
        if len(out) >= limit:
            break
    return out
