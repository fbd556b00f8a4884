"""The search page's messages, read as a newcomer reads them: nothing found is said once
(not as a notice and again as the empty state), names the query, and offers the "Meaning"
mode only where it is not already in use; notices start with a capital; a page past the
end links back to the first page and the last, and does not call itself "page 999 of 12"."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from paperroute.search.service import SearchResult


def _entries(atom: bytes) -> int:
    return len(ElementTree.fromstring(atom).findall("{http://www.w3.org/2005/Atom}entry"))


def _main(html: str) -> str:
    found = re.search(r'<main id="main".*?</main>', html, re.S)
    assert found is not None
    return found.group(0)


def test_nothing_found_is_said_once_with_the_query(sqlite_demo: TestClient) -> None:
    page = _main(sqlite_demo.get("/search", params={"q": "zzqxj flurbo"}).text)
    assert page.lower().count("no close matches") == 1, page
    assert "No close matches for “<bdi>zzqxj flurbo</bdi>”" in page
    notices = page.split('class="search-notices"')[1:]  # "no vectors yet" may stay
    assert not any("close matches" in n.split("</ul>")[0].lower() for n in notices), notices
    # Best match already looks by meaning: suggesting "Meaning" would send nowhere new.
    assert 'mode=semantic">“Meaning” mode' not in page


def test_keyword_mode_offers_meaning_and_keeps_the_filters(sqlite_demo: TestClient) -> None:
    params = {"q": "zzqxj flurbo", "mode": "keyword", "cat": "cs.LG"}
    page = _main(sqlite_demo.get("/search", params=params).text)
    link = re.search(r'<a href="([^"]*mode=semantic[^"]*)">“Meaning” mode</a>', page)
    assert link is not None, page
    assert "cat=cs.LG" in link.group(1)
    assert "or fewer filters" in page


def test_notices_start_with_a_capital(sqlite_demo: TestClient) -> None:
    page = _main(sqlite_demo.get("/search", params={"q": "attention", "mode": "bogus"}).text)
    notices = re.findall(r"<li>(.*?)</li>", page.split('class="search-notices"')[1])
    assert notices and all(n[:1].isupper() for n in notices), notices


def test_a_page_past_the_end_links_back_to_the_first(sqlite_demo: TestClient) -> None:
    page = _main(sqlite_demo.get("/search", params={"q": "model", "page": "999"}).text)
    assert "No more results" in page
    back = re.search(r'<a href="([^"]+)">Back to the first page</a>', page)
    assert back is not None and "page=1" in back.group(1), page
    last = re.search(r'or <a href="([^"]+)">the last</a>', page)
    assert last is not None, page
    pages = re.search(r"page=(\d+)", last.group(1))
    assert pages is not None and 1 < int(pages.group(1)) < 999, page
    assert "page 999 of" not in page
    shown = _main(sqlite_demo.get(last.group(1).replace("&amp;", "&")).text)
    assert f"page {pages.group(1)} of {pages.group(1)}" in shown and "No more results" not in shown


def test_a_quoted_query_that_finds_nothing_is_quoted_once(sqlite_demo: TestClient) -> None:
    page = _main(sqlite_demo.get("/search", params={"q": '"zzqxj flurbo"'}).text)
    assert "No close matches for <bdi>&#34;zzqxj flurbo&#34;</bdi>." in page, page


def test_a_phrase_in_typographic_quotes_is_quoted_once(sqlite_demo: TestClient) -> None:
    page = _main(sqlite_demo.get("/search", params={"q": "“zzqxj flurbo”"}).text)
    assert "No close matches for <bdi>“zzqxj flurbo”</bdi>." in page, page
    assert "““" not in page


def test_search_instead_links_within_the_site(sqlite_demo: TestClient) -> None:
    # The link back to the query as typed: its path and query, as every other link of the
    # page (an absolute one named the address the request came in by, not a proxy's).
    response = sqlite_demo.get("/search", params={"q": "difusion modles"})
    link = re.search(r'Search instead for <a href="([^"]+)">', response.text)
    assert link is not None, response.text
    assert link.group(1).startswith("/search?") and "spell=0" in link.group(1), link.group(1)
    # The heading names what the results are for: the corrected query.
    assert "Results for “<bdi>diffusion models</bdi>”" in response.text, response.text
    # As typed: the mode tabs stay with the query as typed.
    typed = sqlite_demo.get(link.group(1).replace("&amp;", "&")).text
    tabs = re.findall(
        r'<a href="(/search\?q=[^"]*)"[^>]*>(?:Best match|Keywords|Meaning)</a>', typed
    )
    assert len(tabs) == 3 and all("spell=0" in tab for tab in tabs), tabs
    assert "Results for “<bdi>difusion modles</bdi>”" in typed


def test_a_page_number_that_is_not_ascii_digits_is_the_first(sqlite_demo: TestClient) -> None:
    """ "²" and "①" are digits to str.isdigit, not to int (they answered 500)."""

    def titles(page: str) -> list[str]:
        response = sqlite_demo.get("/search", params={"q": "model", "page": page})
        assert response.status_code == 200, page
        return re.findall(r"Sign in to upvote “([^”]+)”", _main(response.text))

    first = titles("1")
    assert len(first) > 5
    for page in ("²", "①", "٣", "𝟚", "1²"):
        assert titles(page) == first, page


@pytest.fixture
def short_estimates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every search's total an estimate that falls 40 short of its results."""
    from paperroute.web import search_routes

    searched = search_routes._search

    def short(*args: Any, **kwargs: Any) -> SearchResult:
        found = searched(*args, **kwargs)
        return replace(found, total=max(0, found.total - 40), total_exact=False)

    monkeypatch.setattr(search_routes, "_search", short)


def test_every_page_that_has_a_next_one_links_to_it(
    sqlite_demo: TestClient, short_estimates: None
) -> None:
    # Best match's total is an estimate that can fall short ("about 536 results" where 551
    # are there): its last pages once had no Next link ("page 18 of 18") while page 19
    # held 11 more papers. Here every page's estimate falls 40 short.
    params = {"q": "reinforcement learning", "mode": "keyword"}
    page, shown = 1, []
    while page < 40:
        html = _main(sqlite_demo.get("/search", params={**params, "page": str(page)}).text)
        titles = re.findall(r"Sign in to upvote “([^”]+)”", html)
        if not titles:
            break
        shown.extend(titles)
        after = _main(sqlite_demo.get("/search", params={**params, "page": str(page + 1)}).text)
        more = re.findall(r"Sign in to upvote “([^”]+)”", after)
        assert ('rel="next"' in html) == bool(more), (page, len(titles), len(more))
        page += 1
    assert page > 15 and len(set(shown)) == len(shown)


def test_a_quoted_query_after_a_space_is_quoted_once(sqlite_demo: TestClient) -> None:
    page = _main(sqlite_demo.get("/search", params={"q": ' "zzqxj flurbo"'}).text)
    assert "No close matches for <bdi>&#34;zzqxj flurbo&#34;</bdi>." in page, page
    assert "“<bdi>" not in page


def test_a_later_page_of_nothing_found_says_nothing_was_found(sqlite_demo: TestClient) -> None:
    page = _main(sqlite_demo.get("/search", params={"q": "zzqxj flurbo", "page": "5"}).text)
    assert "No close matches for" in page and "No more results" not in page, page
    assert "page 5 of" not in page


def test_a_page_number_of_many_digits_is_the_last_one_allowed(sqlite_demo: TestClient) -> None:
    for number in ("999999", "1000000", "12345678901234"):
        page = _main(sqlite_demo.get("/search", params={"q": "model", "page": number}).text)
        assert "No more results" in page, number  # (not page 1 shown as if asked for)


def test_the_api_offers_the_next_page_when_its_estimate_falls_short(
    sqlite_demo: TestClient, short_estimates: None
) -> None:
    params: dict[str, Any] = {"q": "reinforcement learning", "mode": "keyword", "limit": 100}
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        body = sqlite_demo.get("/api/v1/search", params={**params, "offset": offset}).json()
        seen.extend(item["id"] for item in body["items"])
        offset = body["next_offset"]
    estimate = sqlite_demo.get("/api/v1/search", params={**params, "limit": 1}).json()["total"]
    assert len(seen) == len(set(seen)) == estimate + 40 > 100  # every match


def test_the_query_as_typed_offers_its_correction(demo: TestClient) -> None:
    # "Search instead for" searches the typo as typed: its empty state offers the
    # correction again, a link to it, and says no results were searched for it.
    params = {"q": "difusion modles", "mode": "keyword", "spell": "0"}
    page = _main(demo.get("/search", params=params).text)
    # (Keywords: the words are in no paper; "close" is the Meaning mode's word.)
    assert "No paper contains “<bdi>difusion modles</bdi>”. Check the spelling: " in page, page
    assert "Try fewer words" not in page
    offer = re.search(
        r'did you mean <a href="([^"]+)"><strong><bdi>([^<]+)</bdi></strong></a>\?', page
    )
    assert offer is not None, page
    assert offer.group(2) == "diffusion models"
    assert offer.group(1) == "/search?q=diffusion+models&amp;mode=keyword"
    assert "Showing results for" not in page
    # Its feed is of the query as typed too (the page's link keeps spell=0).
    feed = re.search(r'<a href="(/search/feed\?[^"]+)">Feed of this search', page)
    assert feed is not None and "spell=0" in feed.group(1), page
    as_typed = demo.get(feed.group(1).replace("&amp;", "&")).content
    corrected = demo.get(feed.group(1).replace("&amp;", "&").replace("&spell=0", "")).content
    assert (_entries(as_typed), _entries(corrected) > 0) == (0, True)
    body = demo.get("/api/v1/search", params={**params, "spell": "false"}).json()
    assert body["did_you_mean"] == "diffusion models" and body["suggestion"] is None
    assert body["items"] == [] and body["total"] == 0
    # Corrected (the default), the correction is what the items are for, not an offer.
    body = demo.get("/api/v1/search", params={"q": "difusion modles", "mode": "keyword"}).json()
    assert body["suggestion"] == "diffusion models" and body["did_you_mean"] is None
    assert body["items"]
    # The filter form's fields stay in the form, not moved into the corrected query.
    filtered = _main(demo.get("/search", params={**params, "cat": "cs.LG"}).text)
    offer = re.search(r'did you mean <a href="([^"]+)">', filtered)
    assert offer is not None, filtered
    assert offer.group(1) == "/search?q=diffusion+models&amp;mode=keyword&amp;cat=cs.LG"
    searched = _main(demo.get("/search", params={"q": "difusion modles", "cat": "cs.LG"}).text)
    link = re.search(r'Showing results for <a href="([^"]+)">', searched)
    assert link is not None and link.group(1).endswith("&amp;cat=cs.LG"), searched
    # A long typo's correction is what a search reads of it (2,000 characters), not 12,000.
    long = {"q": "difusion " * 1200, "spell": "false", "mode": "keyword"}
    offered = demo.get("/api/v1/search", params=long).json()["did_you_mean"]
    assert offered.startswith("diffusion diffusion") and len(offered) <= 2000
    # Control characters are read as the page reads them: none echoed.
    body = demo.get("/api/v1/search", params={**long, "q": "difusion\x00\x1b]0;x\x07modles"})
    assert body.json()["query"] == "difusion]0;xmodles"
    assert "\\u0000" not in body.text and "\\u001b" not in body.text
    # Results as you type look up no spelling a keystroke: nothing offered there.
    search = demo.app.state.hub.search  # type: ignore[attr-defined]
    assert search.query("difusion modles", correct=False).did_you_mean == "diffusion models"
    assert search.query("difusion modles", correct=False, offer=False).did_you_mean is None
    # A query that matches offers nothing.
    body = demo.get("/api/v1/search", params={"q": "diffusion", "spell": "false"}).json()
    assert body["did_you_mean"] is None and body["items"]


def test_the_api_cuts_a_page_short_at_the_last_result_it_serves(sqlite_demo: TestClient) -> None:
    # Offset 9,990 of 20 is results 9,990 to 10,000 (not moved back to 9,980 unasked);
    # an offset of 10,000 or more is refused with a message (a problem, as every bad
    # parameter).
    params: dict[str, Any] = {"q": "model", "mode": "keyword", "limit": 20, "offset": 9990}
    body = sqlite_demo.get("/api/v1/search", params=params).json()
    assert body["offset"] == 9990 and body["next_offset"] is None
    response = sqlite_demo.get("/api/v1/search", params={**params, "offset": 10000})
    assert response.status_code == 400 and "less than 10000" in response.text, response.text


def test_the_last_page_of_ten_thousand_results_is_reachable(
    sqlite_demo: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20,000 matches (a stand-in search over real papers): page 334 is results 9,991 to
    # 10,000, cut short, not page 333 again.
    from paperroute.web import search_routes

    searched = search_routes._search
    asked: list[int] = []

    def many(request: Any, text: str, mode: Any, limit: int, offset: int = 0, **kw: Any) -> Any:
        asked.append(offset)
        found = searched(request, "model", mode, min(limit, 10_000 - offset), 0, **kw)
        return replace(found, total=20_000, total_exact=True, offset=offset)

    monkeypatch.setattr(search_routes, "_search", many)
    page = _main(sqlite_demo.get("/search", params={"q": "x", "page": "333"}).text)
    assert "page 333 of 334" in page and "page=334" in page, page
    page = _main(sqlite_demo.get("/search", params={"q": "x", "page": "334"}).text)
    assert "page 334 of 334" in page, page
    assert asked == [9960, 9990]
    assert len(re.findall(r"Sign in to upvote “", page)) == 10
