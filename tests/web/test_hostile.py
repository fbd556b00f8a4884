"""Hostile titles, abstracts, author names and links, imported through the Hugging Face
parser, render as text on every page, feed and answer; nothing a reader sends gives a 500."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from urllib.parse import quote
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest
from fastapi.testclient import TestClient

from paperroute import Config, open_hub
from paperroute.sources.hf_daily import parse_daily

SCRIPT = "<script>alert('x')</script>"
HANDLER = '"><img src=x onerror=alert(1)>'
BROKEN = "</p></div><!-- <b>unclosed <i"
BAD_TEX = r"$\frac{1}{$ and $\href{javascript:alert(1)}{click}$ and $\begin{x}$ end"
AUTHOR = "Robert'); DROP TABLE authors;-- <svg/onload=alert(2)>"
DAY = "2026-09-01"


def _items() -> list[dict[str, object]]:
    return [
        {
            "paper": {
                "id": "2609.00001",
                "title": f"Title {SCRIPT} {HANDLER} {BAD_TEX}",
                "summary": f"Abstract {BROKEN} {SCRIPT} {BAD_TEX} \u0007bell",
                "authors": [{"name": AUTHOR}, {"name": "Eve <b>Bold</b>"}],
                "publishedAt": "2026-08-31T00:00:00.000Z",
                "upvotes": 7,
                "githubRepo": "javascript:alert(3)",
                "githubStars": 5,
                "projectPage": "data:text/html,<script>alert(4)</script>",
            },
            "title": "x",
            "numComments": 0,
            "submittedBy": {"name": "<i>mallory</i>"},
        }
    ]


@pytest.fixture
def hostile(fresh: TestClient) -> TestClient:
    config: Config = fresh.app.state.config  # type: ignore[attr-defined]
    records = list(parse_daily(json.dumps(_items()).encode(), day=dt.date.fromisoformat(DAY)))
    with open_hub(config) as hub:
        report = hub.papers.ingest(records)  # type: ignore[arg-type]
    assert report.inserted == 1, report
    fresh.app.state.page_cache.clear()  # type: ignore[attr-defined]
    return fresh


def _no_live_markup(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "<svg/onload" not in html
    assert "<b>Bold</b>" not in html
    # The TeX source as text (in math, and escaped in the Cite box's BibTeX) is no link.
    inert = ("\\href{javascript:alert(1)}", "\\textbackslash{}href\\{javascript:alert(1)\\}")
    for text in inert:
        html = html.replace(text, "")
    assert "javascript:alert" not in html
    assert "data:text/html" not in html
    assert "<i>mallory</i>" not in html


def test_pages_escape_everything(hostile: TestClient) -> None:
    paths = [
        "/",
        f"/papers/date/{DAY}",
        "/papers/2609.00001",
        "/trending",
        "/trending?window=all",
        "/papers/week/2026-W36",
        "/papers/month/2026-09",
        "/authors/" + quote(AUTHOR, safe=""),
    ]
    for path in paths:
        response = hostile.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        html = response.text
        _no_live_markup(html)
        assert "&lt;script&gt;alert(" in html, path  # shown, as text
    paper = hostile.get("/papers/2609.00001").text
    assert "&lt;/p&gt;&lt;/div&gt;&lt;!-- &lt;b&gt;unclosed &lt;i" in paper
    assert "Code" not in re.sub(r"<[^>]+>", "", paper.split("paper-actions")[1].split("</div>")[0])


def test_feeds_and_json_carry_the_text_verbatim(hostile: TestClient) -> None:
    for path in ("/feeds/daily.atom", "/feeds/daily.rss", "/feeds/trending.atom",
                 "/feeds/authors/" + quote(AUTHOR, safe="") + ".rss"):  # fmt: skip
        response = hostile.get(path)
        assert response.status_code == 200, path
        root: Element = SafeET.fromstring(response.content)
        texts = " ".join(t for t in root.itertext())
        assert SCRIPT in texts and "\u0007" not in texts  # text kept, control character dropped
        assert b"<script>" not in response.content
    detail = hostile.get("/api/v1/papers/2609.00001").json()
    assert SCRIPT in detail["title"] and detail["authors"][0] == AUTHOR
    hf = hostile.get("/api/daily_papers", params={"date": DAY}).json()
    assert hf[0]["paper"]["authors"][0]["name"] == AUTHOR


@pytest.mark.parametrize(
    "path",
    [
        "/papers/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/authors/%3Cscript%3E",
        "/categories/%3Cscript%3E",
        "/papers/date/%3Cscript%3E",
        "/trending?window=%3Cscript%3E",
        "/api/v1/papers/%3Cscript%3E",
        "/api/v1/daily?date=%3Cscript%3E",
        "/papers/%F0%9F%92%A9",
        "/papers/%ED%A0%80",  # a lone surrogate, UTF-8-encoded
        "/authors/" + "%C3%A9" * 3000,
        "/api/v1/authors/%00",
        "/feeds/authors/%3Cscript%3E.atom",
    ],
)
def test_hostile_urls_are_4xx_and_escaped(fresh: TestClient, path: str) -> None:
    response = fresh.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    if response.headers["content-type"].startswith("text/html"):
        assert "<script>" not in response.text
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code


def _junk(rng: random.Random) -> str:
    alphabet = "aZ09-_./:%$<>\"'&;#?=+ \\\x00\x7f\u00e9\u200b\ud7ff\ufffe\U0001f600"
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    return quote(text, safe="") if rng.random() < 0.7 else text.replace("/", "%2F")


def test_random_input_never_gives_a_500(demo: TestClient) -> None:
    rng = random.Random(20260821)
    templates = [
        "/papers/{}", "/papers/date/{}", "/papers/week/{}", "/papers/month/{}",
        "/authors/{}", "/categories/{}", "/trending?window={}", "/?page={}",
        "/api/v1/papers/{}", "/api/v1/authors/{}", "/api/v1/categories/{}",
        "/api/v1/daily?date={}", "/api/v1/trending?cursor={}", "/api/daily_papers?week={}",
        "/api/daily_papers?month={}&sort={}", "/feeds/authors/{}.atom",
        "/feeds/categories/{}.rss",
    ]  # fmt: skip
    for n in range(150):
        template = templates[n % len(templates)]
        path = template.format(*(_junk(rng) for _ in range(template.count("{}"))))
        try:
            response = demo.get(path)
        except Exception as exc:
            if type(exc).__name__ != "InvalidURL":  # refused by the client: never sent
                raise
            continue
        assert response.status_code < 500, (path, response.status_code, response.text[:200])
