"""A 390x844 phone (issue 15 item 12): the home page shows its first paper in the first
~40% of the screen (a compact banner), and /search keeps its filters behind a "Filters"
disclosure, styled like the rest of the page (no browser-grey fieldset border)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.browser import screenshot

PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=["light", "dark"])
def phone(browser: object, request: pytest.FixtureRequest) -> Iterator[tuple[object, str]]:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport=PHONE, color_scheme=request.param, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page(), request.param
    finally:
        context.close()


def test_the_first_paper_is_near_the_top_of_home(
    phone: tuple[object, str], live_server: str
) -> None:
    page, theme = phone
    page.goto(live_server + "/")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    top = page.evaluate("document.querySelector('main .card').getBoundingClientRect().top")  # type: ignore[attr-defined]
    screenshot(page, f"phone-home-{theme}")
    assert top <= 0.4 * PHONE["height"], top
    assert page.locator("#banner-email").is_visible()  # type: ignore[attr-defined]  # still there
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= PHONE["width"]


def test_search_filters_are_collapsed_on_a_phone(
    phone: tuple[object, str], live_server: str
) -> None:
    page, theme = phone
    page.goto(live_server + "/search?q=attention")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    summary = page.locator(".filters-disclosure > summary")  # type: ignore[attr-defined]
    assert summary.is_visible() and summary.inner_text().strip().startswith("Filters")
    author = page.locator("input[name='author']")  # type: ignore[attr-defined]
    assert not author.is_visible()
    top = page.evaluate("document.querySelector('main .card').getBoundingClientRect().top")  # type: ignore[attr-defined]
    screenshot(page, f"phone-search-{theme}")
    assert top <= 0.6 * PHONE["height"], top
    summary.click()
    assert author.is_visible()
    border = page.evaluate(  # type: ignore[attr-defined]
        "(() => { const s = getComputedStyle(document.querySelector('.search-filters'));"
        " return [s.borderTopStyle, s.borderTopColor]; })()"
    )
    assert border[0] != "groove", border  # the browser's default fieldset border
    screenshot(page, f"phone-search-filters-{theme}")


def test_filters_in_use_stay_open_and_desktop_shows_them(
    browser: object, live_server: str, phone: tuple[object, str]
) -> None:
    page, _theme = phone
    page.goto(live_server + "/search?q=attention&cat=cs.CL")  # type: ignore[attr-defined]
    assert page.locator("input[name='cat']").is_visible()  # type: ignore[attr-defined]
    context = browser.new_context(viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    try:
        desktop = context.new_page()
        desktop.goto(live_server + "/search?q=attention")
        assert desktop.locator("input[name='author']").is_visible()
        assert not desktop.locator(".filters-disclosure > summary").is_visible()
    finally:
        context.close()
