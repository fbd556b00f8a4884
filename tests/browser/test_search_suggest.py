"""The header's search suggestions in a real browser, on the home page (which does not load
search.css): styled, authors beside papers, and driven by the keyboard as an ARIA combobox
(ArrowDown / ArrowUp, Escape, Enter opens the active option)."""

from __future__ import annotations

import re

from support.browser import screenshot


def test_suggestions_are_styled_and_follow_the_keyboard(page: object, live_server: str) -> None:
    p = page
    p.goto(live_server + "/")  # type: ignore[attr-defined]
    box = p.locator("#site-search")  # type: ignore[attr-defined]
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("Tomas Pf", delay=30)
    options = p.locator('#suggest-listbox [role="option"]')  # type: ignore[attr-defined]
    options.first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-controls") == "suggest-listbox"
    texts = options.all_inner_texts()
    assert texts[0].startswith("Tomas Pfister") and "2 papers" in texts[0]  # an author
    assert any("FinanceHarness" in text for text in texts[1:])  # and his papers
    # Styled as on /search: no bullets, title and authors on lines of their own, muted.
    style = p.evaluate(  # type: ignore[attr-defined]
        """() => {
        const list = document.querySelector('#suggest-listbox');
        const link = list.querySelector('[role=option] a');
        const meta = list.querySelector('.suggest-authors');
        const s = (el) => getComputedStyle(el);
        return {bullets: s(list).listStyleType, link: s(link).display,
                meta: s(meta).display, linkColor: s(link).color, metaColor: s(meta).color,
                decoration: s(link).textDecorationLine};
    }"""
    )
    assert style["bullets"] == "none" and style["link"] == "block" and style["meta"] == "block"
    assert style["metaColor"] != style["linkColor"] and style["decoration"] == "none"

    # Arrows move the active option; focus stays in the box.
    box.press("ArrowDown")
    first_id = options.nth(0).get_attribute("id")
    assert box.get_attribute("aria-activedescendant") == first_id
    assert options.nth(0).get_attribute("aria-selected") == "true"
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("ArrowUp")
    second = options.nth(1)
    assert box.get_attribute("aria-activedescendant") == second.get_attribute("id")
    assert second.get_attribute("aria-selected") == "true"
    assert options.nth(0).get_attribute("aria-selected") == "false"
    assert p.evaluate("document.activeElement.id") == "site-search"  # type: ignore[attr-defined]
    screenshot(p, "search-suggest-home")

    # Escape closes the list; ArrowDown opens it again at the first option.
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("aria-activedescendant") is None
    assert not p.locator("#search-suggest").is_visible()  # type: ignore[attr-defined]
    box.press("ArrowDown")
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == second.get_attribute("id")

    # Enter opens the active option (the paper), not the search results.
    href = second.locator("a").get_attribute("href")
    assert href and href.startswith("/papers/")
    box.press("Enter")
    p.wait_for_url(re.compile(re.escape(href) + "$"))  # type: ignore[attr-defined]
    assert p.locator("h1#paper-title").is_visible()  # type: ignore[attr-defined]


def test_the_search_page_has_one_query_box_that_keeps_the_filters(
    page: object, live_server: str
) -> None:
    p = page
    p.goto(live_server + "/search?q=diffusion&mode=keyword&cat=cs.LG")  # type: ignore[attr-defined]
    boxes = p.locator('input[name="q"]')  # type: ignore[attr-defined]
    assert boxes.count() == 1  # the header's, not a second copy of the query in the page
    box = p.locator("#site-search")  # type: ignore[attr-defined]
    assert box.input_value() == "diffusion"
    box.fill("transformer")
    box.press("Enter")
    p.wait_for_url(re.compile(r"q=transformer"))  # type: ignore[attr-defined]
    url = p.url  # type: ignore[attr-defined]
    assert "mode=keyword" in url and "cat=cs.LG" in url  # the page's mode and filter kept
    assert "transformer" in p.locator("h1").inner_text()  # type: ignore[attr-defined]
    screenshot(p, "search-one-box")
