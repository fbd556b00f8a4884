"""Sorting and filtering the daily, weekly, monthly and trending lists (issue 15 item 13):
the same ``?sort=&category=&has_code=`` on the pages, the feeds and the JSON API, over the
demo data, with clear 400 / 404 answers for bad values."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from paperroute.reading import Card, ListView

ATOM = "{http://www.w3.org/2005/Atom}"
WEEK = ("2026-W34", dt.date(2026, 8, 17), dt.date(2026, 8, 23))


def _period(client: TestClient, view: ListView) -> list[Card]:
    _name, start, end = WEEK
    reading = client.app.state.hub.reading  # type: ignore[attr-defined]
    return list(reading.period(start, end, offset=0, limit=200, view=view).top.cards)


def _ids(html: str) -> list[int]:
    """The pks of the cards a page lists, in order."""
    return [int(pk) for pk in re.findall(r'<article class="card" aria-labelledby="t-(\d+)"', html)]


def test_sorts_order_the_week_as_they_say(demo: TestClient) -> None:
    by_upvotes = _period(demo, ListView())
    assert len(by_upvotes) > 50
    ups = [c.upvotes for c in by_upvotes]
    assert ups == sorted(ups, reverse=True)
    stars = [c.code_stars for c in _period(demo, ListView(sort="stars"))]
    known = [s for s in stars if s is not None]
    assert known == sorted(known, reverse=True) and known[0] > 100
    assert stars[: len(known)] == known  # papers without stars come last
    newest = [c.submitted_at for c in _period(demo, ListView(sort="newest"))]
    dated = [d for d in newest if d is not None]
    assert dated == sorted(dated, reverse=True) and dated[0] != dated[-1]
    assert {c.id for c in by_upvotes} == {c.id for c in _period(demo, ListView(sort="newest"))}


def test_filters_keep_only_what_they_name(demo: TestClient) -> None:
    everything = _period(demo, ListView())
    in_cl = _period(demo, ListView(category="cs.CL"))
    assert 0 < len(in_cl) < len(everything)
    assert all("cs.CL" in c.categories for c in in_cl)
    assert len(in_cl) == sum("cs.CL" in c.categories for c in everything)
    coded = _period(demo, ListView(has_code=True))
    assert 0 < len(coded) < len(everything) and all(c.code_url for c in coded)
    both = _period(demo, ListView(category="cs.CL", has_code=True, sort="stars"))
    assert {c.id for c in both} == {c.id for c in in_cl if c.code_url}


def test_trending_sorts_and_filters(demo: TestClient) -> None:
    reading = demo.app.state.hub.reading  # type: ignore[attr-defined]
    found = reading.trending("month", limit=5000, view=ListView(sort="upvotes", has_code=True))
    assert found.page.cards and all(c.code_url for c in found.page.cards)
    ups = [t.upvotes for t in found.ranked]
    assert ups == sorted(ups, reverse=True)
    scored = reading.trending("month", limit=5000, view=ListView(has_code=True))
    assert {t.pk for t in scored.ranked} == {t.pk for t in found.ranked}
    assert scored.page.total == found.page.total < reading.trending("month", limit=1).page.total


@pytest.mark.parametrize(
    "path",
    ["/", "/papers/date/2026-08-21", "/papers/week/2026-W34", "/papers/month/2026-08",
     "/trending", "/trending?window=all", "/feeds/daily.atom", "/feeds/trending.rss",
     "/api/v1/daily", "/api/v1/trending"],
)  # fmt: skip
def test_bad_values_get_clear_errors(sqlite_demo: TestClient, path: str) -> None:
    join = "&" if "?" in path else "?"
    bad_sort = sqlite_demo.get(f"{path}{join}sort=votes")
    assert bad_sort.status_code == 400 and "sort must be upvotes, newest or stars" in bad_sort.text
    bad_flag = sqlite_demo.get(f"{path}{join}has_code=maybe")
    assert bad_flag.status_code == 400 and "has_code must be 1 or 0" in bad_flag.text
    unknown = sqlite_demo.get(f"{path}{join}category=cs.NOPE")
    assert unknown.status_code == 404 and "no papers in category" in unknown.text


def test_the_week_page_round_trips_its_view(sqlite_demo: TestClient) -> None:
    url = "/papers/week/2026-W34?sort=stars&category=cs.cl&has_code=1"
    page = sqlite_demo.get(url)
    assert page.status_code == 200
    html = page.text
    assert '<option value="stars" selected>' in html
    assert '<option value="cs.CL" selected>' in html  # the stored spelling
    assert 'name="has_code" value="1" checked' in html
    first = _ids(html)
    view = ListView(sort="stars", category="cs.CL", has_code=True)
    assert first and first == [c.pk for c in _period(sqlite_demo, view)][: len(first)]


def test_pagination_and_feed_links_keep_the_view(sqlite_demo: TestClient) -> None:
    page = sqlite_demo.get("/trending?window=month&sort=newest&has_code=1")
    html = unescape(page.text)
    next_link = re.search(r'<a rel="next"[^>]*href="([^"]+)"', html)
    assert next_link is not None
    assert next_link[1] == "/trending?window=month&sort=newest&has_code=1&page=2"
    second = sqlite_demo.get(next_link[1])
    assert second.status_code == 200 and not set(_ids(second.text)) & set(_ids(page.text))
    feed = re.search(r'type="application/atom\+xml"[^>]*href="([^"]+)"', html)
    assert feed is not None
    assert feed[1] == "/feeds/trending.atom?window=month&sort=newest&has_code=1"
    tab = re.search(r'<a href="([^"]+)"[^>]*>All time</a>', html)
    assert tab is not None and tab[1] == "/trending?window=all&sort=newest&has_code=1"


def test_the_filtered_feed_is_filtered(sqlite_demo: TestClient) -> None:
    daily = sqlite_demo.get("/?category=cs.CV")
    link = re.search(r'type="application/atom\+xml"[^>]*href="([^"]+)"', unescape(daily.text))
    assert link is not None and link[1] == "/feeds/daily.atom?category=cs.CV"
    feed = ElementTree.fromstring(sqlite_demo.get(link[1]).content)
    assert "(in cs.CV)" in (feed.findtext(f"{ATOM}title") or "")
    entries = feed.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        assert "cs.CV" in {c.get("term") for c in entry.findall(f"{ATOM}category")}
    unfiltered = ElementTree.fromstring(sqlite_demo.get("/feeds/daily.atom").content)
    others = [
        e for e in unfiltered.findall(f"{ATOM}entry")
        if "cs.CV" not in {c.get("term") for c in e.findall(f"{ATOM}category")}
    ]  # fmt: skip
    assert others  # what the filter left out


def test_the_api_takes_the_same_view(demo: TestClient) -> None:
    found = demo.get("/api/v1/trending?window=all&sort=stars&category=cs.CL&limit=50").json()
    items = found["items"]
    assert items and all("cs.CL" in item["categories"] for item in items)
    stars = [item["code_stars"] for item in items if item["code_stars"] is not None]
    assert stars == sorted(stars, reverse=True)
    later = demo.get(f"/api/v1/trending?window=all&sort=stars&category=cs.CL&limit=50"
                     f"&cursor={found['next_cursor']}").json()  # fmt: skip
    assert later["items"] and not {i["id"] for i in later["items"]} & {i["id"] for i in items}
    # A cursor belongs to its view: another view refuses it.
    other = demo.get(f"/api/v1/trending?window=all&cursor={found['next_cursor']}")
    assert other.status_code == 400
    daily = demo.get("/api/v1/daily?date=2026-08-21&has_code=1&limit=200").json()
    assert daily["items"] and all(item["code_url"] for item in daily["items"])
    assert demo.get("/api/v1/daily?sort=").status_code == 400  # the API takes no blanks
    document = demo.get("/api/v1/openapi.json").json()
    names = {p["name"] for p in document["paths"]["/api/v1/trending"]["get"]["parameters"]}
    assert {"sort", "category", "has_code"} <= names


def test_day_week_and_month_links_keep_the_view(sqlite_demo: TestClient) -> None:
    day = unescape(sqlite_demo.get("/papers/date/2026-08-20?sort=stars&has_code=1").text)
    kept = "sort=stars&has_code=1"
    assert f'href="/papers/date/2026-08-19?{kept}"' in day  # the previous day
    assert f'href="/papers/date/2026-08-21?{kept}"' in day  # the next day
    assert f'href="/papers/week/2026-W34?{kept}"' in day
    assert f'href="/papers/month/2026-08?{kept}"' in day
    week = unescape(sqlite_demo.get(f"/papers/week/2026-W34?{kept}").text)
    assert f'href="/papers/week/2026-W33?{kept}"' in week
    assert f'href="/papers/date/2026-08-21?{kept}"' in week  # a day chip
