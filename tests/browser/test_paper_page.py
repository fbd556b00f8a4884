"""The paper page in a real browser (issue 15, items 9 and 14): the id and the citation copied
to the clipboard by the buttons (static JS, the Clipboard API), TeX text in the abstract shown
as formatting. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.browser import screenshot

PAPER = "2608.10720"  # Hugging Face keywords
TEX_PAPER = "2607.13027"  # \textbf{PalmClaw}, 11.5\%


@pytest.fixture
def clip_page(browser: object, live_server: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _clipboard(p: object) -> str:
    return str(p.evaluate("navigator.clipboard.readText()"))  # type: ignore[attr-defined]


def test_copy_id_and_cite_buttons_copy_to_the_clipboard(
    clip_page: object, live_server: str
) -> None:
    p = clip_page
    p.goto(f"{live_server}/papers/{PAPER}")  # type: ignore[attr-defined]
    p.evaluate("navigator.clipboard.writeText('nothing yet')")  # type: ignore[attr-defined]
    button = p.locator("button.copy-id")  # type: ignore[attr-defined]
    button.click()
    p.wait_for_function("() => document.querySelector('button.copy-id').textContent === 'Copied'")  # type: ignore[attr-defined]
    assert _clipboard(p) == PAPER
    p.locator("#cite > summary").click()  # type: ignore[attr-defined]
    p.locator("[data-copy-from=cite-bibtex]").click()  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('[data-copy-from=cite-bibtex]').textContent === 'Copied'"
    )
    bibtex = _clipboard(p)
    assert bibtex.startswith("@misc{zhang2026ex,\n") and f"eprint = {{{PAPER}}}" in bibtex
    assert bibtex.rstrip().endswith("}")
    p.locator("[data-copy-from=cite-plain]").click()  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('[data-copy-from=cite-plain]').textContent === 'Copied'"
    )
    assert _clipboard(p).startswith("Haoyu Zhang, Zhipeng Li")
    assert p.locator(".ai-keywords .machine-note").is_visible()  # type: ignore[attr-defined]
    screenshot(p, "paper-cite-and-keywords")
    # The label comes back, so the button can be used again.
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('button.copy-id').textContent === 'Copy id'"
    )


def test_tex_text_in_the_abstract_is_formatted(page: object, live_server: str) -> None:
    page.goto(f"{live_server}/papers/{TEX_PAPER}")  # type: ignore[attr-defined]
    abstract = page.locator("p.abstract")  # type: ignore[attr-defined]
    assert abstract.locator("strong").first.inner_text() == "PalmClaw"
    text = abstract.inner_text()
    assert "\\textbf" not in text and "11.5% relative" in text
    screenshot(page, "paper-tex-abstract")


SECRET = "browser-tests-throwaway-secret"
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`);
});
"""


def _sign_in(context: object, base: str, database_url: str, email: str, admin: bool) -> None:
    from paperroute import Config, open_hub
    from paperroute.site.signing import sign

    with open_hub(Config(database_url=database_url, demo=True, secret_key=SECRET)) as hub:
        user = hub.community.ensure_user(email, admin=admin)
        nonce = hub.community.open_session(user)
    token = sign(SECRET, "session", f"{user.pk}:{nonce}")
    context.add_cookies([{"name": "pr_session", "value": token, "url": base}])  # type: ignore[attr-defined]


def test_a_comment_with_math_and_a_table_is_typeset_edited_and_listed(
    browser: object, live_server: str, browser_demo_db: str
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH)
    _sign_in(context, live_server, browser_demo_db, "typesetter@example.org", admin=True)
    try:
        p = context.new_page()
        p.goto(f"{live_server}/papers/{TEX_PAPER}")
        p.fill(
            "#comment-body", "Regret $\\tilde{O}(T^{7/10})$.\n\n| n | time |\n|--|--:|\n| 1 | 2 s |"
        )
        p.click("form.comment-form button[type=submit]")
        p.wait_for_selector("html[data-math=ready]")
        body = p.locator(".comment-body").last
        assert body.locator(".katex").count() == 1
        assert "\\tilde" not in body.inner_text()
        cell = body.locator("td.align-right").first
        assert cell.evaluate("e => getComputedStyle(e).textAlign") == "right"
        assert cell.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
        p.locator(".comment-actions summary", has_text="Edit").last.click()
        p.locator(".comment-edit textarea").last.fill("Now $x^2$ instead.")
        p.locator(".comment-edit button", has_text="Save").last.click()
        p.wait_for_selector("html[data-math=ready]")
        assert "edited" in p.locator(".comment-meta").last.inner_text()
        assert p.locator(".comment-body").last.locator(".katex").count() == 1
        screenshot(p, "paper-comment-math-table")
        assert p.evaluate("window.__violations") == []  # recorded afresh on each page
        for path in ("/me", "/admin"):
            p.goto(live_server + path)
            p.wait_for_selector("html[data-math=ready]")
            assert p.locator(".comment-body .katex").count() >= 1, path
            screenshot(p, f"comments-on{path.replace('/', '-')}")
            assert p.evaluate("window.__violations") == [], path
    finally:
        context.close()
