"""Review checks over the whole app: every state-changing route refuses a request without a
CSRF token (the list of routes is read from the app, so a new route is covered the day it is
added), redirects stay on the site, bodies are bounded, and random input to the community's
routes never gives a 500."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote, urljoin, urlsplit

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from support.community import PAPERS, csrf_of, web_sign_in
from support.smtp import SmtpServer

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that take no CSRF token, each for a stated reason.
EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail providers POST without cookies; the token in the
    # path is the only authority, and the route changes nothing but that subscription.
    "/unsubscribe/{token}",
}
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


def _concrete(path: str) -> str:
    """A real URL for a route's path template (ids of the seeded papers, key 1)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "paper_id":
            return PAPERS[0]
        if name in {"pk", "user_pk", "comment_pk", "collection_pk", "token_pk"}:
            return "1"
        return "x" * 24

    return _PARAM.sub(value, path)


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, those of included routers too (FastAPI keeps an included router as
    one entry that holds the original router, no prefixes here)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _unsafe_routes(client: TestClient) -> list[tuple[str, str]]:
    found = []
    for route in _api_routes(client.app.routes):  # type: ignore[attr-defined]
        for method in sorted(route.methods & UNSAFE):
            found.append((method, route.path))
    return found


def test_every_state_changing_route_needs_the_csrf_token(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    routes = _unsafe_routes(client)
    for expected in ("/papers/{paper_id:path}/vote", "/subscribe", "/api/v1/subscriptions"):
        assert ("POST", expected) in routes, expected  # the community's, D's, W's...
    signed_out = [
        (method, path, client.request(method, _concrete(path), data={"x": "1"}))
        for method, path in routes
    ]
    csrf = web_sign_in(client, smtp_server, "csrf@example.org")
    assert csrf
    signed_in = [
        (method, path, client.request(method, _concrete(path), data={"x": "1"}))
        for method, path in routes
    ]
    with_json = [
        (method, path, client.request(method, _concrete(path), json={"body": "x"}))
        for method, path in routes
        if path.startswith("/api/")
    ]
    for method, path, response in signed_out + signed_in + with_json:
        if path in EXEMPT:
            assert response.status_code != 403 or "CSRF" not in response.text, (method, path)
            continue
        if path.startswith("/api/") and response.request.headers.get("cookie") is None:
            # Without a cookie there is no ambient authority to forge: 401 (or the route's
            # own check), never a change.
            assert response.status_code in {400, 401, 403, 404, 405, 415, 422}, (method, path)
            continue
        assert response.status_code == 403, (method, path, response.status_code, response.text)
        assert "CSRF" in response.text, (method, path)
    # Still signed in: the refusals changed nothing.
    assert client.get("/me").status_code == 200


def test_cross_site_text_plain_form_is_refused(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "plain@example.org")
    # <form enctype="text/plain"> can smuggle "csrf_token=..." in its body: it is not a form
    # encoding the check parses, so it carries no token.
    forged = client.post(
        f"/papers/{PAPERS[0]}/vote",
        content=f"csrf_token={csrf}".encode(),
        headers={"content-type": "text/plain"},
    )
    assert forged.status_code == 403


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "javascript:alert(1)",
        "\t//evil.example",
        "/\t/evil.example",
        "/%2F/evil.example",
    ],
)
def test_next_never_leaves_the_site(client: TestClient, target: str) -> None:
    page = client.get(f"/login?next={quote(target, safe='')}")
    assert page.status_code == 200
    found = re.search(r'name="next" value="([^"]*)"', page.text)
    assert found is not None
    kept = found.group(1).replace("&amp;", "&")
    # As a browser reads a Location: tabs and newlines dropped, backslashes as slashes.
    browser = re.sub(r"[\t\n\r]", "", kept).replace("\\", "/")
    assert urlsplit(urljoin("https://hub.example/", browser)).netloc == "hub.example", kept


def test_collection_remove_next_is_not_an_open_redirect(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "owner@example.org")
    made = client.post(
        "/collections",
        data={"csrf_token": csrf, "title": "Mine", "paper_id": PAPERS[0]},
        follow_redirects=False,
    )
    assert made.status_code == 303
    pk = client.get("/api/v1/collections").json()
    own = client.get("/me").text
    collection = re.search(r'href="/collections/(\d+)/', own)
    assert collection is not None, (pk, own[:500])
    answer = client.post(
        f"/collections/{collection.group(1)}/papers",
        data={"csrf_token": csrf, "paper_id": PAPERS[0], "action": "remove",
              "next": "//evil.example/x"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert not answer.headers["location"].startswith("//")


def test_session_cookies_are_httponly_and_samesite(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    anonymous = client.get("/login")
    cookie = anonymous.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    client.cookies.clear()
    page = client.get("/login")
    client.post("/login", data={"email": "c@example.org", "csrf_token": csrf_of(page.text)})
    smtp_server.wait_for(1)
    token = re.search(r"token=([\w-]+)", smtp_server.to("c@example.org")[-1].text())
    assert token is not None
    confirm = client.get(f"/auth/verify?token={token.group(1)}")
    done = client.post(
        "/auth/verify",
        data={"token": token.group(1), "csrf_token": csrf_of(confirm.text)},
        follow_redirects=False,
    )
    session = [c for c in done.headers.get_list("set-cookie") if c.startswith("pr_session=")]
    assert session and "HttpOnly" in session[0] and "SameSite=Lax" in session[0]
    assert "no-store" in done.headers.get("cache-control", "")
    # A signed-in reader's pages are theirs alone; static files stay cacheable.
    assert "private, no-store" in client.get("/me").headers["cache-control"]
    assert "private, no-store" in client.get("/").headers["cache-control"]
    assert "no-store" not in client.get("/static/css/app.css").headers.get("cache-control", "")


def test_every_answer_refuses_framing_and_sniffing(client: TestClient) -> None:
    paths = ["/", "/", "/papers/date/2026-11-20", "/login", "/api/v1/trending",
             "/api/v1/trending", "/feeds/daily.atom", "/papers/nope.nope",
             "/static/js/app.js"]  # fmt: skip
    for path in paths:
        headers = client.get(path).headers  # the second / and trending come from the cache
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path


def test_invalid_json_and_huge_bodies_on_the_api(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "json@example.org")
    made = client.post("/me/tokens", data={"csrf_token": csrf, "name": "bot"})
    token = re.search(r'data-testid="new-token">(prt_[\w-]+)<', made.text)
    assert token is not None
    api = TestClient(client.app, headers={"Authorization": f"Bearer {token.group(1)}"})
    bodies: list[bytes] = [b"{", b"\xff\xfe", b"[]", b"null", b'{"body": 5}', b"1e999999",
                           b'{"title": "' + b"x" * 2_000_000 + b'"}']  # fmt: skip
    for path in (f"/api/v1/papers/{PAPERS[0]}/comments", "/api/v1/collections",
                 "/api/v1/collections/1/papers"):  # fmt: skip
        for body in bodies:
            answer = api.post(path, content=body, headers={"content-type": "application/json"})
            assert 400 <= answer.status_code < 500, (path, body[:20], answer.status_code)
            assert answer.headers["content-type"].startswith("application/problem+json")
            if len(body) > 1_000_000:
                assert answer.status_code == 413


def _junk(rng: random.Random) -> str:
    alphabet = "aZ09-_./:%$<>\"'&;#?=+ \\\x00\x7f\u00e9\u200b\ud7ff\ufffe\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))


def test_random_input_to_community_routes_never_gives_a_500(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    rng = random.Random(20261127)
    csrf = web_sign_in(client, smtp_server, "fuzz@example.org")
    forms = {
        "/login": ("email", "next"),
        "/collections": ("title", "description", "public", "paper_id"),
        "/collections/1/edit": ("title", "description", "public"),
        "/collections/1/papers": ("paper_id", "action", "next"),
        f"/papers/{PAPERS[0]}/comments": ("body",),
        "/submit": ("reference",),
        "/me/tokens": ("name",),
        "/auth/verify": ("token", "next"),
    }
    gets = ["/collections/{}", "/collections/1/{}", "/collections?before={}", "/login?next={}",
            "/auth/verify?token={}", "/dev/outbox/{}", "/papers/{}/vote",
            "/api/v1/collections?cursor={}", "/api/v1/papers/{}/comments",
            f"/api/v1/papers/{PAPERS[0]}/comments?cursor={{}}",
            "/api/v1/collections/{}"]  # fmt: skip
    for n in range(120):
        path = list(forms)[n % len(forms)]
        data = {name: _junk(rng) for name in forms[path]}
        data["csrf_token"] = csrf
        answer = client.post(path, data=data, follow_redirects=False)
        assert answer.status_code < 500, (path, data, answer.status_code, answer.text[:300])
        url = gets[n % len(gets)].format(quote(_junk(rng), safe=""))
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code < 500, (url, answer.status_code, answer.text[:300])
    assert client.get("/me").status_code == 200


def test_api_cursors_are_opaque_and_scoped(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "pager@example.org")
    for n in range(3):
        client.post("/collections", data={"csrf_token": csrf, "title": f"C{n}", "public": "on"})
        client.post(f"/papers/{PAPERS[0]}/comments", data={"csrf_token": csrf, "body": f"c{n}"})
    api = TestClient(client.app)
    seen: list[int] = []
    cursor: str | None = None
    while True:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/api/v1/collections{query}").json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert not cursor.isdigit()  # opaque, like every other list's cursor
        comments = api.get(f"/api/v1/papers/{PAPERS[0]}/comments?cursor={cursor}")
        assert comments.status_code == 400  # a collections cursor is not a comments cursor
        assert api.get(f"/api/v1/trending?cursor={cursor}").status_code == 400
    assert len(seen) == 3 and seen == sorted(seen, reverse=True)
    first = api.get(f"/api/v1/papers/{PAPERS[0]}/comments?limit=2").json()
    rest = api.get(f"/api/v1/papers/{PAPERS[0]}/comments?cursor={first['next_cursor']}").json()
    assert [c["body"] for c in first["items"] + rest["items"]] == ["c0", "c1", "c2"]
    other = api.get(f"/api/v1/papers/{PAPERS[1]}/comments?cursor={first['next_cursor']}")
    assert other.status_code == 400  # nor one of another paper's


def test_a_hidden_paper_is_404_for_readers_and_no_500_for_admins(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "mod@example.org")
    community = client.app.state.community  # type: ignore[attr-defined]
    community.set_admin("mod@example.org", True)
    hidden = client.post(f"/papers/{PAPERS[1]}/hide", data={"csrf_token": csrf, "reason": "x"})
    assert hidden.status_code == 200
    anonymous = TestClient(client.app)
    for path in (f"/papers/{PAPERS[1]}", f"/api/v1/papers/{PAPERS[1]}"):
        assert anonymous.get(path).status_code == 404, path
        answer = client.get(path)  # the admin: the page (to unhide it) or a 404, never a 500
        assert answer.status_code in {200, 404}, (path, answer.status_code, answer.text[:300])
    page = client.get(f"/papers/{PAPERS[1]}")
    if page.status_code == 200:
        assert f"/papers/{PAPERS[1]}/unhide" in page.text
