"""The diagnosis names the mistake: one claim per class, in several notations, worded in the notes'
own symbols; shape mismatches are diagnosed too. (The measurement on textbook claims derive has
not seen is ``benchmarks/bench_diagnosis.py``.)"""

from __future__ import annotations

import textwrap

import pytest

from derive.notes.check import check_file
from derive.notes.claims import load_claims_text


def one(header: str, claim: str):
    quoted = claim.replace("'", "''")
    text = textwrap.dedent(header).strip() + f"\nclaims:\n  - id: c\n    latex: '{quoted}'\n"
    (result,) = check_file(load_claims_text(text, "t.yaml"), isolate=False)
    return result


# ---- notations the claims below are written in ---------------------------------------------------

NIELSEN = r"""
symbols:
  '\sigma': sigmoid
  'w^{(2)}': 'matrix[3, 2]'
  'b^{(2)}': 'vector[3]'
  'w^{(3)}': 'matrix[2, 3]'
  'b^{(3)}': 'vector[2]'
  'a^{(1)}': 'vector[2]'
  y: 'vector[2]'
definitions:
  - 'z^{(2)} = w^{(2)} a^{(1)} + b^{(2)}'
  - 'a^{(2)} = \sigma(z^{(2)})'
  - 'z^{(3)} = w^{(3)} a^{(2)} + b^{(3)}'
  - 'a^{(3)} = \sigma(z^{(3)})'
  - 'C = \frac{1}{2}\|y - a^{(3)}\|^2'
  - '\delta^{(3)} = \frac{\partial C}{\partial z^{(3)}}'
  - '\delta^{(2)} = \frac{\partial C}{\partial z^{(2)}}'
"""
SQUARE = r"""
symbols: {f: sigmoid, 'W^{(1)}': 'matrix[2, 2]', 'W^{(2)}': 'matrix[2, 2]', x: 'vector[2]', y: 'vector[2]'}
definitions:
  - 'z^{(2)} = W^{(1)} x'
  - 'a^{(2)} = f(z^{(2)})'
  - 'z^{(3)} = W^{(2)} a^{(2)}'
  - 'a^{(3)} = f(z^{(3)})'
  - 'J = \frac{1}{2}\|a^{(3)} - y\|^2'
  - '\delta^{(3)} = \frac{\partial J}{\partial z^{(3)}}'
  - '\delta^{(2)} = \frac{\partial J}{\partial z^{(2)}}'
"""
DEEP = r"""
symbols:
  'W^{[1]}': 'matrix[3, 2]'
  'W^{[2]}': 'matrix[1, 3]'
  X: 'matrix[2, m]'
  Y: 'matrix[1, m]'
  '\sigma': sigmoid
sizes: {m: 3}
definitions:
  - 'Z^{[1]} = W^{[1]} X'
  - 'A^{[1]} = \tanh(Z^{[1]})'
  - 'Z^{[2]} = W^{[2]} A^{[1]}'
  - 'A^{[2]} = \sigma(Z^{[2]})'
  - 'J = -\frac{1}{m} \sum_{i=1}^{m} \left(Y_{1i} \log A^{[2]}_{1i} + (1 - Y_{1i}) \log(1 - A^{[2]}_{1i})\right)'
"""
BISHOP = r"""
symbols: {n: 'example[N]', h: tanh, x: 'vector[2]', t: 'vector[3]', 'w^{(1)}': 'matrix[3, 2]',
          'w^{(2)}': 'matrix[3, 3]'}
sizes: {N: 2}
definitions:
  - 'a_j = \sum_{i=1}^{2} w^{(1)}_{ji} x_i'
  - 'z_j = h(a_j)'
  - 'y_k = \sum_{j=1}^{3} w^{(2)}_{kj} z_j'
  - 'E_n = \frac{1}{2}\sum_{k=1}^{3} (y_k - t_k)^2'
"""
SCALAR = r"""
definitions:
  - 'n = x_1 w_1 + x_2 w_2 + b'
  - 'o = \tanh(n)'
"""
DECAY = r"""
symbols: {f: tanh, x: 'vector[2]', y: 'vector[2]', 'W^{(1)}': 'matrix[3, 2]', 'W^{(2)}': 'matrix[2, 3]'}
definitions:
  - 'h = f(W^{(1)} x)'
  - 'o = W^{(2)} h'
  - 'J = \frac{1}{2}\|o - y\|^2 + \frac{\lambda}{2}\left(\|W^{(1)}\|_F^2 + \|W^{(2)}\|_F^2\right)'
"""
SOFTMAX = "symbols: {z: 'vector[3]'}\ndefinitions:\n  - 'p = softmax(z)'"
GENERIC = "symbols: {u: function, v: function}"

CLASSES = [
    # a wrong activation derivative: another unit's rule, the rule on z, g for g'
    ("activation: sigmoid rule for tanh", DEEP,
     r"\frac{\partial J}{\partial Z^{[1]}} = \frac{1}{m} W^{[2]T} (A^{[2]} - Y) \odot A^{[1]} \odot (1 - A^{[1]})",
     ["wrong activation derivative", "sigmoid's rule", r"\tanh'(Z^{[1]})"]),
    ("activation: rule on z", NIELSEN, r"\delta^{(3)} = (a^{(3)} - y) \odot z^{(3)} \odot (1 - z^{(3)})",
     ["wrong activation derivative", "applied to $z$"]),
    ("activation: 1 - n^2", SCALAR, r"\frac{\partial o}{\partial n} = 1 - n^2", ["wrong activation derivative"]),
    ("activation: relu for relu'", "symbols: {g: relu}", r"\frac{d}{dv} g(v) = g(v)",
     ["wrong activation derivative", "itself"]),
    ("activation: entries", BISHOP,
     r"\frac{\partial E_n}{\partial a_j} = (1 - a_j^2) \sum_{k=1}^{3} w^{(2)}_{kj} (y_k - t_k)",
     ["wrong activation derivative", "$z_{j} = h(a_{j})$", "$h'(a_{j}) = 1 - z_{j}^{2}$"]),
    # a sign inside an argument
    ("argument sign: sigma", "symbols: {'\\sigma': sigmoid}", r"\frac{d}{dx}\log(1 + e^{-x}) = -\sigma(x)",
     ["sign inside the argument", r"$\sigma(-x)$"]),
    ("argument sign: softplus", "symbols: {'\\zeta': softplus, '\\sigma': sigmoid}",
     r"\log \sigma(x) = -\zeta(x)", ["sign inside the argument", r"$\zeta(-x)$"]),
    # swapped indices
    ("indices: w_jk for w_kj", BISHOP,
     r"\frac{\partial E_n}{\partial a_j} = (1 - z_j^2) \sum_{k=1}^{3} w^{(2)}_{jk} (y_k - t_k)",
     ["swapped indices", "w^{(2)}_{kj}"]),
    ("indices: z_k for z_j", BISHOP, r"\frac{\partial E_n}{\partial w^{(2)}_{kj}} = (y_k - t_k) z_k",
     ["swapped indices", "z_{j}"]),
    ("indices: entry", NIELSEN, r"\frac{\partial C}{\partial w^{(3)}_{jk}} = a^{(2)}_j \delta^{(3)}_k",
     ["swapped indices"]),
    # a missing transpose, shapes fitting or not
    ("transpose: shapes fit", SQUARE, r"\delta^{(2)} = (W^{(2)} \delta^{(3)}) \odot f'(z^{(2)})",
     ["missing transpose", "$W^{(2)}$ should be $(W^{(2)})^T$"]),
    ("transpose: shapes do not fit", NIELSEN, r"\delta^{(2)} = (w^{(3)} \delta^{(3)}) \odot \sigma'(z^{(2)})",
     ["shape mismatch: cannot multiply 2×3 and 2×1 elementwise", "missing transpose"]),
    ("transpose: whole side", NIELSEN, r"\frac{\partial C}{\partial w^{(3)}} = a^{(2)} (\delta^{(3)})^T",
     ["shape mismatch", "transpose"]),
    ("transpose: deep learning course", DEEP, r"\frac{\partial J}{\partial W^{[2]}} = \frac{1}{m}(A^{[2]} - Y) A^{[1]}",
     ["missing transpose", "$A^{[1]}$ should be $(A^{[1]})^T$"]),
    # a layer off by one (also behind a shape mismatch)
    ("layer: shape mismatch", NIELSEN, r"\delta^{(2)} = ((w^{(2)})^T \delta^{(3)}) \odot \sigma'(z^{(2)})",
     ["shape mismatch", "layer off by one: $w^{(2)}$ should be $w^{(3)}$"]),
    ("layer: square", SQUARE, r"\delta^{(2)} = ((W^{(1)})^T \delta^{(3)}) \odot f'(z^{(2)})",
     ["layer off by one: $W^{(1)}$ should be $W^{(2)}$"]),
    ("layer: brackets", DEEP, r"\frac{\partial J}{\partial W^{[2]}} = \frac{1}{m}(A^{[2]} - Y) A^{[2]T}",
     ["layer off by one: $A^{[2]}$ should be $A^{[1]}$"]),
    # an elementwise product where an outer product belongs
    ("outer product", NIELSEN, r"\frac{\partial C}{\partial w^{(3)}} = \delta^{(3)} \odot a^{(2)}",
     ["outer product", r"\delta^{(3)} (a^{(2)})^T"]),
    ("outer product: inner written", SQUARE, r"\frac{\partial J}{\partial W^{(2)}} = (a^{(2)})^T \delta^{(3)}",
     ["outer product"]),
    # the wrong order of ⊙ and a matrix product
    ("product order: square", SQUARE, r"\delta^{(2)} = (W^{(2)})^T (\delta^{(3)} \odot f'(z^{(2)}))",
     ["product order", "matrix product comes first"]),
    ("product order: shapes", NIELSEN, r"\delta^{(2)} = (w^{(3)})^T (\delta^{(3)} \odot \sigma'(z^{(2)}))",
     ["shape mismatch", "product order"]),
    # the softmax Jacobian with the wrong sign in one term
    ("softmax sign", SOFTMAX, r"\frac{\partial p_i}{\partial z_j} = p_i \delta_{ij} + p_i p_j",
     ["wrong sign of the term $p_{i} p_{j}$"]),
    ("softmax sign: entries defined", "symbols: {x: 'vector[3]'}\ndefinitions:\n"
     "  - 's_i = \\frac{e^{x_i}}{\\sum_{k=1}^{3} e^{x_k}}'",
     r"\frac{\partial s_i}{\partial x_j} = s_i (\delta_{ij} + s_j)", ["wrong sign of the term"]),
    # a missing Jacobian factor, an extra factor
    ("missing derivative factor", SQUARE, r"\delta^{(2)} = (W^{(2)})^T \delta^{(3)}",
     ["missing derivative factor", "f'(z^{(2)})"]),
    ("missing factor x", SCALAR, r"\frac{\partial o}{\partial w_1} = 1 - o^2",
     ["missing factor", "$x_{1}$"]),
    ("extra factor", BISHOP, r"\frac{\partial E_n}{\partial w^{(2)}_{kj}} = (y_k - t_k)(1 - y_k^2) z_j",
     ["extra factor", "$1 - y_{k}^{2}$"]),
    # log of a sum taken as a sum of logs
    ("log of a sum: value", "symbols: {z: 'vector[3]'}", r"\log \operatorname{softmax}(z)_i = z_i - \sum_{j=1}^{3} z_j",
     ["log of a sum"]),
    ("log of a sum: written", "symbols: {'\\sigma': sigmoid}", r"\log \sigma(x) = -(\log 1 + \log e^{-x})",
     ["log of a sum"]),
    ("log of a sum: derivative", "symbols: {z: 'vector[3]'}",
     r"\frac{\partial}{\partial z_j} \log \sum_{c=1}^{3} e^{z_c} = 1", ["log of a sum"]),
    # a for z
    ("a for z", NIELSEN, r"\delta^{(2)} = ((w^{(3)})^T \delta^{(3)}) \odot \sigma'(a^{(2)})",
     ["the activation where the pre-activation $z^{(2)}$ belongs"]),
    ("z for a", DEEP, r"\frac{\partial J}{\partial W^{[2]}} = \frac{1}{m}(A^{[2]} - Y) Z^{[1]T}",
     ["the pre-activation where the activation $A^{[1]}$ belongs"]),
    # a dropped product-rule term
    ("product rule: silu", "symbols: {'\\sigma': sigmoid}",
     r"\frac{d}{dx}\left(x \sigma(x)\right) = x \sigma(x)(1 - \sigma(x))", ["product rule"]),
    ("product rule: gelu", "", r"\frac{d}{dx} \operatorname{GELU}(x) = \Phi(x)", ["product rule"]),
    ("product rule: functions", GENERIC, r"\frac{d}{dx}(u v) = u' v", ["product rule", "$u v'$"]),
    # the L2 term, in the notes' symbols
    ("missing L2 term", DECAY, r"\frac{\partial J}{\partial W^{(2)}} = (o - y) h^T",
     [r"missing regularization: the L2 term $\lambda W^{(2)}$ is missing"]),
    ("factor in the L2 term", DECAY, r"\frac{\partial J}{\partial W^{(2)}} = (o - y) h^T + 2 \lambda W^{(2)}",
     ["factor 2: the factor $2$ in $2 \\lambda W^{(2)}$ is one too many"]),
    # a sign, a constant factor
    ("sign", DEEP, r"\frac{\partial J}{\partial Z^{[2]}} = \frac{1}{m}(Y - A^{[2]})", ["sign:"]),
    ("factor 1/m", DEEP, r"\frac{\partial J}{\partial Z^{[2]}} = A^{[2]} - Y", ["factor 1/m"]),
]


def plain_words_with_maths(text: str) -> bool:
    """Maths only between $…$ (balanced), plain words outside."""
    outside = text.split("$")[::2]
    return text.count("$") % 2 == 0 and not any("\\" in part or "^{" in part for part in outside)


@pytest.mark.parametrize("label, header, claim, words", CLASSES, ids=[c[0] for c in CLASSES])
def test_each_class_is_named(label, header, claim, words):
    r = one(header, claim)
    assert r.verdict == "fails", (label, r.reason)
    for w in words:
        assert r.diagnosis and w in r.diagnosis, (label, r.diagnosis)
    assert plain_words_with_maths(r.diagnosis), r.diagnosis


def test_diagnoses_use_the_notes_aliases_and_layers():
    header = r"""
    symbols: {'\sigma': sigmoid, '\alpha': a, '\gamma': y}
    definitions:
      - 'z^{(3)} = w^{(3)} a^{(2)} + b^{(3)}'
      - 'a^{(3)} = \sigma(z^{(3)})'
      - 'C = (a^{(3)} - y)^2'
    sizes: {L: 3}
    """
    r = one(header, r"\frac{\partial C}{\partial w^{(L)}} = 2 \sigma'(z^{(L)}) (\alpha^{(L)} - \gamma)")
    assert "$\\alpha^{(L-1)}$" in r.diagnosis, r.diagnosis


def test_a_claimed_zero_that_is_not_says_so():
    r = one(SCALAR, r"\frac{\partial o}{\partial w_2} = 0")
    assert r.diagnosis == "not zero: $o$ depends on $w_{2}$"


def test_a_mistake_that_explains_one_index_value_only_is_not_the_diagnosis():
    # -p_i p_j is right off the diagonal: "sign" explains the failing entry (i = j) alone, not the claim
    r = one(SOFTMAX, r"\frac{\partial p_i}{\partial z_j} = p_i p_j - p_i \delta_{ij}")
    assert r.verdict == "fails" and "sign: the right side" in r.diagnosis
    r = one(SOFTMAX, r"\frac{\partial p_i}{\partial z_j} = p_i \delta_{ij} + p_i p_j")
    assert "wrong sign of the term" in r.diagnosis and not r.diagnosis.startswith("sign:")


def test_an_unexplained_shape_mismatch_says_only_that():
    r = one(NIELSEN, r"\delta^{(2)} = a^{(1)} + \delta^{(3)}")
    assert r.verdict == "fails"
    assert r.diagnosis == "shape mismatch: the left side is 3×1, the right side is 2×1"


def test_when_no_mistake_explains_it_what_differs_is_said():
    r = one(SCALAR, r"\frac{\partial o}{\partial w_1} = x_1 (1 - o^2) x_2")
    assert r.diagnosis == "extra factor: the factor $x_{2}$ is one too many"
