"""The LaTeX parser: the notes' dialects, round trips, and error positions."""

# ruff: noqa: E501 - the notes' formulas are kept on one line, as written

from __future__ import annotations

import pytest

from derive.notes.notation import (
    BinOp,
    Call,
    Cases,
    Deriv,
    Matrix,
    Name,
    Neg,
    Num,
    ParseError,
    Pow,
    Sum,
    Transpose,
    parse_chain,
    parse_condition,
    parse_expression,
    to_latex,
)


def roundtrip(text: str) -> None:
    """Printing the tree and parsing it again gives the same printout."""
    once = to_latex(parse_expression(text))
    assert to_latex(parse_expression(once)) == once


# Formulas in the five seeds' dialects, as the notes write them.
DIALECTS = [
    r"z^{(L)} = w^{(L)} a^{(L-1)} + b^{(L)}",
    r"\frac{\partial C_0}{\partial b^{(L)}} = 2 \sigma'(z^{(L)}) (a^{(L)} - y)",
    r"\color{red}{\large \Theta^{1}=\begin{bmatrix}\theta_{11}^{(1)} & \theta_{12}^{(1)}\\\theta_{21}^{(1)} & \theta_{22}^{(1)} \end{bmatrix}}",
    r"\large \color{green}{\frac{\partial J}{\partial \Theta^{(2)}}}=(y-\hat y)\cdot \frac{-\partial \hat y}{\partial z^{(3)}}\tag 1",
    r"\frac{\color{fuchsia}{-}\partial \hat y}{\partial \Theta^{(2)}} = 0",
    r"\large \delta^{(l)}=\left(\Theta^{(l)}\right)^\top\delta^{(l+1)}\,g'(z^{(l)})",
    r"\large J(\Theta)=-\frac{1}{m}\left[\displaystyle\sum_{i=1}^m \sum_{k=1}^K y_k^{(i)} \log\left(h_\Theta(x^{(i)})\right)_k + \left(1-y_k^{(i)}\right)\log\left(1-\left(h_\Theta\left(x^{(i)}\right)\right)_k\right) \right]+\frac{\lambda}{2m}\sum_{l=1}^{L-1}\sum_{i=1}^{s_l}\sum_{j=1}^{s_{l+1}}\left(\Theta_{ji}^l\right)^2",
    r"\dfrac{\partial J(\Theta)}{\partial \Theta_{i,j}^{(l)}} = \frac{1}{m}\sum_{t=1}^m a_j^{(t)(l)} {\delta}_i^{(t)(l+1)}",
    r"\Delta^{(l)} := \Delta^{(l)} + \delta^{(l+1)}(a^{(l)})^T",
    r"\frac{\partial E_{total}}{\partial w_{31}} = \frac{\partial E_{total}}{\partial out_{d1}} * \frac{\partial out_{d1}}{\partial net_{d1}} * \frac{\partial net_{d1}}{\partial w_{31}} \quad (1)",
    r"\frac{\partial \text{sig}(\text{net}_{d_1})}{\partial w_{31}} = \frac{\partial \text{out}_{d_1}}{\partial w_{31}}",
    r"\frac{\partial C_o}{\partial w^{(L)}} = \frac{\partial z^{(L)}}{\partial w^{(L)}} \times \frac{\partial \alpha^{(L)}}{\partial z^{(L)}} \quad (\text{chain rule})",
    r"\sigma'(x) = \begin{cases} 1 & \text{if } x > 0 \\ 0 & \text{if } x \leq 0 \end{cases}",
    r"\frac{\partial \sigma_i}{\partial x_j} = \sigma_i (\delta_{ij} - \sigma_j)",
    r"\sigma_i = \frac{e^{x_i}}{\sum e^{x_n}}",
    r"\frac{\mathrm{d}f}{\mathrm{d}x} = y",
    r"\frac{dy}{dz} = y (1 - y)",
    r"\frac{d}{dx}\sigma(x) = \frac{e^{-x}}{(1+e^{-x})^2}",
    r"\partial C / \partial w = 2",
    r"(\delta^{(4)} \times (\theta^{(3)})^T) \sigma'(z^{(3)}) = X^T \times \delta^{(2)}",
    r"a .* b = a \odot b = a \circ b",
    r"\|a - y\|^2 = \frac{1}{2m} \sum (y-\hat y)^2",
    r"\begin{align} J &= a \\[2ex] &= b \end{align}",
    r"D^{(l)}_{i,j} := \dfrac{1}{m}\left(\Delta^{(l)}_{i,j} + \lambda\Theta^{(l)}_{i,j}\right)",
    r"\bbox[10px,border:2px solid purple]{\large \delta^{(l)}=g'(z^{(l)})}",
    r"E_{d_1} = \frac{1}{2}(target_{d_1} - sig(w_{31} * out_{c_1} + w_{xx} * out_{c_2}))^2",
    r"= \boxed{(\sigma_j - \delta_{tj}) \alpha_k^{(L-1)}}".lstrip("= "),
    r"\frac{\partial C_o}{\partial \alpha_k^{(L-1)}} = \sum_{j=0}^{N-1} 2(\alpha_j^{(L)} - \gamma_j) \cdot \sigma'(z_j^{(L)}) \cdot w_{jk}^{(L)}",
]


@pytest.mark.parametrize("text", DIALECTS)
def test_seed_dialects_parse(text):
    chain = parse_chain(text)
    assert chain.sides


@pytest.mark.parametrize("text", DIALECTS)
def test_round_trip(text):
    for side in parse_chain(text).sides:
        once = to_latex(side)
        assert to_latex(parse_expression(once)) == once


def test_layer_superscript_is_part_of_the_name_and_a_bare_one_is_a_power():
    n = parse_expression("a^{(L-1)}")
    assert isinstance(n, Name) and len(n.sups) == 1
    p = parse_expression("x^2")
    assert isinstance(p, Pow) and isinstance(p.exponent, Num)
    both = parse_expression("a_j^{(t)(l)}")
    assert isinstance(both, Name) and len(both.sups) == 2 and both.sub is not None


def test_transposes():
    for text in ("A^T", "A^{T}", r"A^\top", r"(A)^{\top}"):
        assert isinstance(parse_expression(text), Transpose)


def test_words_are_names_and_juxtaposition_multiplies():
    n = parse_expression("out_{h1}")
    assert isinstance(n, Name) and n.base == "out"
    prod = parse_expression("x y")
    assert isinstance(prod, BinOp) and prod.op == "juxt"
    assert isinstance(parse_expression("xy"), Name)


def test_derivative_spellings():
    for text in (
        r"\frac{\partial F}{\partial X}",
        r"\partial F / \partial X",
        r"\frac{d}{dX} F",
        r"\frac{dF}{dX}",
        r"\frac{\mathrm{d}F}{\mathrm{d}X}",
        r"\frac{\partial}{\partial X}(F)",
    ):
        d = parse_expression(text)
        assert isinstance(d, Deriv), text
        assert isinstance(d.X, Name) and d.X.base == "X"
    neg = parse_expression(r"\frac{-\partial y}{\partial z}")
    assert isinstance(neg, Deriv) and neg.sign == -1


def test_function_derivative_and_calls():
    c = parse_expression(r"\sigma'(z^{(L)})")
    assert isinstance(c, Call) and c.func.primes == 1
    assert isinstance(parse_expression(r"g(z)"), Call)


def test_sums_cases_matrices():
    s = parse_expression(r"\sum_{k=1}^{K} y_k")
    assert isinstance(s, Sum) and s.var == "k"
    assert isinstance(parse_expression(r"\sum_k y_k"), Sum)
    m = parse_expression(r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}")
    assert isinstance(m, Matrix) and len(m.rows) == 2
    c = parse_expression(r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}")
    assert isinstance(c, Cases) and c.pieces[1][1].op is None
    stacked = parse_expression(r"[1; a^{(l)}]")
    assert isinstance(stacked, Matrix) and len(stacked.rows) == 2


def test_labels_are_dropped():
    assert len(parse_chain(r"a = b \tag{3}").sides) == 2
    assert len(parse_chain(r"a = b \quad (2)").sides) == 2
    assert len(parse_chain(r"a = b \quad (\text{chain rule})").sides) == 2
    assert len(parse_chain(r"a = b.").sides) == 2


def test_chain_texts():
    chain = parse_chain("a = b + c = d")
    assert chain.texts == ["a", "b + c", "d"]


def test_negative_and_unicode():
    assert isinstance(parse_expression("-x"), Neg)
    assert isinstance(parse_expression("a − b"), BinOp)


@pytest.mark.parametrize(
    "text, column, words",
    [
        (r"\frac{a}{", 10, "a number"),
        ("a + ", 5, "a number"),
        ("(a + b", 7, "')'"),
        (r"a \foo b", 3, r"unknown command \foo"),
        ("a = b )", 7, "unbalanced"),
        ("a @ b", 3, "unexpected character"),
        (r"\sum", 5, "body of the sum"),
        (r"a \cdots b", 3, "ellipsis"),
        ("a < b", 3, "only equations"),
    ],
)
def test_errors_name_the_position_and_what_was_expected(text, column, words):
    with pytest.raises(ParseError) as info:
        parse_chain(text)
    err = info.value
    assert err.pos + 1 == column, str(err)
    assert words in str(err)
    assert "\n" not in str(err)


def test_conditions():
    conds = parse_condition(r"i \neq j")
    assert conds[0].op == "!="
    assert [c.op for c in parse_condition("i > 1, j < 3")] == [">", "<"]


def test_no_eval_of_user_text():
    # Python syntax is not maths here: it is a parse error, never executed.
    with pytest.raises(ParseError):
        parse_chain("__import__('os').system('true')")


def test_lagrange_prime_on_an_expression():
    from derive.notes.notation import Prime

    assert isinstance(parse_expression(r"\left(\frac{1}{1+e^{-z}}\right)'"), Prime)
    assert isinstance(parse_expression("a + -b"), BinOp)
