"""Zotero / Better BibTeX JSON / CSL JSON parser, and the .bib <-> .json cross-check."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from paperroute.model import PaperRecord, RecordError
from paperroute.sources.bibtex import parse_bibtex
from paperroute.sources.zotero import parse_zotero

DATA = Path(__file__).resolve().parents[1] / "data"
TEST_CASES = DATA / "zotero" / "arXiv.org.testCases.json"
CSL_372 = (
    DATA / "zotero" / "BBT CSL JSON; Do not use shortTitle and journalAbbreviation #372.csl.json"
)
CSL_2963 = DATA / "zotero" / "Better CSL does not extract extra variables #2963.csl.json"
BIB = DATA / "bibtex"
UTC = dt.UTC


def parse(path: Path) -> list[PaperRecord | RecordError]:
    return list(parse_zotero(path.read_bytes(), document=path.name))


def ok(items: list[PaperRecord | RecordError]) -> list[PaperRecord]:
    assert [i for i in items if isinstance(i, RecordError)] == []
    return [i for i in items if isinstance(i, PaperRecord)]


def test_translator_test_cases_golden() -> None:
    records = ok(parse(TEST_CASES))
    # 13 test cases; 4 are "multiple" (search/listing pages) with no items.
    assert len(records) == 9
    by_id = {(r.arxiv_id, r.version): r for r in records}
    mnras = by_id[("1107.4612", None)]
    assert mnras.source == "zotero"
    assert mnras.title == (
        "A Model For Polarised Microwave Foreground Emission From Interstellar Dust"
    )
    assert mnras.authors == ("D. T. O'Dea", "C. N. Clark", "C. R. Contaldi", "C. J. MacTavish")
    assert mnras.categories == ("astro-ph.CO",)
    assert mnras.doi == "10.1111/j.1365-2966.2011.19851.x"
    assert mnras.submitted_at == dt.datetime(2012, 1, 11, tzinfo=UTC)
    assert mnras.journal_ref == (
        "Monthly Notices of the Royal Astronomical Society 419 (2012) 1795-1803"
    )
    assert mnras.abs_url == "https://arxiv.org/abs/1107.4612"
    # "12/2006" is not a full date.
    old_style = by_id[("astro-ph/0603274", None)]
    assert old_style.submitted_at is None
    assert old_style.title == (
        "Properties of the $δ$ Scorpii Circumstellar Disk from Continuum Modeling"
    )
    # Two versions of BERT: "version: N" in Extra.
    assert by_id[("1810.04805", 1)].submitted_at == dt.datetime(2018, 10, 11, tzinfo=UTC)
    assert by_id[("1810.04805", 2)].submitted_at == dt.datetime(2019, 5, 24, tzinfo=UTC)
    assert by_id[("1810.04805", 2)].categories == ("cs.CL",)
    perelman = by_id[("math/0211159", None)]
    assert perelman.authors == ("Grisha Perelman",)
    assert perelman.doi == "10.48550/arxiv.math/0211159"
    # A conference paper that is also on arXiv keeps its proceedings DOI.
    scene = by_id[("2305.16311", None)]
    assert scene.doi == "10.1145/3610548.3618154"
    assert scene.categories == ("cs.CV",)
    # No citation key or item key: the title names the record.
    assert scene.source_key.startswith("Break-A-Scene: Extracting Multiple Concepts")


def test_bbt_json_with_citation_key_and_list_extra() -> None:
    path = BIB / (
        "arXiv categories missing in the BibTeX output when stored only in the Extra field "
        "#2483.json"
    )
    (record,) = ok(parse(path))
    assert record.source_key == "Ramaswamy2022ELUDEGeneratingInterpretable"
    assert record.arxiv_id == "2206.07690"
    assert record.categories == ("cs", "eess", "q-bio")
    assert record.submitted_at == dt.datetime(2022, 6, 16, tzinfo=UTC)
    assert record.authors[-1] == "Olga Russakovsky"
    assert record.abstract.startswith("Deep learning models have achieved remarkable success")


def test_csl_json_real_exports() -> None:
    (olson,) = ok(parse(CSL_372))
    assert olson.source_key == "Olson2006"
    # Zotero rich text (<i>...</i>) is not part of the title.
    assert olson.title == (
        "Codes, costs, and critiques: The organization of information in Library Quarterly, "
        "1931–2004"
    )
    assert olson.authors == ("Hope A. Olson",)
    assert olson.doi == "10.1086/504343"
    assert olson.journal_ref == "Library Quarterly 76 (2006) 19-35"
    assert olson.submitted_at is None  # only a year
    (chapter,) = ok(parse(CSL_2963))
    assert chapter.source_key == "Bennett.Checkel_2015"
    assert chapter.authors == ("Andrew Bennett", "Jeffrey T. Checkel")
    assert chapter.journal_ref is None  # a chapter's container is a book
    assert chapter.comments is None  # CSL "note" is the owner's


def test_csl_json_arxiv_preprint() -> None:
    # The shape Zotero gives a saved arXiv preprint in CSL JSON (as in a Word document's
    # citation data): Extra goes to "note", the archive id to "number".
    item = {
        "id": "http://zotero.org/users/1/items/YS6VW4KZ",
        "type": "article",
        "title": "DreamEditor: Text-Driven 3D Scene Editing with Neural Fields",
        "note": "arXiv:2306.13455 [cs]",
        "number": "arXiv:2306.13455",
        "publisher": "arXiv",
        "URL": "http://arxiv.org/abs/2306.13455",
        "author": [
            {"family": "Zhuang", "given": "Jingyu"},
            {"family": "Waals", "non-dropping-particle": "van der", "given": "J. D."},
            {"literal": "The LIGO Scientific Collaboration"},
        ],
        "issued": {"date-parts": [["2023", 6, 29]]},
    }
    (record,) = parse_zotero(json.dumps([item]).encode())
    assert isinstance(record, PaperRecord)
    assert record.arxiv_id == "2306.13455"
    assert record.categories == ("cs",)
    assert record.authors == (
        "Jingyu Zhuang",
        "J. D. van der Waals",
        "The LIGO Scientific Collaboration",
    )
    assert record.submitted_at == dt.datetime(2023, 6, 29, tzinfo=UTC)
    assert record.source_key == "http://zotero.org/users/1/items/YS6VW4KZ"


def test_web_api_shape_skips_attachments_and_notes() -> None:
    case = json.loads(TEST_CASES.read_bytes())[1]["items"][0]
    api = [
        {"key": "ABCD2345", "version": 7, "data": {**case, "key": "ABCD2345"}},
        {"key": "PDF00001", "data": {"key": "PDF00001", "itemType": "attachment", "title": "PDF"}},
        {"key": "NOTE0001", "data": {"key": "NOTE0001", "itemType": "note", "note": "<p>x</p>"}},
    ]
    (record,) = parse_zotero(json.dumps(api).encode(), document="api")
    assert isinstance(record, PaperRecord)
    assert record.source_key == "ABCD2345"
    assert record.arxiv_id == "1107.4612"


def test_tex_eprint_in_extra_and_creators_with_single_name() -> None:
    item = {
        "itemType": "preprint",
        "title": "Attention Is All You Need",
        "creators": [
            {"creatorType": "author", "firstName": "Ashish", "lastName": "Vaswani"},
            {"creatorType": "author", "name": "Google Brain"},
            {"creatorType": "editor", "firstName": "Not", "lastName": "Author"},
        ],
        "extra": "Citation Key: vaswani2017\ntex.eprint: 1706.03762\ntex.archiveprefix: arXiv\n"
        "tex.primaryclass: cs.CL",
        "date": "2017-06-12",
    }
    (record,) = parse_zotero(json.dumps({"items": [item]}).encode())
    assert isinstance(record, PaperRecord)
    assert record.source_key == "vaswani2017"
    assert record.arxiv_id == "1706.03762"
    assert record.categories == ("cs.CL",)
    assert record.authors == ("Ashish Vaswani", "Google Brain")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"items": [', "not valid JSON"),
        (b'"just a string"', "not a Zotero or CSL JSON export"),
        (b'{"config": {}}', "not a Zotero or CSL JSON export"),
        ('[{"type": "book", "title": "Caf\u00e9"}]'.encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_documents(data: bytes, reason: str) -> None:
    (error,) = parse_zotero(data, document="export.json")
    assert isinstance(error, RecordError)
    assert error.source_key == "export.json"
    assert reason in error.reason


def test_bad_items_among_good_ones() -> None:
    good = json.loads(TEST_CASES.read_bytes())[1]["items"][0]
    items = [
        good,
        "not an object",
        {"neither": "shape"},
        {**good, "title": ""},
        {**good, "abstractNote": "y" * 1_000_000},
        {
            **good,
            "archiveID": None,
            "extra": "",
            "url": None,
            "DOI": None,
            "citationKey": "bad",
            "tex": None,
        },
        {
            **good,
            "citationKey": "badid",
            "extra": "tex.eprint: 9999.123\ntex.archiveprefix: arXiv",
            "archiveID": None,
            "url": None,
            "publicationTitle": None,
            "DOI": None,
        },
    ]
    out = list(parse_zotero(json.dumps({"items": items}).encode(), document="lib.json"))
    assert isinstance(out[0], PaperRecord)
    errs = {e.source_key: e.reason for e in out if isinstance(e, RecordError)}
    assert errs["lib.json#2"] == "item is not a JSON object"
    assert "neither a Zotero item" in errs["lib.json#3"]
    assert errs["lib.json#4"] == "missing title"
    huge = next(k for k, v in errs.items() if v.startswith("abstract too long (1,000,000"))
    assert huge.startswith("A Model For Polarised")
    assert errs["badid"].startswith("invalid arXiv id")
    # The item with no identifier at all is still a paper.
    no_ids = [r for r in out if isinstance(r, PaperRecord) and r.source_key == "bad"]
    assert no_ids and no_ids[0].arxiv_id is None and no_ids[0].doi is None


def test_extra_lines_key_value() -> None:
    item = {
        "itemType": "preprint",
        "title": "T",
        "extra": "  Citation Key :  smith:2024 \nnot a field line\ntex.eprint:\t2401.01234\n: x",
    }
    (record,) = ok(list(parse_zotero(json.dumps(item).encode())))
    assert record.source_key == "smith:2024"
    assert record.arxiv_id == "2401.01234"


# 100 KB of hostile text: the old Extra-line pattern backtracked quadratically over runs of
# spaces (minutes at 100 KB); now each line is read in linear time.
HOSTILE = 100_000


@pytest.mark.parametrize(
    "extra",
    [
        "a" + " " * HOSTILE + "b",
        "key: a" + " " * HOSTILE + "b",
        "key" + " " * HOSTILE + "x: b",
        "arxiv" + " " * HOSTILE + "x",
        "arxiv" * (HOSTILE // 5),
    ],
    ids=["spaces", "value-spaces", "key-spaces", "arxiv-spaces", "arxiv-repeated"],
)
def test_hostile_extra_is_linear(extra: str) -> None:
    item = {"itemType": "preprint", "title": "T", "key": "K", "extra": extra}
    start = time.perf_counter()
    (record,) = parse_zotero(json.dumps(item).encode())
    assert time.perf_counter() - start < 2
    assert isinstance(record, PaperRecord)
    assert record.source_key == "K"


# --- the same library exported as .bib and as Better BibTeX JSON ----------------------------


@pytest.mark.parametrize(
    ("bib_name", "json_name", "expected"),
    [
        (
            "arXiv identifiers in BibLaTeX export #460.biblatex",
            "arXiv identifiers in BibLaTeX export #460.json",
            {"1401.2910", "1508.05387", "1305.4904"},
        ),
        (
            "arXiv identifiers in BibLaTeX export #460.bibtex",
            "arXiv identifiers in BibLaTeX export #460.json",
            {"1401.2910", "1508.05387", "1305.4904"},
        ),
        (
            "Citation key add `_preprint` if URL contains `arxiv.org` #2163.biblatex",
            "Citation key add `_preprint` if URL contains `arxiv.org` #2163.json",
            {"1502.01852", "1910.07512", "1802.05957", "2008.02217", "1603.05201"},
        ),
        (
            "Use prepublished as default pubstate for arXiV articles #2911.biblatex",
            "Use prepublished as default pubstate for arXiV articles #2911.json",
            {"2005.14165"},
        ),
        (
            "arXiv categories missing in the BibTeX output when stored only in the Extra field "
            "#2483.bibtex",
            "arXiv categories missing in the BibTeX output when stored only in the Extra field "
            "#2483.json",
            {"2206.07690"},
        ),
    ],
)
def test_bib_and_bbt_json_exports_agree(bib_name: str, json_name: str, expected: set[str]) -> None:
    from_bib = ok(list(parse_bibtex((BIB / bib_name).read_bytes(), document=bib_name)))
    from_json = ok(parse(BIB / json_name))
    assert len(from_bib) == len(from_json)
    bib_ids = {r.arxiv_id for r in from_bib if r.arxiv_id}
    json_ids = {r.arxiv_id for r in from_json if r.arxiv_id}
    assert bib_ids == json_ids == expected
    # Same papers, same first authors and (case-insensitively) same titles.
    bib_papers = {r.arxiv_id: r for r in from_bib if r.arxiv_id}
    for record in from_json:
        if record.arxiv_id:
            twin = bib_papers[record.arxiv_id]
            assert twin.authors[0] == record.authors[0]
            assert twin.title.casefold() == record.title.casefold()
            assert twin.categories == record.categories or not twin.categories
