"""The strict browser policy (issue 14, item 6) in a real browser: the main pages load under
``default-src 'self'; script-src 'self'; style-src 'self'`` without a single violation
report, and what runs under it still works: KaTeX, the time zone the subscribe form fills in,
htmx search suggestions and htmx voting."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

PAGES = [
    "/",
    "/trending",
    "/trending?window=all",
    "/papers/2607.17715",  # math in the title: KaTeX
    "/papers/2608.10720",  # machine-written keywords, the cite box, copy buttons
    "/papers/2607.13027",  # TeX text macros in the abstract
    "/categories",
    "/categories/cs.LG",
    "/authors/Yann%20LeCun",
    "/search?q=attention",
    "/collections",
    "/feeds",
    "/subscribe",
    "/login",
]
# Recorded from the first script on: a violation by anything on the page is kept.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`);
});
"""


@pytest.fixture
def watched(browser: object) -> Iterator[tuple[object, list[str]]]:
    """A page in a Berlin time zone whose CSP reports and console errors are collected."""
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Berlin"
    )
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        yield page, errors
    finally:
        context.close()


def _clean(p: object, errors: list[str], where: str) -> None:
    violations = p.evaluate("window.__violations")  # type: ignore[attr-defined]
    assert violations == [], (where, violations)
    assert not [e for e in errors if "Content Security Policy" in e], (where, errors)


def test_main_pages_load_without_a_policy_violation(
    watched: tuple[object, list[str]], live_server: str
) -> None:
    p, errors = watched
    for path in PAGES:
        answer = p.goto(live_server + path)  # type: ignore[attr-defined]
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        p.wait_for_selector("html[data-math=ready]")  # type: ignore[attr-defined]
        _clean(p, errors, path)
    p.goto(live_server + "/papers/2607.17715")  # type: ignore[attr-defined]
    p.wait_for_selector("html[data-math=ready]")  # type: ignore[attr-defined]
    assert p.locator("h1#paper-title .katex").count() >= 1  # type: ignore[attr-defined]
    # The subscribe form's time zone, filled in by app.js (it was an inline script).
    p.goto(live_server + "/subscribe")  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('[data-detect-timezone]').value === 'Europe/Berlin'"
    )
    _clean(p, errors, "/subscribe")


def test_htmx_suggestions_and_voting_work_under_the_policy(
    watched: tuple[object, list[str]], live_server: str
) -> None:
    p, errors = watched
    p.goto(live_server + "/")  # type: ignore[attr-defined]
    p.locator("#site-search").press_sequentially("transf")  # type: ignore[attr-defined]
    p.wait_for_selector("#search-suggest a")  # type: ignore[attr-defined]
    _clean(p, errors, "suggestions")

    p.goto(live_server + "/login")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Email me a sign-in link").click()  # type: ignore[attr-defined]
    p.goto(live_server + "/dev/outbox")  # type: ignore[attr-defined]
    p.locator(".outbox-list a").first.click()  # type: ignore[attr-defined]
    p.locator("pre.mail-body a").first.click()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/me$"))  # type: ignore[attr-defined]
    p.goto(live_server + "/trending")  # type: ignore[attr-defined]
    button = p.locator("article.card .card-vote button").first  # type: ignore[attr-defined]
    form_id = button.evaluate("b => b.form.id")
    count = f"document.querySelector('#{form_id} .count').textContent.trim()"
    before = int(p.evaluate(count))  # type: ignore[attr-defined]
    pressed = button.get_attribute("aria-pressed") == "true"
    p.evaluate("window.__notReloaded = true")  # type: ignore[attr-defined]
    button.click()
    after = before - 1 if pressed else before + 1
    p.wait_for_function(f"() => {count} === '{after}'")  # type: ignore[attr-defined]
    assert p.evaluate("window.__notReloaded === true")  # htmx swapped it in place
    p.locator(f"#{form_id} button").click()  # back as it was (a shared demo database)
    p.wait_for_function(f"() => {count} === '{before}'")  # type: ignore[attr-defined]
    _clean(p, errors, "voting")
