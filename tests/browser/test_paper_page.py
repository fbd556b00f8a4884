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
