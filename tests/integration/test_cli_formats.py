"""The command line on document formats: saved OAI-PMH responses, announcement feeds, BibTeX,
Zotero/CSL JSON and saved pages; the real fixtures of tests/data, then hostile files (malformed
XML, an entity bomb, latin-1 text, empty files). Each import runs on SQLite and PostgreSQL.

Exit status: 0 when everything went in, 1 when something was skipped (named on stderr).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import cli, show, skipped, stats, summary

DATA = Path(__file__).parents[1] / "data"
OAI = DATA / "oai-pmh"
BIB = DATA / "bibtex"
ZOTERO = DATA / "zotero"
PAGE = DATA / "page" / "000_d689724431bc92a7.txt"
RSS_DAY1 = DATA / "rss" / "laya-reader_arxiv_rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24.xml"
RSS_DAY2 = DATA / "rss" / "paper-forge_arxiv_atom_cs.LG_2026-09-25_trimmed.xml"
BIB_460 = "arXiv identifiers in BibLaTeX export #460"
ARXIV_RAW = OAI / "arxivraw_ListRecords_constructed_final_page.xml"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>
<identifier>&lol9;</identifier></header></record></ListRecords></OAI-PMH>
"""
# The error shape of the OAI-PMH 2.0 specification (section 3.6), as arXiv sends it.
OAI_ERROR = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-01-27T17:53:42Z</responseDate>
<request verb="ListRecords">http://export.arxiv.org/oai2</request>
<error code="badResumptionToken">The value of the resumptionToken argument is invalid or
 expired.</error>
</OAI-PMH>
"""


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


# -- OAI-PMH responses ---------------------------------------------------------------------


def test_oai_files_in_the_three_formats(database_url: str) -> None:
    arxiv, dc = (
        OAI / "arxiv-physics-hep-th.xml",
        OAI / "oai_dc_ListRecords_cs_2024-01-25_with_token.xml",
    )
    files = [ARXIV_RAW, arxiv, dc]
    result = cli(database_url, "ingest", "oai", *map(str, files))
    assert (result.exit_code, result.stdout, result.stderr.strip()) == (0, summary(13) + "\n", "")
    raw = show(database_url, "0704.0001")  # arXivRaw: TeX names, versions, DOI
    assert raw["authors"] == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert (raw["version"], raw["doi"]) == (2, "10.1103/physrevd.76.013009")
    assert raw["categories"] == ["hep-ph"]
    assert raw["submitted_at"] == "2007-04-02T19:18:42+00:00"
    assert [p["source_key"] for p in raw["provenance"]] == ["oai:arXiv.org:0704.0001"]
    assert show(database_url, "1412.8323")["provenance"][0]["source"] == "arxiv-oai"  # arXiv
    dc = show(database_url, "2401.14034")  # oai_dc: "Last, First" creators
    assert dc["authors"][:2] == ["Chuankun Li", "Shuai Li"]
    # The deleted record of the arXivRaw page is not stored.
    result = cli(database_url, "show", "0704.0046")
    assert (result.exit_code, result.stderr) == (1, "error: no paper '0704.0046'\n")


def test_oai_error_and_non_listrecords_files(database_url: str, tmp_path: Path) -> None:
    error = _write(tmp_path / "error.xml", OAI_ERROR)
    identify = OAI / "oaipmh-identify---should-identify-arxiv_0_200.xml"
    html_503 = OAI / "oaipmh-listrecords---should-list-identifiers-from-arxiv_0_503.xml"
    good = OAI / "oaipmh-listrecords---should-list-identifiers-from-arxiv_1_200.xml"
    result = cli(database_url, "ingest", "oai", error, str(identify), str(html_503), str(good))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == summary(2, skipped=3)
    assert skipped(result) == [
        f"skipped {error}: OAI-PMH error badResumptionToken: The value of the resumptionToken "
        "argument is invalid or expired.",
        f"skipped {identify}: neither ListRecords nor GetRecord in the response (found: Identify)",
        f"skipped {html_503}: not an OAI-PMH response (root element 'html')",
    ]
    assert stats(database_url)["papers"] == 2


def test_oai_latin1_file(database_url: str, tmp_path: Path) -> None:
    text = ARXIV_RAW.read_text("utf-8").replace("Bal\\'azs", "Balázs")
    declared = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    result = cli(database_url, "ingest", "oai", _write(tmp_path / "declared.xml", declared))
    assert (result.exit_code, result.stdout) == (0, summary(5) + "\n")
    assert show(database_url, "0704.0001")["authors"][0] == "C. Balázs"


def test_oai_file_with_invalid_utf8_says_so(database_url: str, tmp_path: Path) -> None:
    """BUG (ingest._oai_file): parse_oai's notice that invalid bytes were replaced with U+FFFD
    is dropped for files, so the mangled name is stored without a word on stderr."""
    data = ARXIV_RAW.read_text("utf-8").replace("Bal\\'azs", "Balázs").encode("latin-1")
    result = cli(database_url, "ingest", "oai", _write(tmp_path / "latin1.xml", data))
    assert (result.exit_code, result.stdout) == (0, summary(5) + "\n")
    assert show(database_url, "0704.0001")["authors"][0] == "C. Bal\ufffdzs"
    bad_byte = data.index("á".encode("latin-1"))
    assert f"invalid UTF-8 at byte {bad_byte}" in result.stderr


# -- hostile XML, for both XML importers ---------------------------------------------------


@pytest.mark.parametrize(
    ("command", "bomb", "empty"),
    [
        ("oai", "EntitiesForbidden", "malformed XML: no element found: line 1, column 0"),
        ("rss", "DTDForbidden", "empty document"),
    ],
)
def test_hostile_xml(
    database_url: str, tmp_path: Path, command: str, bomb: str, empty: str
) -> None:
    files = {
        "bomb.xml": BILLION_LAUGHS,
        "cut.xml": ARXIV_RAW.read_bytes()[:1500],
        "empty.xml": b"",
    }
    paths = [_write(tmp_path / name, data) for name, data in files.items()]
    reasons = [
        f"XML entities and DTDs are not allowed ({bomb})",
        "malformed XML: no element found: line 23, column 47",
        empty,
    ]
    for path, reason in zip(paths, reasons, strict=True):
        result = cli(database_url, "ingest", command, path)
        assert (result.exit_code, skipped(result)) == (1, [f"skipped {path}: {reason}"])
        assert result.stdout.splitlines()[0] == summary(skipped=1)
    assert stats(database_url)["papers"] == 0


# -- announcement feeds --------------------------------------------------------------------


def test_rss_feed_then_the_same_feed_again(database_url: str) -> None:
    first = cli(database_url, "ingest", "rss", str(RSS_DAY1))
    assert (first.exit_code, first.stdout, first.stderr.strip()) == (0, summary(4) + "\n", "")
    (entry,) = show(database_url, "2609.26811")["daily"]
    assert (entry["day"], entry["source"], entry["kind"]) == ("2026-09-24", "arxiv", "new")
    assert show(database_url, "2205.06398")["daily"][0]["kind"] == "cross"

    again = cli(database_url, "ingest", "rss", str(RSS_DAY1))
    assert (again.exit_code, again.stdout) == (0, summary(unchanged=4) + "\n")
    assert again.stderr.strip() == (
        "warning: the feed is still dated 2026-09-24, like the previous fetch: arXiv has not "
        "announced a new batch yet or the feed is lagging (4 papers already seen); try again later"
    )
    assert stats(database_url)["papers"] == 4
    assert len(show(database_url, "2609.26811")["daily"]) == 1

    next_day = cli(database_url, "ingest", "rss", str(RSS_DAY2))  # Atom, the next day
    assert (next_day.exit_code, next_day.stdout) == (0, summary(3) + "\n")
    assert "warning" not in next_day.stderr
    assert stats(database_url)["papers"] == 7


def test_rss_repeat_is_recognised_under_a_feed_key(database_url: str, tmp_path: Path) -> None:
    copy = _write(tmp_path / "cs.LG-fetched-again.xml", RSS_DAY1.read_bytes())
    assert cli(database_url, "ingest", "rss", "--feed-key", "cs.LG", str(RSS_DAY1)).exit_code == 0
    other_key = cli(database_url, "ingest", "rss", "--feed-key", "cs.AI", copy)
    assert "warning" not in other_key.stderr
    again = cli(database_url, "ingest", "rss", "--feed-key", "cs.LG", copy)
    assert again.exit_code == 0
    assert again.stderr.strip().startswith("warning: the feed is still dated 2026-09-24")
    assert stats(database_url)["papers"] == 4


def test_rss_unreadable_files(database_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.xml"
    result = cli(database_url, "ingest", "rss", str(missing))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: cannot read {missing}: No such file or directory"
    text = RSS_DAY1.read_text("utf-8").replace("Announce Type: new", "Annonce Typé: new", 1)
    latin1 = _write(tmp_path / "latin1.xml", text.encode("latin-1"))
    result = cli(database_url, "ingest", "rss", latin1)
    assert result.exit_code == 1
    (line,) = skipped(result)
    first_bad = text.encode("latin-1").index(b"\xe9")
    assert line.startswith(f"skipped {latin1}: malformed XML: ")
    assert line.endswith(f"(the document is not valid UTF-8: byte {first_bad})")


# -- BibTeX, Zotero, pages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "path", "counts"),
    [
        ("bibtex", BIB / f"{BIB_460}.bibtex", (3, 0, 0)),
        ("bibtex", BIB / f"{BIB_460}.biblatex", (3, 0, 0)),
        ("bibtex", BIB / "Bulk performance test.bib", (1238, 1, 2)),
        ("zotero", BIB / f"{BIB_460}.json", (3, 0, 0)),
        ("zotero", ZOTERO / "arXiv.org.testCases.json", (8, 1, 0)),
        ("zotero", ZOTERO / "BBT CSL JSON; Do not use shortTitle and journalAbbreviation #372.csl.json", (1, 0, 0)),  # noqa: E501
        ("page", PAGE, (60, 0, 0)),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)  # fmt: skip
def test_document_fixtures(
    database_url: str, command: str, path: Path, counts: tuple[int, int, int]
) -> None:
    result = cli(database_url, "ingest", command, str(path))
    assert (result.exit_code, result.stdout, skipped(result)) == (0, summary(*counts) + "\n", [])
    again = cli(database_url, "ingest", command, str(path))
    assert again.stdout == summary(unchanged=sum(counts)) + "\n"
    assert stats(database_url)["papers"] == counts[0]


def test_bibtex_and_zotero_of_one_library_merge(database_url: str) -> None:
    cli(database_url, "ingest", "bibtex", str(BIB / f"{BIB_460}.bibtex"))
    result = cli(database_url, "ingest", "zotero", str(BIB / f"{BIB_460}.json"))
    assert (result.exit_code, result.stdout) == (0, summary(updated=2, unchanged=1) + "\n")
    assert stats(database_url)["papers"] == 3
    paper = show(database_url, "1401.2910")
    assert paper["authors"][0] == "Troels F. Rønnow"
    assert sorted(p["source"] for p in paper["provenance"]) == ["bibtex", "zotero"]


def test_page_date_line_with_year(database_url: str) -> None:
    result = cli(database_url, "ingest", "page", "--year", "2025", str(PAGE))
    assert (result.exit_code, result.stdout) == (0, summary(60) + "\n")
    assert stats(database_url)["daily_entries"] == {"hf": 60}
    counts = stats(database_url)
    assert (counts["first_day"], counts["last_day"]) == ("2025-03-14", "2025-03-14")


def test_latin1_documents(database_url: str, tmp_path: Path) -> None:
    biblatex = (BIB / f"{BIB_460}.biblatex").read_text("utf-8").encode("latin-1")
    result = cli(database_url, "ingest", "bibtex", _write(tmp_path / "l.biblatex", biblatex))
    assert (result.exit_code, result.stdout.splitlines()[0]) == (1, summary(2, skipped=1))
    assert skipped(result) == [
        "skipped Ronnow.2014.Defining: entry at line 1 is not valid UTF-8 text; "
        "save the library as UTF-8"
    ]
    page = _write(tmp_path / "l.txt", PAGE.read_text("utf-8").encode("latin-1"))
    result = cli(database_url, "ingest", "page", page)
    assert (result.exit_code, result.stdout.splitlines()[0]) == (1, summary(60 - 1, skipped=1))
    assert skipped(result) == [
        f"skipped {page}#47: not valid UTF-8 text (line 195, title 'Light Schr\ufffddinger "
        "Bridge'); save the page as UTF-8"
    ]
    data = (BIB / f"{BIB_460}.json").read_text("utf-8").replace("–", "-").encode("latin-1")
    zotero = _write(tmp_path / "l.json", data)
    result = cli(database_url, "ingest", "zotero", zotero)
    assert result.exit_code == 1
    bad_byte = data.index("ø".encode("latin-1"))
    assert skipped(result) == [
        f"skipped {zotero}: not UTF-8 text (invalid start byte at byte {bad_byte})"
    ]
    assert stats(database_url)["papers"] == 2 + 59


def test_empty_malformed_and_missing_documents(database_url: str, tmp_path: Path) -> None:
    empty = {c: _write(tmp_path / f"empty.{c}", b"") for c in ("bibtex", "zotero", "page")}
    result = cli(database_url, "ingest", "bibtex", empty["bibtex"])
    assert (result.exit_code, result.stdout) == (0, summary() + "\n")  # an empty library
    result = cli(database_url, "ingest", "zotero", empty["zotero"])
    assert (result.exit_code, skipped(result)) == (
        1,
        [f"skipped {empty['zotero']}: not valid JSON: Expecting value: line 1 column 1 (char 0)"],
    )
    result = cli(database_url, "ingest", "page", empty["page"])
    assert (result.exit_code, skipped(result)) == (
        1,
        [f"skipped {empty['page']}: no papers found (expected title and abstract blocks)"],
    )
    cut = (BIB / f"{BIB_460}.bibtex").read_bytes()[:1500]
    result = cli(database_url, "ingest", "bibtex", _write(tmp_path / "cut.bib", cut))
    assert (result.exit_code, skipped(result)) == (
        1,
        ["skipped Ronnow.2014.Defining: unbalanced braces (runs to the end of the file) "
         "(entry at line 1)"],
    )  # fmt: skip
    cut_json = _write(tmp_path / "cut.json", (BIB / f"{BIB_460}.json").read_bytes()[:3000])
    result = cli(database_url, "ingest", "zotero", cut_json)
    assert (result.exit_code, skipped(result)) == (
        1,
        [f"skipped {cut_json}: not valid JSON: Expecting value: line 88 column 5 (char 3000)"],
    )
    bomb = _write(tmp_path / "bomb.bib", BILLION_LAUGHS)
    result = cli(database_url, "ingest", "bibtex", bomb)
    assert (result.exit_code, skipped(result)) == (
        1,
        [f"skipped {bomb}: no BibTeX entries found (is this a .bib file?)"],
    )
    missing = tmp_path / "missing.bib"
    for command in ("bibtex", "zotero", "page", "oai"):
        result = cli(database_url, "ingest", command, str(missing))
        assert (result.exit_code, skipped(result)) == (
            1,
            [f"skipped {missing}: cannot read {missing}: No such file or directory"],
        )
    assert stats(database_url)["papers"] == 0


# -- what readers typed is printed as text, never as terminal markup -------------------------


def test_brackets_in_titles_and_arguments_are_printed_as_they_are(
    database_url: str, tmp_path: Path
) -> None:
    page = tmp_path / "page.txt"
    title = "The [n/2] approximant, and a closing [/] tag"
    abstract = "An abstract long enough to be one. " * 12
    page.write_text(f"{title}\n\n{abstract}\n")
    assert cli(database_url, "ingest", "page", str(page)).exit_code == 0
    [paper_id] = _ids(database_url)
    assert show(database_url, paper_id)["title"] == title
    shown = cli(database_url, "show", paper_id)
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[0] == title

    bad = cli(database_url, "ingest", "hf-daily", "--date", "[/]")
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "error: --date must be a date like 2026-01-31, not '[/]'"


def _ids(database_url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text("SELECT id FROM papers")))
    finally:
        engine.dispose()
