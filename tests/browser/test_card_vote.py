"""Upvoting from a list in a real browser, with the keyboard only: signed out, a card's
vote control is a link to sign in; signed in (the demo admin, through /dev/outbox), Tab
reaches a card's button, Space toggles it in place (no reload) and its pressed state and
label follow. The header links to /submit and /admin. Screenshot in tests/artifacts/."""

from __future__ import annotations

import re

from support.browser import screenshot

FIRST = "article.card .card-vote button"


def _sign_in(p: object, base: str) -> None:
    p.goto(base + "/login")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Email me a sign-in link").click()  # type: ignore[attr-defined]
    p.goto(base + "/dev/outbox")  # type: ignore[attr-defined]
    p.locator(".outbox-list a").first.click()  # type: ignore[attr-defined]
    p.locator("pre.mail-body a").first.click()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/me$"))  # type: ignore[attr-defined]


def test_card_vote_with_the_keyboard(page: object, live_server: str) -> None:
    p = page
    p.goto(live_server + "/trending")  # type: ignore[attr-defined]
    link = p.locator("article.card a.card-votes").first  # type: ignore[attr-defined]
    assert (link.get_attribute("href") or "").startswith("/login?next=/trending")
    assert (link.get_attribute("aria-label") or "").startswith("Sign in to upvote")

    _sign_in(p, live_server)
    assert p.get_by_role("link", name="Submit", exact=True).is_visible()  # type: ignore[attr-defined]
    assert p.get_by_role("link", name="Admin", exact=True).is_visible()  # type: ignore[attr-defined]
    p.goto(live_server + "/trending")  # type: ignore[attr-defined]
    button = p.locator(FIRST).first  # type: ignore[attr-defined]
    form_id = button.evaluate("b => b.form.id")
    count = p.locator(f"#{form_id} .count")  # type: ignore[attr-defined]
    before = int(count.inner_text())
    pressed = button.get_attribute("aria-pressed")
    assert pressed in {"true", "false"}
    p.evaluate("window.__notReloaded = true")  # type: ignore[attr-defined]

    # Keyboard only: Tab until the card's button has focus, then Space.
    for _ in range(60):
        p.keyboard.press("Tab")  # type: ignore[attr-defined]
        if p.evaluate(f"document.activeElement?.form?.id === '{form_id}'"):  # type: ignore[attr-defined]
            break
    else:
        raise AssertionError("Tab never reached the card's vote button")
    p.keyboard.press("Space")  # type: ignore[attr-defined]
    after = before - 1 if pressed == "true" else before + 1
    p.wait_for_function(  # type: ignore[attr-defined]
        f"() => document.querySelector('#{form_id} .count').textContent.trim() === '{after}'"
    )
    assert p.evaluate("window.__notReloaded === true")  # type: ignore[attr-defined]
    toggled = p.locator(f"#{form_id} button")  # type: ignore[attr-defined]
    assert toggled.get_attribute("aria-pressed") == ("false" if pressed == "true" else "true")
    label = toggled.get_attribute("aria-label") or ""
    assert label.startswith("Upvote “")  # a toggle's name stays; aria-pressed changes
    assert f"{after} upvote" in label
    screenshot(p, "trending-card-voted")

    # The new button has the focus (a keyboard reader keeps their place): Space again
    # toggles back, which also leaves the shared demo database as it was.
    assert p.evaluate(f"document.activeElement?.form?.id === '{form_id}'")  # type: ignore[attr-defined]
    p.keyboard.press("Space")  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        f"() => document.querySelector('#{form_id} .count').textContent.trim() === '{before}'"
    )
