"""Hostile headers on every GET route (issue 14, "Kept by CI"): a foreign ``Host``,
``X-Forwarded-*``, huge headers and non-ASCII cookies. No answer is a 500, and no answer
(body or header) names the attacker's host. Also the non-ASCII signatures that used to
break every page (item 4)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paperroute.site.signing import sign, unsign
from support.community import csrf_of
from support.sweep import QUERIES as SWEEP_QUERIES
from support.sweep import demo_app_copy, fill, get_routes, outbox_sign_in

FOREIGN = "attacker.example"
PAPER = "2608.16590"
NON_ASCII_COOKIE = "pr_session=abc.é; pr_csrf=ééééééééééééééééééééééé; x=\u2603".encode()

HEADER_SETS: list[dict[str, Any]] = [
    {"host": FOREIGN},
    {"host": f"{FOREIGN}:443"},
    {
        "x-forwarded-host": FOREIGN,
        "x-forwarded-proto": "https",
        "x-forwarded-for": f"203.0.113.9, {FOREIGN}",
        "x-forwarded-port": "31337",
        "x-forwarded-prefix": f"//{FOREIGN}",
        "forwarded": f"for=203.0.113.9;host={FOREIGN};proto=https",
        "x-original-url": f"//{FOREIGN}/",
        "x-rewrite-url": f"//{FOREIGN}/",
        "referer": f"http://{FOREIGN}/",
        "origin": f"http://{FOREIGN}",
    },
    {"x-huge": "a" * 200_000, "accept-language": "é".encode() * 5000, "user-agent": "b" * 50_000},
    {"cookie": NON_ASCII_COOKIE},
    {"cookie": b"pr_session=" + b"\xff" * 3000 + b"; pr_csrf=\xc3\x28"},
]


@pytest.fixture
def demo_copy(sqlite_demo_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """An anonymous and a signed-in admin client of a copy of the demo."""
    with demo_app_copy(sqlite_demo_url, tmp_path) as admin:
        outbox_sign_in(admin, "demo@paperroute.local")
        assert "Admin" in admin.get("/me").text
        yield TestClient(admin.app), admin


def _real_values(admin: TestClient) -> dict[str, str]:
    """A real value for every path parameter of the app, made through the app."""
    csrf = csrf_of(admin.get("/me").text)
    made = admin.post("/collections", data={"title": "Swept", "public": "on", "csrf_token": csrf})
    collection = re.search(r"/collections/(\d+)/([a-z0-9-]+)", str(made.url))
    assert collection, made.url
    admin.post(
        f"/papers/{PAPER}/comments", data={"body": "A comment to sweep.", "csrf_token": csrf}
    )
    hub = admin.app.state.hub  # type: ignore[attr-defined]
    subscriber = hub.digests.add_confirmed("swept@example.org", {"trending": True})
    outbox = re.search(r'href="/dev/outbox/(\d+)"', admin.get("/dev/outbox").text)
    assert outbox
    return {
        "pk": collection.group(1),
        "slug": collection.group(2),
        "paper_id": PAPER,
        "name": "Yann LeCun",
        "category": "cs.LG",
        "token": hub.digests.manage_token(subscriber),
        "day": "2026-11-20",
        "week": "2026-W47",
        "month": "2026-11",
        "outbox": outbox.group(1),
    }


HOSTILE_VALUES = {
    "pk": "99999",
    "slug": "é",
    "paper_id": "é/../x",
    "name": "Ádám é",
    "category": "cs.é",
    "token": "abc.é",
    "day": "2026-99-99",
    "week": "é",
    "month": "é",
    "outbox": "99999",
}
QUERIES = {
    **SWEEP_QUERIES,
    "/api/v1/daily": "date=2026-11-20",
    "/api/daily_papers": "date=2026-11-20",
}


def test_hostile_headers_on_every_get_route(
    demo_copy: tuple[TestClient, TestClient], capsys: pytest.CaptureFixture[str]
) -> None:
    anonymous, admin = demo_copy
    real = _real_values(admin)
    templates = sorted(set(get_routes(admin.app.routes)))  # type: ignore[attr-defined]
    assert len(templates) >= 45, templates  # the enumeration found the app's routes
    paths = [fill(t, v, QUERIES) for t in templates for v in (real, HOSTILE_VALUES)]
    requests = failures = 0
    for client in (anonymous, admin):
        client.app.state.page_cache.clear()  # type: ignore[attr-defined]
        for headers in HEADER_SETS:
            for path in paths:
                answer = client.get(path, headers=headers, follow_redirects=False)
                requests += 1
                where = (path, sorted(headers)[:2], answer.status_code)
                failures += answer.status_code >= 500
                assert answer.status_code < 500, (where, answer.text[:300])
                assert FOREIGN not in answer.text, where
                assert not any(FOREIGN in v for _, v in answer.headers.multi_items()), where
                if "host" in headers:
                    assert answer.status_code == 400, where
        # After all that, what everyone gets names no foreign host.
        for path in ("/", "/categories/cs.LG", "/trending", f"/papers/{PAPER}"):
            assert FOREIGN not in client.get(path).text
    with capsys.disabled():
        print(f"\nhostile-header sweep: {requests} requests, {failures} answered 5xx")
    assert requests == 2 * len(HEADER_SETS) * len(paths)


def test_non_ascii_signatures_are_forgeries_not_errors(sqlite_demo: TestClient) -> None:
    assert unsign("secret-of-sixteen!", "session", "abc.é", max_age=60) is None
    good = sign("secret-of-sixteen!", "session", "value")
    assert unsign("secret-of-sixteen!", "session", good, max_age=60) == "value"
    assert unsign("secret-of-sixteen!", "session", good[:-1] + "é", max_age=60) is None
    for path in ("/", "/me", "/api/v1/daily", "/login"):
        answer = sqlite_demo.get(path, headers={"cookie": "pr_session=abc.é".encode()})
        assert answer.status_code in (200, 303), (path, answer.status_code)
    for path in (
        "/unsubscribe/abc.%C3%A9",
        "/subscription/abc.%C3%A9",
        "/subscribe/confirm?token=abc.%C3%A9",
    ):
        assert sqlite_demo.get(path).status_code == 400, path
    assert sqlite_demo.post("/unsubscribe/abc.%C3%A9").status_code == 400


def test_a_deeply_nested_cursor_is_a_400(sqlite_demo: TestClient) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 1000 + b"]" * 1000).decode().rstrip("=")
    answer = sqlite_demo.get("/api/v1/collections", params={"cursor": cursor})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
