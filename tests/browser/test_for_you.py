"""For you in a real browser: the demo admin signs in, uploads a small BibTeX library on
/me (the report names the broken entry), sees /for-you with a reason on each pick, and
"Not interested" removes a card in place, without a reload. Screenshots (desktop and a
390 px phone) in tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from paperroute import Config, open_hub
from support.browser import screenshot
from support.demo import load_demo

# Papers of the bundled demo data (Hugging Face daily papers of 2026-08-20/21).
LIBRARY = b"""
@article{env, title = {EnvHarness}, eprint = {2608.19880}, archivePrefix = {arXiv}}
@article{swe, title = {SWE-bench Science}, eprint = {2608.19799}, archivePrefix = {arXiv}}
@article{spade, title = {SPADE}, eprint = {2608.19197}, archivePrefix = {arXiv}}
@article{broken, title = {Unclosed
"""


@pytest.fixture(scope="module")
def browser_demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo data with its bundled vectors and term bags, as `paperroute demo load`
    leaves it (the shared browser database has none: For you ranks by them)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('foryou') / 'demo.db'}"
    load_demo(url)
    with open_hub(Config(database_url=url)) as hub:
        assert hub.search.import_demo_vectors() > 0
        hub.search.store_term_bags()
    return url


def _sign_in(p: object, base: str) -> None:
    p.goto(base + "/login")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Email me a sign-in link").click()  # type: ignore[attr-defined]
    p.goto(base + "/dev/outbox")  # type: ignore[attr-defined]
    p.locator(".outbox-list a").first.click()  # type: ignore[attr-defined]
    p.locator("pre.mail-body a").first.click()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/me$"))  # type: ignore[attr-defined]


def test_library_upload_for_you_and_not_interested(page: object, live_server: str) -> None:
    p = page
    _sign_in(p, live_server)
    p.locator("#library-file").set_input_files(  # type: ignore[attr-defined]
        {"name": "mine.bib", "mimeType": "application/x-bibtex", "buffer": LIBRARY}
    )
    p.get_by_role("button", name="Upload").click()  # type: ignore[attr-defined]
    report = p.get_by_test_id("library-report")  # type: ignore[attr-defined]
    assert "Imported 3 entries (bibtex)" in report.inner_text()
    assert "broken" in report.inner_text()
    screenshot(p, "me-library-uploaded")

    p.get_by_role("link", name="For you", exact=True).click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/for-you$"))  # type: ignore[attr-defined]
    cards = p.locator("[data-testid=for-you-list] article.card")  # type: ignore[attr-defined]
    before = cards.count()
    assert before >= 3
    reasons = p.get_by_test_id("pick-reason").all_inner_texts()  # type: ignore[attr-defined]
    assert len(reasons) == before and all(r.strip() for r in reasons)
    # Each reason is labelled, and a "close to" reason links the seed paper's title only.
    assert all(r.startswith("WHY") or r.startswith("Why") for r in reasons), reasons
    close = p.locator("[data-testid=pick-reason]:has(a)").first  # type: ignore[attr-defined]
    if close.count():
        assert not close.locator("a").inner_text().startswith("close to")
    screenshot(p, "for-you-desktop", full_page=False)

    first = cards.first
    title = first.locator(".card-title a").inner_text()
    p.evaluate("window.__notReloaded = true")  # type: ignore[attr-defined]
    first.get_by_test_id("not-interested").click()
    p.wait_for_function(  # type: ignore[attr-defined]
        f"() => document.querySelectorAll('[data-testid=for-you-list] article.card').length"
        f" === {before - 1}"
    )
    assert p.evaluate("window.__notReloaded === true")  # type: ignore[attr-defined]
    assert title not in p.locator("[data-testid=for-you-list]").inner_text()  # type: ignore[attr-defined]

    p.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    p.reload()  # type: ignore[attr-defined]
    width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    screenshot(p, "for-you-phone")

    # Every signal can be removed from /me.
    p.goto(live_server + "/me")  # type: ignore[attr-defined]
    feedback = p.get_by_test_id("feedback-list")  # type: ignore[attr-defined]
    feedback.get_by_role("button", name=re.compile("Remove your feedback")).first.click()
    p.get_by_text("Remove the whole library…").click()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Yes, remove them all").click()  # type: ignore[attr-defined]
    assert p.get_by_test_id("library-entries").count() == 0  # type: ignore[attr-defined]
