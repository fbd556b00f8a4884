"""arXiv API: parse_atom on recorded export.arxiv.org responses, bad input, and the paged
search client against a local replay server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from paperroute.errors import InvalidInput, SourceError
from paperroute.model import PaperRecord, RecordError
from paperroute.sources.arxiv_api import ApiPage, parse_atom, search
from paperroute.sources.http import HttpClient
from support.replay import ReplayServer, Reply

DATA = Path(__file__).resolve().parent.parent / "data" / "arxiv-api"
S0 = "q_testing_s0_m10_bc5a6c384fe9.json"
S10 = "q_testing_s10_m10_34e56e15aaac.json"
S20 = "q_testing_s20_m10_348a237fecab.json"
EMPTY = "id_0000.0000_s0_m100_8b51d9633a68.json"
BAD_ID = "id_abc_s0_m100_b79c8dcf6bc3.json"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def body(name: str) -> bytes:
    """The bytes arXiv sent. The recorder stored requests' ``response.text``, which decoded
    the UTF-8 body as ISO-8859-1 (the feed's Content-Type names no charset); encoding the text
    back to ISO-8859-1 restores the original bytes."""
    recorded = json.loads((DATA / name).read_text(encoding="utf-8"))
    return str(recorded["body"]).encode("latin-1")


def status(name: str) -> int:
    return int(json.loads((DATA / name).read_text(encoding="utf-8"))["status_code"])


def records(page: ApiPage) -> list[PaperRecord]:
    return [item for item in page.items if isinstance(item, PaperRecord)]


def errors(page: ApiPage) -> list[RecordError]:
    return [item for item in page.items if isinstance(item, RecordError)]


def feed(*entries: str, total: int | None = None) -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">'
        f"<opensearch:totalResults>{len(entries) if total is None else total}"
        "</opensearch:totalResults><opensearch:startIndex>0</opensearch:startIndex>"
        f"{''.join(entries)}</feed>"
    ).encode()


def entry(arxiv_id: str, title: str | None = "A title", summary: str = "Abstract.") -> str:
    title_xml = f"<title>{title}</title>" if title is not None else ""
    return (
        f"<entry><id>http://arxiv.org/abs/{arxiv_id}</id>{title_xml}<summary>{summary}</summary>"
        "<published>2024-01-02T03:04:05Z</published><updated>2024-01-03T03:04:05Z</updated>"
        "<author><name>Ann Author</name></author></entry>"
    )


# --- golden records -----------------------------------------------------------------------


def test_single_entry_golden() -> None:
    page = parse_atom(body("id_2104.12255v1_s0_m100_6ae69987ffe1.json"))
    assert (page.total_results, page.start_index, page.items_per_page) == (1, 0, 100)
    assert page.entries == 1 and page.error is None
    [rec] = records(page)
    assert rec.source == "arxiv-api"
    assert rec.source_key == "http://arxiv.org/abs/2104.12255v1"
    assert rec.arxiv_id == "2104.12255" and rec.version == 1
    assert rec.title == "0"
    assert rec.authors == ("Quan Thoi Minh Nguyen",)
    assert rec.categories == ("cs.CR",)
    assert rec.submitted_at == rec.updated_at == utc(2021, 4, 20, 16, 7, 14)
    assert rec.abstract.startswith("What is the funniest number in cryptography? 0.")
    assert rec.abs_url == "https://arxiv.org/abs/2104.12255"
    assert rec.pdf_url == "https://arxiv.org/pdf/2104.12255"
    assert rec.doi is None and rec.comments is None and rec.journal_ref is None
    assert rec.record_hash is not None


def test_old_style_id_with_comment_and_journal_ref() -> None:
    [rec] = records(parse_atom(body("id_astro-ph_0601001_s0_m100_3150dca9dc76.json")))
    assert rec.arxiv_id == "astro-ph/0601001" and rec.version == 1
    assert rec.title == (
        "Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys "
        "Toward the Galactic Bulge and Carina"
    )
    assert rec.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    assert rec.categories == ("astro-ph",)
    assert rec.journal_ref == "ActaAstron.56:1-50,2006"
    assert rec.comments is not None
    assert rec.comments.startswith("62 pages including 16 figures and 9 tables.")
    assert rec.submitted_at == utc(2006, 1, 2, 14, 57, 58)


def test_categories_primary_first() -> None:
    [rec] = records(parse_atom(body("id_quant-ph_0201082v1_s0_m100_86989fe779ef.json")))
    assert rec.arxiv_id == "quant-ph/0201082"
    assert rec.categories == ("quant-ph", "cs.PL")
    [two] = records(parse_atom(body("id_1605.08386_s0_m100_199195aa31ad.json")))
    assert two.title == "Heat-bath random walks with Markov bases"
    assert two.categories == ("math.CO", "math.ST")
    # The primary category leads even when the feed lists it second.
    swapped = body("id_quant-ph_0201082v1_s0_m100_86989fe779ef.json").replace(
        b'<arxiv:primary_category term="quant-ph"/>', b'<arxiv:primary_category term="cs.PL"/>'
    )
    assert records(parse_atom(swapped))[0].categories == ("cs.PL", "quant-ph")


def test_non_ascii_author_and_many_authors() -> None:
    [rec] = records(parse_atom(body("id_1707.08567_s0_m100_6a1afebfc6a3.json")))
    assert rec.title == (
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    assert len(rec.authors) == 34
    assert rec.authors[0] == "Kees A. Schouhamer Immink"
    assert rec.authors[-2:] == ("Dirk Wübben", "Hirosuke Yamamoto")
    assert rec.categories == ("cs.IT",)


def test_search_page_golden() -> None:
    page = parse_atom(body(S0))
    assert (page.total_results, page.start_index, page.items_per_page) == (214881, 0, 10)
    recs = records(page)
    assert len(recs) == 10 == page.entries
    first = recs[0]
    assert first.arxiv_id == "2202.12139"
    assert first.title == (
        "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    )
    assert first.authors == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker")
    assert first.categories == ("cs.SE", "cs.LG")
    assert first.doi == "10.1109/icstw55395.2022.00035"
    assert first.comments == (
        "Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022"
    )
    revised = next(r for r in recs if r.arxiv_id == "2005.14124")
    assert revised.version == 2
    assert revised.submitted_at == utc(2020, 5, 28, 16, 19, 50)
    assert revised.updated_at == utc(2020, 7, 16, 8, 15, 48)
    assert recs[1].authors == (
        "Aurora Ramírez",
        "Mario Berrios",
        "José Raúl Romero",
        "Robert Feldt",
    )


def test_api_error_entry() -> None:
    page = parse_atom(body(BAD_ID))
    assert page.error is None
    assert page.items == (
        RecordError(
            "arxiv-api",
            "https://arxiv.org/api/errors#incorrect_id_format_for_abc",
            "arXiv API error: incorrect id format for abc",
        ),
    )


def test_empty_result() -> None:
    page = parse_atom(body(EMPTY))
    assert page.items == () and page.entries == 0 and page.total_results == 0
    assert page.error is None


# --- bad input ----------------------------------------------------------------------------


def test_malformed_and_not_a_feed() -> None:
    page = parse_atom(body(S0)[:5000], document="s0")
    assert page.error is not None and page.error.startswith("malformed XML")
    assert [e.source_key for e in errors(page)] == ["s0"]
    html = parse_atom(b"<html><body>Rate exceeded.</body></html>")
    assert html.error == "not an Atom feed (root element 'html')"


def test_entity_bomb_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2401.01234</id>'
        b"<title>&b;</title></entry></feed>"
    )
    page = parse_atom(bomb)
    [err] = page.items
    assert isinstance(err, RecordError) and "entities" in err.reason
    assert not records(page)


def test_broken_entries_among_good_ones() -> None:
    data = feed(
        entry("2401.01234v2"),
        entry("2401.01235v1", title=None),
        entry("abc"),
        entry("2401.01236v1", summary="x" * 1_000_000),
        "<entry><title>No id</title></entry>",
        entry("2401.01237v3"),
    )
    page = parse_atom(data, document="page")
    assert [(r.arxiv_id, r.version) for r in records(page)] == [
        ("2401.01234", 2),
        ("2401.01237", 3),
    ]
    assert records(page)[0].submitted_at == utc(2024, 1, 2, 3, 4, 5)
    reasons = {e.source_key: e.reason for e in errors(page)}
    assert reasons["http://arxiv.org/abs/2401.01235v1"] == "missing title"
    assert (
        reasons["http://arxiv.org/abs/abc"]
        == "entry id is not an arXiv id: 'http://arxiv.org/abs/abc'"
    )
    assert reasons["http://arxiv.org/abs/2401.01236v1"].startswith(
        "abstract too long (1,000,000 characters"
    )
    assert reasons["page entry 5"].startswith("entry id is not an arXiv id")
    assert page.entries == 6


# 5,000 nested elements (20 KB): ET.tostring, which fingerprints an entry, recurses per level.
DEEP = "<x>" * 5000 + "y" + "</x>" * 5000


def test_deeply_nested_entry_is_a_record_error() -> None:
    deep = entry("2401.01235v1").replace("</entry>", f"{DEEP}</entry>")
    page = parse_atom(feed(entry("2401.01234v1"), deep, entry("2401.01236v1")), document="p")
    assert page.error is None
    assert [r.arxiv_id for r in records(page)] == ["2401.01234", "2401.01236"]
    assert errors(page) == [
        RecordError("arxiv-api", "http://arxiv.org/abs/2401.01235v1", "XML nested too deeply")
    ]
    assert page.entries == 3


def test_deeply_nested_document_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_atom(DEEP.encode()).error == "not an Atom feed (root element 'x')"
    assert parse_atom(feed(DEEP)).error is None

    from paperroute.sources import arxiv_api

    def too_deep(*_args: object) -> None:
        raise RecursionError

    # Whatever recursion is left outside the entries ends in one error for the document.
    monkeypatch.setattr(arxiv_api, "_parse_entry", too_deep)
    page = parse_atom(feed(entry("2401.01234v1")), document="d")
    assert page.items == (RecordError("arxiv-api", "d", "XML nested too deeply"),)
    assert page.error == "XML nested too deeply"


def test_invalid_utf8_is_replaced_and_said() -> None:
    broken = feed(entry("2401.01234v1")).replace(b"Ann Author", b"Ann Aut\xf6r")
    page = parse_atom(broken)
    assert records(page)[0].authors == ("Ann Aut\ufffdr",)
    assert page.notices and "invalid UTF-8" in page.notices[0]


# --- search client ------------------------------------------------------------------------


def client() -> HttpClient:
    sleeps: list[float] = []
    return HttpClient(min_interval=0, sleep=sleeps.append)


def test_search_pages_with_start_and_max_results() -> None:
    with ReplayServer() as server, client() as http:
        for start, name in (("0", S0), ("10", S10), ("20", S20)):
            server.add("/api/query", Reply(200, body(name)), query={"start": start})
        pages = list(
            search(
                http,
                query="testing",
                page_size=10,
                max_results=25,
                base_url=server.url + "/api/query",
            )
        )
        assert server.requests == [
            ("/api/query", {"search_query": "testing", "id_list": "", "start": s, "max_results": m})
            for s, m in (("0", "10"), ("10", "10"), ("20", "5"))
        ]
    assert [p.start_index for p in pages] == [0, 10, 20]
    ids = [r.arxiv_id for p in pages for r in records(p)]
    assert len(ids) == 30 and ids[0] == "2202.12139" and ids[10] == "2403.16981"
    assert ids[20] == "2008.01944"


def test_search_stops_on_an_empty_page() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/api/query", Reply(200, body(S0)), query={"start": "0"})
        server.add("/api/query", Reply(200, body(EMPTY)), query={"start": "10"})
        pages = list(
            search(http, query="testing", page_size=10, base_url=server.url + "/api/query")
        )
        assert [q["start"] for _, q in server.requests] == ["0", "10"]
    assert [len(p.items) for p in pages] == [10, 0]


def test_search_by_ids_stops_at_total() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/api/query", Reply(200, body("id_1707.08567_s0_m100_6a1afebfc6a3.json")))
        pages = list(search(http, ids=["1707.08567"], base_url=server.url + "/api/query"))
        assert server.requests == [
            (
                "/api/query",
                {"search_query": "", "id_list": "1707.08567", "start": "0", "max_results": "100"},
            )
        ]
    assert [r.arxiv_id for r in records(pages[0])] == ["1707.08567"]


def test_search_http_400_raises() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/api/query", Reply(status(BAD_ID), body(BAD_ID)))
        with pytest.raises(SourceError) as caught:
            list(search(http, ids=["abc"], base_url=server.url + "/api/query"))
    assert caught.value.status == 400


def test_search_unreadable_page_raises() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/api/query", Reply(200, b"<feed><entry>"))
        with pytest.raises(SourceError, match="malformed XML"):
            list(search(http, query="x", base_url=server.url + "/api/query"))


def test_search_needs_a_query_or_ids() -> None:
    with client() as http, pytest.raises(InvalidInput):
        list(search(http))
