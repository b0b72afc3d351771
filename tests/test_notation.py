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


# ---- the notation textbooks use -------------------------------------------------------------------


def test_bracketed_layers_and_a_transpose_inside_the_superscript():
    w = parse_expression(r"W^{[l]}")
    assert isinstance(w, Name) and w.brackets == "[" and to_latex(w) == "W^{[l]}"
    mixed = parse_expression(r"a^{[2](i)}")
    assert isinstance(mixed, Name) and len(mixed.sups) == 2 and to_latex(mixed) == "a^{[2](i)}"
    for text in (r"A^{[1]T}", r"h^{(k-1)\top}", r"W^{(2)T}"):
        node = parse_expression(text)
        assert isinstance(node, Transpose) and isinstance(node.operand, Name), text
    # W^{[2]T} (A - Y) is a product, not a call
    product = parse_expression(r"W^{[2]T} (A - Y)")
    assert isinstance(product, BinOp) and isinstance(product.left, Transpose)
    roundtrip(r"W^{[l]} a^{[l-1]} + b^{[l]}")


def test_nabla_is_the_derivative():
    d = parse_expression(r"\nabla_{W^{(2)}} J")
    assert isinstance(d, Deriv) and to_latex(d.X) == "W^{(2)}" and to_latex(d.F) == "J"
    assert isinstance(parse_expression(r"\nabla_w E \odot x"), BinOp)  # ∇_w E, then the product
    assert isinstance(parse_expression("∇_x z"), Deriv)


def test_norm_subscripts_and_parenthesized_entries():
    assert to_latex(parse_expression(r"\|W\|_F^2")) == r"(\|W\|)^{2}"
    assert to_latex(parse_expression(r"\lVert x \rVert_2")) == r"\|x\|"
    with pytest.raises(ParseError):
        parse_expression(r"\|W\|_1")
    entry = parse_expression(r"(A_{out})_{ik}")
    assert to_latex(entry) == "(A_{out})_{ik}"


def test_unicode_greek_of_pasted_notes():
    assert to_latex(parse_expression("Φ(x)")) == r"\Phi (x)"
    assert to_latex(parse_expression("2π")) == r"({2} {\pi })"


# ---- what the new notation means (checked claims) -------------------------------------------------


def _verdicts(header: str, *claims: str) -> list[str]:
    import textwrap

    from derive.notes.check import check_file
    from derive.notes.claims import load_claims_text

    lines = [textwrap.dedent(header).strip(), "claims:"]
    for k, c in enumerate(claims):
        lines.append(f"  - id: c{k}\n    latex: '{c.replace(chr(39), chr(39) * 2)}'")
    results = check_file(load_claims_text("\n".join(lines) + "\n", "t.yaml"), isolate=False)
    return [r.verdict + ("" if r.verdict == "holds" else f": {r.reason or r.diagnosis}") for r in results]


def test_nabla_norms_broadcasting_and_bold_letters_mean_what_textbooks_mean():
    header = r"""
    symbols: {W: 'matrix[2, 3]', X: 'matrix[3, 4]', b: 'vector[2]', R: 'matrix[4, 3]', V: 'matrix[3, 2]',
              c: 'vector[2]', z: 'vector[2]', x: 'vector[3]'}
    definitions:
      - 'J = \frac{1}{2}\|W\|_F^2 + \sum_{i=1}^{2} (W x)_i'
    """
    assert _verdicts(
        header,
        r"\nabla_W J = \frac{\partial J}{\partial W}",
        r"\nabla_{\mathbf{W}} J = W + \begin{bmatrix} 1 \\ 1 \end{bmatrix} x^T",
        r"\|W\|_F^2 = \sum_{i=1}^{2} \sum_{j=1}^{3} W_{ij}^2",
        r"\|W\|^2 = \|W\|_F^2",
        r"1 - z = \begin{bmatrix} 1 - z_1 \\ 1 - z_2 \end{bmatrix}",
        r"(W X + b)_{ij} = \sum_{k=1}^{3} W_{ik} X_{kj} + b_i",
        r"(R V + c)_{ij} = \sum_{k=1}^{3} R_{ik} V_{kj} + c_j",
        r"\mathbf{W} \boldsymbol{x} = W x",
    ) == ["holds"] * 8


def test_bracketed_layers_are_layers():
    header = r"""
    symbols: {'W^{[1]}': 'matrix[3, 2]', 'W^{[2]}': 'matrix[1, 3]', 'a^{[0]}': 'vector[2]', g: relu}
    definitions:
      - 'z^{[1]} = W^{[1]} a^{[0]}'
      - 'a^{[1]} = g(z^{[1]})'
      - 'z^{[2]} = W^{[2]} a^{[1]}'
    """
    assert _verdicts(header, r"z^{[l]} = W^{[l]} a^{[l-1]}", r"\frac{\partial z^{[2]}}{\partial W^{[2]}} = a^{[1]T}") == [
        "holds",
        "holds",
    ]


def test_an_example_index_declared_in_the_file():
    bishop = r"""
    symbols: {n: 'example[N]', t: 'vector[2]', y: 'vector[2]'}
    sizes: {N: 3}
    definitions:
      - 'E_n = \frac{1}{2}\sum_{k=1}^{2} (y_k - t_k)^2'
    """
    assert _verdicts(bishop, r"\frac{\partial E_n}{\partial y_k} = y_k - t_k") == ["holds"]
    per_example = r"""
    symbols: {i: 'example[m]', 'x^{(i)}': 'vector[2]', w: 'vector[2]', '\sigma': sigmoid}
    sizes: {m: 2}
    definitions:
      - 'a^{(i)} = \sigma(w^T x^{(i)} + b)'
      - 'L^{(i)} = -(y^{(i)} \log a^{(i)} + (1 - y^{(i)}) \log(1 - a^{(i)}))'
      - 'J = \frac{1}{m}\sum_{i=1}^{m} L^{(i)}'
    """
    assert _verdicts(
        per_example,
        r"\frac{\partial L^{(i)}}{\partial b} = a^{(i)} - y^{(i)}",
        r"\frac{\partial J}{\partial b} = \frac{1}{m}\sum_{i=1}^{m} (a^{(i)} - y^{(i)})",
        r"\frac{\partial J}{\partial w} = \frac{1}{m}\sum_{i=1}^{m} (a^{(i)} - y^{(i)}) x^{(i)}",
        r"J = \frac{1}{2}(L^{(1)} + L^{(2)})",
    ) == ["holds"] * 4
    assert _verdicts(per_example, r"\frac{\partial J}{\partial b} = \sum_{i=1}^{m} (a^{(i)} - y^{(i)})")[0].startswith(
        "fails: factor 1/m"
    )


def test_gelu_erf_phi_pi_and_the_activations_by_name():
    assert _verdicts(
        "symbols: {g: swish}",
        r"\Phi(x) = \frac{1}{2}\left(1 + \operatorname{erf}\left(\frac{x}{\sqrt{2}}\right)\right)",
        r"\frac{d}{dx}\Phi(x) = \frac{1}{\sqrt{2\pi}} e^{-x^2/2}",
        r"\operatorname{GELU}(x) = x \Phi(x)",
        r"\frac{d}{dx}\operatorname{SiLU}(x) = \sigma(x) + x \sigma(x)(1 - \sigma(x))",
        r"g(x) = x \sigma(x)",
        r"\text{swish}(x) = \mathrm{SiLU}(x)",
        r"\frac{d}{dx}\operatorname{LeakyReLU}(x) = \begin{cases} 1 & x > 0 \\ 0.01 & \text{otherwise} \end{cases}",
        r"\operatorname{ELU}(x) = \begin{cases} x & x > 0 \\ e^x - 1 & \text{otherwise} \end{cases}",
    ) == ["holds"] * 8


def test_an_undeclared_sigma_applied_to_parentheses_is_the_sigmoid():
    assert _verdicts(
        "definitions: ['a = \\sigma(z)']",
        r"\frac{d}{dz}\sigma(z) = \sigma(z)(1 - \sigma(z))",
        r"\frac{\partial a}{\partial z} = a(1 - a)",
        r"\sigma(0) = \frac{1}{2}",
    ) == ["holds"] * 3
    # declared otherwise, it is what the file says
    assert _verdicts("symbols: {'\\sigma': relu}", r"\sigma(x) = \max(0, x)") == ["holds"]
    softmax = "symbols: {x: 'vector[3]'}\ndefinitions:\n  - '\\sigma = softmax(x)'"
    assert _verdicts(softmax, r"\frac{\partial \sigma_i}{\partial x_j} = \sigma_i (\delta_{ij} - \sigma_j)") == ["holds"]


def test_readings_say_how_an_undeclared_name_before_parentheses_was_read():
    from derive.notes.meaning import Env, Evaluator

    ev = Evaluator(Env())
    ev.eval(parse_expression(r"f(x + 1) + \sigma(z)"))
    assert ev.readings == [
        r"$f(x + 1)$ read as the product $f \cdot (x + 1)$ ($f$ is not declared as a function)",
        r"$\sigma(z)$ read as the sigmoid ($\sigma$ is not declared)",
    ]
    ev = Evaluator(Env())
    ev.eval(parse_expression(r"a (1 - a)^2 + g(y)^T"))
    assert len(ev.readings) == 2 and ev.readings[0].startswith("$a(1 - a)$ read as the product")


@pytest.mark.parametrize(
    "symbols, words",
    [
        ("{ij: 'example[N]'}", "an example index is one letter"),
        ("{n: 'example[N]'}", "size 'N' is not a whole number"),
        ("{n: 'example[9]'}", "9 examples are too many"),
    ],
)
def test_example_declarations_that_cannot_be_used_are_refused(symbols, words):
    from derive.errors import InputError
    from derive.notes.claims import load_claims_text

    with pytest.raises(InputError) as info:
        load_claims_text(f"symbols: {symbols}\nclaims: ['E_n = E_n']\n", "t.yaml")
    assert words in str(info.value) and "t.yaml:1" in str(info.value)
