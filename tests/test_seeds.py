"""The five real notes, transcribed in examples/notes/: every labelled claim comes out as its
`expect:` says, the files use their parts, and no claim is left undecided for want of a reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.notes.check import check_file
from derive.notes.claims import load_claims

NOTES = Path(__file__).resolve().parent.parent / "examples" / "notes"
FILES = sorted(NOTES.glob("seed_*.yaml"))

_CACHE: dict[Path, tuple] = {}


def _checked(path: Path) -> tuple:
    if path not in _CACHE:  # each file is checked once for all the tests below
        cf = load_claims(path)
        _CACHE[path] = (cf, check_file(cf))  # forked workers: one slow claim cannot stall the file
    return _CACHE[path]


@pytest.fixture(scope="module", params=FILES, ids=[f.stem for f in FILES])
def checked(request):
    return _checked(request.param)


def test_all_five_notes_are_transcribed():
    assert [f.stem for f in FILES] == [f"seed_00{n}" for n in range(5)]


def test_every_label_is_met(checked):
    cf, results = checked
    wrong = [
        (spec.id, spec.expect, r.verdict, r.reason or r.diagnosis)
        for spec, r in zip(cf.claims, results, strict=True)
        if spec.expect is not None and r.verdict != spec.expect
    ]
    assert wrong == []


def test_undecided_claims_are_not_parser_gaps(checked):
    """What the contract reads must be read: the only formulas allowed not to parse are those
    that are not equations the contract can check (ellipses, ±, inequalities, cut-off text)."""
    _cf, results = checked
    unreadable = ("ellipsis", "±", "only equations can be checked", "the end of the formula", "unbalanced")
    gaps = [
        (r.id, r.reason)
        for r in results
        if r.verdict == "undecided"
        and "does not parse" in (r.reason or "")
        and not any(u in r.reason for u in unreadable)
    ]
    assert gaps == []


def test_failures_are_explained(checked):
    _cf, results = checked
    for r in results:
        if r.verdict == "fails":
            assert r.expected or r.diagnosis, r.id
