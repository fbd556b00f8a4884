"""A reader browses the hub in a real browser: daily page, previous day, a paper with its
math rendered by KaTeX, trending; screenshots of the main pages in light and dark."""

from __future__ import annotations

import re

from support.browser import screenshot


def test_daily_previous_day_paper_and_trending(page: object, live_server: str) -> None:
    p = page
    p.goto(live_server + "/")  # type: ignore[attr-defined]
    heading = p.locator("h1")  # type: ignore[attr-defined]
    today = heading.inner_text()
    assert re.search(r"\d{4}", today)
    assert p.locator("article.card").count() > 10  # type: ignore[attr-defined]
    screenshot(p, "daily-light")

    p.get_by_role("link", name=re.compile("^Previous day")).click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/papers/date/\d{4}-\d{2}-\d{2}$"))  # type: ignore[attr-defined]
    assert p.locator("h1").inner_text() != today  # type: ignore[attr-defined]

    first = p.locator("article.card .card-title a").first  # type: ignore[attr-defined]
    title = first.inner_text()
    first.click()
    p.wait_for_url(re.compile(r"/papers/"))  # type: ignore[attr-defined]
    assert p.locator("h1#paper-title").inner_text().strip() == title.strip()  # type: ignore[attr-defined]
    assert p.get_by_role("heading", name="Abstract").is_visible()  # type: ignore[attr-defined]

    p.get_by_role("link", name="Trending", exact=True).click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/trending$"))  # type: ignore[attr-defined]
    assert p.locator("article.card").count() == 30  # type: ignore[attr-defined]
    assert "Ranked by upvotes" in p.locator("#how").inner_text()  # type: ignore[attr-defined]
    p.get_by_role("link", name="This month").click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"window=month"))  # type: ignore[attr-defined]
    screenshot(p, "trending-light")


def test_katex_renders_math_and_leaves_broken_math_as_text(page: object, live_server: str) -> None:
    p = page
    # A demo paper whose abstract has inline math ($...$).
    p.goto(live_server + "/papers/2607.17715")  # type: ignore[attr-defined]
    p.wait_for_selector("html[data-math=ready]")  # type: ignore[attr-defined]
    title = p.locator("h1#paper-title")  # type: ignore[attr-defined]
    assert title.locator(".katex").count() >= 1
    assert "$" not in title.inner_text()
    screenshot(p, "paper-light")
    # Text arriving later (an htmx swap) is rendered too; math KaTeX rejects stays as text,
    # and untrusted commands never become links.
    p.evaluate(  # type: ignore[attr-defined]
        r"""() => {
        const el = document.createElement('p');
        el.className = 'math';
        el.id = 'swapped';
        el.textContent = 'ok $x^2$ bad $\\frac{1}{$ link $\\href{javascript:alert(1)}{c}$ end';
        document.querySelector('main').appendChild(el);
        el.dispatchEvent(new CustomEvent('htmx:afterSwap', {bubbles: true}));
    }"""
    )
    swapped = p.locator("#swapped")  # type: ignore[attr-defined]
    assert swapped.locator(".katex").count() >= 1
    text = swapped.inner_text()
    assert "$\\frac{1}{$" in text and text.startswith("ok") and text.endswith("end")
    assert p.locator("#swapped a[href^='javascript']").count() == 0  # type: ignore[attr-defined]


def test_keyboard_skip_link_and_landmarks(page: object, live_server: str) -> None:
    p = page
    p.goto(live_server + "/trending")  # type: ignore[attr-defined]
    p.keyboard.press("Tab")  # type: ignore[attr-defined]
    focused = p.evaluate("document.activeElement.textContent")  # type: ignore[attr-defined]
    assert focused.strip() == "Skip to content"
    p.keyboard.press("Enter")  # type: ignore[attr-defined]
    assert p.evaluate("location.hash") == "#main"  # type: ignore[attr-defined]
    for role in ("banner", "main", "contentinfo", "search"):
        assert p.get_by_role(role).count() >= 1, role  # type: ignore[attr-defined]
    assert p.get_by_role("navigation", name="Main").count() == 1  # type: ignore[attr-defined]


def test_dark_screenshots(dark_page: object, live_server: str) -> None:
    p = dark_page
    for path, name in (
        ("/", "daily-dark"),
        ("/trending", "trending-dark"),
        ("/papers/2607.17715", "paper-dark"),
        ("/papers/nope-not-a-paper", "not-found-dark"),
    ):
        response = p.goto(live_server + path)  # type: ignore[attr-defined]
        assert response is not None
        p.wait_for_selector("html[data-math=ready]")  # type: ignore[attr-defined]
        background = p.evaluate("getComputedStyle(document.body).backgroundColor")  # type: ignore[attr-defined]
        red, green, blue = (int(x) for x in re.findall(r"\d+", background)[:3])
        assert red + green + blue < 120, background  # dark scheme applied
        screenshot(p, name)


def test_small_screen(browser: object, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.goto(live_server + "/")
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide on a 390px screen"
        screenshot(p, "daily-mobile", full_page=False)
    finally:
        context.close()


def test_a_link_to_the_formula_opens_it(page: object, live_server: str) -> None:
    """The reader review: "The formula" jumped to a closed box."""
    p = page
    p.goto(live_server + "/trending#formula")  # type: ignore[attr-defined]
    p.wait_for_function("() => document.getElementById('formula').open")  # type: ignore[attr-defined]
    p.goto(live_server + "/trending")  # type: ignore[attr-defined]
    assert not p.evaluate("() => document.getElementById('formula').open")  # type: ignore[attr-defined]
    p.locator("a[href$='#formula']").first.click()  # type: ignore[attr-defined]
    p.wait_for_function("() => document.getElementById('formula').open")  # type: ignore[attr-defined]
