"""Atom and RSS feeds: valid XML with stable ids, one per list, linked from the pages."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import defusedxml.ElementTree as SafeET
import pytest
from fastapi.testclient import TestClient

from paperroute.web.feedxml import FeedEntry, build_atom, build_rss

A = "{http://www.w3.org/2005/Atom}"
FEEDS = [
    "/feeds/daily",
    "/feeds/trending",
    "/feeds/trending?window=all",
    "/feeds/categories/cs.CL",
    "/feeds/authors/" + quote("Wentao Zhang"),
]


def _atom_ids(body: bytes) -> list[str]:
    root = SafeET.fromstring(body)
    assert root.tag == f"{A}feed"
    assert root.find(f"{A}title") is not None and root.find(f"{A}updated") is not None
    self_link = [link for link in root.findall(f"{A}link") if link.get("rel") == "self"]
    assert len(self_link) == 1 and self_link[0].get("href", "").startswith("http")
    ids = []
    for entry in root.findall(f"{A}entry"):
        for tag in ("id", "title", "updated", "author", "summary"):
            assert entry.find(f"{A}{tag}") is not None, tag
        dt.datetime.fromisoformat(entry.findtext(f"{A}updated") or "")
        ids.append(entry.findtext(f"{A}id") or "")
    return ids


@pytest.mark.parametrize("feed", FEEDS)
def test_atom_and_rss_parse_with_the_same_stable_ids(demo: TestClient, feed: str) -> None:
    path, _, query = feed.partition("?")
    atom = demo.get(f"{path}.atom" + (f"?{query}" if query else ""))
    rss = demo.get(f"{path}.rss" + (f"?{query}" if query else ""))
    assert atom.status_code == rss.status_code == 200
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
    ids = _atom_ids(atom.content)
    assert ids and len(ids) == len(set(ids))
    assert all(re.fullmatch(r"http://127\.0\.0\.1:8000/papers/\S+", i) for i in ids)
    channel = SafeET.fromstring(rss.content).find("channel")
    assert channel is not None
    guids = [item.findtext("guid") for item in channel.findall("item")]
    assert guids == ids
    for item in channel.findall("item"):
        assert item.findtext("title") and item.findtext("link") and item.findtext("pubDate")
    # Stable: the same ids on a second fetch (from the cache or not).
    assert _atom_ids(demo.get(f"{path}.atom" + (f"?{query}" if query else "")).content) == ids


def test_pages_link_their_feeds(sqlite_demo: TestClient) -> None:
    for page, feed in (
        ("/", "/feeds/daily.atom"),
        ("/trending", "/feeds/trending.atom"),
        ("/categories/cs.CL", "/feeds/categories/cs.CL.atom"),
        ("/authors/Wentao%20Zhang", "/feeds/authors/Wentao%20Zhang.atom"),
    ):
        html = sqlite_demo.get(page).text
        link = re.search(
            r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html
        )
        assert link and link[1] == feed, page
        assert sqlite_demo.get(link[1]).status_code == 200


def test_unknown_feeds_are_404(sqlite_demo: TestClient) -> None:
    assert sqlite_demo.get("/feeds/categories/zz.ZZ.atom").status_code == 404
    assert sqlite_demo.get("/feeds/authors/Nobody%20At%20All.rss").status_code == 404
    assert sqlite_demo.get("/feeds/trending.atom?window=decade").status_code == 400


def test_builders_keep_text_and_drop_what_xml_cannot_carry() -> None:
    nasty = "a <b>&amp; ]]> \x00\x0b\ud800 \U0001f600 ' \""
    entry = FeedEntry(
        id="tag:example.org,2026:1",
        title=nasty,
        link="https://example.org/1?a=1&b=2",
        summary=nasty,
        updated=dt.datetime(2026, 1, 2, 3, 4, 5),  # naive: taken as UTC
        authors=("", nasty),
        categories=("cs.LG",),
    )
    for body in (
        build_atom(nasty, "https://example.org/feed?x=<1>", [entry]),
        build_rss(nasty, "https://example.org/feed", [entry], description=nasty),
    ):
        root = SafeET.fromstring(body)
        text = "".join(root.itertext())
        assert "a <b>&amp; ]]>  \U0001f600 ' \"" in text
        assert "\x00" not in text and "\ud800" not in text
    atom = SafeET.fromstring(build_atom("t", "https://x/f", []))
    assert atom.findtext(f"{A}updated")  # an empty feed is still valid
    guid = SafeET.fromstring(build_rss("t", "https://x/f", [entry])).find("channel/item/guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
