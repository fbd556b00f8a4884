"""The reader's details (issue 15) in a real browser: a digest read on a phone, anchors below
the sticky header, a collection added without a reload, the digest manage page. Each test
saves a screenshot under tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paperroute import Config, open_hub
from support.browser import screenshot

SECRET = "browser-tests-throwaway-secret"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _overflow(p: object) -> int:
    """How far the page is wider than the viewport, in CSS pixels (0: no horizontal scroll)."""
    return int(
        p.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def test_a_digest_fits_a_phone_without_horizontal_scrolling(
    phone: object, browser_demo_db: str
) -> None:
    config = Config(database_url=browser_demo_db, demo=True, secret_key=SECRET)
    with open_hub(config) as hub:
        hub.digests.add_confirmed(
            "phone.reader@example.org", {"trending": "on", "categories": "cs.CL, cs.LG"}
        )
        rendered = hub.digests.preview("phone.reader@example.org")
    assert 'width="560"' not in rendered.html and "max-width:600px" in rendered.html
    p = phone
    p.set_content(rendered.html)  # type: ignore[attr-defined]
    assert p.locator("a:has-text('Paper page')").count() >= 1  # type: ignore[attr-defined]
    width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390, f"the digest is {width} px wide on a 390 px phone"
    card = p.locator("table[style*='max-width']").first  # type: ignore[attr-defined]
    assert card.bounding_box()["width"] <= 390 - 2 * 8
    screenshot(p, "digest-phone", full_page=True)
    # and on a desktop client the column stops at 600 px
    p.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
    assert card.bounding_box()["width"] == pytest.approx(600, abs=1)
