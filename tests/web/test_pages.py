"""Every page of the read side, on the demo data (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

NEWEST = "2026-08-21"


def _h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "no <h1>"
    return re.sub(r"<[^>]+>", "", match[1]).strip()


def _card_ids(html: str) -> list[str]:
    return re.findall(
        r'<h3 class="card-title"[^>]*>(?:<span class="rank">\d+\.</span> )?'
        r'<a class="math" href="/papers/([^"]+)"',
        html,
    )


def test_home_is_the_newest_day_with_hf_papers_ranked_by_upvotes(demo: TestClient) -> None:
    response = demo.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert _h1(html) == "Friday, August 21, 2026"
    counts = [int(n) for n in re.findall(r'<span class="count">(\d+)</span>', html)]
    hf_section = html.split('id="arxiv-title"')[0]
    hf_counts = [int(n) for n in re.findall(r'<span class="count">(\d+)</span>', hf_section)]
    assert len(hf_counts) == 17  # the HF dump of that day has 17 papers
    assert hf_counts == sorted(hf_counts, reverse=True)
    assert len(counts) > len(hf_counts)  # arXiv listings follow
    assert 'rel="alternate" type="application/atom+xml"' in html
    # Landmarks, skip link, labelled search.
    for needle in ('<main id="main"', 'class="skip-link" href="#main"', 'role="search"',
                   '<label class="visually-hidden" for="site-search">', "<footer"):  # fmt: skip
        assert needle in html


def test_previous_and_next_day_link_to_days_with_papers(demo: TestClient) -> None:
    html = demo.get("/").text
    previous = re.search(r'href="/papers/date/([\d-]+)" aria-label="Previous day', html)
    assert previous and previous[1] == "2026-08-20"
    assert 'rel="next"' not in html.split("day-title")[1].split("</div>")[0]  # newest: no next
    # Friday the 14th's next day with papers is Monday the 17th (no weekend listings).
    day = demo.get("/papers/date/2026-08-14").text
    nxt = re.search(r'href="/papers/date/([\d-]+)" aria-label="Next day', day)
    assert nxt and nxt[1] == "2026-08-17"
    assert _h1(day) == "Friday, August 14, 2026"


def test_a_day_without_papers_says_so(demo: TestClient) -> None:
    response = demo.get("/papers/date/2026-08-16")  # a Sunday
    assert response.status_code == 200
    assert "No papers were listed on this day" in response.text
    assert 'href="/papers/date/2026-08-14"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/papers/date/2026-8-1",
        "/papers/date/2026-02-30",
        "/papers/date/today",
        "/papers/week/2026-W54",
        "/papers/week/2026-34",
        "/papers/month/2026-13",
        "/papers/month/2026-00",
        "/trending?window=year",
        "/?page=0",
        "/?page=abc",
        "/trending?page=-1",
        "/papers/date/0001-01-01",
        "/papers/date/9999-12-31",
        "/papers/date/2026-08-21%0A",
        "/papers/date/%D9%A2%D9%A0%D9%A2%D9%A6-08-21",  # Arabic-Indic digits
        "/papers/week/0001-W01",
        "/papers/week/9999-W52",
        "/papers/month/0001-01",
        "/papers/month/9999-12",
    ],
)
def test_bad_dates_weeks_months_and_pages_are_400_with_a_message(
    sqlite_demo: TestClient, path: str
) -> None:
    response = sqlite_demo.get(path)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "<title>400 Bad Request" in response.text
    assert re.search(r"use YYYY|must be|page|window", response.text)


def test_page_past_the_end_is_404(sqlite_demo: TestClient) -> None:
    response = sqlite_demo.get("/trending?page=5000")
    assert response.status_code == 404
    assert "past the end" in response.text


def test_week_and_month_rank_by_upvotes_and_link_neighbours(demo: TestClient) -> None:
    week = demo.get("/papers/week/2026-W34")
    assert week.status_code == 200
    assert _h1(week.text) == "Week 34, 2026"
    counts = [int(n) for n in re.findall(r'<span class="count">(\d+)</span>', week.text)]
    assert len(counts) == 30 and counts == sorted(counts, reverse=True)
    assert 'href="/papers/week/2026-W33"' in week.text
    assert 'href="/papers/week/2026-W35"' not in week.text  # nothing after
    assert 'href="/papers/date/2026-08-17"' in week.text  # the days of the week
    month = demo.get("/papers/month/2026-08")
    assert _h1(month.text) == "August 2026"
    assert 'href="/papers/month/2026-07"' in month.text
    second = demo.get("/papers/month/2026-08?page=2")
    assert second.status_code == 200
    assert set(_card_ids(second.text)).isdisjoint(_card_ids(month.text))


def _lead(html: str) -> str:
    found = re.search(r'<p class="lead" id="how">(.*?)</p>', html, re.S)
    assert found is not None
    return found.group(1)


def test_trending_windows_explain_the_ranking(demo: TestClient) -> None:
    pages = {w: demo.get(f"/trending?window={w}") for w in ("week", "month", "all")}
    for window, response in pages.items():
        assert response.status_code == 200, window
        assert "Ranked by" in _lead(response.text)
        assert len(_card_ids(response.text)) == 30
        # the formula page states how each window ranks
        assert response.text.count("<dt") == 3 and "0.5<sup>age ÷ 30.0</sup>" in response.text
    assert _card_ids(pages["week"].text) != _card_ids(pages["all"].text)
    # each window ranks by what its name promises: the month is not the week's copy
    assert _card_ids(pages["week"].text)[:20] != _card_ids(pages["month"].text)[:20]
    # the month's most upvoted paper (181 upvotes, 25 days old; #26 before) is in its top 3
    assert "2607.24653" in _card_ids(pages["month"].text)[:3]
    month = demo.get("/api/v1/trending", params={"window": "month", "limit": 3}).json()
    assert max(item["upvotes"] for item in month["items"]) == 181
    assert "2607.24653" in [item["id"] for item in month["items"]]
    assert "recency" not in _lead(pages["all"].text) and "fading" not in _lead(pages["all"].text)
    assert "newest" not in _lead(pages["all"].text)
    assert 'aria-current="page">This month' in pages["month"].text.replace("\n", "")


def test_paper_page_shows_everything(demo: TestClient) -> None:
    response = demo.get("/papers/2608.16590")
    assert response.status_code == 200
    html = response.text
    assert "Zetta" in _h1(html)
    assert 'href="/authors/Xin%20Ding"' in html
    assert "https://arxiv.org/pdf/2608.16590" in html or "PDF" in html
    assert "★ 152" in html  # code stars
    assert '<span class="vote-count">92</span>' in html  # the upvote button, in the head
    assert html.count('class="vote-count"') == 1  # one count on the page
    assert "Trending score" in html
    assert 'href="/papers/date/2026-08-20"' in html


def test_paper_versions_and_urls_redirect_to_the_canonical_page(sqlite_demo: TestClient) -> None:
    response = sqlite_demo.get("/papers/2608.16590v2", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/papers/2608.16590"


@pytest.mark.parametrize(
    "path",
    [
        "/papers/0000.00000",
        "/papers/hep-th/9901001",
        "/papers/doi:10.1/none",
        "/papers/" + "x" * 5000,
        "/papers/%00",
        "/authors/Nobody%20Atall",
        "/categories/xx.YY",
        "/no/such/page",
    ],
)
def test_unknown_things_are_a_404_page(sqlite_demo: TestClient, path: str) -> None:
    response = sqlite_demo.get(path)
    assert response.status_code == 404
    assert "<title>404 Not Found" in response.text
    assert 'class="error-page"' in response.text


def test_author_and_category_pages(demo: TestClient) -> None:
    author = demo.get("/authors/" + quote("wentao  ZHANG"))  # case and spacing do not matter
    assert author.status_code == 200
    assert _h1(author.text) == "Wentao Zhang"
    assert len(_card_ids(author.text)) > 1
    category = demo.get("/categories/cs.CL")
    assert category.status_code == 200
    assert len(_card_ids(category.text)) == 30
    assert "page=2" in category.text
    index = demo.get("/categories")
    assert 'href="/categories/cs.CL"' in index.text
    assert demo.get("/feeds").status_code == 200


def test_huge_query_strings_are_harmless(sqlite_demo: TestClient) -> None:
    junk = "x" * 20000
    assert sqlite_demo.get(f"/?junk={junk}").status_code == 200
    assert sqlite_demo.get(f"/trending?window={junk}").status_code == 400
    assert sqlite_demo.get(f"/?page={'9' * 5000}").status_code == 400


def test_static_assets_are_vendored(sqlite_demo: TestClient) -> None:
    html = sqlite_demo.get("/").text
    for src in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
        assert sqlite_demo.get(src).status_code == 200, src
    assert "cdn" not in html.lower()
    css = sqlite_demo.get("/static/vendor/katex/katex.min.css").text
    for font in set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css)):
        assert sqlite_demo.get(f"/static/vendor/katex/{font}").status_code == 200, font


def test_ids_with_slashes_and_colons(fresh: TestClient) -> None:
    import datetime as dt

    from paperroute import Config, open_hub
    from paperroute.ids import title_hash
    from paperroute.model import DailyEntry, PaperRecord

    day = DailyEntry(day=dt.date(2026, 8, 3), source="hf", kind="submitted", upvotes=4)
    records = [
        PaperRecord(source="jsonl", source_key="old", title="An old-style arXiv id",
                    arxiv_id="hep-th/9901001", authors=("Ann Old",), daily=(day,),
                    title_hash=title_hash("An old-style arXiv id")),
        PaperRecord(source="bibtex", source_key="doi", title="Known by its DOI only",
                    doi="10.1234/abc.(5)", authors=("Dee Oi",), daily=(day,),
                    title_hash=title_hash("Known by its DOI only")),
        PaperRecord(source="page", source_key="none", title="No identifier at all",
                    authors=("Noah Id",), daily=(day,),
                    title_hash=title_hash("No identifier at all")),
    ]  # fmt: skip
    config: Config = fresh.app.state.config  # type: ignore[attr-defined]
    with open_hub(config) as hub:
        assert hub.papers.ingest(records).inserted == 3
    fresh.app.state.page_cache.clear()  # type: ignore[attr-defined]
    links = _card_ids(fresh.get("/papers/date/2026-08-03").text)
    assert "hep-th/9901001" in links and len(links) == 3
    for link in links:
        page = fresh.get(f"/papers/{link}")
        assert page.status_code == 200, link
        api = fresh.get(f"/api/v1/papers/{link}").json()
        assert fresh.get(api["url"]).status_code == 200
    assert any(link.startswith("doi:") for link in links)
    assert any(link.startswith("hash:") for link in links)
