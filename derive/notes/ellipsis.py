"""Ellipses in the notes, rebuilt from the terms written around them.

``x_1 + x_2 + \\cdots + x_n`` and matrices written with ``\\dots``, ``\\vdots`` and ``\\ddots``
stand for terms and entries the notes leave out. A hidden term is rebuilt from its two written
neighbours when they differ only in subscripts that move with the position (``x_1 … x_n``,
``\\frac{\\partial \\sigma_1}{\\partial x_1} … \\frac{\\partial \\sigma_1}{\\partial x_n}``); a
letter at the far end (``n``) takes its value from ``sizes`` or, in a matrix, from the shape of
the other side of the claim. An entry that no pattern explains is left out of the comparison:
the checker fills it from the other side and can then say ``fails`` (a written entry is wrong)
or ``undecided`` (the written entries agree), never ``holds``.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING

import sympy as sp

from .lexer import Token
from .notation import BinOp, Dots, Given, Matrix, Name, Neg, Node, Script, children, map_children, walk
from .values import MeaningError, ShapeError, Value, is_matrix

if TYPE_CHECKING:
    from .meaning import Evaluator

MAX_HIDDEN_TERMS = 500  # an ellipsis standing for more terms is refused, not written out
MAX_MATRIX_ENTRIES = 10_000  # nor is a matrix with ellipses of more entries


def has_dots(node: Node) -> bool:
    return any(isinstance(n, Dots) for n in walk(node))


def expand(node: Node, ev: Evaluator, like: Value | None = None) -> tuple[Node, list[tuple[int, int]]]:
    """``node`` with every ellipsis replaced by what it stands for, and the (row, column) entries
    of ``node`` (a matrix) that no pattern explains; those are taken from ``like``, the other side
    of the claim (without it they are an error)."""

    reader = _Reader(ev)
    hidden: list[tuple[int, int]] = []

    def visit(n: Node) -> Node:
        if isinstance(n, Matrix) and any(isinstance(c, Dots) for row in n.rows for c in row):
            out, gaps = _expand_matrix(n, reader, like if n is node else None)
            hidden.extend(gaps)
            return map_children(out, visit)
        if isinstance(n, BinOp) and n.op in ("+", "-"):  # a flat sum by a loop: any length
            terms = _sum_terms(n)
            if any(isinstance(t, Dots) for _, t in terms):
                terms = _expand_sum(terms, reader)
            return _sum_of([(sign, visit(t)) for sign, t in terms], n.pos)
        if isinstance(n, Dots):
            raise MeaningError(
                "an ellipsis stands for terms of a sum (x_1 + \\cdots + x_n) or entries of a matrix, not here"
            )
        return map_children(n, visit)

    out = visit(node)
    return _substitute_letters(out, reader), hidden


# ---- reading subscripts ---------------------------------------------------------------------------


class _Reader:
    """Reads a subscript's index as a whole number, with the letters an ellipsis has bound."""

    def __init__(self, ev: Evaluator) -> None:
        self.ev = ev
        self.bound: dict[str, int] = {}

    def value(self, atom: Script) -> int | tuple[str, int] | None:
        """The index's value; a letter with no value yet, alone or shifted (``n``, ``n-1``), as
        (letter, shift); None otherwise."""
        saved = self.ev.indices
        self.ev.indices = {**saved, **self.bound}
        try:
            v = self.ev.int_tokens(atom)
        finally:
            self.ev.indices = saved
        if v is not None:
            return v
        words = [t for t in atom if t.kind == "WORD"]
        if len(words) != 1 or len(words[0].value) != 1 or atom[0] is not words[0]:
            return None
        if len(atom) == 1:
            return (words[0].value, 0)
        shift = self.ev.int_tokens(atom[1:])  # n-1: the tokens "-1" read as a signed number
        return None if shift is None else (words[0].value, shift)

    def bind(self, letters: dict[str, int]) -> None:

        for letter, v in letters.items():
            if self.bound.get(letter, v) != v:
                raise MeaningError(f"the ellipses give {letter} two values ({self.bound[letter]} and {v})")
            self.bound[letter] = v


@dataclasses.dataclass
class _Slot:
    """A subscript index where two neighbours of an ellipsis differ: ``name`` (in the first),
    its subscript read as indices (``atoms``), the index's place there, and the index as written
    in each neighbour."""

    name: Name
    atoms: list[Script]
    place: int
    first: Script
    last: Script


def _atoms(sub: Script, ev: Evaluator) -> list[Script] | None:
    """A subscript's indices as the meaning reads them or, with letters that are not index letters
    (``m`` in ``A_{m1}``, the last row of an m×n matrix), one letter or number each."""
    atoms = ev.sub_atoms(sub)
    if atoms is not None:
        return atoms
    if not all(t.kind == "NUM" or (t.kind == "WORD" and len(t.value) <= 2) for t in sub):
        return None
    out: list[Script] = []
    for t in sub:
        out += [(t,)] if t.kind == "NUM" else [(Token("WORD", ch, t.pos + k),) for k, ch in enumerate(t.value)]
    return out


def _digits(atoms: list[Script]) -> list[Script]:
    """``A_{11}`` beside ``A_{1n}``: the number 11 read as the two indices 1, 1."""
    out: list[Script] = []
    for a in atoms:
        if len(a) == 1 and a[0].kind == "NUM" and a[0].value.isdigit():
            out += [(Token("NUM", ch, a[0].pos + k),) for k, ch in enumerate(a[0].value)]
        else:
            out.append(a)
    return out


def _text(script: Script | None) -> tuple:
    return () if script is None else tuple((t.kind, t.value) for t in script)


def _leaf_fields(node: Node) -> tuple:
    """Everything of ``node`` that is not a subexpression (operator, number, variable ...)."""
    out = []
    for f in dataclasses.fields(node):
        v = getattr(node, f.name)
        if f.name == "pos" or isinstance(v, Node | list):
            continue
        out.append(_text(v) if isinstance(v, tuple) and all(isinstance(t, Token) for t in v) else v)
    return tuple(out)


def _differences(a: Node, b: Node, ev: Evaluator) -> list[_Slot] | None:
    """Where ``a`` and ``b`` differ, when they differ only in subscript indices; else None."""
    slots: list[_Slot] = []
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return None
        if isinstance(x, Name):
            assert isinstance(y, Name)
            if (x.base, x.primes, [_text(s) for s in x.sups]) != (y.base, y.primes, [_text(s) for s in y.sups]):
                return None
            if _text(x.sub) == _text(y.sub):
                continue
            ax = _atoms(x.sub, ev) if x.sub is not None else None
            ay = _atoms(y.sub, ev) if y.sub is not None else None
            if ax is None or ay is None:
                return None
            if len(ax) != len(ay):
                ax, ay = _digits(ax), _digits(ay)
            if len(ax) != len(ay):
                return None
            slots += [
                _Slot(x, ax, k, p, q) for k, (p, q) in enumerate(zip(ax, ay, strict=True)) if _text(p) != _text(q)
            ]
            continue
        if _leaf_fields(x) != _leaf_fields(y):
            return None
        cx, cy = children(x), children(y)
        if len(cx) != len(cy):
            return None
        stack.extend(zip(cx, cy, strict=True))
    return slots


@dataclasses.dataclass
class _Pattern:
    """Entries that follow ``first``: every moving index (``slots``) is the position plus its
    offset; ``binds`` are the letters written at the far end (``n``) that make it so."""

    first: Node
    slots: list[_Slot]
    offsets: list[int]
    binds: dict[str, int]

    def __call__(self, pos: int) -> Node:
        return _with_indices(self.first, self.slots, [pos + off for off in self.offsets])


def _between(first: Node, p: int, last: Node, q: int, reader: _Reader, commit: bool = True) -> _Pattern | None:
    """The pattern of positions p..q from the entries written at p and at q, when every differing
    index equals the position plus one fixed offset (a letter written at q, like ``n``, is bound to
    make it so; with ``commit`` the binding is kept). None when they follow no such pattern."""
    slots = _differences(first, last, reader.ev)
    return None if slots is None else _pattern(first, slots, p, q, reader, commit)


def _pattern(first: Node, slots: list[_Slot], p: int, q: int, reader: _Reader, commit: bool) -> _Pattern | None:
    offsets: list[int] = []
    binds: dict[str, int] = {}
    for s in slots:
        a, b = reader.value(s.first), reader.value(s.last)
        if not isinstance(a, int):
            return None
        off = a - p
        if isinstance(b, tuple):  # n (or n-1) written at q: it is what makes the pattern hold
            letter, value = b[0], q + off - b[1]
            if binds.get(letter, value) != value:
                return None
            binds[letter] = value
        elif b is None or b - q != off:
            return None
        offsets.append(off)
    if commit:
        reader.bind(binds)
    elif any(reader.bound.get(k, v) != v for k, v in binds.items()):
        return None
    return _Pattern(first, slots, offsets, binds)


# ---- rebuilding trees -------------------------------------------------------------------------------


def _script(atoms: list[Script]) -> Script:
    out: list[Token] = []
    for k, atom in enumerate(atoms):
        if k:
            out.append(Token("OP", ",", atom[0].pos if atom else 0))
        out.extend(atom)
    return tuple(out)


def _with_indices(node: Node, slots: list[_Slot], values: list[int]) -> Node:
    """A copy of ``node`` with each slot's index set to its value."""

    def visit(n: Node) -> Node:
        mine = [(s, v) for s, v in zip(slots, values, strict=True) if s.name is n]
        if mine:
            atoms = list(mine[0][0].atoms)
            for s, v in mine:
                atoms[s.place] = (Token("NUM", str(v), s.first[0].pos if s.first else 0),)
            return dataclasses.replace(n, sub=_script(atoms))
        return map_children(n, visit)

    return visit(node)


def _substitute_letters(node: Node, reader: _Reader) -> Node:
    """Letters bound by an ellipsis (``n`` = 3) written as their numbers in every subscript."""
    if not reader.bound:
        return node

    def bound_letter(atom: Script) -> bool:
        return any(t.kind == "WORD" and t.value in reader.bound for t in atom)

    def visit(n: Node) -> Node:
        if isinstance(n, Name) and n.sub is not None:
            atoms = _atoms(n.sub, reader.ev)
            if atoms and any(bound_letter(a) for a in atoms):
                values = [reader.value(a) if bound_letter(a) else None for a in atoms]
                atoms = [
                    (Token("NUM", str(v), a[0].pos),) if isinstance(v, int) else a
                    for a, v in zip(atoms, values, strict=True)
                ]
                return dataclasses.replace(n, sub=_script(atoms))
        return map_children(n, visit)

    return visit(node)


# ---- sums -------------------------------------------------------------------------------------------


def _sum_terms(node: BinOp) -> list[tuple[str, Node]]:
    """The signed terms of a sum the parser nested to the left."""
    spine: list[BinOp] = []
    n: Node = node
    while isinstance(n, BinOp) and n.op in ("+", "-"):
        spine.append(n)
        n = n.left
    return [("+", n)] + [(link.op, link.right) for link in reversed(spine)]


def _sum_of(terms: list[tuple[str, Node]], pos: int) -> Node:
    total = terms[0][1] if terms[0][0] == "+" else Neg(terms[0][1], pos=pos)
    for sign, term in terms[1:]:
        total = BinOp(sign, total, term, pos=pos)
    return total


def _expand_sum(terms: list[tuple[str, Node]], reader: _Reader) -> list[tuple[str, Node]]:
    """The signed terms with each ellipsis replaced by the terms it stands for."""

    out: list[tuple[str, Node]] = []
    for k, (sign, term) in enumerate(terms):
        if not isinstance(term, Dots):
            out.append((sign, term))
            continue
        if k == 0 or k == len(terms) - 1 or isinstance(terms[k + 1][1], Dots):
            raise MeaningError("an ellipsis in a sum needs a written term on each side (x_1 + \\cdots + x_n)")
        (s1, first), (s2, last) = terms[k - 1], terms[k + 1]
        if s1 != s2:
            raise MeaningError("the terms around the ellipsis have different signs")
        out.extend((s1, t) for t in _hidden_terms(first, last, reader))
    return out


def _hidden_terms(first: Node, last: Node, reader: _Reader) -> list[Node]:
    """The terms between ``first`` and ``last``: their moving indices step by one."""

    slots = _differences(first, last, reader.ev)
    if not slots:
        raise MeaningError(
            "the terms around the ellipsis do not differ only in their indices, so what it stands for is unknown"
        )
    for s in slots:
        a, b = reader.value(s.first), reader.value(s.last)
        if isinstance(b, tuple):
            raise MeaningError(f"the last term's index {b[0]} has no value (give it in sizes)")
        if not isinstance(a, int) or b is None:
            raise MeaningError("the indices around the ellipsis are not whole numbers known from sizes")
    start, stop = int(reader.value(slots[0].first)), int(reader.value(slots[0].last))  # type: ignore[arg-type]
    pattern = _pattern(first, slots, start, stop, reader, commit=True) if stop > start else None
    if pattern is None:  # every index must step up by one with the first
        raise MeaningError("the indices around the ellipsis do not step up together")
    if stop - start - 1 > MAX_HIDDEN_TERMS:
        raise MeaningError(
            f"the ellipsis stands for {stop - start - 1} terms (at most {MAX_HIDDEN_TERMS} are written out)"
        )
    return [pattern(pos) for pos in range(start + 1, stop)]


# ---- matrices ---------------------------------------------------------------------------------------


def _split_row(row: list[Node]) -> tuple[list[Node], list[Node], bool]:
    """The entries before and after a row's ellipsis (and whether it has one)."""

    places = [k for k, c in enumerate(row) if isinstance(c, Dots)]
    if not places:
        return row, [], False
    if places != list(range(places[0], places[-1] + 1)) or any(row[k].kind == "blank" for k in places):  # type: ignore[attr-defined]
        raise MeaningError("a row of the matrix has an empty entry or more than one ellipsis")
    return row[: places[0]], row[places[-1] + 1 :], True


def _extent(before: list, after: list, p: int, reader: _Reader, what: str) -> int:
    """The number of rows (or columns) of a matrix from the last entry before its ellipsis (at p)
    and the first after it, when no other side gives the shape."""

    if before and after:
        slots = _differences(before[-1], after[0], reader.ev) or []
        for s in slots:
            a, b = reader.value(s.first), reader.value(s.last)
            if isinstance(a, int) and isinstance(b, int):
                return b - (a - p) + len(after)
            if isinstance(b, tuple):
                raise MeaningError(
                    f"the number of {what} behind the ellipsis is unknown ({b[0]} has no value; give it in sizes)"
                )
    raise MeaningError(f"the number of {what} behind the ellipsis is unknown")


def _expand_matrix(node: Matrix, reader: _Reader, like: Value | None) -> tuple[Matrix, list[tuple[int, int]]]:

    rows = node.rows
    dotted = [k for k, r in enumerate(rows) if all(isinstance(c, Dots) for c in r)]
    if dotted and dotted != list(range(dotted[0], dotted[-1] + 1)):
        raise MeaningError("the matrix has more than one row of ellipses")
    top = rows[: dotted[0]] if dotted else rows
    bottom = rows[dotted[-1] + 1 :] if dotted else []
    splits = [_split_row(r) for r in top + bottom]
    if like is not None:
        N, M = like.shape if is_matrix(like) else (1, 1)  # type: ignore[union-attr]
    else:
        N = _extent([r[0] for r in top], [r[0] for r in bottom], len(top) - 1, reader, "rows") if dotted else len(rows)
        dotted_row = next((s for s in splits if s[2] and s[0] and s[1]), None)
        if dotted_row is not None:
            M = _extent(dotted_row[0], dotted_row[1], len(dotted_row[0]) - 1, reader, "columns")
        else:
            M = max(len(b) + len(a) for b, a, _ in splits)
    if N * M > MAX_MATRIX_ENTRIES:
        raise MeaningError(f"the matrix with ellipses would be {N}×{M} (at most {MAX_MATRIX_ENTRIES} entries)")
    if len(top) + len(bottom) > N:
        raise ShapeError(f"the matrix has at least {len(top) + len(bottom)} rows; the other side has {N}")
    grid = _Grid(N, M)
    places = list(range(len(top))) + [N - len(bottom) + k for k in range(len(bottom))]
    for r, (before, after, has) in zip(places, splits, strict=True):
        if len(before) + len(after) > M or (not has and len(before) != M):
            raise ShapeError(
                f"row {r + 1} of the matrix has {len(before) + len(after)} entries; the other side has {M} columns"
            )
        for c, cell in enumerate(before):
            grid.put(r, c, cell, ("L", c) if has else ("F", c, M - 1 - c))
        for k, cell in enumerate(after):
            grid.put(r, M - len(after) + k, cell, ("R", len(after) - 1 - k))

    # letters such as n are bound first, by two written entries of a row, or of a column, that
    # follow one pattern (the first pair that does, in reading order)
    lines = [[(r, c) for c in range(M)] for r in places] + [[(r, c) for r in places] for c in range(M)]
    for line in lines:
        written = [rc for rc in line if grid.cells[rc[0]][rc[1]] is not None]
        for i, j in itertools.combinations(range(len(written)), 2):
            a, b = written[i], written[j]
            if grid.same_line(a, b):
                pattern = _between(*grid.ends(a, b), reader, commit=False)
                if pattern is not None:
                    reader.bind(pattern.binds)
    grid.cells = [[None if x is None else _substitute_letters(x, reader) for x in row] for row in grid.cells]

    # hidden entries of written rows, then hidden rows column by column
    for r, (before, after, has) in zip(places, splits, strict=True):
        if has and before and after:
            grid.fill(
                [(r, c) for c in range(len(before) - 1, M - len(after) + 1)], reader, ("M", len(before), len(after))
            )
    if dotted and top and bottom:
        for c in range(M):
            line = [(r, c) for r in range(len(top) - 1, N - len(bottom) + 1)]
            if grid.same_line(line[0], line[-1]):
                grid.fill(line, reader, grid.labels.get(line[0]))

    hidden = [(r, c) for r in range(N) for c in range(M) if grid.cells[r][c] is None]
    if hidden and like is None:
        r, c = hidden[0]
        raise MeaningError(f"entry ({r + 1}, {c + 1}) behind the ellipsis follows no pattern of the written entries")
    for r, c in hidden:
        v = like[r, c] if is_matrix(like) else like  # type: ignore[index]
        grid.cells[r][c] = Given(v, sp.latex(v), pos=node.pos)
    return Matrix(grid.cells, pos=node.pos), hidden  # type: ignore[arg-type]


class _Grid:
    """The entries of a matrix being rebuilt, each with where it was written in its row: ``("L", k)``
    k-th from the left, ``("R", k)`` k-th from the right, ``("M", before, after)`` behind the
    dots of a row with that many entries around them, ``("F", k, k')`` in a row without dots.
    Two entries are in one column for every size only when these agree: a pattern down a column
    from ``-\\sigma_1\\sigma_2`` (second from the left) to ``-\\sigma_n\\sigma_{n-1}`` (second from
    the right) holds for n = 3 only, and is not one."""

    def __init__(self, rows: int, cols: int) -> None:
        self.cells: list[list[Node | None]] = [[None] * cols for _ in range(rows)]
        self.labels: dict[tuple[int, int], tuple | None] = {}

    def put(self, r: int, c: int, cell: Node, label: tuple | None) -> None:
        self.cells[r][c] = cell
        self.labels[(r, c)] = label

    def same_line(self, a: tuple[int, int], b: tuple[int, int]) -> bool:
        if a[0] == b[0]:
            return True
        la, lb = self.labels.get(a), self.labels.get(b)
        if la is None or lb is None:
            return False
        if la[0] == "F" and lb[0] == "F":
            return la == lb
        if la[0] == "F" or lb[0] == "F":
            full, other = (la, lb) if la[0] == "F" else (lb, la)
            return other in (("L", full[1]), ("R", full[2]))
        return la == lb

    def ends(self, a: tuple[int, int], b: tuple[int, int]) -> tuple[Node, int, Node, int]:
        along_row = a[0] == b[0]
        k = 1 if along_row else 0
        return self.cells[a[0]][a[1]], a[k], self.cells[b[0]][b[1]], b[k]  # type: ignore[return-value]

    def fill(self, line: list[tuple[int, int]], reader: _Reader, label: tuple | None) -> None:
        """Fill the hidden entries strictly inside ``line`` from its two ends."""
        a, b = line[0], line[-1]
        if self.cells[a[0]][a[1]] is None or self.cells[b[0]][b[1]] is None or len(line) < 3:
            return
        pattern = _between(*self.ends(a, b), reader)
        if pattern is None:
            return
        along_row = a[0] == b[0]
        for r, c in line[1:-1]:
            if self.cells[r][c] is None:
                self.put(r, c, pattern(c if along_row else r), label)
