from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperroute.errors import InvalidInput
from paperroute.ids import (
    ArxivId,
    arxiv_id_from_doi,
    canonical_id,
    content_hash_id,
    normalize_doi,
    parse_arxiv_id,
    title_hash,
    try_arxiv_id,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.01234", ArxivId("2401.01234", None)),
        ("2401.01234v3", ArxivId("2401.01234", 3)),
        ("arXiv:2401.01234v12", ArxivId("2401.01234", 12)),
        ("https://arxiv.org/abs/2401.01234v2", ArxivId("2401.01234", 2)),
        ("http://export.arxiv.org/abs/0704.0001", ArxivId("0704.0001", None)),
        ("https://arxiv.org/pdf/2401.01234v1.pdf", ArxivId("2401.01234", 1)),
        ("hep-th/9901001", ArxivId("hep-th/9901001", None)),
        ("hep-th/9901001v2", ArxivId("hep-th/9901001", 2)),
        ("math.AG/0601001", ArxivId("math.AG/0601001", None)),
        ("  1412.9999 ", ArxivId("1412.9999", None)),
    ],
)
def test_parse_arxiv_id(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "0000.0000",  # month 00
        "2413.01234",  # month 13
        "1501.1234",  # 4 digits after 2015
        "1412.12345",  # 5 digits before 2015
        "2401.01234v",
        "hep-th/990100",
        "HEP-TH/9901001",
        "2401.01234; DROP TABLE papers",
        "2401.01234\n",
    ],
)
def test_invalid_arxiv_ids_are_refused(text: str) -> None:
    if text.strip() and text.strip() != text and try_arxiv_id(text.strip()):
        return  # surrounding whitespace is tolerated
    with pytest.raises(InvalidInput, match="not an arXiv id"):
        parse_arxiv_id(text)


def test_str_round_trips() -> None:
    assert str(parse_arxiv_id("2401.01234v3")) == "2401.01234v3"
    assert str(parse_arxiv_id("hep-th/9901001")) == "hep-th/9901001"


def test_doi() -> None:
    assert normalize_doi("https://doi.org/10.1000/ABC.def") == "10.1000/abc.def"
    assert normalize_doi("doi:10.48550/arXiv.2401.01234") == "10.48550/arxiv.2401.01234"
    assert arxiv_id_from_doi("10.48550/arxiv.2401.01234") == ArxivId("2401.01234", None)
    assert arxiv_id_from_doi("10.1000/xyz") is None
    with pytest.raises(InvalidInput, match="not a DOI"):
        normalize_doi("11.1000/x")


def test_canonical_id_prefers_arxiv_then_doi_then_hash() -> None:
    assert canonical_id("2401.01234", "10.1/x", "T", "A") == "2401.01234"
    assert canonical_id(None, "10.1/x", "T", "A") == "doi:10.1/x"
    hashed = canonical_id(None, None, "Attention Is All You Need", "Ashish Vaswani")
    assert hashed.startswith("hash:") and len(hashed) == 21
    # Case, accents, punctuation and spacing do not change the hash.
    assert hashed == content_hash_id("attention is all  you need!", "ASHISH VASWANI")
    assert hashed != content_hash_id("Attention Is All You Need", "Someone Else")


@given(st.text(max_size=200))
def test_parsers_never_raise_anything_but_invalid_input(text: str) -> None:
    try:
        parsed = parse_arxiv_id(text)
    except InvalidInput:
        return
    assert parse_arxiv_id(str(parsed)) == parsed


@given(st.text(max_size=100))
def test_title_hash_is_stable_under_case_and_spacing(title: str) -> None:
    assert title_hash(title) == title_hash("  " + title.upper().lower() + " ") or (
        title.upper().lower() != title.lower()
    )


def test_a_doi_with_control_characters_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a DOI"):
        normalize_doi("10.1000/ab\x00c")
