"""Links that come from outside (code, project, PDF pages) reach no client unless they are
http(s): not on the pages (checked in test_hostile.py), and not in the JSON answers either,
where a client would put them in an href as they are."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from paperroute import Config, open_hub
from paperroute.links import http_url
from paperroute.sources.hf_daily import parse_daily
from paperroute.web.templating import author_url

DAY = "2026-09-02"
ODD = "O'Neil/Ng ?x=1&y #z 100% ~é+"
BAD = ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>x</b>",
       "https://example.org/\x00x", "https://example.org/a\\b", "vbscript:x", "//evil.example",
       "https://example.org/\x7f", "https://exa mple.org/"]  # fmt: skip


@pytest.mark.parametrize("url", BAD)
def test_http_url_refuses_what_is_not_a_plain_web_link(url: str) -> None:
    assert http_url(url) is None


def test_http_url_keeps_web_links() -> None:
    assert http_url(" https://github.com/a/b ") == "https://github.com/a/b"
    assert http_url("HTTP://example.org/x?y=1&z=2") == "HTTP://example.org/x?y=1&z=2"


@pytest.fixture
def hostile_links(fresh: TestClient) -> TestClient:
    item = {
        "paper": {
            "id": "2609.00002",
            "title": "A paper with bad links",
            "summary": "Abstract.",
            "authors": [{"name": "Ada"}, {"name": ODD}],
            "publishedAt": "2026-09-01T00:00:00.000Z",
            "upvotes": 1,
            "githubRepo": "javascript:alert(3)",
            "githubStars": 5,
            "projectPage": "data:text/html,<script>alert(4)</script>",
        },
        "title": "x",
        "numComments": 0,
    }
    config: Config = fresh.app.state.config  # type: ignore[attr-defined]
    records = list(parse_daily(json.dumps([item]).encode(), day=dt.date.fromisoformat(DAY)))
    with open_hub(config) as hub:
        report = hub.papers.ingest(records)  # type: ignore[arg-type]
    assert report.inserted == 1, report
    fresh.app.state.page_cache.clear()  # type: ignore[attr-defined]
    return fresh


def test_json_answers_carry_no_script_links(hostile_links: TestClient) -> None:
    detail = hostile_links.get("/api/v1/papers/2609.00002")
    assert detail.status_code == 200
    assert detail.json()["code_url"] is None and detail.json()["project_url"] is None
    daily = hostile_links.get(f"/api/v1/daily?date={DAY}").json()
    assert daily["items"] and all(i["code_url"] is None for i in daily["items"])
    hf = hostile_links.get("/api/daily_papers", params={"date": DAY}).json()
    assert hf and "githubRepo" not in hf[0]["paper"] and "projectPage" not in hf[0]["paper"]
    for answer in (detail.text, json.dumps(daily), json.dumps(hf)):
        assert "javascript:" not in answer and "data:text/html" not in answer


def test_author_and_category_feed_links_reach_their_feeds(hostile_links: TestClient) -> None:
    page = hostile_links.get(author_url(ODD))
    assert page.status_code == 200
    links = re.findall(r'href="(/feeds/authors/[^"]+)"', page.text)
    assert len(links) == 3
    for link in links:
        feed = hostile_links.get(html.unescape(link))
        assert feed.status_code == 200, link
        assert ODD in feed.text or html.escape(ODD, quote=False) in feed.text
    feeds = hostile_links.get("/feeds").text
    for link in re.findall(r'href="(/feeds/categories/[^"]+)"', feeds):
        assert hostile_links.get(html.unescape(link)).status_code == 200, link
