"""A signed-in reader's pages in a real browser (issue: UX pass).

- The header holds five more links once signed in: at 1366 and 1100 px the search box keeps
  a usable width and no link leaves the header;
- /for-you's cold start is a styled form: category chips with their names, the paper-id
  field inside a 390 px phone, no browser-grey fieldset, and no "look back" form before
  there is anything to look back over;
- /me's section titles are smaller than the section's own heading;
- a card's "More like this" / "Not interested" are two spaced pills, and pressing one marks
  it pressed in place (htmx, no reload).
Screenshots in tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from support.browser import screenshot

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def signed_in(browser: object, live_server: str) -> dict[str, object]:
    """The storage state (session cookie) of the demo admin, signed in once per module."""
    context = browser.new_context()  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    try:
        p = context.new_page()
        p.goto(live_server + "/login")
        p.get_by_role("button", name="Email me a sign-in link").click()
        p.goto(live_server + "/dev/outbox")
        p.locator(".outbox-list a").first.click()
        p.locator("pre.mail-body a").first.click()
        p.get_by_role("button", name="Sign in").click()
        p.wait_for_url(re.compile(r"/me$"))
        state: dict[str, object] = context.storage_state()
        return state
    finally:
        context.close()


def _page(browser: object, state: dict[str, object], viewport: dict[str, int]) -> Iterator[object]:
    context = browser.new_context(viewport=viewport, storage_state=state)  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def desktop(browser: object, signed_in: dict[str, object]) -> Iterator[object]:
    yield from _page(browser, signed_in, {"width": 1366, "height": 900})


@pytest.fixture
def phone(browser: object, signed_in: dict[str, object]) -> Iterator[object]:
    yield from _page(browser, signed_in, PHONE)


HEADER = """(() => {
  const row = document.querySelector('.header-row').getBoundingClientRect();
  const search = document.querySelector('#site-search').getBoundingClientRect();
  const out = [...document.querySelectorAll('.header-row :is(a, button, select)')]
    .filter(e => e.getClientRects().length)
    .filter(e => { const r = e.getBoundingClientRect();
      return r.top < row.top - 1 || r.bottom > row.bottom + 1 || r.right > row.right + 1; })
    .map(e => e.textContent.trim());
  return {search: search.width, outside: out};
})()"""


@pytest.mark.parametrize("width", [1366, 1100])
def test_the_signed_in_header_keeps_a_usable_search_box(
    browser: object, signed_in: dict[str, object], live_server: str, width: int
) -> None:
    for p in _page(browser, signed_in, {"width": width, "height": 700}):
        p.goto(live_server + "/trending")  # type: ignore[attr-defined]
        assert p.locator(".account").get_by_role("link", name="For you").is_visible()  # type: ignore[attr-defined]
        header = p.evaluate(HEADER)  # type: ignore[attr-defined]
        screenshot(p, f"signed-in-header-{width}")
        assert header["search"] >= 150, header
        assert header["outside"] == [], header


def test_for_you_cold_start_is_a_styled_form(desktop: object, live_server: str) -> None:
    p = desktop
    p.goto(live_server + "/for-you")  # type: ignore[attr-defined]
    assert p.get_by_role("heading", name="Get started").is_visible()  # type: ignore[attr-defined]
    assert p.locator("#fy-days").count() == 0  # type: ignore[attr-defined]  # nothing to look back over yet
    chip = p.locator(".cold-start label.chip", has_text="cs.CL").first  # type: ignore[attr-defined]
    assert "Computation and Language" in chip.inner_text()
    style = p.evaluate(  # type: ignore[attr-defined]
        "(() => { const f = getComputedStyle(document.querySelector('.cold-start'));"
        " const i = getComputedStyle(document.querySelector('#fy-papers'));"
        " return [f.borderTopStyle, i.borderTopLeftRadius]; })()"
    )
    assert style[0] != "groove" and style[1] != "0px", style
    chip.click()
    assert chip.locator("input").is_checked()
    screenshot(p, "for-you-cold-start", full_page=True)


def test_for_you_cold_start_fits_a_phone(phone: object, live_server: str) -> None:
    p = phone
    p.goto(live_server + "/for-you")  # type: ignore[attr-defined]
    field = p.locator("#fy-papers").bounding_box()  # type: ignore[attr-defined]
    assert field is not None and field["x"] + field["width"] <= PHONE["width"], field
    width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    screenshot(p, "for-you-cold-start-phone", full_page=True)
    assert width <= PHONE["width"]


def test_me_subsection_titles_are_smaller_than_the_section_title(
    desktop: object, live_server: str
) -> None:
    p = desktop
    p.goto(live_server + "/me")  # type: ignore[attr-defined]
    sizes = p.evaluate(  # type: ignore[attr-defined]
        "[getComputedStyle(document.querySelector('#me-signals')).fontSize,"
        " getComputedStyle(document.querySelector('#library')).fontSize]"
    )
    assert float(sizes[1].removesuffix("px")) <= float(sizes[0].removesuffix("px")), sizes
    button = p.evaluate(  # type: ignore[attr-defined]
        "getComputedStyle(document.querySelector('#library-file'), '::file-selector-button')"
        ".borderTopLeftRadius"
    )
    assert button != "0px", button
    screenshot(p, "me-signed-in", full_page=True)


def test_card_feedback_is_two_pills_that_toggle_in_place(desktop: object, live_server: str) -> None:
    p = desktop
    p.goto(live_server + "/")  # type: ignore[attr-defined]
    form = p.locator("main .card-feedback").first  # type: ignore[attr-defined]
    more, less = form.get_by_test_id("more-like-this"), form.get_by_test_id("not-interested")
    a, b = more.bounding_box(), less.bounding_box()
    assert a is not None and b is not None and b["x"] - (a["x"] + a["width"]) >= 4, (a, b)
    radius = more.evaluate("e => getComputedStyle(e).borderTopLeftRadius")
    assert radius != "0px", radius
    p.evaluate("window.__notReloaded = true")  # type: ignore[attr-defined]
    more.click()
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('main .card-feedback [data-testid=more-like-this]')"
        ".getAttribute('aria-pressed') === 'true'"
    )
    assert p.evaluate("window.__notReloaded === true")  # type: ignore[attr-defined]
    screenshot(p, "card-feedback-pressed")
    p.locator("main .card-feedback").first.get_by_test_id("more-like-this").click()  # type: ignore[attr-defined]  # undo
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('main .card-feedback [data-testid=more-like-this]')"
        ".getAttribute('aria-pressed') === 'false'"
    )


LIBRARY = b"""
@article{env, title = {EnvHarness}, eprint = {2608.19880}, archivePrefix = {arXiv}}
@article{swe, title = {SWE-bench Science}, eprint = {2608.19799}, archivePrefix = {arXiv}}
"""


def test_library_report_and_red_remove_buttons(desktop: object, live_server: str) -> None:
    """Every entry is a paper of the hub: the report says so (no "the rest kept from the
    file" when there is no rest); the Remove buttons are red and apart from the titles."""
    p = desktop
    p.goto(live_server + "/me")  # type: ignore[attr-defined]
    p.locator("#library-file").set_input_files(  # type: ignore[attr-defined]
        {"name": "two.bib", "mimeType": "application/x-bibtex", "buffer": LIBRARY}
    )
    p.get_by_role("button", name="Upload").click()  # type: ignore[attr-defined]
    report = p.get_by_test_id("library-report").inner_text()  # type: ignore[attr-defined]
    assert "all are papers of this hub" in report and "the rest" not in report, report
    remove = p.get_by_test_id("library-entries").get_by_role("button").first  # type: ignore[attr-defined]
    assert remove.evaluate("e => getComputedStyle(e).color") == "rgb(185, 28, 28)"
    title = p.get_by_test_id("library-entries").locator("a").first.bounding_box()  # type: ignore[attr-defined]
    button = remove.bounding_box()
    assert title is not None and button is not None
    assert button["x"] - (title["x"] + title["width"]) >= 6, (title, button)
    screenshot(p, "me-library-report", full_page=True)
    p.get_by_text("Remove the whole library…").click()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Yes, remove them all").click()  # type: ignore[attr-defined]
    assert p.get_by_test_id("library-entries").count() == 0  # type: ignore[attr-defined]


def test_the_signed_in_header_on_a_phone_keeps_its_links_on_one_row(
    phone: object, live_server: str
) -> None:
    """On a 390 px phone the account links share one row (Submit is on /me), so the page
    starts within ~a quarter of the screen, and nothing is wider than the phone."""
    p = phone
    p.goto(live_server + "/trending")  # type: ignore[attr-defined]
    tops = p.evaluate(  # type: ignore[attr-defined]
        "[...document.querySelectorAll('.account > *')].filter(e => e.getClientRects().length)"
        ".map(e => Math.round(e.getBoundingClientRect().top))"
    )
    height = p.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")  # type: ignore[attr-defined]
    width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    screenshot(p, "signed-in-header-phone")
    assert max(tops) - min(tops) <= 6, tops
    assert height <= 0.25 * PHONE["height"], height
    assert width <= PHONE["width"]
    assert not p.locator(".account a[href='/submit']").is_visible()  # type: ignore[attr-defined]
    p.goto(live_server + "/me")  # type: ignore[attr-defined]
    assert p.locator("main a[href='/submit']").is_visible()  # type: ignore[attr-defined]


def test_admin_tables_scroll_in_their_own_box_on_a_phone(phone: object, live_server: str) -> None:
    """/admin's tables (sources, jobs, readers, audit log) may be wider than a phone: each
    scrolls inside a focusable, labelled box and the page itself stays 390 px wide."""
    p = phone
    p.goto(live_server + "/admin")  # type: ignore[attr-defined]
    assert p.get_by_role("heading", name="Sources").is_visible()  # type: ignore[attr-defined]
    wrapped = p.evaluate(  # type: ignore[attr-defined]
        "[...document.querySelectorAll('table.community-table')]"
        ".map(t => t.parentElement.matches('.table-scroll[role=region][aria-label]'))"
    )
    width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    screenshot(p, "admin-phone", full_page=True)
    assert wrapped and all(wrapped), wrapped
    assert width <= PHONE["width"], width
