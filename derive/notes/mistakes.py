"""The usual mistakes of a failing claim, each as the change that undoes it.

Candidates from the claim's own structure: its products (matrix, elementwise, outer, how they are
grouped, the order of their factors), transposes, names (a layer off by one, another unit, the
activation for its pre-activation), indices, function arguments' signs, one term's sign or factor,
a factor or a term too many, logs of sums; and from the left side: the log of a sum taken as the
sum of the logs, a product-rule term dropped, another loss, the derivative by another name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import sympy as sp

from ..exprs import as_expr
from ..model import rules
from ..timelimit import deadline
from .activations import is_activation_of
from .failing import (
    ERRORS,
    PRODUCTS,
    Claim,
    Mutation,
    chain_of,
    entries_of,
    has_meaning,
    index_letters,
    key_of,
    mutations,
    nodes_of,
    product_chains,
    products_of,
    rebuild_sum,
    shape_in,
    split_key,
    sub_tokens,
    substitute,
    sums_of,
    terms_of,
    tex,
)
from .lexer import Token
from .meaning import (
    DefSymbol,
    Env,
    Evaluator,
    MeaningError,
    Options,
    Value,
    is_matrix,
    walk,
)
from .notation import (
    BinOp,
    Call,
    Deriv,
    Given,
    Name,
    Neg,
    Node,
    Num,
    Transpose,
)
from .presets import NetworkSpec, build_preset


def product_kinds(claim: Claim) -> Iterator[Mutation]:
    """A matrix product read elementwise, an elementwise one that is a matrix product, and an
    elementwise (or inner) product of two vectors where their outer product belongs."""
    for n in products_of(claim):
        sl, sr = shape_in(claim, n.left), shape_in(claim, n.right)
        if sl is None or sr is None or sl == (1, 1) or sr == (1, 1):
            continue
        if sl[1] == 1 and sr[1] == 1:  # two columns: the outer product u v^T
            outer = BinOp("juxt", n.left, Transpose(n.right, pos=n.pos), pos=n.pos)
            yield (
                substitute(claim.rhs, n, outer),
                f"outer product: ${tex(n)}$ should be the outer product ${tex(outer)}$",
            )
        if isinstance(n.left, Transpose) and sl[0] == 1 and sr[1] == 1:  # u^T v: an inner product
            outer = BinOp("juxt", n.right, Transpose(n.left.operand, pos=n.pos), pos=n.pos)
            yield (
                substitute(claim.rhs, n, outer),
                f"outer product: ${tex(n)}$ is an inner product; the outer product ${tex(outer)}$ belongs here",
            )
        if n.op == "odot" or sl == sr and sl[1] != sr[0]:
            matrix = BinOp("juxt", n.left, n.right, pos=n.pos)
            yield (
                _with_kind(claim.rhs, n, "juxt"),
                f"elementwise vs matrix product: ${tex(n)}$ should be the matrix product ${tex(matrix)}$",
            )
        if n.op != "odot" and sl == sr:
            odot = BinOp("odot", n.left, n.right, pos=n.pos)
            yield (
                substitute(claim.rhs, n, odot),
                f"elementwise vs matrix product: ${tex(n)}$ should be elementwise, ${tex(odot)}$",
            )


def _with_kind(root: Node, n: BinOp, op: str) -> Node:
    return substitute(root, n, BinOp(op, n.left, n.right, pos=n.pos))


def transposes(claim: Claim) -> Iterator[Mutation]:
    """A transpose missing on a factor or a term (``W δ`` for ``W^T δ``), or one too many."""
    for n in nodes_of(claim):
        if isinstance(n, Transpose):
            yield (
                substitute(claim.rhs, n, n.operand),
                f"transpose: ${tex(n)}$ should be ${tex(n.operand)}$ (a transpose too many)",
            )
    operands = []
    for n in nodes_of(claim):
        if isinstance(n, BinOp) and n.op != "/":
            operands += [n.left, n.right]
        elif isinstance(n, Neg):
            operands.append(n.operand)
    operands = sorted(operands, key=lambda x: len(tex(x))) + [claim.rhs]  # the smallest part first
    for n in operands:
        if isinstance(n, Transpose):
            continue
        shape = shape_in(claim, n)
        if shape is None or shape == (1, 1):
            continue
        t = Transpose(n, pos=n.pos)
        where = "" if n is claim.rhs else f" (in ${tex(claim.rhs)}$)" if len(tex(claim.rhs)) < 90 else ""
        yield substitute(claim.rhs, n, t), f"missing transpose: ${tex(n)}$ should be ${tex(t)}${where}"


def operand_swaps(claim: Claim) -> Iterator[Mutation]:
    for n in products_of(claim):
        swapped = BinOp(n.op, n.right, n.left, pos=n.pos)
        yield (
            substitute(claim.rhs, n, swapped),
            f"swapped operands: ${tex(n)}$ should be ${tex(swapped)}$ (the factors in the wrong order)",
        )
    for n in products_of(claim):  # (A B)^T written A^T B^T
        if isinstance(n.left, Transpose) and isinstance(n.right, Transpose):
            swapped = BinOp(n.op, n.right, n.left, pos=n.pos)
            yield substitute(claim.rhs, n, swapped), f"swapped operands: ${tex(n)}$ should be ${tex(swapped)}$"


def regroupings(claim: Claim) -> Iterator[Mutation]:
    """``W^T (δ ⊙ g')`` for ``(W^T δ) ⊙ g'`` and the other way round: the order of an elementwise
    and a matrix product."""
    for n in products_of(claim):
        for inner, outer_left in ((n.right, True), (n.left, False)):
            if not (isinstance(inner, BinOp) and inner.op in PRODUCTS):
                continue
            if outer_left:  # a (b c) -> (a b) c
                new = BinOp(inner.op, BinOp(n.op, n.left, inner.left, pos=n.pos), inner.right, pos=n.pos)
            else:  # (a b) c -> a (b c)
                new = BinOp(inner.op, inner.left, BinOp(n.op, inner.right, n.right, pos=n.pos), pos=n.pos)
            yield (
                substitute(claim.rhs, n, new),
                f"product order: ${tex(n)}$ should be ${tex(new)}$ ({_which_first(claim, new)})",
            )


def _which_first(claim: Claim, node: BinOp) -> str:
    """Which product comes first in ``node``, in words, by what each one is (for the diagnosis)."""
    inner = node.left if isinstance(node.left, BinOp) and node.left.op in PRODUCTS else node.right
    kinds = []
    for n in (inner, node):
        sl, sr = shape_in(claim, n.left), shape_in(claim, n.right)  # type: ignore[union-attr]
        elementwise = n.op == "odot" or (sl is not None and sl == sr and sl[1] != 1 and sl[1] != sr[0])  # type: ignore[union-attr]
        elementwise = elementwise or (sl is not None and sl == sr and sl[1] == 1 and sl != (1, 1))
        kinds.append("the elementwise product" if elementwise else "the matrix product")
    if kinds[0] == kinds[1]:
        return "the grouping changes the value"
    return f"{kinds[0]} comes first, then {kinds[1]}"


def argument_signs(claim: Claim) -> Iterator[Mutation]:
    """``σ(-x)`` for ``σ(x)``: a sign inside a function's argument (either way round)."""
    ev = Evaluator(claim.env, claim.first.assignment)
    for n in nodes_of(claim):
        if not isinstance(n, Call) or len(n.args) != 1 or ev.function_of(n.func) is None:
            continue
        arg = n.args[0]
        flipped = arg.operand if isinstance(arg, Neg) else Neg(arg, pos=arg.pos)
        new = Call(n.func, [flipped], n.paren, pos=n.pos)
        yield (
            substitute(claim.rhs, n, new),
            f"sign inside the argument: ${tex(n)}$ should be ${tex(new)}$",
        )


def dropped_factors(claim: Claim) -> Iterator[Mutation]:
    """A factor too many: the claim holds without it."""
    for n, fs, ops in product_chains(claim):
        for k, f in enumerate(fs):
            rest_f = fs[:k] + fs[k + 1 :]
            rest_o = ops[: max(k - 1, 0)] + ops[k:] if k else ops[1:]
            if not rest_f:
                continue
            new = chain_of(rest_f, rest_o, n.pos)
            if isinstance(f, Num):  # 2λW for λW
                words = f"factor {f.text}: the factor ${f.text}$ in ${tex(n)}$ is one too many"
            else:
                words = f"extra factor: the factor ${tex(f)}$ is one too many"
            yield substitute(claim.rhs, n, new), words


def term_factors(claim: Claim) -> Iterator[Mutation]:
    """One term of a sum with the wrong sign (the softmax Jacobian's s_i s_j) or a wrong constant
    factor (``2λW`` for ``λW``); a term too many."""
    for n in sums_of(claim):
        terms = terms_of(n)
        if len(terms) < 2:
            continue
        for k, (s, t) in enumerate(terms):
            flipped = [*terms[:k], (-s, t), *terms[k + 1 :]]
            yield (
                substitute(claim.rhs, n, rebuild_sum(flipped, n.pos)),
                f"wrong sign of the term ${tex(t)}$ in ${tex(n)}$",
            )
        for k, (s, t) in enumerate(terms):
            for c, words in ((2, "twice"), (sp.Rational(1, 2), "half")):
                scaled = BinOp("juxt", Given(sp.Integer(c) if c == 2 else c, latex=sp.latex(c)), t, pos=t.pos)
                new = [*terms[:k], (s, scaled), *terms[k + 1 :]]
                yield (
                    substitute(claim.rhs, n, rebuild_sum(new, n.pos)),
                    f"factor 2 in the term ${tex(t)}$: the true term is {words} as large",
                )


def dropped_terms(claim: Claim) -> Iterator[Mutation]:
    """A term too many: the claim holds without it."""
    for n in sums_of(claim):
        terms = terms_of(n)
        for k, (_s, t) in enumerate(terms if len(terms) > 1 else []):
            rest = terms[:k] + terms[k + 1 :]
            yield substitute(claim.rhs, n, rebuild_sum(rest, n.pos)), f"extra term: the term ${tex(t)}$ is too many"


def logs_of_sums(claim: Claim) -> Iterator[Mutation]:
    """``\\log a + \\log b`` written for ``\\log(a + b)``."""
    for n in sums_of(claim):
        terms = terms_of(n)
        logs = [(s, t) for s, t in terms if isinstance(t, Call) and t.func.base.lstrip("\\") in ("log", "ln")]
        if len(logs) < 2 or len(logs) != len(terms):
            continue
        inside = rebuild_sum([(s, t.args[0]) for s, t in logs], n.pos)  # type: ignore[attr-defined]
        whole = Call(logs[0][1].func, [inside], pos=n.pos)  # type: ignore[attr-defined]
        yield (
            substitute(claim.rhs, n, whole),
            f"log of a sum: ${tex(n)}$ splits ${tex(whole)}$ into a sum of logs",
        )


# ---- names: layers, units, activations for pre-activations, indices -----------------------------


def renamings(claim: Claim) -> Iterator[Mutation]:
    ev = Evaluator(claim.env, claim.first.assignment)
    for n in nodes_of(claim):
        if not isinstance(n, Name) or n.primes:
            continue
        for cand, kind in _neighbours(claim, ev, n):
            words = _rename_words(claim, ev, n, cand, kind)
            yield substitute(claim.rhs, n, cand), words


def _neighbours(claim: Claim, ev: Evaluator, name: Name) -> Iterator[tuple[Name, str]]:
    """Names one usual slip away that have a meaning: the layer before or after, another unit
    (out_{h2} for out_{h1}), another name of the same layer (a for z), indices exchanged or one
    index for another (w_{kj} for w_{jk}, x_i for x_j)."""
    seen = {key_of(ev, name)}

    def fresh(cand: Name) -> bool:
        key = key_of(ev, cand)
        if key in seen or not has_meaning(claim, cand):
            return False
        seen.add(key)
        return True

    for k, sup in enumerate(name.sups):
        for delta in (-1, 1):
            toks = _shifted(sup, delta)
            value = ev.int_tokens(toks)
            new_sup = (Token("NUM", str(value), 0),) if value is not None and _is_number(sup) else toks
            sups = tuple(new_sup if j == k else s for j, s in enumerate(name.sups))
            cand = dataclasses.replace(name, sups=sups)
            if fresh(cand):
                yield cand, "layer"
    for base in _bases(claim.env):
        if base != ev.name_base(name):
            cand = dataclasses.replace(name, base=base)
            if fresh(cand):
                yield cand, "name"
    if name.sub is not None:
        atoms = ev.sub_atoms(name.sub)
        if atoms and len(atoms) == 2 and all(len(a) == 1 for a in atoms):
            comma = any(t.kind == "OP" and t.value == "," for t in name.sub)
            swapped = (atoms[1][0], Token("OP", ",", 0), atoms[0][0]) if comma else (atoms[1][0], atoms[0][0])
            if not comma and all(t.kind == "WORD" for t in swapped):
                swapped = (Token("WORD", atoms[1][0].value + atoms[0][0].value, 0),)
            cand = dataclasses.replace(name, sub=swapped)
            if fresh(cand):
                yield cand, "indices"
        if atoms:
            for pos_, atom in enumerate(atoms):
                if len(atom) != 1:
                    continue
                for other in index_letters(claim):
                    if other == atom[0].value:
                        continue
                    new_atoms = [a if j != pos_ else (Token("WORD", other, 0),) for j, a in enumerate(atoms)]
                    cand = dataclasses.replace(name, sub=_joined(new_atoms))
                    if fresh(cand):
                        yield cand, "index"
                if atom[0].kind == "NUM":  # x_2 for x_1: another numbered entry
                    for value in range(0, 10):
                        if str(value) == atom[0].value:
                            continue
                        new_atoms = [a if j != pos_ else (Token("NUM", str(value), 0),) for j, a in enumerate(atoms)]
                        cand = dataclasses.replace(name, sub=_joined(new_atoms))
                        if fresh(cand):
                            yield cand, "index"
        else:  # out_{h1} -> out_{h2}: another unit of the same name
            base, sups = ev.name_base(name), ev.sup_texts(name)
            for key in claim.env.entries:
                b, s, sub = split_key(key)
                if b == base and s == sups and sub is not None:
                    cand = dataclasses.replace(name, sub=sub_tokens(sub))
                    if fresh(cand):
                        yield cand, "unit"


def _joined(atoms: list) -> tuple[Token, ...]:
    """Index atoms back into one subscript, separated by commas."""
    return tuple(t for j, a in enumerate(atoms) for t in (*((Token("OP", ",", 0),) if j else ()), *a))


def _shifted(sup: tuple[Token, ...], delta: int) -> tuple[Token, ...]:
    """A layer superscript moved by ``delta``, as a person writes it: L-1 -> L, L -> L+1, l+1 -> l."""
    text = "".join(t.value for t in sup).replace(" ", "")
    letters = "".join(ch for ch in text if ch.isalpha())
    if len(letters) == 1 and text.startswith(letters):
        rest = text[len(letters) :]
        offset = int(rest) if rest and rest.lstrip("+-").isdigit() else (0 if not rest else None)
        if offset is not None:
            offset += delta
            sign = Token("OP", "+" if offset > 0 else "-", 0)
            tail = () if offset == 0 else (sign, Token("NUM", str(abs(offset)), 0))
            return (Token("WORD", letters, 0), *tail)
    return (*sup, Token("OP", "+" if delta > 0 else "-", 0), Token("NUM", "1", 0))


def _is_number(script: tuple[Token, ...]) -> bool:
    return len(script) == 1 and script[0].kind == "NUM"


def _bases(env: Env) -> list[str]:
    """The bases of the file's names (a, z, W, net, out, ...), each once."""
    out = []
    for key in env.entries:
        base = split_key(key)[0]
        if base not in out:
            out.append(base)
    return out


def _rename_words(claim: Claim, ev: Evaluator, old: Name, new: Name, kind: str) -> str:
    o, n = tex(old), tex(new)
    old_key, new_key = key_of(ev, old), key_of(ev, new)
    if kind in ("name", "unit", "layer"):
        if is_activation_of(claim, old_key, new_key):
            return f"activation for pre-activation: ${o}$ is the activation where the pre-activation ${n}$ belongs"
        if is_activation_of(claim, new_key, old_key):
            return f"pre-activation for activation: ${o}$ is the pre-activation where the activation ${n}$ belongs"
    if kind == "layer":
        return f"layer off by one: ${o}$ should be ${n}$"
    if kind == "unit":
        return f"wrong unit: ${o}$ should be ${n}$"
    if kind in ("indices", "index"):
        return f"swapped indices: ${o}$ should be ${n}$"
    return f"swapped names: ${o}$ should be ${n}$"


def swapped_index_letters(claim: Claim) -> str | None:
    """Two index letters exchanged all over the right side (∂E/∂a_i x_j for ∂E/∂a_j x_i)."""
    letters = index_letters(claim)
    for k, a in enumerate(letters):
        for b in letters[k + 1 :]:
            options = Options(index_swap={a: b, b: a})
            if claim.rhs_explains(claim.rhs, options):
                return f"swapped indices: ${a}$ and ${b}$ are exchanged on the right side"
    return None


def local_index_swaps(claim: Claim) -> Iterator[Mutation]:
    """Two index letters exchanged inside one factor (``\\frac{\\partial y_i}{\\partial x_j}`` for
    ``\\frac{\\partial y_j}{\\partial x_i}``), the rest of the right side as written."""
    letters = index_letters(claim)
    parts = [n for n in nodes_of(claim) if isinstance(n, Deriv | Call | Name) or isinstance(n, BinOp) and n.op == "/"]
    for part in parts:
        used = _letters_in(part)
        for k, a in enumerate(letters):
            for b in letters[k + 1 :]:
                if a in used and b in used:
                    new = _with_letters_swapped(part, a, b)
                    yield substitute(claim.rhs, part, new), f"swapped indices: ${tex(part)}$ should be ${tex(new)}$"


def _letters_in(node: Node) -> set[str]:
    out: set[str] = set()
    for n in walk(node):
        if isinstance(n, Name) and n.sub is not None:
            out |= {ch for t in n.sub if t.kind == "WORD" for ch in t.value}
    return out


def _with_letters_swapped(node: Node, a: str, b: str) -> Node:
    """``node`` with the index letters a and b exchanged in every subscript inside it."""
    swap = {a: b, b: a}

    def script(sub: tuple[Token, ...]) -> tuple[Token, ...]:
        return tuple(
            Token(t.kind, "".join(swap.get(ch, ch) for ch in t.value), t.pos) if t.kind == "WORD" else t for t in sub
        )

    out = node
    for n in list(walk(node)):
        if isinstance(n, Name) and n.sub is not None:
            new_sub = script(n.sub)
            if new_sub != n.sub:
                out = substitute(out, n, dataclasses.replace(n, sub=new_sub))
    return out


# ---- logs, the product rule, losses, the left side's names ------------------------------------------


def _split_logs(e: sp.Expr) -> sp.Expr:
    """The mistake log(a + b) = log a + log b, made everywhere in ``e`` (after the true identities
    log(a/b) = log a - log b and log e^u = u)."""
    e = rules.textbook_form(e)
    e = sp.expand_log(e, force=True)

    def split(x: sp.Expr) -> sp.Expr:
        if isinstance(x, sp.log) and isinstance(x.args[0], sp.Add):
            return sp.Add(*[sp.expand_log(sp.log(t), force=True) for t in x.args[0].args])
        return x

    return e.replace(lambda x: isinstance(x, sp.log) and isinstance(x.args[0], sp.Add), split)


def log_of_sum_split(claim: Claim) -> str | None:
    """The claimed value is the true one with a log of a sum taken as the sum of the logs
    (log Σ e^{z_k} as Σ z_k), before or after differentiating."""
    if claim.lhs_explains(transform=_split_logs):
        return "log of a sum: the right side takes the log of a sum as the sum of the logs"
    if any(isinstance(n, Deriv) for n in walk(claim.lhs)) and claim.lhs_explains(Options(transform=_split_logs)):
        return "log of a sum: the right side differentiates the log of a sum as if it were the sum of the logs"
    return None


def product_rule(claim: Claim) -> str | None:
    """``d(uv)/dx`` written as ``u'v`` (or ``uv'``): a term of the product rule dropped."""
    derivs = [n for n in walk(claim.lhs) if isinstance(n, Deriv) and n.order == 1]
    if len(derivs) != 1 or derivs[0] is not claim.lhs and not _is_scaled(claim.lhs, derivs[0]):
        return None
    d = derivs[0]
    case = claim.first
    ev = Evaluator(claim.env, case.assignment)
    X = ev.variable(d.X)
    if is_matrix(X):
        return None
    F = claim.env.expand(ev.eval(d.F), frozenset({X}) if isinstance(X, DefSymbol) else frozenset())
    if is_matrix(F):
        return None
    F = as_expr(F)
    if rules.is_defined(F) or F.func is sp.tanh:
        return None  # a registry function: its row's mistakes speak for it
    factors = [f for f in sp.Mul.make_args(F) if f.has(X)]
    if len(factors) < 2 or case.R is None:
        return None
    rest = sp.Mul(*[f for f in sp.Mul.make_args(F) if not f.has(X)])
    for k, f in enumerate(factors):
        others = sp.Mul(*(factors[:k] + factors[k + 1 :]))
        kept = rest * sp.diff(others, X) * f  # every term but the one that differentiates f
        if claim.points.same(claim.env.expand(kept), case.R):
            dropped = claim.env.fold(rest * others * sp.diff(f, X))
            return (
                f"product rule: the term ${claim.spell(dropped)}$ (from the derivative of "
                f"${claim.spell(_named(claim, f))}$) is dropped"
            )
    return None


def _named(claim: Claim, e: sp.Expr) -> sp.Expr:
    """``e`` as the name the notes define for exactly that value (r for tanh(x)), else folded."""
    for p in reversed(claim.env.order):
        if claim.env.full[p] == e:
            return p
    return claim.env.fold(e)


def _is_scaled(node: Node, d: Deriv) -> bool:
    return isinstance(node, Neg) and node.operand is d


def loss_rule(claim: Claim) -> str | None:
    env = claim.env
    info = env.loss_info
    if not info or getattr(claim.cf, "definitions", None):
        return None
    spec = info["spec"]
    for loss in rules.LOSSES:
        if loss == spec.loss or not rules.loss(loss).accepts(spec.output):
            continue
        alt = Env(functions=dict(env.functions), aliases=dict(env.aliases), sizes=dict(env.sizes))
        try:
            build_preset(
                alt, NetworkSpec(spec.notation, spec.layers, spec.hidden, spec.output, loss, spec.l2), info["m"]
            )
        except (MeaningError, ValueError):
            continue
        if all(
            c.R is not None and claim.points.same(_value_in(alt, claim.lhs, c.assignment), c.R) for c in claim.cases
        ):
            return f"wrong loss derivative: the right side is the one for the {loss} loss, not {spec.loss}"
    return None


def _value_in(env: Env, node: Node, assignment: dict[str, int]) -> Value | None:
    try:
        return env.expand(Evaluator(env, assignment).eval(node))
    except ERRORS:
        return None


def lhs_renamed(claim: Claim, activations: bool = True) -> str | None:
    """The slip may be on the left: ∂C/∂b written where ∂C/∂w is meant. (Without
    ``activations``, not ∂C/∂a for ∂C/∂z: that is better said as the missing derivative factor.)"""
    if claim.first.R is not None and all(e == 0 for e in entries_of(claim.first.R)):
        return None  # any name that does not depend on the variable would "explain" a 0
    ev = Evaluator(claim.env, claim.first.assignment)
    for d in [x for x in walk(claim.lhs) if isinstance(x, Deriv)]:
        for target in (d.X, d.F):
            if not isinstance(target, Name):
                continue
            for cand, kind in _neighbours(claim, ev, target):
                keys = key_of(ev, target), key_of(ev, cand)
                if not activations and (is_activation_of(claim, *keys) or is_activation_of(claim, *keys[::-1])):
                    continue
                new_lhs = substitute(claim.lhs, target, cand)
                if all(
                    c.R is not None and claim.points.same(claim.value(new_lhs, c), c.R) for c in claim.cases
                ):
                    words = {"layer": "layer off by one", "unit": "wrong unit"}.get(kind, "swapped names")
                    text = f"the right side is the value for ${tex(cand)}$, not ${tex(target)}$"
                    factor = mutations(claim, dropped_factors(claim)) or symbolic_factor(claim)
                    return f"{factor} ({text})" if factor else f"{words}: {text}"
    return None


def symbolic_factor(claim: Claim) -> str | None:
    """The right side has a factor the true value lacks (or lacks one it has)."""
    case = claim.first
    L, R = case.L, case.R
    if L is None or R is None or is_matrix(L) or is_matrix(R) or L == 0 or R == 0:
        return None
    if sp.count_ops(L) + sp.count_ops(R) > 400:
        return None
    with deadline(2.0):
        ratio = sp.cancel(as_expr(R) / as_expr(L))
        if ratio.is_Number:
            return None
        ratio = sp.factor(claim.env.fold(ratio))
    num, den = sp.fraction(ratio)
    if len(sp.Mul.make_args(num)) <= 2 and den == 1:
        return f"extra factor: the right side has a factor ${claim.spell(num)}$ that the true value lacks"
    if num == 1 and len(sp.Mul.make_args(den)) <= 2:
        return f"missing factor: the right side lacks the factor ${claim.spell(den)}$"
    return None
