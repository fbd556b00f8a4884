"""arXiv announcement feeds (RSS 2.0 and Atom, 2024+ format) against recorded real feeds."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest

from paperroute.errors import SourceError
from paperroute.model import DailyEntry, PaperRecord, RecordError
from paperroute.sources.http import HttpClient
from paperroute.sources.rss import batch_fingerprint, fetch_feed, is_repeat, parse_feed
from support.replay import ReplayServer, Reply

DATA = Path(__file__).resolve().parent.parent / "data" / "rss"
RSS = (DATA / "laya-reader_arxiv_rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24.xml").read_bytes()
ATOM = (DATA / "paper-forge_arxiv_atom_cs.LG_2026-09-25_trimmed.xml").read_bytes()
ITEM = re.compile(rb"<item>.*?</item>", re.S)


def records(items: tuple[PaperRecord | RecordError, ...]) -> list[PaperRecord]:
    assert all(isinstance(i, PaperRecord) for i in items), items
    return [i for i in items if isinstance(i, PaperRecord)]


def with_items(*items: bytes) -> bytes:
    """The real RSS feed with its items replaced by ``items``."""
    first = ITEM.search(RSS)
    assert first is not None
    last = list(ITEM.finditer(RSS))[-1]
    return RSS[: first.start()] + b"\n".join(items) + RSS[last.end() :]


def rss_items() -> list[bytes]:
    return [m.group(0) for m in ITEM.finditer(RSS)]


# --- golden: RSS 2.0 -------------------------------------------------------------------------


def test_rss_feed_golden() -> None:
    batch = parse_feed(RSS, document="cs.LG.xml")
    assert batch.feed_date == dt.date(2026, 9, 24)
    assert batch.skip_days == ("Sunday", "Saturday")
    assert not batch.empty
    got = records(batch.items)
    assert [(r.arxiv_id, r.version) for r in got] == [
        ("2609.26811", 1),
        ("2609.26820", 1),
        ("2205.06398", 2),
        ("2009.13987", 3),
    ]
    first = got[0]
    assert first.source == "arxiv-rss"
    assert first.source_key == "2609.26811"
    assert first.title == "The Drift Contract: Spectral Updates for Depth-Robust Local Learning"
    assert first.authors == ("Fabien Polly",)
    assert first.categories == ("cs.LG",)
    assert first.abstract.startswith("Local learning trains each layer with its own auxiliary")
    assert first.abstract.endswith(
        "the local advantage concentrates precisely where normalization is absent."
    )
    assert "Announce Type" not in first.abstract
    assert first.announced_on == dt.date(2026, 9, 24)
    assert first.daily == (DailyEntry(day=dt.date(2026, 9, 24), source="arxiv", kind="new"),)
    assert first.license == "http://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert first.abs_url == "https://arxiv.org/abs/2609.26811"
    assert first.record_hash is not None

    second = got[1]
    assert second.authors == ("Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan")
    assert second.categories == ("cs.LG", "cs.AI")

    cross = got[2]
    assert cross.title == "Outlier Detection for Multi-Network Data"
    assert cross.authors == ("Pritam Dey", "Zhengwu Zhang", "David B. Dunson")
    # A cross-list keeps its primary category first, even outside the feed's categories.
    assert cross.categories == ("stat.ME", "stat.AP", "stat.ML")
    assert cross.doi == "10.1093/bioinformatics/btac431"
    assert cross.announced_on is None  # only "new" announces the paper
    assert cross.daily[0].kind == "cross"

    replace = got[3]
    assert replace.title == "Random Polytope Descriptors"
    assert replace.authors == ("Michael Joswig", "Marek Kaluba", "Lukas Ruff")
    assert replace.daily[0].kind == "replace"
    assert replace.announced_on is None
    assert replace.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


# --- golden: Atom ----------------------------------------------------------------------------


def test_atom_feed_golden() -> None:
    batch = parse_feed(ATOM)
    assert batch.feed_date == dt.date(2026, 9, 25)
    assert batch.skip_days == ()
    got = records(batch.items)
    assert [(r.arxiv_id, r.version, r.daily[0].kind) for r in got] == [
        ("2609.28553", 1, "new"),
        ("2402.10149", 3, "cross"),
        ("2401.08875", 3, "replace"),
    ]
    new = got[0]
    assert new.title == (
        "SMILESGNN: Interpretable Clinical Toxicity Prediction via SMILES-Graph "
        "Cross-Attention Fusion"
    )
    assert new.authors == (
        "Quang Minh Nguyen",
        "Thuy Quynh Nguyen",
        "Duc Minh Le",
        "Ho Nhat Minh Nguyen",
        "Thanh Long Dai Doan",
        "Trong Nghia Nguyen",
    )
    assert new.categories == ("cs.LG", "cs.AI")
    assert new.abstract == (
        "Drug toxicity prediction is critical for reducing late-stage attrition in drug "
        "discovery, yet remains challenging due to severe class imbalance, scaffold-based "
        "generalization, and the clinical need for interpretable predictions."
    )
    assert new.journal_ref == (
        "2026 International Conference on Multimedia Analysis and Pattern Recognition (MAPR)"
    )
    assert new.doi == "10.1109/mapr72750.2026.11685822"
    assert new.announced_on == dt.date(2026, 9, 25)
    assert new.abs_url == "https://arxiv.org/abs/2609.28553"
    assert got[1].categories == ("hep-ph", "cs.LG", "hep-ex")
    assert got[1].doi == "10.1103/physrevd.111.032004"
    assert got[2].authors == ("Jiaming Tang", "Jingxuan Wen", "Liping Jing")


def test_atom_feed_date_falls_back_to_updated() -> None:
    without_published = re.sub(rb"<published>.*?</published>", b"", ATOM)
    assert parse_feed(without_published).feed_date == dt.date(2026, 9, 25)


def test_rss_feed_date_falls_back_to_last_build_date() -> None:
    data = re.sub(rb"<pubDate>[^<]*</pubDate>", b"", RSS)
    data = data.replace(b"Thu, 24 Sep 2026 08:58:05 +0000", b"Fri, 25 Sep 2026 08:58:05 +0000")
    batch = parse_feed(data)
    assert batch.feed_date == dt.date(2026, 9, 25)
    assert records(batch.items)[0].announced_on == dt.date(2026, 9, 25)


# --- fingerprint and repeats -----------------------------------------------------------------


def test_fingerprint_ignores_order_and_build_time() -> None:
    items = rss_items()
    reordered = with_items(*reversed(items)).replace(b"08:58:05", b"09:30:00")
    assert parse_feed(reordered).fingerprint == parse_feed(RSS).fingerprint
    assert parse_feed(RSS).fingerprint == batch_fingerprint(
        {
            ("2609.26811", "new"),
            ("2609.26820", "new"),
            ("2205.06398", "cross"),
            ("2009.13987", "replace"),
        }
    )


def test_fingerprint_changes_with_announce_type_and_items() -> None:
    base = parse_feed(RSS).fingerprint
    items = rss_items()
    retyped = items[0].replace(
        b"<arxiv:announce_type>new</arxiv:announce_type>",
        b"<arxiv:announce_type>replace</arxiv:announce_type>",
    )
    assert parse_feed(with_items(retyped, *items[1:])).fingerprint != base
    assert parse_feed(with_items(*items[1:])).fingerprint != base


def test_is_repeat_same_batch_next_day() -> None:
    batch = parse_feed(RSS)
    message = is_repeat(batch, batch.fingerprint, dt.date(2026, 9, 23))
    assert message is not None
    assert "same 4 papers" in message
    assert "lagging" in message


def test_is_repeat_same_date() -> None:
    batch = parse_feed(RSS)
    message = is_repeat(batch, "something-else", dt.date(2026, 9, 24))
    assert message is not None
    assert "still dated 2026-09-24" in message


def test_is_repeat_older_date() -> None:
    message = is_repeat(parse_feed(RSS), None, dt.date(2026, 9, 25))
    assert message is not None
    assert "older" in message


def test_is_repeat_new_batch_and_first_fetch() -> None:
    batch = parse_feed(RSS)
    assert is_repeat(batch, None, None) is None
    assert is_repeat(batch, parse_feed(ATOM).fingerprint, dt.date(2026, 9, 23)) is None


def test_empty_feed_is_empty_not_a_repeat() -> None:
    empty = with_items()
    batch = parse_feed(empty)
    assert batch.empty
    assert batch.items == ()
    assert batch.feed_date == dt.date(2026, 9, 24)
    assert batch.skip_days == ("Sunday", "Saturday")
    assert is_repeat(batch, batch.fingerprint, dt.date(2026, 9, 24)) is None


# --- item details ----------------------------------------------------------------------------


def test_id_from_description_when_guid_and_link_are_missing() -> None:
    item = re.sub(rb"<guid[^>]*>.*?</guid>|<link>.*?</link>", b"", rss_items()[3])
    got = records(parse_feed(with_items(item)).items)
    assert (got[0].arxiv_id, got[0].version) == ("2009.13987", 3)


def test_announce_type_from_description_when_element_missing() -> None:
    item = re.sub(rb"<arxiv:announce_type>.*?</arxiv:announce_type>", b"", rss_items()[2])
    batch = parse_feed(with_items(item))
    assert records(batch.items)[0].daily[0].kind == "cross"
    assert batch.fingerprint == batch_fingerprint({("2205.06398", "cross")})


def test_replace_cross_and_unknown_announce_types() -> None:
    items = rss_items()
    rc = items[2].replace(b">cross<", b">replace-cross<")
    odd = items[3].replace(b">replace<", b">withdrawn<")
    got = records(parse_feed(with_items(rc, odd)).items)
    assert got[0].daily[0].kind == "replace-cross"
    assert got[1].daily[0].kind == "listed"


def test_authors_with_final_and() -> None:
    item = re.sub(
        rb"<dc:creator>.*?</dc:creator>",
        b"<dc:creator>Pritam Dey, Zhengwu Zhang, and David B. Dunson</dc:creator>",
        rss_items()[2],
    )
    got = records(parse_feed(with_items(item)).items)
    assert got[0].authors == ("Pritam Dey", "Zhengwu Zhang", "David B. Dunson")


def test_old_style_title_suffix_is_stripped() -> None:
    item = rss_items()[3].replace(
        b"Random Polytope Descriptors</title>",
        b"Random Polytope Descriptors (arXiv:2009.13987v3 [cs.LG] UPDATED)</title>",
    )
    assert records(parse_feed(with_items(item)).items)[0].title == "Random Polytope Descriptors"


# --- bad input -------------------------------------------------------------------------------


def test_malformed_xml_is_one_error_naming_the_document() -> None:
    batch = parse_feed(RSS[: len(RSS) // 2], document="cs.LG")
    assert len(batch.items) == 1
    error = batch.items[0]
    assert isinstance(error, RecordError)
    assert error.source_key == "cs.LG"
    assert error.reason.startswith("malformed XML")
    assert batch.feed_date is None


@pytest.mark.parametrize("data", [b"", b"   \n"])
def test_empty_document(data: bytes) -> None:
    (error,) = parse_feed(data).items
    assert isinstance(error, RecordError)
    assert error.reason == "empty document"


def test_html_error_page_is_not_a_feed() -> None:
    (error,) = parse_feed(b"<html><body>Service unavailable</body></html>", document="u").items
    assert isinstance(error, RecordError)
    assert error.reason == "not an RSS or Atom feed (root element <html>)"


def test_entity_bomb_is_refused_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "aaaaaaaaaa">\n'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n]>\n'
        b"<rss><channel><title>&c;</title></channel></rss>"
    )
    (error,) = parse_feed(bomb, document="bomb").items
    assert isinstance(error, RecordError)
    assert error.source_key == "bomb"
    assert "not allowed" in error.reason


def test_broken_items_among_good_ones() -> None:
    items = rss_items()
    no_id = re.sub(rb"<guid[^>]*>.*?</guid>|<link>.*?</link>|arXiv:2609\.26820v1", b"", items[1])
    bad_id = items[2].replace(b"2205.06398", b"2213.06398")  # month 13
    no_title = re.sub(rb"<title>.*?</title>", b"<title>  </title>", items[3])
    batch = parse_feed(with_items(items[0], no_id, bad_id, no_title), document="feed")
    assert [type(i).__name__ for i in batch.items] == [
        "PaperRecord",
        "RecordError",
        "RecordError",
        "RecordError",
    ]
    assert batch.items[1] == RecordError(
        "arxiv-rss", "feed#item2", "no arXiv id in guid, link or text"
    )
    assert batch.items[2] == RecordError(
        "arxiv-rss", "2213.06398v2", "invalid arXiv id '2213.06398v2'"
    )
    assert batch.items[3] == RecordError("arxiv-rss", "2009.13987", "missing title")
    # Only good records count towards the fingerprint.
    assert batch.fingerprint == batch_fingerprint({("2609.26811", "new")})


# 5,000 nested elements (20 KB): ET.tostring, which fingerprints an item, recurses per level.
DEEP = b"<x>" * 5000 + b"y" + b"</x>" * 5000


def test_deeply_nested_item_is_a_record_error() -> None:
    items = rss_items()
    deep = items[1].replace(b"</item>", DEEP + b"</item>")
    batch = parse_feed(with_items(items[0], deep, items[2]), document="feed")
    assert [type(i).__name__ for i in batch.items] == ["PaperRecord", "RecordError", "PaperRecord"]
    error = batch.items[1]
    assert isinstance(error, RecordError)
    assert error.reason == "XML nested too deeply"


def test_deeply_nested_document_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    (error,) = parse_feed(DEEP, document="d").items
    assert error == RecordError("arxiv-rss", "d", "not an RSS or Atom feed (root element <x>)")
    assert parse_feed(b"<rss><channel>" + DEEP + b"</channel></rss>").items == ()

    from paperroute.sources import rss

    def too_deep(*_args: object) -> None:
        raise RecursionError

    # Whatever recursion is left outside the items ends in one error for the document.
    monkeypatch.setattr(rss, "_parse_item", too_deep)
    batch = parse_feed(RSS, document="d")
    assert batch.items == (RecordError("arxiv-rss", "d", "XML nested too deeply"),)
    assert batch.feed_date is None


# 100 KB of hostile text: unbounded \s+ / \S+? made these fields quadratic (seconds).
HOSTILE = 100_000


@pytest.mark.parametrize(
    ("pattern", "hostile"),
    [
        (rb"<title>.*?</title>", b"<title>T" + b" " * HOSTILE + b"x</title>"),
        (rb"<dc:creator>.*?</dc:creator>", b"<dc:creator>A" + b" " * HOSTILE + b"B</dc:creator>"),
        (
            rb"<description>.*?</description>",
            b"<description>" + b"arXiv:" * (HOSTILE // 6) + b"</description>",
        ),
    ],
    ids=["title-spaces", "creator-spaces", "description-ids"],
)
def test_hostile_text_is_linear(pattern: bytes, hostile: bytes) -> None:
    item = re.sub(pattern, lambda _m: hostile, rss_items()[0], count=1, flags=re.S)
    assert item != rss_items()[0]
    start = time.perf_counter()
    (parsed,) = parse_feed(with_items(item)).items
    assert time.perf_counter() - start < 2
    # A record, or an error for the too-long field: either way the item itself is named.
    assert parsed.source_key == "2609.26811"


def test_huge_abstract_is_a_record_error() -> None:
    item = rss_items()[0].replace(b"Abstract: ", b"Abstract: " + b"x " * 500_000)
    (error,) = parse_feed(with_items(item)).items
    assert isinstance(error, RecordError)
    assert error.source_key == "2609.26811"
    assert error.reason.startswith("abstract too long")


def test_latin1_bytes_in_utf8_feed_are_reported() -> None:
    bad = RSS.replace(b"Fabien Polly", "Fabien Poll\u00e9".encode("latin-1"))
    (error,) = parse_feed(bad, document="feed").items
    assert isinstance(error, RecordError)
    assert "malformed XML" in error.reason
    assert "not valid UTF-8" in error.reason


def test_declared_latin1_feed_is_decoded() -> None:
    data = RSS.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'").replace(
        b"Fabien Polly", "Fabien Poll\u00e9".encode("latin-1")
    )
    assert records(parse_feed(data).items)[0].authors == ("Fabien Poll\u00e9",)


# --- client ----------------------------------------------------------------------------------


def test_fetch_feed_over_http() -> None:
    with ReplayServer() as server, HttpClient(sleep=lambda _s: None) as client:
        server.add("/rss/cs.LG", Reply(200, RSS))
        batch = fetch_feed(client, server.url + "/rss/cs.LG")
        assert server.requests == [("/rss/cs.LG", {})]
    assert [r.arxiv_id for r in records(batch.items)][:2] == ["2609.26811", "2609.26820"]
    assert batch.feed_date == dt.date(2026, 9, 24)


def test_fetch_feed_retries_then_parses() -> None:
    with ReplayServer() as server, HttpClient(sleep=lambda _s: None) as client:
        server.add("/atom/cs.LG", Reply(503, b"busy", {"Retry-After": "1"}), Reply(200, ATOM))
        batch = fetch_feed(client, server.url + "/atom/cs.LG")
        assert len(server.requests) == 2
    assert len(records(batch.items)) == 3


def test_fetch_feed_http_error_raises_source_error() -> None:
    with (
        ReplayServer() as server,
        HttpClient(sleep=lambda _s: None) as client,
        pytest.raises(SourceError) as info,
    ):
        fetch_feed(client, server.url + "/rss/nope")
    assert info.value.status == 404
