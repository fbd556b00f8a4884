"""The reader's details (issue 15) on the demo data: words and numbers that agree, errors a
reader understands, categories and authors that are found however they are typed."""

from __future__ import annotations

import re
import zoneinfo
from urllib.parse import quote

from fastapi.testclient import TestClient

from paperroute.digest import time_zones
from paperroute.ids import fold_name
from paperroute.reading.taxonomy import CATEGORY_NAMES, category_label
from paperroute.web.params import printable
from paperroute.web.templating import plural

# -- words and numbers -----------------------------------------------------------------------


def test_the_plural_filter_says_one_upvote_and_two_upvotes() -> None:
    assert [plural(n, "upvote") for n in (0, 1, 2, 1000)] == [
        "upvotes",
        "upvote",
        "upvotes",
        "upvotes",
    ]
    assert plural(1, "paper") == "paper" and plural(None, "paper") == "papers"
    assert plural(3, "query", "queries") == "queries" and plural(1, "query", "queries") == "query"


def test_one_upvote_and_one_comment_are_singular_on_the_paper_page(demo: TestClient) -> None:
    page = demo.get("/papers/2607.13491")  # 1 upvote on Hugging Face
    assert page.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert "Upvote 1" in text and "1 upvotes" not in text  # the head's button and its count
    html = demo.get("/papers/2608.19880").text  # 1 comment on Hugging Face's discussion
    stat = re.search(r'<a class="stat" href="#comments">(.*?)</a>', html)
    assert stat is not None
    assert re.sub(r"<[^>]+>|&nbsp;", " ", stat.group(1)).split()[:2] == ["1", "comment"]
    assert "1 comments" not in re.sub(r"<[^>]+>", "", html)


def test_no_count_anywhere_reads_1_upvotes_or_1_comments(demo: TestClient) -> None:
    for path in ("/", "/trending", "/papers/week/2026-W34", "/papers/2607.13491", "/feeds"):
        text = re.sub(r"<[^>]+>", "", demo.get(path).text)
        assert not re.search(r"\b1 (upvotes|comments|papers|stars)\b", text), path


def test_the_days_of_a_week_count_the_papers_their_pages_list(demo: TestClient) -> None:
    week = demo.get("/papers/week/2026-W34").text
    chips = re.findall(r'href="/papers/date/(\d{4}-\d{2}-\d{2})">\w{3} \d+ <span[^>]*>(\d+)<', week)
    assert len(chips) >= 5
    for day, shown in chips:
        page = demo.get(f"/papers/date/{day}").text
        pills = [int(n) for n in re.findall(r'<span class="count-pill">(\d+)</span>', page)]
        assert int(shown) == sum(pills), day  # Fri 21: 194 listings, 185 papers (17 + 168)
    assert ("2026-08-21", "185") in chips
    month = demo.get("/papers/month/2026-08").text
    chip = 'href="/papers/date/2026-08-21">Fri 21 <span class="muted" aria-label="185 papers">185<'
    assert chip in month


def test_comment_counts_agree_between_the_page_and_both_apis(demo: TestClient) -> None:
    """2608.19880 has one comment in Hugging Face's discussion and none here: like upvotes,
    every place counts both (it read 1 in /api/daily_papers, 0 on the page and /api/v1)."""
    item = demo.get("/api/v1/papers/2608.19880").json()
    assert (item["comments"], item["hf_comments"], item["reader_comments"]) == (1, 1, 0)
    daily = demo.get("/api/daily_papers", params={"date": "2026-08-21"}).json()
    hf = next(entry for entry in daily if entry["paper"]["id"] == "2608.19880")
    assert hf["numComments"] == hf["paper"]["numComments"] == item["comments"]
    listed = demo.get("/api/v1/daily", params={"date": "2026-08-21", "limit": 100}).json()
    card = next(entry for entry in listed["items"] if entry["id"] == "2608.19880")
    assert card["comments"] == 1
    page = demo.get("/papers/2608.19880").text
    assert re.search(r'<a class="stat" href="#comments"><b>1</b> comment', page)
    day = demo.get("/papers/date/2026-08-21").text
    assert re.search(r"</svg>1<span class=\"visually-hidden\"> comment</span>", day)


# -- the digest's manage page --------------------------------------------------------------


def test_time_zones_are_the_iana_names_without_legacy_aliases() -> None:
    zones = time_zones()
    assert zones[0] == "UTC" and list(zones[1:]) == sorted(zones[1:])
    assert {"Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata"} <= set(zones)
    assert not {"US/Eastern", "Etc/GMT+5", "posixrules"} & set(zones)
    assert len(zones) > 300 and set(zones) <= zoneinfo.available_timezones() | {"UTC"}


def test_digest_forms_offer_every_zone_and_run_no_inline_script(sqlite_demo: TestClient) -> None:
    page = sqlite_demo.get("/subscribe").text
    zones = re.findall(r'<option value="([^"]+)">', page.split('id="digest-zones"', 1)[1])
    assert tuple(zones) == time_zones()
    assert "data-detect-timezone" in page and '<script defer src="/static/js/digest.js' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)  # no inline script (CSP)
    script = sqlite_demo.get("/static/js/digest.js")
    assert script.status_code == 200 and "data-weekly-only" in script.text
    assert "resolvedOptions().timeZone" in script.text


def test_the_manage_page_sets_unsubscribe_apart_and_keeps_the_stored_zone(
    fresh: TestClient,
) -> None:
    digests = fresh.app.state.digests  # type: ignore[attr-defined]
    subscriber = digests.add_confirmed("zone.reader@example.org", {"timezone": "Asia/Tokyo"})
    page = fresh.get(f"/subscription/{digests.manage_token(subscriber)}").text
    save_form, after = page.split('<form class="digest-form"', 1)[1].split("</form>", 1)
    assert "Save changes" in save_form and "Unsubscribe" not in save_form
    danger = re.search(r'<section class="digest-danger".*?</section>', after, re.S)
    assert danger is not None and 'class="button button-danger">Unsubscribe<' in danger.group(0)
    weekly = r'<div class="digest-weekly" data-weekly-only>\s*<label for="digest-weekday"'
    assert re.search(weekly, page)
    assert 'value="Asia/Tokyo"' in page and "data-detect-timezone" not in page


# -- errors ----------------------------------------------------------------------------------


def test_a_page_past_the_end_is_the_same_friendly_404_everywhere(sqlite_demo: TestClient) -> None:
    for path in (
        "/?page=999999",
        "/?page=100001",
        "/?page=" + "9" * 40,
        "/trending?page=500",
        "/trending?window=all&page=999999",
        "/papers/week/2026-W34?page=999999",
        "/papers/month/2026-08?page=5000",
        "/papers/date/2026-08-21?page=999999",
        "/categories/cs.CL?page=999999",
        "/authors/Xin%20Ding?page=999999",
    ):
        response = sqlite_demo.get(path)
        assert response.status_code == 404, path
        assert "<title>404 Not Found" in response.text, path
        assert re.search(r"page \d+…? is past the end of this list \(\d+ pages?\)", response.text)
        assert "less than or equal" not in response.text and "Input should" not in response.text
    # a page number that is not one is still the reader's mistake: 400, saying so
    assert sqlite_demo.get("/?page=0").status_code == 400


def test_control_characters_in_a_search_are_not_echoed(sqlite_demo: TestClient) -> None:
    response = sqlite_demo.get("/search", params={"q": "diffusion\x00model\x1b[31m\x07"})
    assert response.status_code == 200
    title = re.search(r"<title>(.*?)</title>", response.text, re.S)
    heading = re.search(r'<h1 id="search-title">(.*?)</h1>', response.text, re.S)
    assert title is not None and heading is not None
    for text in (title.group(1), heading.group(1)):
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), repr(text)
        assert "diffusionmodel[31m" in text
    assert "\x00" not in response.text
    feed = sqlite_demo.get("/search/feed", params={"q": "diffusion\x00"})
    assert feed.status_code == 200 and "\x00" not in feed.text
    assert printable("a\x00b\tc\r\nd\x9b") == "ab c  d"


# -- categories and authors ------------------------------------------------------------------


def test_categories_are_linked_and_named(demo: TestClient) -> None:
    home = demo.get("/").text
    nav = re.search(r'<nav class="main-nav".*?</nav>', home, re.S)
    assert nav is not None and 'href="/categories"' in nav.group(0)
    footer = re.search(r'<div class="footer-links">.*?</div>', home, re.S)
    assert footer is not None and 'href="/categories"' in footer.group(0)
    listing = demo.get("/categories").text
    assert "cs.CL — Computation and Language" in listing
    assert "cs.LG — Machine Learning" in listing
    page = demo.get("/categories/cs.CL")
    assert page.status_code == 200
    assert '<h1 id="cat-title">cs.CL — Computation and Language</h1>' in page.text
    paper = demo.get("/papers/2608.19880").text
    assert re.search(r'<a class="chip" href="/categories/cs\.\w\w" title="cs\.\w\w — [A-Z]', paper)


def test_the_taxonomy_names_arxiv_categories() -> None:
    assert category_label("cs.CL") == "cs.CL — Computation and Language"
    assert category_label("math.AP") == "math.AP — Analysis of PDEs"
    assert category_label("cond-mat.str-el") == "cond-mat.str-el — Strongly Correlated Electrons"
    assert category_label("hep-th") == "hep-th — High Energy Physics - Theory"
    assert category_label("not.acat") == "not.acat" and len(CATEGORY_NAMES) > 150
    assert all(re.fullmatch(r"[a-z-]+(\.[A-Za-z-]+)?", code) for code in CATEGORY_NAMES)


def test_a_category_in_another_case_redirects_to_its_page(demo: TestClient) -> None:
    for typed in ("cs.cl", "CS.CL", "Cs.Cl"):
        response = demo.get(f"/categories/{typed}", follow_redirects=False)
        assert response.status_code == 301, typed
        assert response.headers["location"] == "/categories/cs.CL"
    paged = demo.get("/categories/cs.lg?page=2", follow_redirects=False)
    assert paged.status_code == 301 and paged.headers["location"] == "/categories/cs.LG?page=2"
    assert demo.get("/categories/cs.nope", follow_redirects=False).status_code == 404


def test_an_author_typed_without_accents_or_in_any_case_redirects_to_the_name(
    demo: TestClient,
) -> None:
    canonical = "/authors/A.%20Altar%20L%C3%BCser"
    for typed in ("A. Altar Luser", "a. altar luser", "A.  ALTAR  LÜSER", "a. altar lüser"):
        response = demo.get(f"/authors/{quote(typed)}", follow_redirects=False)
        assert response.status_code == 301, typed
        assert response.headers["location"] == canonical
    page = demo.get(canonical, follow_redirects=False)
    assert page.status_code == 200 and "A. Altar Lüser" in page.text
    assert demo.get("/authors/A.%20Altar%20Loser", follow_redirects=False).status_code == 404
    api = demo.get("/api/v1/authors/A. Altar Luser")
    assert api.status_code == 200 and api.json()["total"] >= 1


def test_fold_name_drops_case_accents_and_spacing() -> None:
    assert fold_name("  A. Altar   Lüser ") == "a. altar luser"
    assert fold_name("Søren Kierkegaard") == "soren kierkegaard"
    assert fold_name("Johann Strauß") == "johann strauss"
    assert fold_name("Łukasz Kaiser") == "lukasz kaiser"
    assert fold_name("Lu\u0308ser") == "luser"  # stored decomposed


def test_comments_from_hugging_face_are_named_and_linked_in_the_comments_section(
    demo: TestClient,
) -> None:
    """The stat counts Hugging Face's comment too: the section it links to says where it is,
    instead of a bare "No comments yet" under a "1 comment" link."""
    html = demo.get("/papers/2608.19880").text  # 1 comment on Hugging Face's discussion
    section = html.split('id="comments"', 1)[1]
    assert "No comments here yet." in section
    note = re.search(r'data-testid="hf-comments">(.*?)</p>', section, re.S)
    assert note is not None, section[:2000]
    assert re.sub(r"<[^>]+>", "", note.group(1)).startswith("1 comment on Hugging Face")
    assert 'href="https://huggingface.co/papers/2608.19880"' in note.group(1)


def test_the_paper_page_says_a_date_once_and_hides_a_zero_trending_score(
    demo: TestClient,
) -> None:
    html = demo.get("/papers/2607.12885").text  # listed once (arXiv), no votes or stars
    side = html[html.index('<aside class="paper-side"') :]
    assert "Jul 15, 2026" in html[: html.index('<aside class="paper-side"')]  # the head's
    assert "Jul 15, 2026" not in side  # not again as "Announced" and "Listed"
    assert "Trending score" not in html
    assert "Not trending: no upvotes or code stars yet." in side
    # a paper with a score keeps its breakdown
    assert "Trending score" in demo.get("/papers/2608.16590").text


def test_a_day_listed_by_two_sources_is_said_once_with_both(demo: TestClient) -> None:
    html = demo.get("/papers/2608.19799").text  # on arXiv's and Hugging Face's list that day
    side = html[html.index('<aside class="paper-side"') :]
    assert "Aug 21, 2026" not in side  # the head says the day
    assert "<dt>Listed by</dt><dd>arXiv, Hugging Face</dd>" in side
