"""Keyboard shortcuts and the theme switch (issue 15 item 15), in Chromium: "/" focuses
search, j / k move between cards (focused, scrolled to, with a visible ring), "?" opens a
dialog of the keys that Escape closes, none of them while typing; the light / dark / system
choice is remembered and applied before the first paint."""

from __future__ import annotations

from support.browser import screenshot


def _focused_card(page: object) -> str | None:
    return page.evaluate(  # type: ignore[attr-defined, no-any-return]
        "(() => { const c = document.activeElement && document.activeElement.closest('.card');"
        " return c ? c.getAttribute('aria-labelledby') : null; })()"
    )


def test_slash_j_k_and_question_mark(page: object, live_server: str) -> None:
    page.goto(live_server + "/trending")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    cards = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "main .card", "els => els.map(e => e.getAttribute('aria-labelledby'))"
    )
    assert len(cards) > 5
    keyboard = page.keyboard  # type: ignore[attr-defined]
    keyboard.press("j")
    assert _focused_card(page) == cards[0]
    for _ in range(4):
        keyboard.press("j")
    assert _focused_card(page) == cards[4]
    keyboard.press("k")
    assert _focused_card(page) == cards[3]
    box = page.evaluate(  # type: ignore[attr-defined]
        "(() => { const r = document.activeElement.getBoundingClientRect();"
        " return [r.top, r.bottom, innerHeight]; })()"
    )
    assert box[0] >= 0 and box[1] <= box[2]  # scrolled into view
    outline = page.evaluate(  # type: ignore[attr-defined]
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert outline[0] == "solid" and outline[1] != "0px"
    screenshot(page, "keys-card-focus")

    keyboard.press("?")
    dialog = page.locator("#keys-dialog")  # type: ignore[attr-defined]
    assert dialog.is_visible() and "Next paper" in dialog.inner_text()
    screenshot(page, "keys-dialog")
    keyboard.press("Escape")
    assert not dialog.is_visible()

    keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"  # type: ignore[attr-defined]
    keyboard.type("j k ?/")  # typing in the field: no shortcut fires
    assert page.input_value("#site-search") == "j k ?/"  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.id") == "site-search"  # type: ignore[attr-defined]
    assert not dialog.is_visible()


def _background(page: object) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")  # type: ignore[attr-defined, no-any-return]


def test_the_theme_switch_is_remembered_before_first_paint(page: object, live_server: str) -> None:
    page.goto(live_server + "/")  # type: ignore[attr-defined]
    light = _background(page)
    switch = page.locator("#theme-select")  # type: ignore[attr-defined]
    assert switch.is_visible() and switch.input_value() == "system"
    switch.select_option("dark")
    dark = _background(page)
    assert dark != light
    screenshot(page, "theme-dark-chosen")
    # The next page is dark from its first paint: data-theme is set while <head> is parsed,
    # before the body exists (a deferred script would run after it had been painted).
    page.add_init_script(  # type: ignore[attr-defined]
        "document.addEventListener('readystatechange', () => {"
        " if (document.readyState === 'interactive' && !window.__first)"
        " window.__first = document.documentElement.getAttribute('data-theme'); });"
        "new MutationObserver((m, o) => { if (document.body) {"
        " window.__atBody = document.documentElement.getAttribute('data-theme'); o.disconnect(); }"
        "}).observe(document, {childList: true, subtree: true});"
    )
    page.goto(live_server + "/trending")  # type: ignore[attr-defined]
    assert page.evaluate("window.__atBody") == "dark"  # type: ignore[attr-defined]
    assert _background(page) == dark
    assert page.locator("#theme-select").input_value() == "dark"  # type: ignore[attr-defined]
    page.locator("#theme-select").select_option("system")  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    assert page.evaluate("document.documentElement.hasAttribute('data-theme')") is False  # type: ignore[attr-defined]
    assert _background(page) == light  # this context's system scheme is light


def test_light_beats_a_dark_system(dark_page: object, live_server: str) -> None:
    dark_page.goto(live_server + "/")  # type: ignore[attr-defined]
    system_dark = _background(dark_page)
    dark_page.locator("#theme-select").select_option("light")  # type: ignore[attr-defined]
    dark_page.reload()  # type: ignore[attr-defined]
    assert _background(dark_page) != system_dark
    assert dark_page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "light"  # type: ignore[attr-defined]
