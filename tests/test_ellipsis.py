"""Ellipses: sums x_1 + \\cdots + x_n and matrices with \\dots, \\vdots, \\ddots are written out from
the terms around them; entries no pattern gives are never claimed to hold."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_check import run

from derive.notes.notation import Dots, Matrix, ParseError, parse_chain, parse_expression, to_latex

SOFTMAX = r"""
symbols: {x: 'vector[K]'}
sizes: {K: 3}
definitions:
  - '\sigma(\vec{x}) = \text{softmax}(\vec{x})'
  - 'J_s = \frac{\partial \sigma}{\partial x}'
"""
VECTOR = """
symbols: {x: 'vector[K]', y: 'vector[K]', '\\theta': 'vector[4]'}
sizes: {K: 3}
"""


def verdicts(header: str, *claims: str) -> list[tuple[str, str | None]]:
    return [(r.verdict, r.reason or r.diagnosis) for r in run(header, *claims)]


# ---- reading -------------------------------------------------------------------------------------


def test_an_ellipsis_reads_as_a_term_of_a_sum_or_a_matrix_entry():
    side = parse_expression(r"x_1 + x_2 + \cdots + x_n")
    assert isinstance(side.left.right, Dots)  # type: ignore[attr-defined]
    m = parse_expression(r"\begin{bmatrix} a_1 & \dots & a_n \\ \vdots & & \vdots \\ b_1 & \ldots & b_n \end{bmatrix}")
    assert isinstance(m, Matrix) and [type(c).__name__ for c in m.rows[1]] == ["Dots", "Dots", "Dots"]
    short = parse_expression(r"\begin{bmatrix} a_1 & a_2 \\ \vdots \\ b_1 & b_2 \end{bmatrix}")
    assert isinstance(short, Matrix) and len(short.rows[1]) == 1


@pytest.mark.parametrize("text", [r"a \cdots b", r"x_1 \cdots x_n", r"\begin{bmatrix} a & \dots b \end{bmatrix}"])
def test_an_ellipsis_inside_a_product_is_still_a_parse_error(text):
    with pytest.raises(ParseError, match="ellipsis"):
        parse_chain("y = " + text)


def test_prose_after_where_is_not_part_of_the_formula():
    chain = parse_chain(r"y = 2x \text{ where } x \text{ is the input}.")
    assert len(chain.sides) == 2 and to_latex(chain.sides[1]) == "({2} {x})"


# ---- sums ----------------------------------------------------------------------------------------


def test_a_sum_with_an_ellipsis_is_the_sum_of_its_terms():
    out = verdicts(
        VECTOR,
        r"\sum_{k=1}^{K} x_k = x_1 + x_2 + \cdots + x_K",
        r"\sum_{k=1}^{K} x_k y_k = x_1 y_1 + \dots + x_3 y_3",
        r"\sum_{k=1}^{K} x_k^2 = x_1 + \cdots + x_K",
        r"\theta_1 + \theta_2 x_1 + \cdots + \theta_4 x_3 = \theta_1 + \sum_{k=1}^{K} \theta_{k+1} x_k",
    )
    assert [v for v, _ in out] == ["holds", "holds", "fails", "holds"]


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (r"s = x_1 + \cdots + x_n", "index n has no value (give it in sizes)"),
        (r"s = x_1 + \cdots", "needs a written term on each side"),
        (r"s = x_1 + \cdots + y_3", "do not differ only in their indices"),
        (r"s = x_3 + \cdots + x_1", "do not step up together"),
        (r"s = x_1 + \cdots - x_3", "different signs"),
        (r"s = x_1 + \cdots + x_{100000}", "at most 500"),
    ],
)
def test_an_ellipsis_that_cannot_be_written_out_is_undecided_with_the_reason(claim, reason):
    ((verdict, why),) = verdicts(VECTOR, claim)
    assert verdict == "undecided" and reason in why


def test_a_definition_may_use_an_ellipsis():
    header = VECTOR + "definitions:\n  - 's = x_1^2 + x_2^2 + \\cdots + x_K^2'\n"
    out = verdicts(header, r"\frac{\partial s}{\partial x_2} = 2 x_2", r"\frac{\partial s}{\partial x_3} = x_3")
    assert [v for v, _ in out] == ["holds", "fails"]


# ---- matrices ------------------------------------------------------------------------------------


def test_a_vector_with_vdots_binds_n_to_its_size():
    out = verdicts(
        VECTOR,
        r"x = \begin{bmatrix} x_1 \\ \vdots \\ x_n \end{bmatrix}",
        r"x = \begin{bmatrix} x_1 \\ x_2 \\ \vdots \\ x_{n} \end{bmatrix}",
        r"x = \begin{bmatrix} y_1 \\ \vdots \\ y_n \end{bmatrix}",
        r"x^T = \begin{bmatrix} x_1 & \cdots & x_{n-1} \end{bmatrix}",
    )
    assert [v for v, _ in out] == ["holds", "holds", "fails", "holds"]


def test_the_softmax_jacobian_written_with_corners_holds():
    claim = (
        r"J_s = \begin{bmatrix} \frac{\partial \sigma_1}{\partial x_1} & \dots & \frac{\partial \sigma_1}{\partial x_n}"
        r" \\ \vdots & \ddots & \vdots \\ \frac{\partial \sigma_n}{\partial x_1} & \dots &"
        r" \frac{\partial \sigma_n}{\partial x_n} \end{bmatrix}"
    )
    ((verdict, _),) = verdicts(SOFTMAX, claim)
    assert verdict == "holds"


def test_wrong_written_entries_fail_and_are_named():
    claim = (
        r"J_s = \begin{bmatrix} \sigma_1(1-\sigma_1) & \sigma_1 \sigma_2 & \dots \\ \sigma_1 \sigma_1 &"
        r" \sigma_2(1-\sigma_2) & \dots \\ \vdots & \vdots & \vdots \\ \sigma_n(1-\sigma_n) & \dots &"
        r" \sigma_n \sigma_1 \end{bmatrix}"
    )
    (r,) = run(SOFTMAX, claim)
    assert r.verdict == "fails"
    assert r.counterexample["point"]["entry"] == "(1, 2)"
    assert r.diagnosis.startswith("entries (1, 2), (2, 1), (3, 1), (3, 3) are wrong")
    assert "entry (1, 2): sign" in r.diagnosis
    assert r"- \sigma_{1} \sigma_{2}" in r.expected  # written with the notes' names


def test_hidden_entries_no_pattern_gives_leave_a_right_matrix_undecided():
    # for n = 3 the second column runs from -s1 s2 down to -s3 s2, but for larger n the bottom
    # entry is in column n-1: that is no pattern, and the diagonal entry (2, 2) must not be
    # taken to be -s2 s2
    claim = (
        r"J_s = \begin{bmatrix} \sigma_1(1-\sigma_1) & -\sigma_1 \sigma_2 & \dots & -\sigma_1 \sigma_n \\"
        r" \vdots & & \ddots & \vdots \\ -\sigma_n \sigma_1 & \dots & -\sigma_n\sigma_{n-1} &"
        r" \sigma_n(1-\sigma_n) \end{bmatrix}"
    )
    ((verdict, why),) = verdicts(SOFTMAX, claim)
    assert verdict == "undecided"
    assert "(2, 1), (2, 2), (2, 3)" in why and "not compared" in why


def test_more_written_rows_than_the_other_side_is_a_shape_failure():
    ((verdict, why),) = verdicts(VECTOR, r"x = \begin{bmatrix} x_1 \\ x_2 \\ x_3 \\ \vdots \\ x_n \end{bmatrix}")
    assert verdict == "fails" and why.startswith("shape mismatch")


def test_a_matrix_with_ellipses_and_nothing_to_size_it_is_undecided():
    header = "symbols: {a: 'vector[3]'}\n"
    out = verdicts(
        header, r"\begin{bmatrix} a_1 & \dots & a_n \end{bmatrix} \begin{bmatrix} a_1 \\ a_2 \\ a_3 \end{bmatrix} = 1"
    )
    ((verdict, why),) = out
    assert verdict == "undecided" and "n has no value" in why


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(3, 7), coefficient=st.integers(2, 9), drop=st.booleans())
def test_random_sums_with_an_ellipsis_hold_and_their_truncations_fail(size, coefficient, drop):
    header = f"symbols: {{x: 'vector[{size}]'}}\nsizes: {{n: {size}}}\n"
    last = "n - 1" if drop else "n"
    claim = rf"\sum_{{k=1}}^{{n}} {coefficient} x_k^2 = {coefficient} x_1^2 + \cdots + {coefficient} x_{{{last}}}^2"
    ((verdict, _),) = verdicts(header, claim)
    assert verdict == ("fails" if drop else "holds")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(2, 5), cols=st.integers(2, 5), transpose=st.booleans())
def test_random_matrices_written_by_their_corners_hold_and_transposed_ones_fail(rows, cols, transpose):
    header = f"symbols: {{A: 'matrix[{rows}, {cols}]'}}\n"
    i, j = ("j", "i") if transpose and rows == cols else ("i", "j")
    corner = {"i": {"first": "1", "last": "m"}, "j": {"first": "1", "last": "n"}}

    def entry(r: str, c: str) -> str:
        sub = {"i": corner["i"][r], "j": corner["j"][c]}
        return f"A_{{{sub[i]}{sub[j]}}}"

    claim = (
        rf"A = \begin{{bmatrix}} {entry('first', 'first')} & \cdots & {entry('first', 'last')} \\"
        rf" \vdots & \ddots & \vdots \\ {entry('last', 'first')} & \cdots & {entry('last', 'last')} \end{{bmatrix}}"
    )
    ((verdict, _),) = verdicts(header, claim)
    assert verdict == ("fails" if transpose and rows == cols else "holds")
