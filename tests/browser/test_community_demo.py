"""The newcomer's path in demo mode: sign in as the demo admin through /dev/outbox (no mail
leaves the machine), then moderate from /admin. Screenshots in tests/artifacts/."""

from __future__ import annotations

import re

from support.browser import screenshot


def test_demo_admin_signs_in_through_the_outbox(dark_page: object, live_server: str) -> None:
    p = dark_page
    p.goto(live_server + "/login")  # type: ignore[attr-defined]
    assert "demo@paperroute.local" in p.locator(".notice").inner_text()  # type: ignore[attr-defined]
    assert p.input_value("#login-email") == "demo@paperroute.local"  # type: ignore[attr-defined]
    p.get_by_role("button", name="Email me a sign-in link").click()  # type: ignore[attr-defined]
    p.get_by_role("link", name="outbox").click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/dev/outbox$"))  # type: ignore[attr-defined]
    screenshot(p, "community-outbox-dark")
    p.locator(".outbox-list a").first.click()  # type: ignore[attr-defined]
    link = p.locator("pre.mail-body a").first  # type: ignore[attr-defined]
    assert "/auth/verify?token=" in (link.get_attribute("href") or "")
    link.click()
    p.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/me$"))  # type: ignore[attr-defined]
    assert "admin" in p.locator(".page-head").inner_text().lower()  # type: ignore[attr-defined]
    p.goto(live_server + "/admin")  # type: ignore[attr-defined]
    assert p.get_by_role("heading", name="Moderation").is_visible()  # type: ignore[attr-defined]
    assert "demo@paperroute.local" in p.locator("#users").inner_text()  # type: ignore[attr-defined]
    screenshot(p, "community-admin-dark", full_page=True)
