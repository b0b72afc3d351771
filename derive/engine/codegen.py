"""Staged code generation: the registry's proved closed forms printed as array code.

The generated module holds two functions, ``forward(params, X)`` and ``loss_and_grad(params, X,
Y)``, written one line per intermediate (Z1, A1, …, D_L, gW, gb) in the order backpropagation
computes them. Nothing is written by hand per activation or loss: every elementwise line is a
SymPy expression taken from ``derive.rules`` and printed by :class:`ArrayPrinter`, a
``NumPyPrinter`` subclass whose module is the array namespace ``xp``.

How whole arrays become SymPy:

* An elementwise formula of one unit is also valid array code under broadcasting, so arrays are
  plain SymPy symbols (``Z1``, ``A1``, ``Y``) in elementwise lines; ``Activation.apply`` and
  ``Activation.derivative(z, a)`` are applied to those symbols directly.
* Formulas that sum over the units of a layer (a loss, softmax) come from the registry as
  per-unit expressions over a few columns ``z_0, z_1, z_2``. :func:`vectorize` recognises each
  complete sum over the columns and writes it as ``RowSum`` of one array expression.
* Matrix products are ``MatrixSymbol`` products printed as explicit lines (``X @ W1.T``): the
  transposes go to BLAS as flags, nothing is copied.
* ``exp`` of the logits is shifted by the row maximum (e^z = e^M e^{z−M}, exact), after which
  ``RowSum`` factors e^M out and SymPy cancels it: log-sum-exp and the stable softmax fall out of
  the registry's own formulas instead of being written separately.

Common subexpressions are shared with ``sympy.cse``. The source is compiled once; it never
imports SymPy.

The same lines are printed a second time as ``loss_and_grad_into(params, X, Y, ws)``, the
function the engine runs on NumPy: each intermediate is written into a buffer of the workspace
``ws = workspace(X, dtype)`` (allocated once per batch shape and reused), an elementwise line
becomes one nested call of ufuncs with ``out=`` (``xp.multiply(xp.subtract(k2, A1, out=D1), A1,
out=D1)``), scalars are 0-d arrays of the right dtype, and sums over an axis are matrix-vector
products with a vector of ones. Same closed forms, no allocation per call. Registry functions are
evaluated there in their textbook exp form where an overflow of e^u is harmless (σ(z) =
1/(1 + e^{−z}), one exp per entry: see ``_in_place_form``), and a hidden layer's bias joins its
activation's line when z is not read again (−(Z + b) as (−b) − Z: one pass over the array).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from ..errors import DeriveError
from ..model import rules

if TYPE_CHECKING:  # typing only: network imports this module lazily
    from ..model.network import Network

__all__ = [
    "ArrayPrinter",
    "CodegenError",
    "ColSum",
    "Dot",
    "GeneratedSource",
    "RowMax",
    "RowSum",
    "Total",
    "generate_source",
    "vectorize",
]

N_COLUMNS = 3  # columns used to read a per-unit formula; 3 tells a sum over units from a pair
DOT_MAX_ENTRIES = 4096  # matrix products with outputs up to this size call xp.dot (see _product)


class CodegenError(DeriveError):
    """A rule whose closed form cannot be turned into array code (names the rule)."""


# --------------------------------------------------------------------------------------------
# Array symbols and the reductions the printer knows.
# --------------------------------------------------------------------------------------------


class RowSymbol(sp.Symbol):
    """An array with one value per example (shape (m, 1)): constant along a row of units."""


def _array(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _is_row_level(expr: sp.Expr) -> bool:
    """True when ``expr`` has one value per example (it broadcasts along the units)."""
    if expr.is_number or isinstance(expr, (RowSymbol, RowSum, RowMax)):
        return True
    if expr.is_Atom:
        return False
    return all(_is_row_level(arg) for arg in expr.args)


class RowSum(sp.Function):
    """Σ over the units of a layer, one value per example (``keepdims`` so it broadcasts)."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        # Linearity: factors constant along the row (numbers, row maxima, e^M) come outside.
        if arg.is_Mul:
            outside = [f for f in arg.args if _is_row_level(f)]
            inside = [f for f in arg.args if not _is_row_level(f)]
            if outside and inside:
                return sp.Mul(*outside) * cls(sp.Mul(*inside))
        return None


class RowMax(sp.Function):
    """max over the units of a layer, one value per example."""

    nargs = 1


class Total(sp.Function):
    """Σ over every entry of an array: a scalar."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        # Numbers come outside (Σ ½e² = ½ Σ e²): scaled once as a scalar, not entry by entry.
        coeff, rest = arg.as_coeff_Mul()
        if coeff != 1 and rest != 1:
            return coeff * cls(rest)
        return None


class Dot(sp.Function):
    """Σ over every entry of a ⊙ b (a scalar): one BLAS dot instead of a product and a sum."""

    nargs = 2


class ColSum(sp.Function):
    """Σ over the examples (rows): the bias gradient of a layer."""

    nargs = 1


# --------------------------------------------------------------------------------------------
# The printer.
# --------------------------------------------------------------------------------------------


class ArrayPrinter(NumPyPrinter):
    """``NumPyPrinter`` for an array namespace called ``xp`` (NumPy, PyTorch, CuPy, …).

    The registry's functions print themselves through ``_numpycode`` using ``printer._module``,
    and SymPy's known functions come as ``numpy.<name>``; both go through ``_module_format``,
    which is the one place the module name is chosen. ``module_imports['xp']`` records every
    namespace function the generated code uses.
    """

    def __init__(self, scalars: Iterable[sp.Symbol] = ()) -> None:
        super().__init__({"fully_qualified_modules": True})
        self._module = "xp"  # printmethod stays ``_numpycode``: set before, from the class attr
        self._scalars = frozenset(scalars)

    def _module_format(self, fqn: str, register: bool = True) -> str:
        if fqn.startswith("numpy."):
            fqn = "xp." + fqn[len("numpy.") :]
        return super()._module_format(fqn, register)

    def _reduction(self, func: str, arg: sp.Expr, axis: str, keepdims: bool = False) -> str:
        keep = ", keepdims=True" if keepdims else ""
        return f"{self._module_format('xp.' + func)}({self._print(arg)}, axis={axis}{keep})"

    def _print_RowSum(self, expr: RowSum) -> str:
        return self._reduction("sum", expr.args[0], "1", keepdims=True)

    def _print_RowMax(self, expr: RowMax) -> str:
        return self._reduction("max", expr.args[0], "1", keepdims=True)

    def _print_Total(self, expr: Total) -> str:
        return self._reduction("sum", expr.args[0], "None")

    def _print_Dot(self, expr: Dot) -> str:
        a, b = (self._print(arg) for arg in expr.args)
        return f"{self._module_format('xp.vdot')}({a}, {b})"

    def _print_ColSum(self, expr: ColSum) -> str:
        return self._reduction("sum", expr.args[0], "0")

    def _pairwise(self, func: str, expr: sp.Expr) -> str:
        first, *rest = expr.args
        code = self._print(first)
        for arg in rest:  # max(a, b, c) = maximum(maximum(a, b), c)
            code = f"{self._module_format('xp.' + func)}({code}, {self._print(arg)})"
        return code

    def _print_Max(self, expr: sp.Max) -> str:
        return self._pairwise("maximum", expr)

    def _print_Min(self, expr: sp.Min) -> str:
        return self._pairwise("minimum", expr)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.is_number and not expr.is_Rational:  # √2, √π: a float literal every namespace takes
            return repr(float(expr))
        return super()._print_Pow(expr, rational)

    def _print_Rational(self, expr: sp.Rational) -> str:
        return repr(float(expr))  # 0.5, not (1/2): one literal

    def _print_Pi(self, expr: sp.Expr) -> str:
        return repr(float(expr))

    def _print_erf(self, expr: sp.erf) -> str:
        return f"{self._module_format('xp.erf')}({self._print(expr.args[0])})"

    def _print_MatMul(self, expr: sp.MatMul) -> str:
        return " @ ".join(self._print(arg) for arg in expr.args)  # operands are named arrays

    def _print_Transpose(self, expr: sp.Transpose) -> str:
        return f"{self._print(expr.arg)}.T"  # a view: BLAS reads it with a transpose flag

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        # ``Z - M`` rather than SymPy's ``-M + Z``: a leading minus would cost a negation pass.
        terms = list(self._as_ordered_terms(expr, order=order))
        positive = [t for t in terms if not _is_negated(t)]
        if positive and positive[0] is not terms[0]:
            terms.remove(positive[0])
            terms.insert(0, positive[0])
        out = self.parenthesize(terms[0], 40) if not _is_negated(terms[0]) else "-" + self.parenthesize(-terms[0], 50)
        for term in terms[1:]:
            if _is_negated(term):
                out += " - " + self.parenthesize(-term, 41)
            else:
                out += " + " + self.parenthesize(term, 40)
        return out

    def _print_Mul(self, expr: sp.Mul) -> str:
        numbers = [f for f in expr.args if f.is_number]
        others = [f for f in expr.args if not f.is_number]
        number = sp.Mul(*numbers)
        if others and numbers and not number.is_Integer:
            # numbers folded into one float literal: ½·√2 is 0.7071067811865476, ½ is 0.5, not (1/2)
            sign, number = ("-", -number) if number < 0 else ("", number)
            return f"{sign}{float(number)!r}*{self.parenthesize(sp.Mul(*others), 50)}"
        # Multiply the Python scalars (numbers, 1/m, λ) together before they touch an array:
        # one array operation for the lot instead of one per scalar factor.
        scalar = [f for f in expr.args if f.is_number or f in self._scalars]
        array = [f for f in expr.args if not (f.is_number or f in self._scalars)]
        if len(scalar) > 1 and array or len(scalar) == 1 and len(array) > 1 and scalar[0] != -1:
            head = sp.Mul(*scalar)
            tail = sp.Mul(*array)
            head_code = super()._print_Mul(head) if head.is_Mul else self._print(head)
            return f"({head_code})*{self.parenthesize(tail, 50)}"
        return super()._print_Mul(expr)


def _is_negated(term: sp.Expr) -> bool:
    return term.could_extract_minus_sign()


# --------------------------------------------------------------------------------------------
# Per-unit formulas to array formulas.
# --------------------------------------------------------------------------------------------


def vectorize(expr: sp.Expr, columns: dict[sp.Symbol, tuple[int, sp.Symbol]], unit: int | None) -> sp.Expr:
    """Rewrite a formula written over per-unit symbols as an array formula.

    ``columns`` maps each per-unit symbol (z_k, y_k, a_k) to its column k and its array symbol.
    A complete sum over the columns of one term becomes ``RowSum(term)``; a symbol of column
    ``unit`` (the unit whose value is being written, or None for a per-example scalar) becomes
    its array. Anything else (a lone symbol of another column) cannot be array code: error.
    """
    ks = sorted({k for k, _ in (columns[s] for s in expr.free_symbols if s in columns)})
    if not ks:
        return expr
    by_column = [{s: arr for s, (k, arr) in columns.items() if k == col} for col in range(N_COLUMNS)]
    if ks == [unit]:
        return expr.xreplace(by_column[unit])
    if expr.is_Add:
        groups: dict[sp.Expr, list[int]] = {}
        rest: list[sp.Expr] = []
        for term in expr.args:
            term_ks = {columns[s][0] for s in term.free_symbols if s in columns}
            if len(term_ks) == 1:
                (k,) = term_ks
                groups.setdefault(term.xreplace(by_column[k]), []).append(k)
            else:
                rest.append(term)
        out = [vectorize(t, columns, unit) for t in rest]
        for generic, cols in groups.items():
            if sorted(cols) == list(range(N_COLUMNS)):
                out.append(RowSum(generic))
            elif cols == [unit]:
                out.append(generic)
            else:
                raise CodegenError(f"cannot write {expr} as array code: {generic} is not summed over every unit")
        return sp.Add(*out)
    if expr.is_Atom:
        raise CodegenError(f"cannot write {expr} as array code: it names unit {ks[0]} outside a sum")
    return expr.func(*[vectorize(arg, columns, unit) for arg in expr.args])


def _shift_exponentials(exprs: list[sp.Expr], z: sp.Symbol, m: RowSymbol, s: sp.Symbol) -> list[sp.Expr]:
    """Replace e^z by e^M e^{z−M} (M the row maximum, s = z − M ≤ 0): exact, and overflow-free.

    ``RowSum`` takes e^M outside its sums, so e^M cancels in softmax and leaves log-sum-exp as
    M + log Σ e^{z−M} after ``expand_log``. An e^M or e^z left over would overflow: refused.
    """
    shifted = []
    for expr in exprs:
        out = expr.replace(lambda e: isinstance(e, sp.exp) and e.args[0] == z, lambda e: sp.exp(m) * sp.exp(s))
        out = sp.expand_log(out, force=True)
        leftover = [e for e in out.atoms(sp.exp) if e.args[0] != s]
        if leftover:
            raise CodegenError(f"cannot make {expr} overflow-free: {leftover[0]} remains after the shift")
        shifted.append(out)
    return shifted


def _total(row_expr: sp.Expr) -> sp.Expr:
    """Σ over the examples of a per-example expression, with Σ_rows RowSum(e) = Total(e)."""
    inside: list[sp.Expr] = []
    rest: list[sp.Expr] = []
    for term in sp.Add.make_args(row_expr):
        coeff, body = term.as_coeff_Mul()
        if isinstance(body, RowSum):
            inside.append(coeff * body.args[0])
        else:
            rest.append(term)
    parts = []
    if inside:
        parts.append(Total(sp.Add(*inside)))
    if rest:
        parts.append(Total(sp.Add(*rest)))
    return _as_dots(sp.Add(*parts))


def _as_dots(expr: sp.Expr) -> sp.Expr:
    """Total(a·b) and Total(a²) of whole arrays as Dot(a, b): one pass, no temporary array."""

    def full_width(e: sp.Expr) -> bool:
        return not _is_row_level(e)

    def rewrite(total: Total) -> sp.Expr:
        arg = total.args[0]
        if arg.is_Pow and arg.exp == 2 and full_width(arg.base):
            return Dot(arg.base, arg.base)
        if arg.is_Mul and len(arg.args) == 2 and all(full_width(f) for f in arg.args):
            return Dot(*arg.args)
        return total

    return expr.replace(lambda e: isinstance(e, Total), rewrite)


# --------------------------------------------------------------------------------------------
# The program: a list of lines, printed.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedSource:
    """The generated module: its ``source`` and the namespace functions it calls (``xp.<name>``)."""

    source: str
    namespace_functions: frozenset[str]  # used by forward and loss_and_grad
    net_label: str
    buffered_functions: frozenset[str] = frozenset()  # used by workspace and loss_and_grad_into


class _Function:
    """One generated function being written: lines, in order, each printed by the printer."""

    folds_bias = False  # True: a bias read by one line only is added inside it (see forward_lines)

    def __init__(self, printer: ArrayPrinter, names: Iterable[str]) -> None:
        self.printer = printer
        self.lines: list[str] = []
        self._names = names

    def comment(self, text: str) -> None:
        self.lines.append(f"# {text}")

    def assign(self, target: str, expr: sp.Basic) -> None:
        self.lines.append(f"{target} = {self.printer.doprint(expr)}")

    def update(self, target: str, op: str, expr: sp.Basic) -> None:
        """In place (``Z += b``): the left side is a fresh intermediate this function owns."""
        self.lines.append(f"{target} {op}= {self.printer.doprint(expr)}")

    def raw(self, line: str) -> None:
        self.lines.append(line)

    def define_inv_m(self) -> None:
        self.lines.append("inv_m = 1.0 / X.shape[0]")

    def shared(self, targets: Sequence[str], exprs: Sequence[sp.Expr]) -> None:
        """Assign several expressions, common subexpressions computed once (``sympy.cse``)."""
        # factor_terms: 2A − 2Y back to 2(A − Y), so A − Y is seen as shared and costs one pass.
        replacements, reduced = sp.cse([sp.factor_terms(e) for e in exprs], symbols=self._names)
        pending = [(str(sym), sub) for sym, sub in replacements]
        pending += [(t, e) for t, e in zip(targets, reduced, strict=True) if e != sp.Symbol(t, real=True)]
        # A shared subexpression may use a target of the same group (A_L in J and δ): emit each
        # line once everything it reads from this group exists, keeping cse's order otherwise.
        defined_here = {name for name, _ in pending}
        done: set[str] = set()
        while pending:
            for i, (name, expr) in enumerate(pending):
                reads = {str(s) for s in expr.free_symbols} & defined_here
                if reads <= done:
                    self.assign(name, expr)
                    done.add(name)
                    del pending[i]
                    break
            else:
                raise CodegenError(f"circular definitions among {[n for n, _ in pending]}")

    def render(self, signature: str, doc: str, returns: str) -> str:
        body = [f'    """{doc}"""'] + [f"    {line}" for line in self.lines] + [f"    return {returns}"]
        return f"def {signature}:\n" + "\n".join(body) + "\n"


_UFUNCS = {"exp", "log", "tanh", "sinh", "cosh", "sqrt", "log1p", "expm1"}  # f(x, out=...) in place
_INPUTS = {sp.Symbol("X", real=True), sp.Symbol("Y", real=True)}  # the caller's arrays, of any dtype


_IN_PLACE_ATOMS = (sp.Symbol, sp.Number, sp.NumberSymbol, sp.exp)  # what a textbook exp form may hold
_UFUNC_CLASSES = (sp.exp, sp.log, sp.tanh, sp.sinh, sp.cosh)  # one-argument ufuncs with out=


@functools.cache
def _in_place_form(func: type[sp.Function]) -> tuple[sp.Expr, sp.Symbol, bool] | None:
    """The form of a registry function that the buffered code evaluates step by step, in place.

    Returns ``(form, x, overflows)``: the form as a SymPy tree in the variable ``x``, and whether
    some e^u in it may overflow. The textbook exp form comes first (``rewrite(exp)``, e.g.
    σ(x) = 1/(1 + e^{−x})): it costs one e^u, the function the hand-written reference calls too,
    which is cheaper than tanh on every NumPy build measured (2x without AVX-512) and keeps the
    relative accuracy of σ(x) for x ≪ 0. It is taken only when an overflow of e^u is harmless:
    with e^u replaced by +∞ the form must stay finite (σ: 1/(1 + ∞) = 0). SymPy's extended reals
    follow IEEE's rules for inf (1 + ∞ = ∞, 1/∞ = 0; ∞ − ∞, 0·∞, ∞/∞ undefined), so where e^u
    overflows the printed line gives that limit, and the line runs with overflow ignored. For σ
    the limit 0 is the underflow of a true value below the smallest normal number (e^{−x} > max
    means σ(x) < 1/max). Otherwise the rule's overflow-free form, when it is made of in-place
    operations (σ's tanh form); otherwise None (a direct call of the rule's printed form).
    """
    x = sp.Dummy("x", real=True)
    form = func.textbook(x)
    if _arithmetic_of(form, _IN_PLACE_ATOMS):
        exps = form.atoms(sp.exp)
        if all(form.subs(e, sp.oo).is_finite for e in exps):
            return form, x, bool(exps)
    stable = func.stable(x) if func.stable is not None else None
    if stable is not None and stable != form and _arithmetic_of(stable, _IN_PLACE_ATOMS + _UFUNC_CLASSES):
        return stable, x, False
    return None


def _arithmetic_of(form: sp.Expr, atoms: tuple[type, ...]) -> bool:
    """Whether ``form`` is sums, products and powers of ``atoms`` only (what is evaluated in place)."""
    return all(isinstance(a, atoms) or a.is_Add or a.is_Mul or a.is_Pow for a in sp.preorder_traversal(form))


def _in_place_forms(expr: sp.Expr) -> tuple[sp.Expr, bool]:
    """``expr`` with each registry function in its in-place form, and whether an e^u may overflow."""
    overflows = False

    def rewrite(call: sp.Function) -> sp.Expr:
        nonlocal overflows
        found = _in_place_form(type(call))
        if found is None:
            return call
        form, x, may_overflow = found
        overflows |= may_overflow
        return form.xreplace({x: call.args[0]})

    out = expr.replace(
        lambda e: rules.is_defined(e) and len(e.args) == 1, rewrite
    )
    return out, overflows


class _BufferedFunction(_Function):
    """The same lines, each array intermediate written into a preallocated buffer (``out=``).

    Every intermediate of shape (m, n) gets a buffer of the workspace, allocated once per batch
    size and dtype and reused by every call: no allocation, no page faults on large batches.
    An elementwise expression becomes one nested call of ufuncs that all write into the target
    buffer, e.g. ``xp.multiply(xp.subtract(1, A1, out=D1), P1, out=D1)``; a second non-trivial
    operand goes to a scratch buffer. Matrix products write into their buffer too (``out=Z``,
    with ``xp.matmul`` or ``xp.dot``: see ``_product``). Registry functions with no in-place
    form (ReLU, softplus) and the returned gradients allocate as usual.
    """

    folds_bias = True  # b − u in one pass saves the separate Z += b over the whole array

    def __init__(self, printer: ArrayPrinter, names: Iterable[sp.Symbol], shapes: dict[str, tuple[str, ...]]):
        super().__init__(printer, names)
        self.shapes = dict(shapes)
        self.buffers: dict[str, tuple[str, ...]] = {}
        self.constants: dict[str, str] = {}  # name -> value, as 0-d arrays of the buffers' dtype
        self.extras: dict[str, str] = {}  # name -> code: views of buffers, vectors of ones
        self._scratch_used: dict[tuple[str, ...], int] = {}
        # What each statement reads and writes, and which names are other names (A2 = Z2): the
        # liveness that lets intermediates whose lives do not overlap share one buffer.
        self.events: list[tuple[frozenset[str], frozenset[str]]] = []
        self.aliases: dict[str, str] = {}
        self._statement_scratch: list[str] = []

    def define_inv_m(self) -> None:
        # 1/m twice: a Python float for scalar arithmetic (the cost J), where a 0-d array would cost
        # a ufunc call, and a 0-d array ``inv_m_`` for ufunc operands (fixed per workspace).
        super().define_inv_m()
        self.constants["inv_m_"] = "inv_m"

    def _scalar(self, expr: sp.Basic) -> str:
        """A scalar operand as a workspace constant: a 0-d array of the buffers' dtype.

        A Python float costs a ufunc about 0.4 µs of conversion on every call (a quarter of a
        small elementwise operation); a 0-d array of the right dtype costs nothing and keeps
        float32 arithmetic in float32.
        """
        value = self.printer.doprint(expr)
        for name, known in self.constants.items():
            if known == value:
                return name
        name = f"k{len(self.constants)}"
        self.constants[name] = value
        return name

    def _ones(self, n: str) -> str:
        """A vector of n ones: Σ over an axis as a BLAS matrix-vector product (see ``_sum_axis``)."""
        name = f"ones_{n}"
        self.extras[name] = f"xp.ones({n}, dtype=dtype)"
        return name

    def _flat(self, buffer: str) -> str:
        """The (m,) view of an (m, 1) buffer, for products that write a vector."""
        name = f"{buffer}_v"
        self.extras[name] = f"{buffer}.reshape(m)"
        return name

    def _leaf(self, expr: sp.Basic) -> str:
        if (
            expr.is_number
            or expr in self.printer._scalars
            or (
                expr.free_symbols
                and all(s in self.printer._scalars for s in expr.free_symbols)
                and not expr.atoms(sp.Function)
            )
        ):
            return self._scalar(expr)
        return self.printer.doprint(expr)

    # ---- shapes and buffers ------------------------------------------------------------

    def shape(self, expr: sp.Basic) -> tuple[str, ...]:
        if isinstance(expr, (RowSum, RowMax)):
            return ("m", "1")
        if isinstance(expr, (Total, ColSum, Dot)) or expr.is_number:
            return ()
        if expr.is_Symbol:
            return self.shapes.get(str(expr), ())
        best: tuple[str, ...] = ()
        for arg in expr.args:
            s = self.shape(arg)
            if len(s) > len(best) or (len(s) == 2 and best[1:] == ("1",) and s[1] != "1"):
                best = s
        return best

    def _buffer(self, name: str, shape: tuple[str, ...]) -> str:
        if self.buffers.setdefault(name, shape) != shape:
            raise CodegenError(f"buffer {name} used with shapes {self.buffers[name]} and {shape}")
        return name

    def _scratch(self, shape: tuple[str, ...]) -> str:
        k = self._scratch_used.get(shape, 0)
        self._scratch_used[shape] = k + 1
        kind = f"v{shape[0]}" if len(shape) == 1 else "r" if shape[1] == "1" else shape[1]
        name = self._buffer(f"s{kind}_{k}", shape)
        self._statement_scratch.append(name)
        return name

    def _record(self, reads: Iterable[str], writes: Iterable[str]) -> None:
        scratch = set(self._statement_scratch)
        self._statement_scratch = []
        self.events.append((frozenset(reads) | scratch, frozenset(writes) | scratch))

    # ---- printing into a buffer ----------------------------------------------------------

    def _is_direct(self, expr: sp.Basic) -> bool:
        """Used as it is (a name, a number, a scalar, or a call with no in-place form)."""
        if expr.is_Symbol or expr.is_number or self.shape(expr) == ():
            return True
        if isinstance(expr, (RowSum, RowMax)) or expr.is_Add or expr.is_Mul or expr.is_Pow:
            return False
        return not (isinstance(expr, sp.Function) and type(expr).__name__ in _UFUNCS)

    def _operand(self, expr: sp.Basic) -> str:
        if self._is_direct(expr):
            return self._leaf(expr)
        return self._into(expr, self._scratch(self.shape(expr)))

    def _first(self, expr: sp.Basic, out: str) -> str:
        return self._leaf(expr) if self._is_direct(expr) else self._into(expr, out)

    def _into(self, expr: sp.Basic, out: str) -> str:
        """Code that evaluates ``expr`` into the buffer ``out`` (and returns it)."""
        p = self.printer.doprint
        if expr.is_Add:
            return self._sum_into(list(expr.args), out)
        if expr.is_Mul:
            coeff = sp.Mul(*[f for f in expr.args if f.is_number or f in self.printer._scalars])
            rest = [f for f in expr.args if not (f.is_number or f in self.printer._scalars)]
            numer = sorted([f for f in rest if not (f.is_Pow and f.exp == -1)], key=self._is_direct)
            denom = [f.base for f in rest if f.is_Pow and f.exp == -1]
            if not numer:  # c / d: d into ``out`` first, then one division (no scratch buffer)
                code = f"xp.divide({self._scalar(coeff)}, {self._first(denom[0], out)}, out={out})"
                numer, denom, coeff = [], denom[1:], sp.S.One
            else:
                code = self._first(numer[0], out)
            for f in numer[1:]:
                code = f"xp.multiply({code}, {self._operand(f)}, out={out})"
            for d in denom:
                code = f"xp.divide({code}, {self._operand(d)}, out={out})"
            if coeff == -1:
                code = f"xp.negative({code}, out={out})"
            elif coeff != 1:
                code = f"xp.multiply({code}, {self._scalar(coeff)}, out={out})"
            return code
        if expr.is_Pow:
            base, exponent = expr.args
            if exponent == -1:
                return f"xp.divide({self._scalar(sp.S.One)}, {self._first(base, out)}, out={out})"
            if exponent == 2:
                return f"xp.square({self._first(base, out)}, out={out})"
            return f"xp.power({self._first(base, out)}, {p(exponent)}, out={out})"
        if isinstance(expr, RowSum) and not (expr.args[0].free_symbols & _INPUTS):
            # Σ over a row as E·1 (BLAS gemv): 2-3x faster than a reduction on small arrays and
            # never slower; E is a buffer of the workspace's dtype, as np.dot's out= requires.
            arg = expr.args[0]
            self.printer._module_format("xp.dot")
            ones = self._ones(self.shape(arg)[1])
            return f"xp.dot({self._operand(arg)}, {ones}, out={self._flat(out)})"
        if isinstance(expr, (RowSum, RowMax)):
            func = "sum" if isinstance(expr, RowSum) else "max"
            self.printer._module_format(f"xp.{func}")
            return f"xp.{func}({self._operand(expr.args[0])}, axis=1, keepdims=True, out={out})"
        name = type(expr).__name__
        self.printer._module_format(f"xp.{name}")
        return f"xp.{name}({self._first(expr.args[0], out)}, out={out})"

    def _sum_into(self, terms: list[sp.Expr], out: str) -> str:
        """A sum into ``out``: the first non-trivial term is computed there, the others added on."""
        signed = [(-t, True) if _is_negated(t) else (t, False) for t in terms]  # (magnitude, minus)
        signed.sort(key=lambda tm: (self._is_direct(tm[0]), tm[1]))
        small = min(signed, key=lambda tm: len(self.shape(tm[0])))
        if len(signed) > 1 and all(minus for _, minus in signed) and len(self.shape(small[0])) < 2:
            # −u − b: negate the small operand (a number, a bias vector), not a whole array: one
            # pass (b − u) over the array instead of two (−u, then − b).
            signed.remove(small)
            if self.shape(small[0]) == ():
                code = self._scalar(-small[0])
            else:
                code = f"xp.negative({self._leaf(small[0])}, out={self._scratch(self.shape(small[0]))})"
            first, rest = signed[0][0], signed[1:]
            code = f"xp.subtract({code}, {self._first(first, out)}, out={out})"
            for term, _ in rest:
                code = f"xp.subtract({code}, {self._operand(term)}, out={out})"
            return code
        (head, minus), rest = signed[0], signed[1:]
        if self._is_direct(head):  # every term is direct: the first operation writes ``out``
            code = f"xp.negative({self._leaf(head)}, out={out})" if minus else self._leaf(head)
        elif minus:
            positive = [tm for tm in rest if not tm[1]]
            if positive:  # p − u: u into ``out`` first, then subtract it from p
                rest.remove(positive[0])
                code = f"xp.subtract({self._operand(positive[0][0])}, {self._into(head, out)}, out={out})"
            else:
                code = f"xp.negative({self._into(head, out)}, out={out})"
        else:
            code = self._into(head, out)
        for term, term_minus in rest:
            code = f"xp.{'subtract' if term_minus else 'add'}({code}, {self._operand(term)}, out={out})"
        return code

    # ---- lines ---------------------------------------------------------------------------

    def assign(self, target: str, expr: sp.Basic) -> None:
        reads = {str(sym) for sym in expr.free_symbols}
        self._assign(target, expr)
        self._record(reads, {target} if target in self.buffers else ())

    def update(self, target: str, op: str, expr: sp.Basic) -> None:
        super().update(target, op, expr)
        self._record({target} | {str(sym) for sym in expr.free_symbols}, {target})

    def _product(self, shape: tuple[str, ...]) -> str:
        """The function that multiplies two matrices into an output of ``shape``.

        ``xp.dot`` zero-fills its output before calling BLAS (NumPy's cblasfuncs.c), a pass over
        memory that ``xp.matmul`` does not make; ``xp.matmul`` costs about 0.4 µs more to call.
        Outputs of ``DOT_MAX_ENTRIES`` entries or fewer take ``xp.dot``, larger ones ``xp.matmul``:
        decided here when the shape is known, else by the workspace for its batch size.
        """
        if "m" not in shape:
            product = "xp.matmul" if sp.Mul(*map(sp.Integer, shape)) > DOT_MAX_ENTRIES else "xp.dot"
            self.printer._module_format(product)
            return product
        self.printer._module_format("xp.matmul")
        self.printer._module_format("xp.dot")
        name = "mm_" + "_".join(shape)
        self.extras[name] = f"xp.matmul if {' * '.join(shape)} > {DOT_MAX_ENTRIES} else xp.dot"
        return name

    def _assign(self, target: str, expr: sp.Basic) -> None:
        if isinstance(expr, sp.MatMul):
            a, b = (self.printer.doprint(arg) for arg in expr.args)
            self.shapes[target] = tuple(str(d) for d in expr.shape)
            product = self._product(self.shapes[target])
            if target.startswith("g"):  # a gradient: returned to the caller, so a new array
                self.lines.append(f"{target} = {product}({a}, {b})")
            else:
                self._buffer(target, self.shapes[target])
                self.lines.append(f"{product}({a}, {b}, out={target})")
            return
        if isinstance(expr, ColSum) and expr.args[0].is_Symbol and str(expr.args[0]) in self.buffers:
            # the bias gradient 1ᵀD as a BLAS gemv (a new array: it is returned to the caller)
            self.printer._module_format("xp.dot")
            self.lines.append(f"{target} = xp.dot({self._ones('m')}, {expr.args[0]})")
            return
        expr, overflows = _in_place_forms(expr)
        self.shapes[target] = self.shape(expr)
        if overflows:  # see _in_place_form: e^u = inf only where the result underflows
            self.printer._module_format("xp.errstate")
            self.lines.append(
                'with xp.errstate(over="ignore"):  # e^u = inf gives the limit (sigmoid: 0, its underflow)'
            )
        indent = "    " if overflows else ""
        if self._is_direct(expr):
            if expr.is_Symbol and str(expr) in self.buffers:
                self.aliases[target] = str(expr)  # another name for the same buffer
            self.lines.append(f"{indent}{target} = {self.printer.doprint(expr)}")
            return
        self._buffer(target, self.shapes[target])
        self.lines.append(indent + self._into(expr, target))

    def share_buffers(self) -> dict[str, int]:
        """Buffer number of every intermediate: lives that do not overlap share one buffer.

        A buffer is handed on only after the last statement that reads its intermediate (never
        within one statement), so no line ever reads what it overwrites. Fewer distinct buffers
        keep the working set in cache: about 3 % of a large float64 batch.
        """
        last: dict[str, int] = {}
        for i, (reads, writes) in enumerate(self.events):
            for name in reads | writes:
                last[name] = i
        for alias, source in reversed(list(self.aliases.items())):  # an alias keeps its source alive
            last[source] = max(last[source], last.get(alias, -1))
            if source in self.aliases:
                last[self.aliases[source]] = max(last[self.aliases[source]], last[source])
        number: dict[str, int] = {}
        shape_of: list[tuple[str, ...]] = []
        free: dict[tuple[str, ...], list[int]] = {}
        live: set[str] = set()
        for i, (_, writes) in enumerate(self.events):
            for name in sorted(n for n in live if last[n] < i):
                live.discard(name)
                free.setdefault(self.buffers[name], []).append(number[name])
            for name in sorted(n for n in writes if n in self.buffers and n not in number):
                pool = free.get(self.buffers[name])
                if pool:  # the lowest-numbered free buffer: the same source on every run
                    pool.sort()
                    number[name] = pool.pop(0)
                else:
                    number[name] = len(shape_of)
                    shape_of.append(self.buffers[name])
                live.add(name)
        self._shape_of_number = shape_of
        return number

    def unpack_line(self) -> str:
        return f"{', '.join([*self.buffers, *self.constants, *self.extras])}, = ws"

    def render_workspace(self) -> str:
        number = self.share_buffers()
        lines = [
            f"buf{k} = xp.empty(({', '.join(shape)}{',' if len(shape) == 1 else ''}), dtype=dtype)"
            for k, shape in enumerate(self._shape_of_number)
        ]
        by_buffer: dict[int, list[str]] = {}
        for name in self.buffers:
            by_buffer.setdefault(number[name], []).append(name)
        lines += [
            f"{' = '.join(names)} = buf{k}  # one buffer, lives apart" if len(names) > 1 else f"{names[0]} = buf{k}"
            for k, names in sorted(by_buffer.items())
        ]
        lines += [f"{name} = xp.asarray({value}, dtype=dtype)" for name, value in self.constants.items()]
        lines += [f"{name} = {code}" for name, code in self.extras.items()]
        body = "\n".join(f"    {line}" for line in lines)
        return (
            "def workspace(X, dtype):\n"
            '    """Buffers and constants of loss_and_grad_into, for len(X) rows of dtype."""\n'
            "    m = X.shape[0]\n"
            "    inv_m = 1.0 / m\n"
            f"{body}\n"
            f"    return {', '.join([*self.buffers, *self.constants, *self.extras])},\n"
        )


def _temporaries() -> Iterable[sp.Symbol]:
    return (sp.Symbol(f"t{i}", real=True) for i in itertools.count())


class _Layers:
    """The symbols of one network: X, Y, W_l, b_l, Z_l, A_l, D_l as SymPy objects."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.L = net.depth
        self.m = sp.Symbol("m", integer=True, positive=True)
        self.inv_m = sp.Symbol("inv_m", positive=True)
        self.lam = sp.Symbol("LAMBDA", nonnegative=True)
        sizes = net.sizes
        self.mX = sp.MatrixSymbol("X", self.m, sizes[0])
        self.W = {l: sp.MatrixSymbol(f"W{l}", sizes[l], sizes[l - 1]) for l in range(1, self.L + 1)}
        self.Wsym = {l: _array(f"W{l}") for l in range(1, self.L + 1)}
        self.Z = {l: _array(f"Z{l}") for l in range(1, self.L + 1)}
        self.A = {l: _array(f"A{l}") for l in range(1, self.L + 1)}
        self.A[0] = _array("X")
        self.Y = _array("Y")
        self.b = {l: _array(f"b{l}") for l in range(1, self.L + 1)}
        self.D = {l: _array(f"D{l}") for l in range(1, self.L + 1)}

    def mat(self, name: str, rows: sp.Expr, cols: sp.Expr) -> sp.MatrixSymbol:
        return sp.MatrixSymbol(name, rows, cols)

    def a_matrix(self, l: int) -> sp.MatrixSymbol:
        return self.mX if l == 0 else self.mat(self.a_name(l), self.m, self.net.sizes[l])

    def a_name(self, l: int) -> str:
        return "X" if l == 0 else f"A{l}"


def _columns(prefix: str, array: sp.Symbol) -> tuple[list[sp.Symbol], dict[sp.Symbol, tuple[int, sp.Symbol]]]:
    syms = [sp.Symbol(f"{prefix}_{k}", real=True) for k in range(N_COLUMNS)]
    return syms, {s: (k, array) for k, s in enumerate(syms)}


def _output_layer(lay: _Layers) -> tuple[sp.Expr, sp.Expr, sp.Expr, list[tuple[str, sp.Expr]]]:
    """A_L, the data term of the cost (Σ over examples, not yet / m), δ^(L)·m, and pre-lines.

    The pre-lines define the row maximum M and the shifted logits S when the formulas contain
    e^z (softmax, log-sum-exp).
    """
    net, L = lay.net, lay.L
    act, loss = net.activations[-1], net.loss_rule
    Z, A, Y = lay.Z[L], lay.A[L], lay.Y
    z_cols, z_map = _columns("z", Z)
    y_cols, y_map = _columns("y", Y)
    a_cols, a_map = _columns("a", A)

    if act.elementwise:
        a_expr = act.apply(Z)
        gprime = act.derivative(Z, A)
    else:
        a_expr = vectorize(act.vector(z_cols)[0], z_map, unit=0)
        gprime = act.derivative(Z, A)  # the Jacobian's diagonal: only the canonical pairing is exact
        if not loss.canonical:
            raise CodegenError(
                f"loss {loss.name!r} after {act.name!r} needs the full Jacobian; only canonical pairs compile"
            )
    if loss.logits_form is not None:
        row_loss = vectorize(loss.logits_form(z_cols, y_cols), {**z_map, **y_map}, unit=None)
    else:
        row_loss = vectorize(loss.per_example(a_cols, y_cols), {**a_map, **y_map}, unit=None)
    delta = loss.delta(A, Y, gprime)

    pre: list[tuple[str, sp.Expr]] = []
    if any(isinstance(e, sp.exp) and e.args[0] == Z for e in (a_expr + row_loss).atoms(sp.exp)):
        M, S = RowSymbol(f"M{L}", real=True), _array(f"S{L}")
        pre = [(str(M), RowMax(Z)), (str(S), Z - M)]
        a_expr, row_loss = _shift_exponentials([a_expr, row_loss], Z, M, S)
    leftover = [s for s in (a_expr + row_loss + delta).free_symbols if str(s)[:2] in ("z_", "y_", "a_")]
    if leftover:
        raise CodegenError(f"loss {loss.name!r}: {leftover[0]} is left over after vectorizing")
    return a_expr, _total(row_loss), delta, pre


def generate_source(net: Network) -> GeneratedSource:
    """The Python source of ``forward`` and ``loss_and_grad`` for ``net`` (array namespace ``xp``)."""
    lay = _Layers(net)
    L = lay.L
    scalars = (lay.inv_m, lay.lam)
    names = _temporaries()
    unpack = ", ".join(f"(W{l}, b{l})" for l in range(1, L + 1)) + ("," if L == 1 else "")

    def forward_lines(fn: _Function, upto: int) -> None:
        """Layers 1..upto: Z = A_prev W^T + b, A = g(Z)."""
        for l in range(1, upto + 1):
            act = net.activations[l - 1]
            fn.comment(f"layer {l}: z = W a + b, a = {act.name}(z)")
            fn.assign(f"Z{l}", sp.MatMul(lay.a_matrix(l - 1), lay.W[l].T))
            z, b = lay.Z[l], lay.b[l]
            if l < L and fn.folds_bias and z not in act.derivative(z, lay.A[l]).free_symbols:
                # z is read once more, by g(z): b joins that line instead of a pass of its own
                fn.comment(f"Z{l} holds the product; + b{l} is part of the next line")
                fn.shared([f"A{l}"], [act.apply(z + b)])
                continue
            fn.update(f"Z{l}", "+", b)
            if l < L:
                fn.shared([f"A{l}"], [act.apply(z)])

    a_L, data_total, delta, pre = _output_layer(lay)

    # ---- forward(params, X) ------------------------------------------------------------------
    fwd = _Function(ArrayPrinter(scalars), names)
    fwd.raw(f"{unpack} = params")
    forward_lines(fwd, L)
    fwd.comment(f"output: a = {net.activation_names[-1]}(z)")
    for target, expr in pre:
        fwd.assign(target, expr)
    fwd.shared([f"A{L}"], [a_L])

    # ---- loss_and_grad(params, X, Y) and its buffered twin -------------------------------------
    def write_loss_and_grad(fn: _Function) -> list[str]:
        fn.define_inv_m()
        forward_lines(fn, L)
        fn.comment(
            f"output and cost ({net.loss}{', logits form' if net.loss_rule.logits_form else ''}), delta = dJ/dZ{L}"
        )
        for target, expr in pre:
            fn.assign(target, expr)
        cost = lay.inv_m * data_total
        if net.l2:
            cost += lay.lam * lay.inv_m / 2 * sp.Add(*[Dot(lay.Wsym[l], lay.Wsym[l]) for l in range(1, L + 1)])
        fn.shared([f"A{L}", "J", f"D{L}"], [a_L, cost, lay.inv_m * delta])
        grads = []
        for l in range(L, 0, -1):
            fn.comment(f"layer {l} gradients" + (f", then delta of layer {l - 1}" if l > 1 else ""))
            d_mat = lay.mat(f"D{l}", lay.m, net.sizes[l])
            fn.assign(f"gW{l}", sp.MatMul(d_mat.T, lay.a_matrix(l - 1)))
            if net.l2:
                fn.update(f"gW{l}", "+", lay.lam * lay.inv_m * lay.Wsym[l])
            fn.assign(f"gb{l}", ColSum(lay.D[l]))
            grads.append(f"(gW{l}, gb{l})")
            if l > 1:
                act = net.activations[l - 2]
                P = _array(f"P{l - 1}")
                product = sp.MatMul(d_mat, lay.W[l])
                local = P * act.derivative(lay.Z[l - 1], lay.A[l - 1])
                if local == P:  # g' = 1: δ is the product itself
                    fn.assign(f"D{l - 1}", product)
                else:
                    fn.assign(f"P{l - 1}", product)
                    fn.shared([f"D{l - 1}"], [local])
        return grads

    printer = ArrayPrinter(scalars)
    fn = _Function(printer, names)
    fn.raw(f"{unpack} = params")
    grads = write_loss_and_grad(fn)

    shapes = {"X": ("m", str(net.sizes[0])), "Y": ("m", str(net.sizes[-1])), f"M{L}": ("m", "1")}
    shapes.update({f"b{l}": (str(net.sizes[l]),) for l in range(1, L + 1)})
    buffered = _BufferedFunction(ArrayPrinter(scalars), names, shapes)
    body_start = len(buffered.lines)
    write_loss_and_grad(buffered)
    buffered.lines[body_start:body_start] = [f"{unpack} = params", buffered.unpack_line()]

    header = (
        f'"""Backpropagation for the network {net.label!r}, generated by derive.codegen.\n\n'
        "Each elementwise line prints a closed form of the rule registry (derive.rules), proved in\n"
        "the derivation. ``xp`` is the array namespace (NumPy by default). Do not edit.\n"
        '"""\n'
    )
    consts = f"LAMBDA = {float(net.l2)!r}\n" if net.l2 else ""
    source = "\n\n".join(
        [
            header + consts.rstrip("\n") if consts else header.rstrip("\n"),
            fwd.render("forward(params, X)", "The network's output for the rows of X.", f"A{L}"),
            fn.render(
                "loss_and_grad(params, X, Y)",
                "The cost J and its gradient, [(dJ/dW, dJ/db) per layer].",
                f"J, [{', '.join(reversed(grads))}]",
            ),
            buffered.render_workspace(),
            buffered.render(
                "loss_and_grad_into(params, X, Y, ws)",
                "loss_and_grad with every intermediate in the buffers ws = workspace(X, dtype).",
                f"J, [{', '.join(reversed(grads))}]",
            ),
        ]
    )
    used = frozenset(printer.module_imports.get("xp", set()) | fwd.printer.module_imports.get("xp", set()))
    buffered_used = frozenset(buffered.printer.module_imports.get("xp", set()) | {"empty", "asarray", "ones"})
    return GeneratedSource(
        source=source, namespace_functions=used, net_label=net.label, buffered_functions=buffered_used
    )
