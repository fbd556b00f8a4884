"""The reader's details (issue 15) in a real browser: a digest read on a phone, anchors below
the sticky header, a collection added without a reload, the digest manage page. Each test
saves a screenshot under tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paperroute import Config, open_hub
from paperroute.community import User
from paperroute.site.signing import sign
from support.browser import screenshot

SECRET = "browser-tests-throwaway-secret"
PHONE = {"width": 390, "height": 844}
ANCHOR_PAPER = "2608.19880"


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _overflow(p: object) -> int:
    """How far the page is wider than the viewport, in CSS pixels (0: no horizontal scroll)."""
    return int(
        p.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def test_a_digest_fits_a_phone_without_horizontal_scrolling(
    phone: object, browser_demo_db: str
) -> None:
    config = Config(database_url=browser_demo_db, demo=True, secret_key=SECRET)
    with open_hub(config) as hub:
        hub.digests.add_confirmed(
            "phone.reader@example.org", {"trending": "on", "categories": "cs.CL, cs.LG"}
        )
        rendered = hub.digests.preview("phone.reader@example.org")
    assert 'width="560"' not in rendered.html and "max-width:600px" in rendered.html
    p = phone
    p.set_content(rendered.html)  # type: ignore[attr-defined]
    assert p.locator("a:has-text('Paper page')").count() >= 1  # type: ignore[attr-defined]
    width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390, f"the digest is {width} px wide on a 390 px phone"
    card = p.locator("table[style*='max-width']").first  # type: ignore[attr-defined]
    assert card.bounding_box()["width"] <= 390 - 2 * 8
    screenshot(p, "digest-phone", full_page=True)
    # and on a desktop client the column stops at 600 px
    p.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
    assert card.bounding_box()["width"] == pytest.approx(600, abs=1)


def _sign_in(context: object, base: str, database_url: str, email: str) -> User:
    """Give a browser context the session cookie of ``email`` (made as the hub makes it)."""
    with open_hub(Config(database_url=database_url, demo=True, secret_key=SECRET)) as hub:
        user = hub.community.ensure_user(email)
        nonce = hub.community.open_session(user)
    token = sign(SECRET, "session", f"{user.pk}:{nonce}")
    context.add_cookies(  # type: ignore[attr-defined]
        [{"name": "pr_session", "value": token, "url": base}]
    )
    return user


@pytest.fixture(scope="module")
def comment_pk(browser_demo_db: str) -> int:
    """A comment on the anchor paper, made before the module's server caches its page."""
    with open_hub(Config(database_url=browser_demo_db, demo=True, secret_key=SECRET)) as hub:
        user = hub.community.ensure_user("anchor.reader@example.org")
        return hub.community.comment(user, ANCHOR_PAPER, "A comment to link to.").pk


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1366, "height": 900}, {"width": 700, "height": 900}, PHONE],
    ids=["desktop", "tablet", "phone"],
)
@pytest.mark.parametrize("anchor", ["comments", "collections", "comment"])
def test_an_anchor_lands_below_the_sticky_header(
    browser: object, live_server: str, anchor: str, viewport: dict[str, int], comment_pk: int
) -> None:
    target_id = f"comment-{comment_pk}" if anchor == "comment" else anchor
    context = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.goto(f"{live_server}/papers/{ANCHOR_PAPER}#{target_id}")
        assert p.locator(f"#{target_id}").count() == 1
        # where the target's top is, and the bottom of the header when it covers the page
        top, covered, at_end, height = p.evaluate(
            """id => {
                const header = document.querySelector('.site-header').getBoundingClientRect();
                const target = document.getElementById(id).getBoundingClientRect();
                const end = window.scrollY + window.innerHeight
                    >= document.documentElement.scrollHeight - 1;
                return [target.top, Math.max(0, header.bottom), end, window.innerHeight];
            }""",
            target_id,
        )
        assert top >= covered, f"#{target_id} starts {covered - top:.0f} px under the header"
        # At the top of the view, or the page scrolled to its end with the target in view
        # (the comments close the page: there may be less than a screen below them).
        assert top <= covered + 40 or (at_end and top < height - 100), (
            f"#{target_id} is not at the top of the view ({top=})"
        )
        screenshot(p, f"anchor-{anchor}-{viewport['width']}")
    finally:
        context.close()


def test_adding_a_paper_to_a_collection_shows_it_held_without_a_reload(
    browser: object, live_server: str, browser_demo_db: str
) -> None:
    paper_id = "2608.16590"
    context = browser.new_context(viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    try:
        context.set_default_timeout(10_000)
        user = _sign_in(context, live_server, browser_demo_db, "collector@example.org")
        with open_hub(Config(database_url=browser_demo_db, demo=True, secret_key=SECRET)) as hub:
            hub.community.create_collection(user, "Reading group", "", True)
        p = context.new_page()
        p.goto(f"{live_server}/papers/{paper_id}#collections")
        held = p.locator("#collections")
        assert "No collection holds this paper yet" in held.inner_text()
        p.evaluate("window.__notReloaded = true")
        p.locator("#collections summary").click()
        p.get_by_role("button", name="+ Reading group").click()
        p.get_by_role("button", name="✓ Reading group").wait_for()
        held.get_by_role("link", name="Reading group").wait_for()
        assert "No collection holds this paper yet" not in held.inner_text()
        assert f"by {user.display_name}" in held.inner_text()
        assert p.evaluate("window.__notReloaded") is True  # swapped in place, not reloaded
        screenshot(p, "collection-added")
        # and taking it out again says so, still without a reload
        p.get_by_role("button", name="✓ Reading group").click()
        p.get_by_role("button", name="+ Reading group").wait_for()
        p.get_by_text("No collection holds this paper yet").wait_for()
        assert p.evaluate("window.__notReloaded") is True
    finally:
        context.close()


def test_the_digest_manage_page_sets_unsubscribe_apart_and_shows_weekly_only_when_weekly(
    browser: object, live_server: str, browser_demo_db: str
) -> None:
    config = Config(database_url=browser_demo_db, demo=True, secret_key=SECRET)
    with open_hub(config) as hub:
        subscriber = hub.digests.add_confirmed(
            "manage.reader@example.org", {"frequency": "weekdays", "timezone": "Asia/Tokyo"}
        )
        manage = f"{live_server}/subscription/{hub.digests.manage_token(subscriber)}"
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1366, "height": 900}, timezone_id="Europe/Berlin"
    )
    context.set_default_timeout(10_000)
    try:
        p = context.new_page()
        p.goto(manage)
        weekday = p.locator("#digest-weekday")
        assert p.locator("#digest-frequency").input_value() == "weekdays"
        assert not weekday.is_visible()  # "Weekly on" means nothing for weekday delivery
        p.select_option("#digest-frequency", "weekly")
        assert weekday.is_visible() and p.get_by_text("Weekly on").is_visible()
        p.select_option("#digest-frequency", "daily")
        assert not weekday.is_visible()
        # a stored zone is kept (not replaced by the browser's); the list is searchable
        zone = p.locator("#digest-timezone")
        assert zone.input_value() == "Asia/Tokyo"
        options = p.locator("#digest-zones option")
        assert options.count() > 300
        assert p.locator("#digest-zones option[value='America/Argentina/Buenos_Aires']").count()
        # Unsubscribe is not another Save: apart, below a rule, and drawn differently
        save = p.get_by_role("button", name="Save changes")
        stop = p.get_by_role("button", name="Unsubscribe")
        gap = stop.bounding_box()["y"] - (save.bounding_box()["y"] + save.bounding_box()["height"])
        assert gap >= 40, f"Unsubscribe sits {gap:.0f} px under Save"
        look = "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"
        assert save.evaluate(look) != stop.evaluate(look)
        assert p.get_by_role("heading", name="Stop the digest").is_visible()
        p.select_option("#digest-frequency", "weekly")
        screenshot(p, "digest-manage", full_page=True)

        # a new subscription starts in the browser's time zone
        p.goto(live_server + "/subscribe")
        assert p.locator("#digest-timezone").input_value() == "Europe/Berlin"
        assert not p.locator("#digest-weekday").is_visible()  # weekdays is the default
        screenshot(p, "digest-subscribe-form", full_page=True)
    finally:
        context.close()


def test_categories_are_one_click_away_and_the_header_still_fits_a_phone(
    phone: object, live_server: str
) -> None:
    p = phone
    p.goto(live_server + "/")  # type: ignore[attr-defined]
    assert p.evaluate("document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    screenshot(p, "home-phone")
    # The header has no room for Categories on a phone: it is under "More" (and in the footer).
    p.locator(".site-header").get_by_text("More").click()  # type: ignore[attr-defined]
    listed = p.locator(".nav-more-list").get_by_role("link", name="Categories")  # type: ignore[attr-defined]
    box = listed.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # on screen
    screenshot(p, "home-phone-more")
    p.keyboard.press("Escape")  # type: ignore[attr-defined]
    assert not listed.is_visible()
    p.locator(".site-header").get_by_text("More").click()  # type: ignore[attr-defined]
    p.locator("main").click(position={"x": 5, "y": 5})  # type: ignore[attr-defined]  # elsewhere
    assert not listed.is_visible()
    p.locator(".site-header").get_by_text("More").click()  # type: ignore[attr-defined]
    listed.click()
    p.get_by_role("heading", name="Categories").wait_for()  # type: ignore[attr-defined]
    assert p.locator(".footer-links").get_by_role("link", name="Categories").count() == 1  # type: ignore[attr-defined]
    assert p.get_by_text("cs.CL — Computation and Language").is_visible()  # type: ignore[attr-defined]
    assert p.evaluate("document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    screenshot(p, "categories-phone")


@pytest.mark.parametrize("width", [600, 700, 820, 860, 1100])
def test_a_signed_in_header_is_two_rows_and_more_shows_the_page_it_holds(
    browser: object, live_server: str, browser_demo_db: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    try:
        _sign_in(context, live_server, browser_demo_db, "tablet.reader@example.org")
        p = context.new_page()
        summary = p.locator(".nav-more summary")
        shade = "el => getComputedStyle(el).backgroundColor"
        p.goto(live_server + "/")
        assert p.get_by_role("button", name="Sign out").is_visible()
        unmarked = summary.evaluate(shade)
        for path in ("/categories", "/submit") if width <= 960 else ("/categories",):
            p.goto(live_server + path)
            header = p.locator(".site-header").bounding_box()
            assert header is not None and header["height"] < 110, f"{path}: three rows"
            assert p.evaluate("document.documentElement.scrollWidth") <= width
            # the link of the page shown is folded into "More": "More" is marked instead
            assert summary.evaluate(shade) != unmarked, f"{path}: More not marked"
            search = p.locator("#site-search").bounding_box()
            assert search is not None and search["width"] >= 120
            screenshot(p, f"header-signed-in-{width}{path.replace('/', '-')}")
        if width > 960:  # Submit is in the account links there, so More stays unmarked
            p.goto(live_server + "/submit")
            assert summary.evaluate(shade) == unmarked
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 700, 1100])
def test_cite_opens_below_its_button_inside_the_screen(
    browser: object, live_server: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.goto(f"{live_server}/papers/{ANCHOR_PAPER}")
        cite = p.locator("#cite > summary")
        before = cite.bounding_box()
        cite.click()
        copy = p.get_by_role("button", name="Copy BibTeX")
        copy.wait_for()
        assert cite.bounding_box() == before  # the button stays where it was clicked
        box = copy.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width  # on screen
        assert p.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
        screenshot(p, f"cite-open-{width}")
        p.keyboard.press("Escape")
        assert not copy.is_visible()
        assert p.evaluate("document.activeElement.textContent.trim()") == "Cite"
    finally:
        context.close()
