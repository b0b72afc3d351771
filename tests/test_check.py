"""derive check: verdicts, diagnoses, undecided claims, unusable files, output formats."""

from __future__ import annotations

import argparse
import json
import re
import textwrap

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.cli import check as check_command
from derive.errors import InputError
from derive.model.rules import sigmoid
from derive.notes.check import check_file, latex_of
from derive.notes.claims import load_claims, load_claims_text
from derive.notes.notation import BinOp, PlusMinus, parse_chain, walk

THREEB1B = """
symbols: {'\\sigma': sigmoid}
definitions:
  - 'z^{(L)} = w^{(L)} a^{(L-1)} + b^{(L)}'
  - 'a^{(L)} = \\sigma(z^{(L)})'
  - 'C_0 = (a^{(L)} - y)^2'
"""


def claims_file(header: str, *claims: str | tuple[str, str]) -> str:
    """A claims file: ``header`` YAML, then one claim per LaTeX string (or (latex, when))."""
    lines = [textwrap.dedent(header).strip(), "claims:"]
    for k, c in enumerate(claims):
        latex, when = (c, None) if isinstance(c, str) else c
        lines.append(f"  - id: c{k}")
        quoted = latex.replace("'", "''")
        lines.append(f"    latex: '{quoted}'")
        if when:
            lines.append(f"    when: '{when}'")
    return "\n".join(lines) + "\n"


def run(header: str, *claims: str | tuple[str, str]):
    cf = load_claims_text(claims_file(header, *claims), "t.yaml")
    return check_file(cf, isolate=False)


def one(header: str, claim: str):
    (result,) = run(header, claim)
    return result


# ---- verdicts --------------------------------------------------------------------------------


def test_holds_symbolic_and_chain_link_by_link():
    r = one(
        THREEB1B,
        r"\frac{\partial C_0}{\partial b^{(L)}} = 2 \sigma'(z^{(L)}) (a^{(L)} - y)"
        r" = 2 a^{(L)}(1 - a^{(L)})(a^{(L)} - y)",
    )
    assert r.verdict == "holds" and r.evidence == "symbolic"
    assert [s["verdict"] for s in r.steps] == ["holds", "holds"]


def test_sigmoid_identity_chain_without_definitions():
    r = one(
        "symbols: {'\\sigma': sigmoid}", r"\frac{d}{dx}\sigma(x) = \frac{e^{-x}}{(1+e^{-x})^2} = \sigma(x)(1-\sigma(x))"
    )
    assert r.verdict == "holds"


def test_fails_with_counterexample_and_expected():
    r = one(THREEB1B, r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) (a^{(L)} - y)")
    assert r.verdict == "fails"
    assert r.counterexample and {"point", "lhs", "rhs"} <= set(r.counterexample)
    assert r.counterexample["lhs"] != r.counterexample["rhs"]
    assert r.expected and "a^{(L)}" in r.expected


def test_failing_link_is_reported():
    r = one(THREEB1B, r"\frac{\partial C_0}{\partial a^{(L)}} = 2(a^{(L)} - y) = 3(a^{(L)} - y)")
    assert r.verdict == "fails"
    assert [s["verdict"] for s in r.steps] == ["holds", "fails"]


def test_decimals_hold_within_half_a_unit():
    header = """
    definitions:
      - 'i_1 = 0.05'
      - 'o = \\frac{1}{1 + e^{-i_1}}'
    """
    ok, bad = run(header, "o = 0.5125", "o = 0.5135")
    assert ok.verdict == "holds"
    assert bad.verdict == "fails"


def test_free_indices_and_when():
    header = """
    symbols: {x: 'vector[3]'}
    definitions:
      - '\\sigma_i = \\frac{e^{x_i}}{\\sum_{k=1}^{3} e^{x_k}}'
    """
    good, off_diag, wrong = run(
        header,
        r"\frac{\partial \sigma_i}{\partial x_j} = \sigma_i (\delta_{ij} - \sigma_j)",
        (r"\frac{\partial \sigma_i}{\partial x_j} = -\sigma_i \sigma_j", r"i \neq j"),
        r"\frac{\partial \sigma_i}{\partial x_j} = -\sigma_i \sigma_j",
    )
    assert good.verdict == "holds"
    assert off_diag.verdict == "holds"
    assert wrong.verdict == "fails"
    assert wrong.counterexample["point"]["i"] == wrong.counterexample["point"]["j"]


def test_softmax_vector_jacobian():
    header = "symbols: {z: 'vector[3]'}\ndefinitions:\n  - 's = softmax(z)'"
    r = one(header, r"\frac{\partial s_i}{\partial z_j} = s_i (\delta_{ij} - s_j)")
    assert r.verdict == "holds"


# ---- diagnosis classes --------------------------------------------------------------------------

PRESET_3B1B_1 = "network: {notation: 3b1b, layers: [1, 1, 1], hidden: sigmoid, output: sigmoid, loss: sq}"
PRESET_3B1B_2 = "network: {notation: 3b1b, layers: [2, 2, 2], hidden: sigmoid, output: sigmoid, loss: sq}"
MATRICES = "symbols: {A: 'matrix[2, 2]', B: 'matrix[2, 2]'}\ndefinitions:\n  - 'P = A B'"
NG = """
symbols: {g: sigmoid}
sizes: {m: 2}
network: {notation: ng, layers: [2, 2, 1], hidden: sigmoid, output: sigmoid, loss: bce, l2: '\\lambda'}
"""

DIAGNOSES = [
    ("sign", THREEB1B, r"\frac{\partial C_0}{\partial b^{(L)}} = -2 \sigma'(z^{(L)}) (a^{(L)} - y)", "sign"),
    ("factor 2", THREEB1B, r"\frac{\partial C_0}{\partial a^{(L)}} = a^{(L)} - y", "factor 2"),
    ("half", THREEB1B, r"\frac{\partial C_0}{\partial a^{(L)}} = 4(a^{(L)} - y)", "factor 2"),
    ("1/m", NG, r"D^{(1)}_{1,0} = \Delta^{(1)}_{1,0}", "1/m"),
    (
        "transpose",
        PRESET_3B1B_2,
        r"\frac{\partial C_0}{\partial w^{(2)}} = a^{(1)} (\frac{\partial C_0}{\partial z^{(2)}})^T",
        "transpose",
    ),
    ("product kind", MATRICES, r"P = A \odot B", "elementwise vs matrix"),
    (
        "missing sigma'",
        THREEB1B,
        r"\frac{\partial C_0}{\partial z^{(L)}} = 2 (a^{(L)} - y)",
        "missing derivative factor",
    ),
    ("swapped operands", MATRICES, r"P = B A", "swapped operands"),
    (
        "swapped indices",
        PRESET_3B1B_2,
        r"\frac{\partial z^{(2)}_j}{\partial w^{(2)}_{jk}} = a^{(1)}_j",
        "swapped indices",
    ),
    (
        "layer off by one",
        PRESET_3B1B_1,
        r"\frac{\partial C_0}{\partial w^{(2)}} = 2 a^{(2)} \sigma'(z^{(2)}) (a^{(2)} - y)",
        "layer off by one",
    ),
    (
        "w and b swapped",
        PRESET_3B1B_1,
        r"\frac{\partial C_0}{\partial b^{(2)}} = 2 a^{(1)} \sigma'(z^{(2)}) (a^{(2)} - y)",
        "w^{(2)}",
    ),
    (
        "regularized bias",
        NG,
        r"D^{(1)}_{1,0} = \frac{1}{m}(\Delta^{(1)}_{1,0} + \lambda \Theta^{(1)}_{1,0})",
        "regularized bias",
    ),
    ("missing regularization", NG, r"D^{(1)}_{1,1} = \frac{1}{m}\Delta^{(1)}_{1,1}", "regulariz"),
    (
        "wrong loss derivative",
        PRESET_3B1B_1,
        r"\frac{\partial C_0}{\partial a^{(2)}} = \frac{a^{(2)} - y}{a^{(2)}(1 - a^{(2)})}",
        "wrong loss derivative",
    ),
    (
        "wrong activation derivative",
        THREEB1B.replace("sigmoid", "tanh").replace("\\sigma(", "\\tanh("),
        r"\frac{\partial C_0}{\partial b^{(L)}} = 2(a^{(L)} - y) a^{(L)}(1 - a^{(L)})",
        "activation derivative",
    ),
    (
        "wrong unit",
        "network: {notation: mazur, layers: [2, 2, 2]}",
        r"\frac{\partial E_{total}}{\partial w_5} = (out_{o1} - target_{o1}) out_{o1}(1 - out_{o1}) out_{h2}",
        "wrong unit",
    ),
    (
        "extra factor",
        THREEB1B,
        r"\frac{\partial C_0}{\partial b^{(L)}} = 2 y \sigma'(z^{(L)}) (a^{(L)} - y)",
        "factor $y$",
    ),
    (
        "shape mismatch",
        PRESET_3B1B_2,
        r"\frac{\partial C_0}{\partial w^{(2)}} = \frac{\partial C_0}{\partial z^{(2)}} \odot a^{(1)}",
        "shape mismatch",
    ),
]


@pytest.mark.parametrize("label, header, claim, words", DIAGNOSES, ids=[d[0] for d in DIAGNOSES])
def test_diagnosis(label, header, claim, words):
    r = one(header, claim)
    assert r.verdict == "fails", (label, r.reason)
    assert r.diagnosis and words in r.diagnosis, (label, r.diagnosis)


# ---- undecided ------------------------------------------------------------------------------------


def test_unknown_symbol_is_undecided():
    r = one(THREEB1B, r"\frac{\partial C_0}{\partial w^{(L)}} = 2 q (a^{(L)} - y)")
    assert r.verdict == "undecided" and "q" in r.reason


def test_shape_mismatch_in_a_definition_is_undecided():
    header = "symbols: {A: 'matrix[2, 3]', v: 'vector[2]'}\ndefinitions:\n  - 'u = A v'"
    r = one(header, "u = A v")
    assert r.verdict == "undecided" and "definition of u" in r.reason


def test_unparseable_claim_is_undecided_never_a_crash():
    for bad in (r"\frac{a}{", r"a = \foo b", "a < b", r"\frac{\partial}{\partial}"):
        r = one(THREEB1B, bad)
        assert r.verdict == "undecided", bad
        assert r.reason


def test_a_claim_without_equals_is_undecided():
    assert one(THREEB1B, "C_0").verdict == "undecided"


def test_index_without_range_is_undecided():
    assert one(THREEB1B, "w_i = w_i").verdict == "undecided"


def test_ng_preset_names_are_whole_numbers_in_sum_limits():
    # layers [2, 2, 1]: L = 3, s_1 = 2, s_2 = 2, s_3 = K = 1; the weights (bias column aside) number 6
    count = r"\sum_{l=1}^{L-1} \sum_{i=1}^{s_l} \sum_{j=1}^{s_{l+1}} 1"
    good, wrong, k = run(NG, f"{count} = 6", f"{count} = 7", r"\sum_{k=1}^{K} 1 = 1")
    assert (good.verdict, wrong.verdict, k.verdict) == ("holds", "fails", "holds")


def test_ng_bias_input_x_0_is_one():
    # a^{(1)} = x and a^{(1)}_0 = 1, so x_0 = 1 (the notes' bias input)
    one_, zero_, row = run(
        NG, "x_0 = 1", "x_0 = 0", r"z^{(2)}_1 = \Theta^{(1)}_{10} x_0 + \Theta^{(1)}_{11} x_1 + \Theta^{(1)}_{12} x_2"
    )
    assert (one_.verdict, zero_.verdict, row.verdict) == ("holds", "fails", "holds")


def test_a_text_word_with_spaces_is_prose_not_a_name():
    # \text{mit } is a word of a sentence; \text{net} (no spaces) stays a name
    header = "definitions:\n  - 'net = 2 w'"
    prose, name = run(header, r"\text{mit } net = 2 w", r"\text{net} = 2 w")
    assert (prose.verdict, name.verdict) == ("holds", "holds")
    assert one(header, r"\text{mit } net = 3 w").verdict == "fails"


def test_time_limit_makes_a_claim_undecided():
    cf = load_claims_text(claims_file("symbols: {x: 'vector[3]'}", "x_1 = x_1"), "t.yaml")
    results = check_file(cf, time_limit=1e-6)
    assert results[0].verdict in ("undecided", "holds")


# ---- unusable files: exit 2, one line ------------------------------------------------------------


def _args(path, **kw) -> argparse.Namespace:
    return argparse.Namespace(
        file=str(path), json=kw.get("json", False), report=kw.get("report"), time_limit=30.0, progress=False
    )


@pytest.mark.parametrize(
    "content, words",
    [
        ("", "empty"),
        (b"\x00\x01\x02", "not a text file"),
        ("claims: [a\n  b: c", "not valid YAML"),
        ("foo: 1\nclaims: []", "unknown key"),
        ("network: {notation: ng, layers: [2, 0]}\nclaims: []", "impossible"),
        ("network: {notation: ng, layers: [2, 2], hidden: sigmod}\nclaims: []", "unknown function"),
        ("symbols: {'\\sigma': sigmod}\nclaims: []", "unknown function"),
        ("definitions:\n  - 'a = \\frac{1}{'\nclaims: []", "does not parse"),
        ("sizes: {K: -1}\nclaims: []", "impossible"),
        ("title: x", "claims"),
    ],
)
def test_unusable_files_exit_2_with_one_line(tmp_path, capsys, content, words):
    path = tmp_path / "bad.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert check_command.run(_args(path)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and words in err and "bad.yaml" in err


def test_line_numbers_in_messages(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("definitions:\n  - 'a = 1'\n  - 'b = (('\nclaims: []\n")
    with pytest.raises(InputError) as info:
        load_claims(path)
    assert str(info.value).startswith(f"{path}:3:")


def test_missing_and_directory(tmp_path, capsys):
    assert check_command.run(_args(tmp_path / "nope.yaml")) == 2
    assert check_command.run(_args(tmp_path)) == 2


# ---- output -------------------------------------------------------------------------------------------


def test_json_output_matches_the_contract(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(
        claims_file(
            THREEB1B,
            r"\frac{\partial C_0}{\partial b^{(L)}} = 2 \sigma'(z^{(L)}) (a^{(L)} - y)",
            r"\frac{\partial C_0}{\partial b^{(L)}} = 2 \sigma'(z^{(L)}) a^{(L)}",
        )
    )
    status = check_command.run(_args(path, json=True))
    assert status == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"file", "claims", "summary"}
    assert data["summary"] == {"holds": 1, "fails": 1, "undecided": 0}
    for c in data["claims"]:
        assert set(c) == {"id", "verdict", "evidence", "steps", "expected", "counterexample", "diagnosis", "reason"}
        for s in c["steps"]:
            assert set(s) == {"lhs", "rhs", "verdict"}


def test_terminal_output_and_exit_zero(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(claims_file(THREEB1B, r"\frac{\partial C_0}{\partial a^{(L)}} = 2(a^{(L)} - y)"))
    assert check_command.run(_args(path)) == 0
    out = capsys.readouterr().out
    assert "holds" in out and "\033[" not in out  # no colour when not a tty


def test_reports_are_written_and_user_latex_is_inert(tmp_path):
    path = tmp_path / "c.yaml"
    evil = r"\input{/etc/passwd} \write18{rm -rf /} x = \catcode 1"
    path.write_text(
        claims_file(THREEB1B, r"\frac{\partial C_0}{\partial a^{(L)}} = (a^{(L)} - y)")
        + f"  - id: evil\n    latex: '{evil}'\n"
    )
    html, tex = tmp_path / "r.html", tmp_path / "r.tex"
    assert check_command.run(_args(path, report=str(html))) == 1
    assert check_command.run(_args(path, report=str(tex))) == 1
    page = html.read_text()
    assert "<math" in page and "<script" not in page
    body = tex.read_text()
    assert r"\input{" not in body and r"\write18{" not in body and r"\catcode 1" not in body
    assert r"\textbackslash{}input" in body


def test_latex_of_uses_the_notes_names():
    a = sp.Symbol("a^{(L)}")
    assert latex_of(a * (1 - a)) in (r"a^{(L)} \left(1 - a^{(L)}\right)", r"\left(1 - a^{(L)}\right) a^{(L)}")
    assert "sigma" in latex_of(sigmoid(sp.Symbol("z")))


# ---- property: correct formulas hold, one mutation fails --------------------------------------------

_FUNCS = [("\\sigma", sigmoid), ("\\tanh", sp.tanh), ("\\exp", sp.exp)]


@st.composite
def formulas(draw):
    """A random scalar function of x (nested registry functions, powers, constant factors)."""
    x = sp.Symbol("x", real=True)
    expr = x
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["func", "pow", "scale", "shift"]))
        if kind == "func":
            expr = draw(st.sampled_from(_FUNCS))[1](expr)
        elif kind == "pow":
            expr = expr ** draw(st.integers(2, 3))
        elif kind == "scale":
            expr = draw(st.integers(2, 5)) * expr
        else:
            expr = expr + draw(st.integers(1, 4))
    return expr


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas(), st.sampled_from(["sign", "factor"]))
def test_property_correct_holds_and_mutation_fails(expr, mutation):
    x = sp.Symbol("x", real=True)
    derivative = sp.diff(expr, x)
    lhs = r"\frac{d}{dx}\left(" + latex_of(expr) + r"\right)"
    mutated = -derivative if mutation == "sign" else 2 * derivative
    header = "symbols: {'\\sigma': sigmoid}"
    good, bad = run(header, f"{lhs} = {latex_of(derivative)}", f"{lhs} = {latex_of(mutated)}")
    assert good.verdict == "holds", (lhs, good.reason)
    assert bad.verdict == "fails", (lhs, bad.reason)
    assert bad.diagnosis and ("sign" in bad.diagnosis or "factor" in bad.diagnosis)


@settings(max_examples=6, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_property_matrix_transpose(r, k, c):
    header = f"symbols: {{A: 'matrix[{r}, {k}]', B: 'matrix[{k}, {c}]'}}"
    good, bad = run(header, "(A B)^T = B^T A^T", "(A B)^T = (B^T A^T)^T")
    assert good.verdict == "holds"
    if r == c and r > 1:
        assert bad.verdict == "fails" and "transpose" in bad.diagnosis
    else:
        assert bad.verdict in ("fails", "holds")  # 1x1 is its own transpose; other shapes mismatch
        if (r, c) != (1, 1):
            assert bad.verdict == "fails"


def test_a_tiny_difference_between_huge_values_is_never_holds():
    # (a+b+c)^60 is about 1e28 at the sample points: a relative test would call these equal.
    r = one("", "(a+b+c)^{60} = (c+b+a)^{60} + 10^{-30}")
    assert r.verdict == "fails"


SLOW_CLAIM = r"\sum_{i=1}^{400} \sum_{j=1}^{400} \sum_{k=1}^{400} i j k = 0"  # 64 million terms, in Python


@pytest.mark.parametrize("isolate", [True, False], ids=["forked-worker", "this-thread"])
def test_a_claim_that_explodes_is_stopped_by_its_time_limit(isolate):
    cf = load_claims_text(claims_file("", SLOW_CLAIM, "a + b = b + a"), "t.yaml")
    slow, fast = check_file(cf, time_limit=2, isolate=isolate)
    assert slow.verdict == "undecided" and "time limit" in slow.reason
    assert slow.seconds < 2 + 10  # its limit and the grace, with room for a loaded machine
    assert fast.verdict == "holds"


def test_a_number_too_large_to_compute_is_undecided_at_once():
    """9^{9^{9^9}} would hold the interpreter for minutes inside one C call, where no time limit
    of a thread can stop it: it is refused before it is computed."""
    (r,) = check_file(load_claims_text(claims_file("", "9^{9^{9^{9}}} = 1"), "t.yaml"), isolate=False)
    assert r.verdict == "undecided" and "too large" in r.reason and r.seconds < 5


def test_lagrange_prime_holds_for_one_variable():
    r = one(
        "symbols: {'\\sigma': sigmoid}",
        r"\sigma'(z) = \left(\frac{1}{1 + e^{-z}}\right)' = \frac{e^{-z}}{(1 + e^{-z})^2}",
    )
    assert r.verdict == "holds"


def test_parenthesized_exponent_of_e_is_a_power():
    r = one("symbols: {'\\sigma': sigmoid}", r"\sigma(z) = \frac{1}{1 + e^{(-z)}}")
    assert r.verdict == "holds"


def test_html_report_strips_active_content_from_mathml():
    from derive.render.report import clean_mathml

    assert clean_mathml(r"\text{<img src=x onerror=alert(1)>} = 1") is None
    safe = clean_mathml(r"a \href{javascript:alert(1)}{x} = 1")
    assert safe is None or "javascript" not in safe
    assert "<mfrac>" in clean_mathml(r"\frac{1}{2} = x")


def test_tex_math_allow_list():
    from derive.render.check_report import safe_math

    assert safe_math(r"\frac{a^{(L)}}{2}") == r"\frac{a^{(L)}}{2}"
    for bad in (r"\input{x}", r"x^^5cinput{y}", r"\write18{ls}", "a % b", r"\catcode`\^=7"):
        assert safe_math(bad) is None


# ---- several YAML documents: notes that change notation part-way ----------------------------

PARTS = r"""
title: sigmoid part
symbols: {'\sigma': sigmoid}
claims:
  - id: sig
    latex: '\sigma''(x) = \sigma(x)(1-\sigma(x))'
---
title: relu part
symbols: {'\sigma': relu}
definitions:
  - 'a = \sigma(z)'
claims:
  - id: relu-same-formula
    latex: '\sigma''(x) = \sigma(x)(1-\sigma(x))'
  - id: relu-def
    latex: 'a = \max(0, z)'
"""


def test_each_yaml_document_gives_its_claims_its_own_meaning(tmp_path, capsys):
    cf = load_claims_text(PARTS, "parts.yaml")
    assert [c.id for c in cf.claims] == ["sig", "relu-same-formula", "relu-def"]
    assert [c.section for c in cf.claims] == [0, 1, 1]
    results = check_file(cf, isolate=False)
    # the same LaTeX holds for the sigmoid of part 1 and fails for the ReLU of part 2
    assert [r.verdict for r in results] == ["holds", "fails", "holds"]
    assert [r.section for r in results] == ["sigmoid part", "relu part", "relu part"]
    path = tmp_path / "parts.yaml"
    path.write_text(PARTS)
    code = check_command.run(argparse.Namespace(file=str(path), json=True, report=None, time_limit=20.0))
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [c["section"] for c in data["claims"]] == ["sigmoid part", "relu part", "relu part"]
    assert data["summary"] == {"holds": 2, "fails": 1, "undecided": 0}
    out = tmp_path / "parts.html"
    check_command.run(argparse.Namespace(file=str(path), json=False, report=str(out), time_limit=20.0))
    text = capsys.readouterr().out
    assert "— relu part" in text.splitlines()
    html = out.read_text()
    assert html.count('<h2 class="part" id="part-') == 2
    assert re.search(r'class="claim verdict-fails"[^>]*>\s*<div class="claim-head"><h3>relu-same-formula', html)
    # the parts are listed once at the top, linked to their headings; no part's title heads the page
    assert '<a href="#part-2">relu part</a>' in html and 'id="part-2">relu part</h2>' in html
    assert html.count("sigmoid part") == 2


def test_a_single_document_has_no_sections():
    cf = load_claims_text(PARTS.split("---")[0], "one.yaml")
    assert cf.sections == []
    (result,) = check_file(cf, isolate=False)
    assert result.section is None and "section" not in result.as_json()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PARTS.replace("id: relu-def", "id: sig"), "the claim id 'sig' is used twice (first on line 5)"),
        (PARTS + "---\n- just a list\n", "a claims file is a YAML mapping"),
        (PARTS + "---\ntitle: no claims\n", "no 'claims:' list"),
        (PARTS.replace("{'\\sigma': relu}", "{'\\sigma': rleu}"), "parts.yaml:9: unknown function 'rleu'"),
        ("---\n---\n", "the file is empty"),
    ],
)
def test_every_document_is_validated(text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_claims_text(text, "parts.yaml")


REGRESSION = r"""
symbols: {g: sigmoid, X: 'matrix[m, 2]', '\Theta^{(1)}': 'matrix[2, 3]', '\Theta^{(2)}': 'matrix[3, 1]', y: 'vector[m]'}
sizes: {m: 3}
definitions:
  - 'z^{(2)} = X\Theta^{(1)}'
  - 'a^{(2)} = g(z^{(2)})'
  - 'z^{(3)} = a^{(2)}\Theta^{(2)}'
  - '\hat y = g(z^{(3)})'
  - 'J = \frac{1}{2}\sum (y-\hat y)^2'
"""


def test_a_bare_sum_of_derivatives_is_the_derivative_of_the_sum():
    # seed 001's sum rule: one term per example, each differentiated by the 3x1 Theta^{(2)}
    holds, factor = run(
        REGRESSION,
        r"\frac{\partial J}{\partial \Theta^{(2)}} = "
        r"\sum \frac{\partial \frac{1}{2}(y-\hat y)^2}{\partial \Theta^{(2)}}",
        r"\frac{\partial J}{\partial \Theta^{(2)}} = \sum \frac{\partial (y-\hat y)^2}{\partial \Theta^{(2)}}",
    )
    assert holds.verdict == "holds"
    assert factor.verdict == "fails" and "factor 2" in factor.diagnosis


def test_a_bare_function_equated_to_a_formula_in_one_variable_is_that_function_there():
    # seed 001: "g = 1/(1+e^{-z})" means g(z); a second free name leaves it unreadable
    right, wrong, two = run(
        "symbols: {g: sigmoid}\ndefinitions:\n  - 'a = 1'",
        r"g = \frac{1}{1+e^{-z}}",
        r"g = \frac{1}{1-e^{-z}}",
        r"g = \frac{1}{1+e^{-z}} + w",
    )
    assert (right.verdict, wrong.verdict, two.verdict) == ("holds", "fails", "undecided")
    assert "give it an argument" in two.reason


def test_indices_that_only_subscript_kronecker_deltas_range_over_whole_numbers():
    right, wrong = run(
        "title: Kronecker",
        r"\delta_{ij} := \begin{cases} 0 & \text{if } i \neq j \\ 1 & \text{if } i=j \end{cases}",
        r"\delta_{ij} = \begin{cases} 1 & \text{if } i \neq j \\ 0 & \text{otherwise} \end{cases}",
    )
    assert right.verdict == "holds" and right.evidence == "symbolic"
    assert wrong.verdict == "fails"
    # an index that also subscripts an undeclared name still has no range
    (other,) = run("definitions:\n  - 'a = 1'", r"\delta_{ij} x_i = x_j")
    assert other.verdict == "undecided"


def test_a_prime_on_an_expression_of_several_variables_is_by_x():
    by_x, wrong, ambiguous = run("title: primes", "(c x)' = c", "(c x)' = x", "(c y)' = c")
    assert (by_x.verdict, wrong.verdict, ambiguous.verdict) == ("holds", "fails", "undecided")


GENERIC_FUNCTIONS = "symbols: {u: function, v: function, f: function, g: function}"


def test_rules_about_arbitrary_functions_are_proved_or_refuted():
    # seed 002's derivative rules and seed 000's chain rule, in Lagrange's notation
    results = run(
        GENERIC_FUNCTIONS,
        r"log(u)' = \frac{1}{u}u' \tag{2}",
        r"\left(\frac{u}{v}\right)' = \frac{u'v - v'u}{v^2} \tag{5}",
        r"f(g(x))' = f'(g(x))g'(x)",
        r"\large(f\circ g)'=(f'\circ g)\cdot g'",
        r"(u v)' = u' v'",
        r"\left(\frac{u}{v}\right)' = \frac{u'v + v'u}{v^2}",
    )
    assert [r.verdict for r in results] == ["holds"] * 4 + ["fails"] * 2
    assert all(r.evidence == "symbolic" for r in results[:4])
    product = results[4]
    assert product.expected == "u v' + u' v"
    # the counterexample names the functions that stood in for u and v
    assert {"x", "u(x)", "v(x)"} <= set(product.counterexample["point"])


def test_an_unknown_function_kind_is_still_refused():
    with pytest.raises(InputError, match="unknown function 'functoin'"):
        load_claims_text("symbols: {u: functoin}\nclaims:\n  - 'u = u'\n", "f.yaml")


def test_an_alias_of_a_matrix_entry_is_that_entry():
    header = """
    sizes: {m: 1}
    symbols: {'\\theta_{10}': '\\Theta^{(1)}_{10}'}
    network: {notation: ng, layers: [3, 3, 1], hidden: sigmoid, output: sigmoid, loss: bce}
    """
    same, other, by_it, not_by_it = run(
        header,
        r"\theta_{10} = \Theta^{(1)}_{10}",
        r"\theta_{10} = \Theta^{(1)}_{11}",
        r"\frac{\partial z^{(2)}_1}{\partial \theta_{10}} = 1",
        r"\frac{\partial z^{(2)}_2}{\partial \theta_{10}} = 1",
    )
    assert [r.verdict for r in (same, other, by_it, not_by_it)] == ["holds", "fails", "holds", "fails"]


def test_zero_based_sums_over_all_entries_mean_the_same_entries():
    header = "symbols: {a: 'vector[N]', w: 'vector[N]'}\nsizes: {N: 3}\ndefinitions:\n  - 'z = w^T a'"
    right, short = run(header, r"z = \sum_{k=0}^{N-1} w_k a_k", r"z = \sum_{k=0}^{N-2} w_k a_k")
    assert right.verdict == "holds"
    assert short.verdict == "undecided" and "out of range" in short.reason  # a_0 is not an entry


def test_a_defined_name_called_with_the_names_it_is_written_in_is_that_name():
    header = "symbols: {x: 'vector[K]'}\nsizes: {K: 3}\ndefinitions:\n  - '\\sigma = softmax(x)'"
    same, other = run(header, r"\sigma(\vec{x}) := \text{softmax}(\vec{x})", r"\sigma(x) = x")
    assert same.verdict == "holds" and other.verdict == "fails"


def test_a_vector_by_a_matrix_is_a_tensor_and_undecided():
    header = "symbols: {W: 'matrix[2, 2]', a: 'vector[2]'}\ndefinitions:\n  - 'z = W a'"
    (r,) = run(header, r"\frac{\partial z}{\partial W} = a")
    assert r.verdict == "undecided" and "tensor" in r.reason


def test_a_bare_sum_binds_its_letter_even_when_the_claim_uses_it_free():
    header = "symbols: {x: 'vector[K]'}\nsizes: {K: 3}\ndefinitions:\n  - '\\sigma(x) = softmax(x)'"
    right, wrong = run(header, r"\sigma_n = \frac{e^{x_n}}{\sum e^{x_n}}", r"e^{x_n} = \sum e^{x_n}")
    assert (right.verdict, wrong.verdict) == ("holds", "fails")


def test_a_sum_runs_over_the_terms_that_still_use_its_index():
    header = "symbols: {y: 'vector[K]', a: 'vector[K]'}\nsizes: {K: 2}\ndefinitions:\n  - 'C = -y^T \\log(a)'"
    ng, other = run(
        header,
        r"C - \sum_{k=1}^K (1-y_k) \log(1-a_k) = -\sum_{k=1}^K y_k \log(a_k) + (1-y_k)\log(1-a_k)",
        r"C + 1 = -\sum_{k=1}^K y_k \log(a_k) + 1",
    )
    assert (ng.verdict, other.verdict) == ("holds", "holds")


def test_a_parenthesized_name_the_definition_does_not_use_is_a_factor():
    header = "definitions:\n  - 'z = \\theta a'\n  - 'd = z^2'"
    (r,) = run(header, r"d (\theta) = z^2 \theta")
    assert r.verdict == "holds"


# ---- cases defined at some values only, updates -------------------------------------------------

COST = """
symbols: {h: 'scalar'}
definitions:
  - 'Cost(h, y) = -y \\log(h) - (1 - y) \\log(1 - h)'
"""


def test_cases_defined_only_at_some_values_are_compared_there():
    right, swapped = run(
        COST,
        r"Cost(h, y) = \begin{cases} -\log(h) & \text{if } y = 1 \\ -\log(1 - h) & \text{if } y = 0 \end{cases}",
        r"Cost(h, y) = \begin{cases} -\log(1 - h) & \text{if } y = 1 \\ -\log(h) & \text{if } y = 0 \end{cases}",
    )
    assert right.verdict == "holds"
    assert swapped.verdict == "fails" and swapped.counterexample["point"]["y"] in (0.0, 1.0)


def test_an_update_is_not_an_equation():
    r = one(THREEB1B, r"w^{(L)} := w^{(L)} - \alpha \frac{\partial C_0}{\partial w^{(L)}}")
    assert r.verdict == "undecided" and "update" in r.reason
    definition = one(THREEB1B, r"s := w^{(L)} + b^{(L)}")
    assert "update" not in (definition.reason or "")


def test_plus_minus_is_two_equations_that_must_both_hold():
    header = "symbols: {u: function, v: function}\n"
    rule, wrong, mixed = run(
        header,
        r"(u \pm v)' = u' \pm v' \tag{4}",
        r"(u \pm v)' = u' + v'",
        r"(u \pm v) - (u \mp v) = \pm 2 v",
    )
    assert rule.verdict == "holds" and [s["lhs"] for s in rule.steps] == ["(u + v)'", "(u - v)'"]
    assert wrong.verdict == "fails" and wrong.steps[0]["lhs"] == "(u - v)'" and wrong.expected == "u' - v'"
    assert mixed.verdict == "holds"


# ---- ± and := are read by the parser ----------------------------------------------------------------


def test_plus_minus_and_assignment_are_nodes_of_the_parse():
    chain = parse_chain(r"(u \pm v)' = u' \mp v'")
    signs = [n.sign for side in chain.sides for n in walk(side) if isinstance(n, PlusMinus)]
    assert signs == ["pm", "mp"] and chain.relations == ["="]
    leading = parse_chain(r"x = \pm 2 v").sides[1]
    assert isinstance(leading, PlusMinus) and leading.left is None
    update = parse_chain(r"\theta_j := \theta_j - \alpha")
    assert update.relations == [":="] and isinstance(update.sides[1], BinOp)
    # a \pm inside a name's text is not a sign: the texts of the steps are rewritten only where
    # the parser found one
    r = one("symbols: {u: function, v: function}", r"u_{pm} \pm v = u_{pm} \pm v")
    assert r.verdict == "holds" and [s["lhs"] for s in r.steps] == ["u_{pm} + v", "u_{pm} - v"]


def test_a_definition_cannot_hold_plus_minus():
    r = one("definitions:\n  - 'q = 1 \\pm x'", "q = 1 + x")
    assert r.verdict == "undecided" and "±" in r.reason


# ---- every link is checked on its own -----------------------------------------------------------------


def test_links_after_a_failing_link_are_checked():
    r = one(THREEB1B, r"\frac{\partial C_0}{\partial a^{(L)}} = 3(a^{(L)} - y) = 3 a^{(L)} - 3 y = 2(a^{(L)} - y)")
    assert [s["verdict"] for s in r.steps] == ["fails", "holds", "fails"]
    assert r.verdict == "fails" and "2" in r.expected  # the first failing link explains the claim
    undecided_after = one(THREEB1B, r"\frac{\partial C_0}{\partial a^{(L)}} = 3(a^{(L)} - y) = q")
    assert [s["verdict"] for s in undecided_after.steps] == ["fails", "undecided"]


# ---- numbers fix the point, with or without a preset ----------------------------------------------------

MAZUR_NUMBERS = """
definitions:
  - 'i_1 = 0.05'
  - 'i_2 = 0.10'
  - 'w_1 = 0.15'
  - 'w_2 = 0.20'
  - 'w_3 = 0.25'
  - 'w_4 = 0.30'
  - 'w_5 = 0.40'
  - 'w_6 = 0.45'
  - 'w_7 = 0.50'
  - 'w_8 = 0.55'
  - 'b_1 = 0.35'
  - 'b_2 = 0.60'
  - 'target_{o1} = 0.01'
  - 'target_{o2} = 0.99'
"""
# The same network written out without a preset (Mazur's forward pass, squared error halved)
MAZUR_BY_HAND = MAZUR_NUMBERS + """
  - 'net_{h1} = w_1 i_1 + w_2 i_2 + b_1'
  - 'net_{h2} = w_3 i_1 + w_4 i_2 + b_1'
  - 'out_{h1} = \\frac{1}{1 + e^{-net_{h1}}}'
  - 'out_{h2} = \\frac{1}{1 + e^{-net_{h2}}}'
  - 'net_{o1} = w_5 out_{h1} + w_6 out_{h2} + b_2'
  - 'net_{o2} = w_7 out_{h1} + w_8 out_{h2} + b_2'
  - 'out_{o1} = \\frac{1}{1 + e^{-net_{o1}}}'
  - 'out_{o2} = \\frac{1}{1 + e^{-net_{o2}}}'
  - 'E_{total} = \\frac{1}{2}(target_{o1} - out_{o1})^2 + \\frac{1}{2}(target_{o2} - out_{o2})^2'
"""


@pytest.mark.parametrize(
    "header",
    ["network: {notation: mazur, layers: [2, 2, 2]}\n" + MAZUR_NUMBERS, MAZUR_BY_HAND],
    ids=["preset", "by-hand"],
)
def test_numbers_fix_the_point_after_differentiation(header):
    """Mazur's worked example: every number of his post, and ∂E/∂w_5 at w_5 = 0.40 (a derivative
    taken first, then evaluated), with the preset as without it."""
    results = run(
        header,
        r"net_{h1} = w_1 i_1 + w_2 i_2 + b_1",
        r"net_{h1} = 0.3775",
        r"out_{h1} = 0.593269992",
        r"E_{total} = 0.298371109",
        r"\frac{\partial E_{total}}{\partial w_5} = 0.082167041",
        r"\frac{\partial E_{total}}{\partial w_1} = 0.000438568",
        r"\frac{\partial E_{total}}{\partial w_5} = 0.08216",  # 0.0821670 rounds to 0.08217
        r"\frac{\partial E_{total}}{\partial w_5} = 0",  # a constant's derivative would be 0
    )
    assert [r.verdict for r in results] == ["holds"] * 6 + ["fails", "fails"]
    assert results[-2].expected.startswith("0.08216704")  # all numbers: the expected value is one


@pytest.mark.parametrize(
    "header, claims",
    [
        (
            "network: {notation: 3b1b, layers: [2, 2, 1]}\ndefinitions:\n  - 'w^{(1)}_{11} = 0.5'\n  - 'a^{(0)}_1 = 2'",
            [
                r"z^{(1)}_1 = 0.5 \cdot 2 + w^{(1)}_{12} a^{(0)}_2 + b^{(1)}_1",
                r"z^{(1)} = w^{(1)} a^{(0)} + b^{(1)}",
                r"\frac{\partial z^{(1)}_1}{\partial w^{(1)}_{11}} = 2",
            ],
        ),
        (
            "network: {notation: ng, layers: [2, 2, 1]}\n"
            "definitions:\n  - 'x = \\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}'",
            [r"z^{(2)}_1 = \Theta^{(1)}_{10} + \Theta^{(1)}_{11} + 2\Theta^{(1)}_{12}", r"a^{(1)}_2 = 2"],
        ),
    ],
    ids=["3b1b", "ng"],
)
def test_numbers_given_to_a_presets_inputs_hold_everywhere(header, claims):
    assert [r.verdict for r in run(header, *claims)] == ["holds"] * len(claims)
