"""The browser policy on every answer, and no inline script or style in any page (issue 14,
item 6; the real browser's check is tests/browser/test_csp.py); the page cache's CSRF
placeholder cannot be reached from stored text."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from paperroute.web.cache import PageCache
from support.sweep import demo_app_copy, outbox_sign_in

OLD_PLACEHOLDER = "csrf-placeholder-3f9c1e7a"  # the fixed one it used to be


def _strict(headers: object, where: object) -> None:
    policy = headers["content-security-policy"]  # type: ignore[index]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "frame-ancestors 'none'", "object-src 'none'"):  # fmt: skip
        assert directive in policy, (where, policy)
    assert "unsafe" not in policy, where
    assert headers["x-frame-options"] == "DENY", where  # type: ignore[index]
    assert headers["x-content-type-options"] == "nosniff", where  # type: ignore[index]
    assert headers["referrer-policy"] == "same-origin", where  # type: ignore[index]


def test_every_kind_of_answer_carries_the_policy(sqlite_demo: TestClient) -> None:
    sqlite_demo.app.state.page_cache.clear()  # type: ignore[attr-defined]
    answers = {
        "page": sqlite_demo.get("/"),
        "cache hit": sqlite_demo.get("/"),
        "JSON": sqlite_demo.get("/api/v1/trending"),
        "feed": sqlite_demo.get("/feeds/daily.atom"),
        "static": sqlite_demo.get("/static/js/app.js"),
        "404": sqlite_demo.get("/papers/9999.99999"),
        "one-click unsubscribe": TestClient(sqlite_demo.app).post(
            "/unsubscribe/forged.token", content=b"List-Unsubscribe=One-Click"
        ),
        "CSRF refusal": TestClient(sqlite_demo.app).post("/login", data={"email": "a@b.org"}),
        "unknown host": sqlite_demo.get("/", headers={"host": "elsewhere.example"}),
        "redirect": sqlite_demo.get("/me", follow_redirects=False),
    }
    assert answers["one-click unsubscribe"].status_code == 400
    assert answers["CSRF refusal"].status_code == 403
    for what, answer in answers.items():
        _strict(answer.headers, what)


def test_no_page_needs_inline_script_or_style(sqlite_demo: TestClient) -> None:
    for path in ("/", "/trending", "/papers/2607.17715", "/categories/cs.LG", "/subscribe",
                 "/login", "/collections", "/search?q=attention", "/feeds"):  # fmt: skip
        html = sqlite_demo.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<style\b|\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles":false}\'>' in html


def test_stored_text_never_receives_a_reader_s_token(sqlite_demo_url: str, tmp_path: Path) -> None:
    """A comment holding the cache's placeholder got each anonymous reader's CSRF token
    joined into it (the placeholder was a fixed string)."""
    with demo_app_copy(sqlite_demo_url, tmp_path) as writer:
        csrf = outbox_sign_in(writer, "writer@example.org")
        cache = writer.app.state.page_cache  # type: ignore[attr-defined]
        body = f"[look](/x?t={OLD_PLACEHOLDER}) and {cache.token_placeholder[:10]}"
        said = writer.post("/papers/2607.17715/comments", data={"body": body, "csrf_token": csrf})
        assert said.status_code == 200
        for _ in range(2):  # a fresh render, then the cache
            reader = TestClient(writer.app)
            page = reader.get("/papers/2607.17715").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token and token.group(1) != cache.token_placeholder
            assert OLD_PLACEHOLDER in page
            assert page.count(token.group(1)) == page.count('name="csrf_token"') + 1
            assert cache.token_placeholder not in page
    assert PageCache(lambda: ()).token_placeholder != cache.token_placeholder
