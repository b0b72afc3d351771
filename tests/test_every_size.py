"""derive check with ``sizes: {n: any}``: claims proved for every size, refuted with the sizes of a
counterexample, and checked again on an instance for a diagnosis or when they need concrete sizes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sympy as sp

from derive.errors import InputError
from derive.notes.check import check_file
from derive.notes.claims import load_claims_text
from derive.proof import prover

SOFTMAX = r"""
symbols:
  z: vector[n]
  y: vector[n]
  \sigma: sigmoid
sizes: {n: any}
definitions:
  - s_i = \frac{e^{z_i}}{\sum_{k=1}^{n} e^{z_k}}
  - L = -\sum_{k=1}^{n} y_k \log s_k
"""

TWO_LAYERS = r"""
symbols:
  W^{(1)}: matrix[h, n]
  W^{(2)}: matrix[K, h]
  x: vector[n]
  y: vector[K]
  g: tanh
sizes: {n: any, h: any, K: any}
definitions:
  - z^{(1)}_i = \sum_{k=1}^{n} W^{(1)}_{ik} x_k
  - a^{(1)}_i = g(z^{(1)}_i)
  - z^{(2)}_i = \sum_{k=1}^{h} W^{(2)}_{ik} a^{(1)}_k
  - J = \frac{1}{2} \sum_{i=1}^{K} (z^{(2)}_i - y_i)^2
"""


def run(header: str, *claims: str, when: str | None = None) -> list:
    lines = [textwrap.dedent(header).strip(), "claims:"]
    for k, latex in enumerate(claims):
        lines += [f"  - id: c{k}", "    latex: '" + latex.replace("'", "''") + "'"]
        if when:
            lines.append(f"    when: '{when}'")
    return check_file(load_claims_text("\n".join(lines) + "\n"), time_limit=60, isolate=False)


def test_softmax_jacobian_is_proved_for_every_size() -> None:
    (result,) = run(SOFTMAX, r"\frac{\partial s_i}{\partial z_j} = s_i (\delta_{ij} - s_j)")
    assert (result.verdict, result.evidence, result.for_all_sizes) == ("holds", "symbolic", True)
    assert result.as_json()["for_all_sizes"] is True


def test_cross_entropy_gradient_is_proved_for_every_size() -> None:
    # needs a factor that is itself a sum (1/Σ e^z) moved out of the sum over k
    (result,) = run(SOFTMAX, r"\frac{\partial L}{\partial z_j} = s_j \sum_{k=1}^{n} y_k - y_j")
    assert (result.verdict, result.evidence) == ("holds", "symbolic")


def test_a_wrong_sign_fails_with_its_sizes_and_the_instance_diagnosis() -> None:
    (result,) = run(SOFTMAX, r"\frac{\partial s_i}{\partial z_j} = s_i (\delta_{ij} + s_j)")
    assert result.verdict == "fails"
    assert result.counterexample["point"]["n"] == 3
    assert result.counterexample["lhs"] != pytest.approx(result.counterexample["rhs"])
    assert "sign" in result.diagnosis
    assert "for_all_sizes" not in result.as_json()


def test_the_sum_rule_of_sigmoids_holds() -> None:
    claim = r"\frac{\partial}{\partial z_j} \sum_{k=1}^{n} \sigma(z_k) = \sigma(z_j)(1 - \sigma(z_j))"
    (result,) = run(SOFTMAX, claim)
    assert (result.verdict, result.evidence) == ("holds", "symbolic")


def test_delta_recursion_through_two_layers_of_any_width() -> None:
    results = run(
        TWO_LAYERS,
        r"\frac{\partial J}{\partial z^{(2)}_j} = z^{(2)}_j - y_j",
        r"\frac{\partial J}{\partial z^{(1)}_j} = g'(z^{(1)}_j) \sum_{i=1}^{K} W^{(2)}_{ij} (z^{(2)}_i - y_i)",
        r"\frac{\partial J}{\partial W^{(1)}_{jk}} = (1 - (a^{(1)}_j)^2) x_k"
        r" \sum_{i=1}^{K} W^{(2)}_{ij} (z^{(2)}_i - y_i)",
    )
    assert [(r.verdict, r.evidence) for r in results] == [("holds", "symbolic")] * 3


def test_a_missing_transpose_names_the_index_that_runs_over_two_sizes() -> None:
    claim = r"\frac{\partial J}{\partial z^{(1)}_j} = g'(z^{(1)}_j) \sum_{i=1}^{K} W^{(2)}_{ji} (z^{(2)}_i - y_i)"
    (result,) = run(TWO_LAYERS, claim)
    assert result.verdict != "holds"
    assert "j runs over h" in result.reason and "swapped" in result.reason


def test_a_wrong_delta_recursion_fails() -> None:
    claim = r"\frac{\partial J}{\partial z^{(1)}_j} = g'(z^{(1)}_j) \sum_{i=1}^{K} W^{(2)}_{ij} z^{(2)}_i"
    (result,) = run(TWO_LAYERS, claim)
    assert result.verdict == "fails"
    assert {"n", "h", "K"} <= set(result.counterexample["point"])


def test_swapped_indices_fail_on_an_instance_with_distinct_sizes() -> None:
    header = r"""
    symbols: {W: 'matrix[m, n]', a: 'vector[n]', b: 'vector[m]', y: 'vector[m]', '\sigma': sigmoid}
    sizes: {n: any, m: any}
    definitions:
      - z_i = \sum_{k=1}^{n} W_{ik} a_k + b_i
      - h_i = \sigma(z_i)
      - J = \frac{1}{2} \sum_{i=1}^{m} (h_i - y_i)^2
    """
    right, wrong = run(
        header,
        r"\frac{\partial J}{\partial W_{jk}} = (h_j - y_j) h_j (1 - h_j) a_k",
        r"\frac{\partial J}{\partial W_{jk}} = (h_j - y_j) h_j (1 - h_j) a_j",
    )
    assert (right.verdict, right.evidence) == ("holds", "symbolic")
    assert wrong.verdict == "fails" and "swapped" in wrong.diagnosis
    assert (wrong.counterexample["point"]["n"], wrong.counterexample["point"]["m"]) == (3, 2)


def test_whole_vectors_are_checked_on_an_instance_only() -> None:
    same, different = run(SOFTMAX, "z = z", "z = y")
    assert same.verdict == "undecided"
    assert "holds at n = 3" in same.reason and "those sizes only" in same.reason
    assert different.verdict == "fails" and different.counterexample["point"]["n"] == 3


def test_a_condition_is_checked_on_an_instance_only() -> None:
    (result,) = run(SOFTMAX, r"\frac{\partial s_i}{\partial z_j} = -s_i s_j", when=r"i \ne j")
    assert result.verdict == "undecided" and "when:" in result.reason and "holds at n = 3" in result.reason


def test_a_section_with_any_size_is_checked_again_at_its_own_sizes() -> None:
    text = textwrap.dedent(
        r"""
        sizes: {n: 2}
        claims:
          - {id: first, latex: 'x = x'}
        ---
        symbols: {z: 'vector[n]', y: 'vector[n]'}
        sizes: {n: any}
        claims:
          - {id: second, latex: 'z = y'}
        """
    )
    first, second = check_file(load_claims_text(text), time_limit=60, isolate=False)
    assert first.verdict == "holds"
    assert second.verdict == "fails" and second.counterexample["point"]["n"] == 3


def test_a_preset_needs_concrete_sizes() -> None:
    text = "sizes: {n: any}\nnetwork: {notation: ng, layers: [2, 2], hidden: sigmoid, output: sigmoid, loss: bce}\n"
    with pytest.raises(InputError, match="preset is built at concrete sizes"):
        load_claims_text(text + "claims:\n  - {id: c, latex: 'a = a'}\n")


def test_a_size_that_is_neither_a_number_nor_any_is_refused() -> None:
    with pytest.raises(InputError, match="or any"):
        load_claims_text("sizes: {n: many}\nclaims:\n  - {id: c, latex: 'a = a'}\n")


def test_normal_sums_moves_a_factor_with_its_own_sum_out() -> None:
    n, j = sp.Symbol("n", integer=True, positive=True), sp.Symbol("j", integer=True, positive=True)
    k1, k2 = sp.symbols("k1 k2", integer=True)
    z, y = sp.IndexedBase("z", real=True), sp.IndexedBase("y", real=True)
    total = sp.Sum(sp.exp(z[k2]), (k2, 1, n))
    left = sp.Sum(sp.exp(z[j]) * y[k1] / total, (k1, 1, n))
    right = sp.exp(z[j]) * sp.Sum(y[k1], (k1, 1, n)) / sp.Sum(sp.exp(z[k1]), (k1, 1, n))
    assert sp.simplify(prover.normal_sums(left) - prover.normal_sums(right)) == 0


def test_the_example_of_the_claims_format_holds_for_every_size() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "CLAIMS_FORMAT.md").read_text(encoding="utf-8")
    section = doc.split("## For every size", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    results = check_file(load_claims_text(example), time_limit=60, isolate=False)
    assert [(r.id, r.verdict, r.for_all_sizes) for r in results] == [
        ("jacobian", "holds", True), ("cross-entropy", "holds", True)
    ]


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (r"\sqrt{-1 - z_j^2} = 1", "no real value"),  # no point to witness it: never holds
        (r"z_j / 0 = 1", "division by zero"),
        (r"\sum_{k=1}^{n^{100}} z_k = 0", "limits must be sizes"),  # refused, not written out
        ("z_5 = z_5", "numbered entry"),  # z_5 exists only from n = 5 on
    ],
)
def test_claims_without_meaning_for_every_size_are_undecided(claim: str, reason: str) -> None:
    (result,) = run(SOFTMAX, claim)
    assert result.verdict == "undecided" and reason in result.reason


def test_a_letter_bound_by_a_sum_indexes_an_entry() -> None:
    sums = "".join(f"\\sum_{{{c}=1}}^{{n}} " for c in "abcdfg")  # a, b, … are names elsewhere
    right, wrong = run(SOFTMAX, sums + r"z_{a} = n^5 \sum_{k=1}^{n} z_k", sums + "z_{a} = n")
    assert (right.verdict, right.evidence) == ("holds", "symbolic")
    assert wrong.verdict == "fails"


def test_too_many_nested_sums_are_not_written_out_for_every_size() -> None:
    sums = "".join(f"\\sum_{{{c}=1}}^{{n}} " for c in "abcdfgh")
    (result,) = run(SOFTMAX, sums + r"z_{a} = n^6 \sum_{k=1}^{n} z_k")
    assert result.verdict == "undecided" and "nested sums" in result.reason


def test_a_nest_of_sums_is_the_same_sum_in_either_order() -> None:
    n, m, j = (sp.Symbol(c, integer=True, positive=True) for c in "nmj")
    i, k, k2 = sp.symbols("i k k2", integer=True)
    W, y, x = (sp.IndexedBase(c, real=True) for c in "Wyx")
    t = sp.tanh(sp.Sum(W[k, k2] * x[k2], (k2, 1, n)))  # a factor with a sum of its own
    rows_first = sp.Sum(y[i] * sp.Sum(W[i, k] * t * W[k, j], (k, 1, n)), (i, 1, m))
    columns_first = sp.Sum(t * W[k, j] * sp.Sum(W[i, k] * y[i], (i, 1, m)), (k, 1, n))
    assert prover.normal_sums(rows_first) == prover.normal_sums(columns_first)
    # two sibling sums over the same name inside one sum stay two indices
    siblings = sp.Sum(sp.Sum(W[i, k], (k, 1, n)) * sp.Sum(x[k] * W[i, k], (k, 1, n)), (i, 1, m))
    (flat,) = [s for s in prover.normal_sums(siblings).atoms(sp.Sum) if len(s.limits) == 3]
    assert len(flat.free_symbols & {i, k}) == 0


def test_a_sum_whose_bound_is_another_index_keeps_its_order() -> None:
    n = sp.Symbol("n", integer=True, positive=True)
    i, k = sp.symbols("i k", integer=True)
    a = sp.IndexedBase("a", real=True)
    lower = sp.Sum(sp.Sum(a[i, k], (k, 1, i)), (i, 1, n))  # k ≤ i
    upper = sp.Sum(sp.Sum(a[i, k], (i, 1, k)), (k, 1, n))  # i ≤ k: not the same sum
    assert prover.prove_equal([(lower, upper)], timeout=20)[0] is False
    normal = prover.normal_sums(lower)
    (_, _, inner_bound), (outer, _, _) = normal.limits  # SymPy lists the innermost first
    assert inner_bound == outer  # still k ≤ i: the inner bound is the outer index


def test_backprop_to_the_input_exchanges_two_sums_for_every_size() -> None:
    claims = [
        r"\frac{\partial J}{\partial x_j} = \sum_{k=1}^{h} W^{(1)}_{kj} g'(z^{(1)}_k)"
        r" \sum_{i=1}^{K} W^{(2)}_{ik} (z^{(2)}_i - y_i)",
        r"\sum_{i=1}^{K} z^{(2)}_i = \sum_{k=1}^{h} a^{(1)}_k \sum_{i=1}^{K} W^{(2)}_{ik}",
        r"\frac{\partial J}{\partial x_j} = \sum_{k=1}^{h} W^{(1)}_{jk} g'(z^{(1)}_k)"  # W^{(1)} not transposed
        r" \sum_{i=1}^{K} W^{(2)}_{ik} (z^{(2)}_i - y_i)",
    ]
    right, exchanged, wrong = run(TWO_LAYERS, *claims)
    assert (right.verdict, right.evidence, right.for_all_sizes) == ("holds", "symbolic", True)
    assert (exchanged.verdict, exchanged.for_all_sizes) == ("holds", True)
    assert wrong.verdict != "holds"


MEAN_OVER_EXAMPLES = r"""
symbols: {W: 'matrix[K, n]', X: 'matrix[n, m]', Y: 'matrix[K, m]', '\sigma': sigmoid}
sizes: {n: any, K: any, m: any}
definitions:
  - Z_{i,e} = \sum_{k=1}^{n} W_{ik} X_{k,e}
  - A_{i,e} = \sigma(Z_{i,e})
  - J = \frac{1}{2m} \sum_{e=1}^{m} \sum_{i=1}^{K} (Z_{i,e} - Y_{i,e})^2
  - C = -\frac{1}{m} \sum_{e=1}^{m} \sum_{i=1}^{K} (Y_{i,e} \log A_{i,e} + (1 - Y_{i,e}) \log(1 - A_{i,e}))
"""


def test_the_mean_over_any_number_of_examples() -> None:
    mse, bce, no_mean = run(
        MEAN_OVER_EXAMPLES,
        r"\frac{\partial J}{\partial W_{jk}} = \frac{1}{m} \sum_{e=1}^{m} (Z_{j,e} - Y_{j,e}) X_{k,e}",
        r"\frac{\partial C}{\partial W_{jk}} = \frac{1}{m} \sum_{e=1}^{m} (A_{j,e} - Y_{j,e}) X_{k,e}",
        r"\frac{\partial J}{\partial W_{jk}} = \sum_{e=1}^{m} (Z_{j,e} - Y_{j,e}) X_{k,e}",
    )
    assert (mse.verdict, mse.for_all_sizes) == ("holds", True)
    assert (bce.verdict, bce.for_all_sizes) == ("holds", True)
    assert no_mean.verdict == "fails" and "1/m" in no_mean.diagnosis


def test_a_subscript_of_letters_that_are_not_indices_says_how_to_write_it() -> None:
    header = MEAN_OVER_EXAMPLES.replace("{i,e}", "{ie}").replace("{k,e}", "{ke}")
    (result,) = run(header, r"\frac{\partial J}{\partial W_{jk}} = \frac{1}{m} \sum_{e=1}^{m} Z_{je} X_{ke}")
    assert result.verdict == "undecided" and "separate others with commas (Z_{i,e})" in result.reason


def test_a_sum_whose_range_is_another_index_is_written_out_at_each_size() -> None:
    # the inner range k depends on the outer index: written out outermost first at each size
    swapped, wrong = run(
        SOFTMAX,
        r"\sum_{k=1}^{n} \sum_{i=1}^{k} z_i = \sum_{i=1}^{n} \sum_{k=i}^{n} z_i",
        r"\sum_{k=1}^{n} \sum_{i=1}^{k} z_i = \sum_{i=1}^{n} \sum_{k=1}^{i} z_i",
    )
    assert swapped.verdict == "holds"
    assert wrong.verdict == "fails" and wrong.counterexample["point"]["n"] >= 2
