"""build_record: the validation every parser's records go through."""

from __future__ import annotations

import pytest

from paperroute.model import PaperRecord, RecordError
from paperroute.sources.common import MAX_ABSTRACT, MAX_COUNT, build_record, squash


def ok(**fields: object) -> PaperRecord:
    fields.setdefault("title", "A title")
    made = build_record(source="test", source_key="k", **fields)  # type: ignore[arg-type]
    assert isinstance(made, PaperRecord), made
    return made


def refused(**fields: object) -> str:
    fields.setdefault("title", "A title")
    made = build_record(source="test", source_key="k", **fields)  # type: ignore[arg-type]
    assert isinstance(made, RecordError), made
    return made.reason


def test_whitespace_and_control_characters_are_squashed() -> None:
    assert squash(" A\n  wrapped\ttitle\x00\x07 ") == "A wrapped title"
    record = ok(title="  Attention\n   Is All\tYou Need ", authors=["  Ashish  Vaswani ", ""])
    assert record.title == "Attention Is All You Need"
    assert record.authors == ("Ashish Vaswani",)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": ""}, "missing title"),
        ({"title": None}, "missing title"),
        ({"title": 5}, "missing title"),
        ({"abstract": "x" * (MAX_ABSTRACT + 1)}, "abstract too long (20,001 characters"),
        ({"abstract": 5}, "abstract is not text"),
        ({"arxiv_id": "2401.1"}, "invalid arXiv id '2401.1'"),
        ({"authors": "Jane Doe"}, "authors must be a list, not str"),
        ({"authors": 7}, "authors must be a list, not int"),
        ({"categories": 5}, "categories must be a list, not int"),
    ],
)
def test_unusable_records_are_refused_with_a_reason(fields: dict[str, object], reason: str) -> None:
    assert refused(**fields).startswith(reason)


def test_repairs_are_warnings_and_the_record_is_kept() -> None:
    record = ok(
        doi="not a doi",
        code_stars=10**20,
        categories="cs.LG cs.AI " + "x" * 41,
        authors=["Xiangyu Kongand Xiaoxia Xingand " + "Fan Wangand " * 30 + "Li Pang"],
    )
    assert record.doi is None
    assert record.code_stars == MAX_COUNT
    assert record.categories == ("cs.LG", "cs.AI")
    assert record.authors[:3] == ("Xiangyu Kong", "Xiaoxia Xing", "Fan Wang")
    assert record.authors[-1] == "Li Pang"
    assert record.warnings == (
        "split an author name glued from 33 names",
        "ignored invalid DOI 'not a doi'",
    )


def test_arxiv_links_and_code_links_are_filled_in() -> None:
    record = ok(arxiv_id="arXiv:2401.01234v2", comments="Code: https://github.com/a/b.")
    assert (record.arxiv_id, record.version) == ("2401.01234", 2)
    assert record.abs_url == "https://arxiv.org/abs/2401.01234"
    assert record.pdf_url == "https://arxiv.org/pdf/2401.01234"
    assert record.code_url == "https://github.com/a/b"


def test_an_arxiv_doi_names_the_arxiv_id() -> None:
    record = ok(doi="https://doi.org/10.48550/arXiv.2401.01234")
    assert (record.doi, record.arxiv_id) == ("10.48550/arxiv.2401.01234", "2401.01234")


def test_lone_surrogates_are_refused() -> None:
    assert refused(title="Bad \ud800 title") == (
        "text is not valid Unicode (a lone surrogate code point)"
    )
    assert refused(authors=["Ann \udfff"]).startswith("text is not valid Unicode")
