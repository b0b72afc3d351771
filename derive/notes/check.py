"""Checking a claims file: each claim proved, refuted or left undecided, in order, as it is decided.

For one claim (``check_claim``): parse its chain ``a = b = c`` (``notation``); a claim with ± is
two readings, every ± read as + and then as −; write out its ellipses (``ellipsis``); find the
values of its free indices (``indices``); then check every link on its own (``links``: evaluate,
compare at random points, prove; a failing link gets its expected value and a diagnosis). An
update ``θ := θ − α…`` gives a name a new value and is no equation.

``iter_check`` yields the results of a file one by one, each claim under its own time limit
(``isolation``: a forked worker when one can be forked, else the watchdog limits of this thread).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from ..timelimit import Deadline
from .claims import ClaimsFile, ClaimSpec, load_claims, load_claims_text
from .ellipsis import expand as expand_ellipsis
from .ellipsis import has_dots
from .expected import NotesNames
from .generic import check_generic_link
from .indices import IndexProblem, claim_assignments
from .isolation import run_limited
from .links import Link, check_link
from .meaning import Env, Evaluator, MeaningError, ShapeError, UnknownName
from .notation import (
    BinOp,
    Call,
    Chain,
    Matrix,
    Name,
    Neg,
    Node,
    ParseError,
    PlusMinus,
    map_children,
    parse_chain,
    parse_condition,
    to_latex,
    walk,
)
from .printing import latex_of
from .results import CheckResults, ClaimResult, format_terminal, summarize, to_json, undecided
from .typeset import typeset

__all__ = [
    "CLAIM_TIME_LIMIT",
    "CheckResults",
    "ClaimResult",
    "check",
    "check_claim",
    "check_file",
    "format_terminal",
    "iter_check",
    "latex_of",
    "summarize",
    "to_json",
]

CLAIM_TIME_LIMIT = 20.0  # seconds for one claim, all links and index values together (a file: at most 1000)
# sizes an ``any`` size takes when a claim is checked again on an instance: distinct, so that a
# swapped pair of sizes shows, and small, so that the instance is quick
INSTANCE_SIZES = (3, 2, 4, 5)
RESERVE = 2.0  # seconds of a claim's budget kept back from its links (reading it, collecting results)


# ----------------------------------------------------------------------------------------------
# A file
# ----------------------------------------------------------------------------------------------


def check(
    source: str | os.PathLike[str], time_limit: float = CLAIM_TIME_LIMIT, isolate: bool = True
) -> CheckResults:
    """Check a claims file; ``source`` is its path or its YAML text (a string with a line break,
    or a one-line YAML mapping that names no file). An unusable file raises ``InputError``.

    Each claim has ``time_limit`` seconds. It runs in a forked worker, killed past its limit, when
    ``isolate`` and this is the main thread of a process that may have children; anywhere else
    (a thread, a notebook's worker thread, a ``multiprocessing.Pool`` worker) it runs in the
    calling thread under time limits that need neither signals nor the main thread."""
    cf = _load(source)
    return CheckResults(cf.path, list(iter_check(cf, time_limit, isolate)), cf)


def _load(source: str | os.PathLike[str]) -> ClaimsFile:
    if not isinstance(source, str):
        return load_claims(source)
    if "\n" not in source and (Path(source).exists() or not _is_mapping(source)):
        return load_claims(source)
    return load_claims_text(source, "<string>")


def _is_mapping(text: str) -> bool:
    try:
        return isinstance(yaml.safe_load(text), dict)
    except yaml.YAMLError:
        return False


def iter_check(cf: ClaimsFile, time_limit: float = CLAIM_TIME_LIMIT, isolate: bool = True) -> Iterator[ClaimResult]:
    """The result of each claim of ``cf``, in order, as soon as it is decided; each claim has
    ``time_limit`` seconds (in a forked worker killed past it when ``isolate`` and forking is
    possible here, else under the watchdog limits of this thread)."""
    for spec in cf.claims:
        result = run_limited(
            lambda spec=spec: check_claim(cf, spec, time_limit),
            lambda reason, spec=spec: undecided(spec, reason),
            time_limit,
            isolate,
        )
        result.section = cf.section_title(spec)
        yield result


def check_file(cf: ClaimsFile, time_limit: float = CLAIM_TIME_LIMIT, isolate: bool = True) -> list[ClaimResult]:
    """Check every claim of ``cf`` (see ``iter_check``)."""
    return list(iter_check(cf, time_limit, isolate))


# ----------------------------------------------------------------------------------------------
# A claim
# ----------------------------------------------------------------------------------------------


def check_claim(cf: ClaimsFile, spec: ClaimSpec, budget: float = CLAIM_TIME_LIMIT) -> ClaimResult:
    """Check one claim in this thread: the verdict with its evidence, steps and diagnosis.

    A formula too deep for Python's stack or too big for memory, wherever it overflows (reading,
    SymPy's rewriting, evaluating, diagnosing), is ``undecided``."""
    start = time.monotonic()
    try:
        result = _check_claim(cf.context(spec), spec, budget)
    except RecursionError:
        result = undecided(spec, "the formula is too large to evaluate (nested too deeply)")
    except MemoryError:
        result = undecided(spec, "the formula is too large to evaluate (out of memory)")
    result.seconds = time.monotonic() - start
    return result


def _check_claim(cf: ClaimsFile, spec: ClaimSpec, budget: float) -> ClaimResult:
    try:
        chain = parse_chain(spec.latex)
    except ParseError as err:
        return undecided(spec, f"the formula does not parse: {err}")
    if len(chain.sides) < 2:
        return undecided(spec, "a claim is an equation: it needs '='")
    if any(isinstance(n, PlusMinus) for side in chain.sides for n in walk(side)):
        result = _check_both_signs(cf, spec, chain, budget)
    else:
        result = _check_reading(cf, spec, chain, budget)
    result.sides_latex, result.relations = _typeset_all(chain.sides), list(chain.relations)
    return result


def _typeset_all(sides: list[Node]) -> list[str]:
    """The sides printed for a report; none when a side is too deep to print."""
    try:
        return [typeset(side) for side in sides]
    except RecursionError:
        return []


def _check_both_signs(cf: ClaimsFile, spec: ClaimSpec, chain: Chain, budget: float) -> ClaimResult:
    """``(u \\pm v)' = u' \\pm v'`` is two equations: every ± read as + (∓ as −), then as −.
    It holds when both do; the first that fails or is undecided speaks for the claim."""
    results = []
    for sign in ("+", "-"):
        reading = Chain(
            [_read_signs(side, sign) for side in chain.sides],
            [_text_with_signs(t, start, side, sign) for t, start, side in zip(chain.texts, chain.starts, chain.sides)],
            chain.starts,
            chain.relations,
        )
        results.append((sign, _check_reading(cf, spec, reading, budget / 2)))
    for verdict in ("fails", "undecided"):
        for sign, r in results:
            if r.verdict == verdict:
                if r.diagnosis:
                    r.diagnosis = f"with ± read as {sign}: {r.diagnosis}"
                if r.reason:
                    r.reason = f"with ± read as {sign}: {r.reason}"
                return r
    first, second = results[0][1], results[1][1]
    first.steps = first.steps + second.steps
    first.steps_latex = first.steps_latex + second.steps_latex
    if second.evidence == "numeric":
        first.evidence = "numeric"
    first.readings += [text for text in second.readings if text not in first.readings]
    return first


def _read_signs(node: Node, sign: str) -> Node:
    """``node`` with every ± read as ``sign`` and every ∓ as the other sign."""

    def read(n: Node) -> Node:
        if not isinstance(n, PlusMinus):
            return map_children(n, read)
        here = sign if n.sign == "pm" else ("-" if sign == "+" else "+")
        right = read(n.right)
        if n.left is None:
            return right if here == "+" else Neg(right, pos=n.pos)
        return BinOp(here, read(n.left), right, pos=n.pos)

    return read(node)


_SIGN_COMMAND = re.compile(r"\\(?:pm|mp)(?![A-Za-z])|[±∓]")  # matched only where the parser found a ±


def _text_with_signs(text: str, start: int, side: Node, sign: str) -> str:
    """The source text of a side with its ± written as ``sign`` (the steps show the reading)."""
    other = "-" if sign == "+" else "+"
    positions = sorted((n.pos - start, n.sign) for n in walk(side) if isinstance(n, PlusMinus))
    for offset, kind in reversed(positions):
        m = _SIGN_COMMAND.match(text, offset)
        if m:
            written = sign if kind == "pm" else other
            text = text[: m.start()] + written + text[m.end() :]
    return text


def _check_reading(cf: ClaimsFile, spec: ClaimSpec, chain: Chain, budget: float) -> ClaimResult:
    """One reading of a claim (no ± left); an update (``:=`` of a name used on its right) is no
    equation, unless its shapes cannot even be added."""
    result = _check_chain(cf, spec, chain, budget)
    if _is_update(chain) and not (result.verdict == "fails" and (result.diagnosis or "").startswith("shape mismatch")):
        steps = [dict(link, verdict="undecided") for link in result.steps]
        steps_latex = result.steps_latex
        result = undecided(
            spec, "an update (:=) gives a name a new value made from its old one; not an equation", steps
        )
        result.steps_latex = steps_latex
    return result


def _is_update(chain: Chain) -> bool:
    """``\\theta_j := \\theta_j - \\alpha ...``: the name assigned appears on the right."""
    if chain.relations != [":="] or not isinstance(chain.sides[0], Name):
        return False
    target = to_latex(chain.sides[0])
    return any(isinstance(n, Name) and to_latex(n) == target for n in walk(chain.sides[1]))


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _check_chain(cf: ClaimsFile, spec: ClaimSpec, chain: Chain, budget: float) -> ClaimResult:
    """Every link of ``chain`` checked on its own, at every value of the claim's free indices."""
    texts = chain.texts
    steps = [{"lhs": texts[k], "rhs": texts[k + 1], "verdict": "undecided"} for k in range(len(texts) - 1)]
    printed = _typeset_all(chain.sides)
    result = _check_links(cf, spec, chain, steps, budget)
    if result.steps is steps and printed:
        result.steps_latex = list(zip(printed, printed[1:]))
    return result


def _check_links(cf: ClaimsFile, spec: ClaimSpec, chain: Chain, steps: list[dict], budget: float) -> ClaimResult:
    start = time.monotonic()
    env = cf.env
    sides = list(chain.sides)
    if env.symbolic_sizes:
        return _check_for_every_size(cf, spec, chain, steps, budget)
    try:
        hidden = _expand_ellipses(env, sides)
    except ShapeError as err:  # more rows written around the dots than the other side has
        return _shape_failure(spec, steps, err)
    except MeaningError as err:
        return undecided(spec, str(err), steps)
    conditions = []
    if spec.when:
        try:
            conditions = parse_condition(spec.when)
        except ParseError as err:
            return undecided(spec, f"when: does not parse: {err}", steps)
    try:
        assignments, layer_letters = claim_assignments(env, sides, conditions)
    except IndexProblem as err:
        return undecided(spec, str(err), steps)
    sides, variable = _apply_bare_functions(env, sides)
    free_names = _claim_variables(env, sides, assignments[0] if assignments else {}) | variable
    seed = _seed(spec.id + spec.latex)
    names = NotesNames(cf.aliases, spec.latex)
    links: list[Link] = []
    for k, step in enumerate(steps):
        remaining = budget - (time.monotonic() - start)
        per_link = max(remaining - RESERVE, 1.0) / (len(steps) - k)
        link = check_link(
            env, cf, sides[k], sides[k + 1], assignments, layer_letters, seed + k, per_link, free_names, names
        )
        gaps = hidden.get(k) or hidden.get(k + 1)
        if link.verdict == "holds" and gaps:  # only the written entries were compared
            listed = ", ".join(f"({r + 1}, {c + 1})" for r, c in gaps[:6]) + (", …" if len(gaps) > 6 else "")
            link = Link(
                "undecided",
                reason=f"the written entries agree, but entries {listed} behind the ellipses follow no pattern"
                " of their neighbours, so they were not compared",
                readings=link.readings,
            )
        step["verdict"] = link.verdict
        links.append(link)
    return _claim_result(spec, steps, links)


def _check_for_every_size(cf: ClaimsFile, spec: ClaimSpec, chain: Chain, steps: list[dict],
                          budget: float) -> ClaimResult:
    """A file with ``sizes: {n: any}``: every link proved for every size (derive.notes.generic).

    A claim that fails, or that has no meaning while the sizes are symbols, is checked again on
    an instance (distinct small sizes): its failure there gets the instance's counterexample and
    diagnosis; its success there is reported, not taken for a proof."""
    start = time.monotonic()
    seed = _seed(spec.id + spec.latex)
    sizes = ", ".join(cf.env.symbolic_sizes)
    links: list[Link] = []
    unsupported = None
    for k, step in enumerate(steps):
        per_link = max(budget - (time.monotonic() - start) - RESERVE, 1.0) / (len(steps) - k)
        try:
            if spec.when:
                raise MeaningError("a condition (when:) is checked on instances only")
            generic = check_generic_link(cf.env, chain.sides[k], chain.sides[k + 1], per_link, seed + k)
        except MeaningError as err:
            unsupported = unsupported or str(err)
            link = Link("undecided", reason=f"{err} (with {sizes} symbolic)")
        except Deadline:
            link = Link("undecided", reason="time limit reached while checking for every size")
        else:
            link = Link(generic.verdict, generic.evidence, counterexample=generic.counterexample)
        step["verdict"] = link.verdict
        links.append(link)
    result = _claim_result(spec, steps, links)
    result.for_all_sizes = result.verdict == "holds" and result.evidence == "symbolic"
    if result.verdict == "holds" or (result.verdict == "undecided" and unsupported is None):
        return result
    values = {name: INSTANCE_SIZES[k % len(INSTANCE_SIZES)] for k, name in enumerate(cf.env.symbolic_sizes)}
    instance_steps = [dict(step, verdict="undecided") for step in steps]
    instance = _check_links(cf.at_sizes(values), spec, chain, instance_steps, budget - (time.monotonic() - start))
    at = ", ".join(f"{name} = {v}" for name, v in values.items())
    if instance.verdict == "fails":
        instance.counterexample = dict(instance.counterexample or {})
        instance.counterexample["point"] = {**values, **instance.counterexample.get("point", {})}
        return instance
    if result.verdict == "undecided" and instance.verdict == "holds":
        result.reason = f"{unsupported}; it holds at {at}, which proves it for those sizes only"
    return result


def _claim_result(spec: ClaimSpec, steps: list[dict], links: list[Link]) -> ClaimResult:
    """The claim's verdict from its links: fails when any fails (the first failing link explains
    it), else undecided when any is (the first one's reason), else holds."""
    result = ClaimResult(spec.id, "holds", None, steps, latex=spec.latex, note=spec.note, expect=spec.expect)
    for link in links:
        result.readings += [text for text in link.readings if text not in result.readings]
    failing = [link for link in links if link.verdict == "fails"]
    open_ = [link for link in links if link.verdict == "undecided"]
    if failing:
        first = failing[0]
        result.verdict = "fails"
        result.evidence = first.evidence
        result.expected, result.counterexample, result.diagnosis = first.expected, first.counterexample, first.diagnosis
        result.point_latex = first.point_latex
    elif open_:
        result.verdict = "undecided"
        result.reason = open_[0].reason
    else:
        result.evidence = "numeric" if any(link.evidence == "numeric" for link in links) else "symbolic"
    return result


def _shape_failure(spec: ClaimSpec, steps: list[dict], err: ShapeError) -> ClaimResult:
    failed = ClaimResult(spec.id, "fails", "symbolic", steps, latex=spec.latex, note=spec.note, expect=spec.expect)
    failed.diagnosis = f"shape mismatch: {err}"
    for link in steps:
        link["verdict"] = "fails"
    return failed


# ----------------------------------------------------------------------------------------------
# Reading the sides
# ----------------------------------------------------------------------------------------------


def _expand_ellipses(env: Env, sides: list[Node]) -> dict[int, list[tuple[int, int]]]:
    """Write out the ellipses of every side (in place). A matrix side takes its shape, and the
    entries no pattern explains, from a neighbouring side; those entries are returned by side."""
    hidden: dict[int, list[tuple[int, int]]] = {}
    for k, side in enumerate(sides):
        if not has_dots(side):
            continue
        like, unknown = None, None
        if isinstance(side, Matrix):
            for j in (k - 1, k + 1):
                if 0 <= j < len(sides) and not has_dots(sides[j]):
                    ev = Evaluator(env)
                    try:
                        value = ev.eval(sides[j])
                    except MeaningError:
                        continue
                    if env.strict and ev.unknown:  # \nabla C with no meaning gives no shape
                        unknown = unknown or sorted(ev.unknown)[0]
                        continue
                    like = value
                    break
        try:
            sides[k], gaps = expand_ellipsis(side, Evaluator(env), like)
        except MeaningError:
            if unknown:
                raise UnknownName(unknown) from None
            raise
        if gaps:
            hidden[k] = gaps
    return hidden


def _apply_bare_functions(env: Env, sides: list[Node]) -> tuple[list[Node], frozenset[str]]:
    """``g = \\frac{1}{1+e^{-z}}``: a function written bare, equated to a formula in one variable,
    means the function at that variable, g(z). Other sides are returned unchanged."""
    ev0 = Evaluator(env)
    bare = [k for k, side in enumerate(sides) if ev0.is_function_name(side) and not side.primes]
    if not bare or len(bare) == len(sides):
        return sides, frozenset()
    unknown: set[str] = set()
    for k, side in enumerate(sides):
        if k not in bare:
            ev = Evaluator(env)
            try:
                ev.eval(side)
            except (MeaningError, RecursionError, Deadline, TypeError, ValueError, ZeroDivisionError):
                return sides, frozenset()
            unknown |= set(ev.unknown)
    if len(unknown) != 1 or not re.fullmatch(r"\\?[A-Za-z]+", next(iter(unknown))):
        return sides, frozenset()
    var = next(iter(unknown))
    out = [Call(side, [Name(var, pos=side.pos)], pos=side.pos) if k in bare else side for k, side in enumerate(sides)]
    return out, frozenset({var})


def _claim_variables(env: Env, sides: list[Node], assignment: dict[str, int]) -> frozenset[str]:
    """Names with no meaning in the file that the claim itself quantifies over: used on two or
    more sides of the chain (g'(z) = e^{-z}/(1+e^{-z})^2 = ...), or the variable of a derivative."""
    seen: dict[str, int] = {}
    deriv: set[str] = set()
    for side in sides:
        ev = Evaluator(env, assignment)
        try:
            ev.eval(side)
        except (MeaningError, RecursionError, Deadline, TypeError, ValueError, ZeroDivisionError):
            pass
        for key in ev.unknown:
            seen[key] = seen.get(key, 0) + 1
        deriv |= ev.derivative_vars
    return frozenset(k for k, n in seen.items() if n >= 2) | frozenset(deriv)
