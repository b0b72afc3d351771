"""The labelled public sample: every claim comes out exactly as its `expect:` says."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.notes.check import check_file
from derive.notes.claims import load_claims

DATA = Path(__file__).parent / "data" / "claims"
FILES = sorted(DATA.glob("*.yaml"))


_CACHE: dict[Path, tuple] = {}


def _checked(path: Path) -> tuple:
    if path not in _CACHE:  # each file is checked once for all the tests below
        cf = load_claims(path)
        _CACHE[path] = (cf, check_file(cf, isolate=False))
    return _CACHE[path]


@pytest.fixture(scope="module", params=FILES, ids=[f.stem for f in FILES])
def checked(request):
    return _checked(request.param)


def test_there_is_a_sample():
    assert len(FILES) >= 3


def test_every_verdict_matches_expect(checked):
    cf, results = checked
    for spec, result in zip(cf.claims, results, strict=True):
        assert spec.expect is not None
        assert result.verdict == spec.expect, (spec.id, result.reason, result.diagnosis)


def test_failures_are_explained(checked):
    cf, results = checked
    for result in results:
        if result.verdict == "fails":
            assert result.expected
            assert result.diagnosis
            assert result.counterexample is None or {"point", "lhs", "rhs"} <= set(result.counterexample)
        if result.verdict == "holds":
            assert result.evidence in ("symbolic", "numeric")


def test_known_diagnoses():
    by_id = {}
    for path in FILES:
        for r in _checked(path)[1]:
            by_id[r.id] = r
    assert "factor 2" in by_id["dC0-dw-missing-2"].diagnosis
    assert "activation derivative" in by_id["dC0-db-sigmoid-derivative"].diagnosis
    assert "wrong unit" in by_id["dE-dw7-wrong-unit"].diagnosis
    assert "out_{h1}" in by_id["dE-dw7-wrong-unit"].diagnosis
    assert "regulari" in by_id["D-missing-reg"].diagnosis
