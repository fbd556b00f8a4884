"""A reader joins in, in a real browser: signs in through the link a real SMTP server
captured, upvotes (the count changes without a reload), comments, makes a collection with
the paper, sees trending react to the vote, and signs out. Screenshots in tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from paperroute import Config, open_hub
from paperroute.reading import Weights
from paperroute.web.templating import paper_url
from support.browser import screenshot
from support.smtp import SmtpServer

EMAIL = "reader@example.org"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def server_env(smtp: SmtpServer) -> dict[str, str]:
    return {"PAPERROUTE_SMTP_URL": smtp.url}


def _climber(database_url: str) -> tuple[str, int]:
    """A paper on the first trending page that one more upvote lifts above its neighbour,
    and its 1-based rank now."""
    with open_hub(Config(database_url=database_url)) as hub:
        ranked = hub.reading.trending("week", limit=30).ranked
    for index in range(1, len(ranked)):
        terms, above = ranked[index], ranked[index - 1]
        lift = Weights().upvote_weight * (terms.age_days + 1) ** -1.5
        if terms.score + lift > above.score + 1e-9:
            return terms.id, index + 1
    pytest.fail("no paper on the first trending page can climb with one vote")


def _trending_rank(page: object, base: str, paper_id: str) -> int:
    page.goto(base + "/trending")  # type: ignore[attr-defined]
    hrefs: list[str] = page.locator("article.card .card-title a").evaluate_all(  # type: ignore[attr-defined]
        "links => links.map(a => a.getAttribute('href'))"
    )
    return hrefs.index(paper_url(paper_id)) + 1


def test_sign_in_vote_comment_collect_and_sign_out(
    page: object, live_server: str, smtp: SmtpServer, browser_demo_db: str
) -> None:
    p = page
    paper_id, rank_before = _climber(browser_demo_db)
    assert _trending_rank(p, live_server, paper_id) == rank_before

    # Sign in through the emailed link.
    p.goto(live_server + "/login")  # type: ignore[attr-defined]
    screenshot(p, "community-login")
    p.fill("#login-email", EMAIL)  # type: ignore[attr-defined]
    p.get_by_role("button", name="Email me a sign-in link").click()  # type: ignore[attr-defined]
    p.get_by_role("heading", name="Check your email").wait_for()  # type: ignore[attr-defined]
    mail = smtp.wait_for(1)[-1]
    assert mail.recipients == (EMAIL,)
    link = re.search(r"https?://\S+/auth/verify\?token=[\w-]+", mail.text())
    assert link, mail.text()
    p.goto(link.group(0))  # type: ignore[attr-defined]
    p.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/me$"))  # type: ignore[attr-defined]
    assert EMAIL in p.locator("main").inner_text()  # type: ignore[attr-defined]
    screenshot(p, "community-me")

    # Upvote in place: the page is not reloaded, the counts change.
    p.goto(live_server + paper_url(paper_id))  # type: ignore[attr-defined]
    count = p.locator(".vote-form .vote-count")  # type: ignore[attr-defined]
    before = int(count.inner_text())
    p.evaluate("window.__notReloaded = true")  # type: ignore[attr-defined]
    p.locator(".vote-form button").click()  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('.vote-form .vote-count').textContent.trim()"
        f" === '{before + 1}'"
    )
    assert p.evaluate("window.__notReloaded === true")  # type: ignore[attr-defined]
    assert p.locator(".paper-actions .vote-count").inner_text() == str(before + 1)  # type: ignore[attr-defined]
    assert p.locator("#paper-upvotes").count() == 0  # one count on the page: the button's
    assert p.locator(".vote-form button").get_attribute("aria-pressed") == "true"  # type: ignore[attr-defined]
    screenshot(p, "community-paper-voted")

    # Comment (Markdown, a hostile link sanitised away).
    p.fill("#comment-body", "Great **results**. [x](javascript:alert(1))")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Post comment").click()  # type: ignore[attr-defined]
    comment = p.locator(".comment-body").last  # type: ignore[attr-defined]
    comment.wait_for()
    assert comment.locator("strong").inner_text() == "results"
    assert comment.locator("a").count() == 0

    # A new public collection holding the paper.
    p.get_by_text("Add to a collection").click()  # type: ignore[attr-defined]
    p.fill("#new-collection-title", "Worth reading")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Create and add").click()  # type: ignore[attr-defined]
    chip = p.locator("#collections a.chip", has_text="Worth reading")  # type: ignore[attr-defined]
    chip.wait_for()
    screenshot(p, "community-paper-commented", full_page=True)
    chip.click()
    p.wait_for_url(re.compile(r"/collections/\d+/worth-reading$"))  # type: ignore[attr-defined]
    assert p.locator(f"article.card a[href='{paper_url(paper_id)}']").count() == 1  # type: ignore[attr-defined]
    screenshot(p, "community-collection")

    # Trending reacts to the vote.
    assert _trending_rank(p, live_server, paper_id) < rank_before
    screenshot(p, "community-trending-after-vote")

    # Sign out.
    p.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    p.get_by_role("link", name="Sign in", exact=True).wait_for()  # type: ignore[attr-defined]
    p.goto(live_server + "/me")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/login\?next="))  # type: ignore[attr-defined]
