"""Property tests (hypothesis) over random inputs: engine gradients, the LaTeX parser, claims files.

* Random networks: the compiled engine's gradient equals central finite differences of an
  independent NumPy forward pass (written here, from the loss definitions in DESIGN.md).
* Random mutations of every sample claim's LaTeX: ``parse_chain`` returns, or raises a
  ``ParseError`` that names a position, within a time budget; never another exception.
* Random corruption of the sample claims files: ``load_claims`` raises a one-line
  ``DeriveError`` or loads, and ``check_file`` then gives verdicts, never an internal error.

Derandomized (the same examples on every run) with modest example counts: the whole file runs in
well under a minute on two cores.
"""

from __future__ import annotations

import dataclasses
import re
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from derive import Network
from derive.engine.witness import gradient_witness
from derive.errors import DeriveError
from derive.model import rules
from derive.notes.check import check_file
from derive.notes.claims import load_claims
from derive.notes.notation import Chain, ParseError, parse_chain

SAMPLES = sorted((Path(__file__).parent / "data" / "claims").glob("*.yaml"))
FUZZ = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None)


@contextmanager
def time_budget(seconds: float, what: str) -> Iterator[None]:
    """Fail (instead of hanging) when the block runs longer than ``seconds`` (SIGALRM, main thread)."""

    def expire(signum: int, frame: Any) -> None:
        raise AssertionError(f"{what} took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- random networks: engine gradient vs finite differences ---------------------------------

HIDDEN = sorted(name for name, act in rules.ACTIVATIONS.items() if act.elementwise)
PAIRS = sorted((out, name) for name, loss in rules.LOSSES.items() for out in loss.output_names)
KINK = 1e-4  # a ReLU unit this close to 0 makes finite differences meaningless: such draws are skipped

def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _textbook(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """g from the registry's textbook definition, lambdified for NumPy (SciPy's erf): never the
    engine's closed forms or overflow-free forms."""
    act = rules.ACTIVATIONS[name]
    if not act.elementwise:
        return _softmax
    x = sp.Symbol("x", real=True)
    return sp.lambdify(x, act.textbook(x), modules=["scipy", "numpy"])


NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {name: _textbook(name) for name in rules.ACTIVATIONS}


def reference_cost(net: Network, params: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, Y: np.ndarray) -> float:
    """J written from the contract (mean over rows, ½ for mse, L2 λ/(2m) Σ‖W‖²), no engine code."""
    a, m = X, X.shape[0]
    for (W, b), act in zip(params, net.activation_names):
        z = a @ W.T + b
        a = NUMPY_ACTIVATIONS[act](z)
    per_row = {
        "mse": lambda: 0.5 * ((a - Y) ** 2).sum(axis=1),
        "sq": lambda: ((a - Y) ** 2).sum(axis=1),
        "bce": lambda: -(Y * np.log(a) + (1 - Y) * np.log(1 - a)).sum(axis=1),
        "cce": lambda: -(Y * np.log(a)).sum(axis=1),
    }[net.loss]()
    return float(per_row.mean() + net.l2 / (2 * m) * sum((W**2).sum() for W, _ in params))


def pre_activations(params: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, net: Network) -> list[np.ndarray]:
    a, out = X, []
    for (W, b), act in zip(params, net.activation_names):
        z = a @ W.T + b
        out.append(z)
        a = NUMPY_ACTIVATIONS[act](z)
    return out


@st.composite
def networks(draw: st.DrawFn) -> tuple[Network, int, int]:
    layers = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 4), min_size=layers + 1, max_size=layers + 1))
    hidden = draw(st.lists(st.sampled_from(HIDDEN), min_size=layers - 1, max_size=layers - 1))
    output, loss = draw(st.sampled_from(PAIRS))
    if output == "softmax":
        sizes[-1] = max(2, sizes[-1])  # a softmax over one unit is refused: it is the constant 1
    l2 = draw(st.sampled_from([0.0, 0.0, 0.1, 0.73]))
    m = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    return Network(sizes, hidden=hidden or "sigmoid", output=output, loss=loss, l2=l2), m, seed


@settings(FUZZ, max_examples=100)
@given(networks())
def test_engine_gradient_matches_finite_differences(case: tuple[Network, int, int]) -> None:
    net, m, seed = case
    rng = np.random.default_rng(seed)
    params = [
        (rng.normal(0, 0.8, (n_out, n_in)), rng.normal(0, 0.5, n_out)) for n_in, n_out in zip(net.sizes, net.sizes[1:])
    ]
    X = rng.normal(0, 1, (m, net.sizes[0]))
    if net.loss == "cce":
        Y = np.eye(net.sizes[-1])[rng.integers(0, net.sizes[-1], m)]
    elif net.loss == "bce":
        Y = rng.uniform(0, 1, (m, net.sizes[-1]))
    else:
        Y = rng.normal(0, 1, (m, net.sizes[-1]))
    if any(rules.ACTIVATIONS[act].kinked for act in net.activation_names):
        zs = pre_activations(params, X, net)
        assume(all(np.abs(z).min() > KINK for z, act in zip(zs, net.activation_names) if rules.ACTIVATIONS[act].kinked))

    engine = net.compile()
    loss, grads = engine.loss_and_grad(params, X, Y)
    assert float(loss) == pytest.approx(reference_cost(net, params, X, Y), rel=1e-12, abs=1e-14)
    assert len(grads) == len(params)
    for l, ((W, b), (dW, db)) in enumerate(zip(params, grads), start=1):
        assert dW.shape == W.shape and db.shape == b.shape, f"layer {l}: gradient shapes"
    # the one numeric witness: every entry against the high-precision closed forms and against
    # central differences of J at the same precision
    witness = gradient_witness(net, params, X, Y, engine, seed=seed)
    assert witness.compared == witness.total and witness.fd_entries == witness.total
    assert witness.ok, [(r.entry, r.engine_error, r.fd_error) for r in witness.rows if not r.ok][:3]


class _OffByOne:
    """An engine whose gradient is off by 1e-5 in one entry."""

    def __init__(self, net: Network) -> None:
        self.inner = net.compile()

    def loss_and_grad(self, params, X, Y):
        J, grads = self.inner.loss_and_grad(params, X, Y)
        grads = [(np.array(gW), np.array(gb)) for gW, gb in grads]
        grads[0][0][0, 0] += 1e-5
        return J, grads


def test_fuzzed_gradients_can_fail() -> None:
    """The oracle above is not vacuous: a gradient off by 1e-5 in one entry is caught."""
    net = Network([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce", l2=0.1)
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(3, 2)), rng.normal(size=3)), (rng.normal(size=(1, 3)), rng.normal(size=1))]
    X, Y = rng.normal(size=(3, 2)), rng.uniform(size=(3, 1))
    assert gradient_witness(net, params, X, Y, net.compile()).ok
    wrong = gradient_witness(net, params, X, Y, _OffByOne(net))
    assert [row.entry for row in wrong.rows if not row.ok] == [wrong.rows[0].entry]


# ---- random LaTeX mutations: ParseError with a position, or a parse ----------------------------


def sample_latex() -> list[str]:
    """Every claim's and definition's LaTeX in the sample claims files."""
    out = []
    for path in SAMPLES:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [c["latex"] for c in doc.get("claims", [])]
        out += [d for d in doc.get("definitions", []) if isinstance(d, str)]
    return out


LATEX = sample_latex()
TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)
INSERTS = [
    "{",
    "}",
    "^",
    "_",
    "\\frac",
    "\\frac{",
    "(",
    ")",
    "[",
    "]",
    "=",
    "\\",
    "'",
    "&",
    "\\\\",
    "\\left(",
    "\\right)",
    "\\sum",
    "\\sum_{k=1}^{",
    "\\partial",
    "^{(",
    "_{",
    "x",
    "1",
    " ",
    "\\begin{bmatrix}",
    "\\end{bmatrix}",
    "\\begin{cases}",
    "|",
    "\\|",
    ".",
    "0.5",
    "\\sigma",
    "\\text{",
    "$",
    "%",
    "#",
    "~",
    "\\,",
    "^T",
    "^{\\top}",
    "é",
    "σ",
    "∂",
    "\x00",
    "\\sqrt",
    "\\delta_{ij}",
    "\\odot",
    "\\cdot",
    "-",
    "\\mathrm{d}",
    "\\hat",
    "\\input{/etc/passwd}",
    "^^5c",
    "9" * 30,
    "1e400",
]
OPS = ("delete_char", "insert", "duplicate_char", "delete_token", "duplicate_token", "swap_brace", "reverse_braces")


def mutate(text: str, op: str, where: float, payload: str) -> str:
    """One edit of ``text`` at relative position ``where`` (0..1)."""
    tokens = TOKEN.findall(text)
    i = min(int(where * (len(text) + 1)), len(text))
    k = min(int(where * len(tokens)), max(len(tokens) - 1, 0))
    if op == "delete_char":
        return text[:i] + text[i + 1 :]
    if op == "insert":
        return text[:i] + payload + text[i:]
    if op == "duplicate_char":
        return text[: i + 1] + text[i : i + 1] + text[i + 1 :]
    if op == "delete_token" and tokens:
        return "".join(tokens[:k] + tokens[k + 1 :])
    if op == "duplicate_token" and tokens:
        return "".join(tokens[: k + 1] + tokens[k:])
    if op == "swap_brace":
        j = next((j for j in range(i, len(text)) if text[j] in "{}"), None)
        if j is not None:
            return text[:j] + ("}" if text[j] == "{" else "{") + text[j + 1 :]
        return text
    if op == "reverse_braces":
        return text.translate(str.maketrans("{}", "}{"))
    return text


mutations = st.lists(st.tuples(st.sampled_from(OPS), st.floats(0, 1), st.sampled_from(INSERTS)), min_size=1, max_size=4)


@settings(FUZZ, max_examples=1500)
@given(st.sampled_from(LATEX), mutations)
def test_mutated_latex_parses_or_names_a_position(latex: str, edits: list[tuple[str, float, str]]) -> None:
    text = latex
    for op, where, payload in edits:
        text = mutate(text, op, where, payload)
    started = time.monotonic()
    with time_budget(5.0, f"parse_chain({text!r})"):
        try:
            chain = parse_chain(text)
        except ParseError as err:
            event("ParseError")
            assert isinstance(err.pos, int) and 0 <= err.pos <= len(text), (text, err.pos)
            assert f"column {err.pos + 1}" in str(err) and "\n" not in str(err), str(err)
            assert err.problem
        else:
            event("parsed")
            assert isinstance(chain, Chain) and chain.sides
    assert time.monotonic() - started < 5.0


@pytest.mark.parametrize(("text", "pos"), [("\\σ = 1", 0), ("z = \\é x", 4), ("\\frac{\\ß C}{x} = 1", 6)])
def test_backslash_before_a_non_ascii_letter_is_a_parse_error(text: str, pos: int) -> None:
    """Found by the fuzzer above: \\σ used to fail an assertion in the lexer (exit 3 from derive check)."""
    with pytest.raises(ParseError) as info:
        parse_chain(text)
    assert info.value.pos == pos


def test_mutations_change_the_text() -> None:
    """The mutation operators do edit (a fuzzer that never changes its input proves nothing)."""
    text = r"\frac{\partial C}{\partial w} = 2(a - y)"
    assert {mutate(text, op, 0.3, "^") for op in OPS} - {text} and len({mutate(text, op, 0.3, "^") for op in OPS}) > 4


# ---- random corruption of the sample claims files ---------------------------------------------

YAML_INSERTS = [
    ":",
    "- ",
    "'",
    '"',
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "*undefined",
    "!!python/object/apply:os.system ['true'] ",
    "!!binary ",
    "%YAML 1.1\n",
    "\t",
    "? ",
    "|",
    ">",
    "#",
    "<<: *a\n",
    "~",
    "null",
    "1e999",
    "-1",
    "99999999999999999999",
    "\n  - ",
    "\n- id: x\n  latex: 'x = x'\n",
    "\\",
    "\ufeff",
    "\u2028",
]
YAML_VALUES = ["[]", "{}", "~", "[1, 2]", "{a: b}", "''", "-5", "0", "1e309", "!!int 3", "*nowhere", "[[[]]]"]
LINE_OPS = ("delete_line", "duplicate_line", "swap_lines", "indent", "dedent", "truncate", "insert", "value", "bytes")


def corrupt(text: str, op: str, where: float, pick: int) -> str:
    """One YAML-level corruption of ``text`` at relative position ``where`` (``bytes`` is done later)."""
    lines = text.splitlines(keepends=True) or [""]
    k = min(int(where * len(lines)), len(lines) - 1)
    i = min(int(where * len(text)), len(text))
    if op == "delete_line":
        del lines[k]
    elif op == "duplicate_line":
        lines.insert(k, lines[k])
    elif op == "swap_lines" and k + 1 < len(lines):
        lines[k], lines[k + 1] = lines[k + 1], lines[k]
    elif op == "indent":
        lines[k] = ("  " if pick % 2 else "\t") + lines[k]
    elif op == "dedent":
        lines[k] = lines[k].lstrip(" ")
    elif op == "truncate":
        return text[:i]
    elif op == "insert":
        return text[:i] + YAML_INSERTS[pick % len(YAML_INSERTS)] + text[i:]
    elif op == "value" and ": " in lines[k]:
        key = lines[k].split(": ", 1)[0]
        lines[k] = f"{key}: {YAML_VALUES[pick % len(YAML_VALUES)]}\n"
    return "".join(lines)


def inject_bytes(raw: bytes, where: float, pick: int) -> bytes:
    """Bytes that are not UTF-8 text (or a NUL) at relative position ``where``."""
    i = min(int(where * len(raw)), len(raw))
    return raw[:i] + [b"\xff", b"\x00", b"\xc3", b"\xed\xa0\x80"][pick % 4] + raw[i:]


@settings(FUZZ, max_examples=150)
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.sampled_from(LINE_OPS), st.floats(0, 1), st.integers(0, 1000)), min_size=1, max_size=3),
)
def test_corrupted_claims_files_are_refused_in_one_line_or_checked(
    path: Path, edits: list[tuple[str, float, int]]
) -> None:
    text = path.read_text(encoding="utf-8")
    for op, where, pick in edits:
        text = corrupt(text, op, where, pick)
    data = text.encode()
    for op, where, pick in edits:
        if op == "bytes":
            data = inject_bytes(data, where, pick)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / path.name
        target.write_bytes(data)
        with time_budget(10.0, f"load_claims of a corrupted {path.name}"):
            try:
                cf = load_claims(target)
            except DeriveError as err:
                assert str(err) and "\n" not in str(err), repr(str(err))
                event("refused in one line")
                return
    # Check the claims that the corruption changed, and the first one (with a short time limit).
    before = {(c.id, c.latex, c.when) for c in load_claims(path).claims}
    chosen = [c for k, c in enumerate(cf.claims) if k == 0 or (c.id, c.latex, c.when) not in before][:3]
    with time_budget(30.0, f"check_file of a corrupted {path.name}"):
        results = check_file(dataclasses.replace(cf, claims=chosen), time_limit=3.0, isolate=False)
    event(f"loaded; {len(chosen)} claim(s) checked")
    for r in results:
        assert r.verdict in ("holds", "fails", "undecided")
        assert "internal error" not in (r.reason or ""), f"{r.id}: {r.reason}"
