"""The community over HTTP (TestClient on the real app, both databases): sign-in through the
mailed link, CSRF, sizes, votes, comments, collections, moderation, the JSON API."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from paperroute import Config
from paperroute.community import Community
from paperroute.community.service import SIGN_IN_ADDRESS_CAP
from paperroute.errors import ConfigError
from paperroute.web.app import create_app
from support.community import PAPERS, csrf_of, web_sign_in
from support.smtp import SmtpServer


def _problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status and body["detail"]
    return body


def test_magic_link_sign_in_and_out(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    cookie = client.cookies.get("pr_session")
    assert cookie
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert "pr_session=" in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    assert "HttpOnly" in out.headers["set-cookie"] and "SameSite=Lax" in out.headers["set-cookie"]
    assert client.get("/me", follow_redirects=False).status_code == 303
    copied = TestClient(client.app, cookies={"pr_session": cookie})
    assert copied.get("/me", follow_redirects=False).status_code == 303  # ended on the server


def test_a_ban_ends_every_session(client: TestClient, smtp_server: SmtpServer) -> None:
    web_sign_in(client, smtp_server, "troll@example.org")
    community: Community = client.app.state.community  # type: ignore[attr-defined]
    admin = community.ensure_user("admin@example.org", admin=True)
    troll = community.user_by_email("troll@example.org")
    assert troll is not None
    community.set_banned(admin, troll.pk, True)
    assert client.get("/me", follow_redirects=False).status_code == 303
    community.set_banned(admin, troll.pk, False)
    assert client.get("/me", follow_redirects=False).status_code == 303  # must sign in again


def test_reused_forged_and_expired_links_get_400_pages(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    web_sign_in(client, smtp_server, "reader@example.org")
    token = re.search(r"token=([\w-]+)", smtp_server.messages[-1].text()).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    again = client.get(f"/auth/verify?token={token}")
    assert again.status_code == 400 and "already used" in again.text
    assert "<!doctype html>" in again.text.lower()
    forged = client.get("/auth/verify?token=forged-token")
    assert forged.status_code == 400 and "not valid" in forged.text
    page = client.get("/login")
    post = client.post("/auth/verify", data={"token": token, "csrf_token": csrf_of(page.text)})
    assert post.status_code == 400
    huge = client.get("/auth/verify?token=" + "a" * 5000)
    assert huge.status_code == 400


def test_forged_session_cookie_is_ignored(client: TestClient) -> None:
    client.cookies.set("pr_session", "MTp4fDE3MDAwMDAwMDA.forged")
    assert client.get("/me", follow_redirects=False).status_code == 303
    assert client.get("/").status_code == 200


def test_missing_or_wrong_csrf_is_403(client: TestClient, smtp_server: SmtpServer) -> None:
    page = client.get("/login")
    missing = client.post("/login", data={"email": "a@example.org"})
    assert missing.status_code == 403 and "security token" in missing.text
    wrong = client.post("/login", data={"email": "a@example.org", "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    assert smtp_server.messages == []
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    assert csrf != csrf_of(page.text)  # a new session gets a new token
    for path in (f"/papers/{PAPERS[0]}/vote", f"/papers/{PAPERS[0]}/comments", "/collections"):
        assert client.post(path, data={"body": "x", "title": "t"}).status_code == 403
    assert (
        client.post(f"/papers/{PAPERS[0]}/vote", headers={"X-CSRF-Token": "no"}).status_code == 403
    )
    # A browser that says another site sent it is refused, even with a stolen token.
    elsewhere = client.post(
        f"/papers/{PAPERS[0]}/vote", headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}
    )
    assert elsewhere.status_code == 403 and "another site" in elsewhere.text
    for site in ("same-origin", "same-site", "none"):
        ok = client.post(
            f"/papers/{PAPERS[0]}/vote", headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": site}
        )
        assert ok.status_code == 200, site
    api = client.post(f"/api/v1/papers/{PAPERS[0]}/vote")  # cookie without the header
    _problem(api, 403)


def test_oversized_body_is_413(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": "a@example.org", "csrf_token": csrf_of(page.text), "x": "y" * 2_000_000},
    )
    assert response.status_code == 413
    _problem(client.post("/api/v1/collections", content=b"{" * 2_000_000), 413)


def test_vote_toggles_in_place_and_without_javascript(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    page = client.get(f"/papers/{PAPERS[0]}")
    assert page.status_code == 200 and "Sign in</a> to comment" in page.text
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    fragment = client.post(
        f"/papers/{PAPERS[0]}/vote", headers={"X-CSRF-Token": csrf, "HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert 'data-testid="vote-count">4<' in fragment.text and 'aria-pressed="true"' in fragment.text
    assert "hx-swap-oob" not in fragment.text  # the button is the page's one count
    plain = client.post(
        f"/papers/{PAPERS[0]}/vote", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert plain.status_code == 303 and plain.headers["location"] == f"/papers/{PAPERS[0]}"
    shown = client.get(f"/papers/{PAPERS[0]}")
    assert 'data-testid="vote-count">3<' in shown.text
    old_style = client.post(
        f"/papers/{PAPERS[2]}/vote", headers={"X-CSRF-Token": csrf, "HX-Request": "true"}
    )
    assert old_style.status_code == 200 and ">10<" in old_style.text
    missing = client.post("/papers/2999.99999/vote", headers={"X-CSRF-Token": csrf})
    assert missing.status_code == 404


def test_signed_out_actions_go_to_sign_in(client: TestClient) -> None:
    csrf = csrf_of(client.get("/login").text)
    response = client.post(f"/papers/{PAPERS[0]}/vote", data={"csrf_token": csrf})
    assert response.status_code == 401
    assert (
        client.get("/submit", follow_redirects=False).headers["location"] == "/login?next=%2Fsubmit"
    )


def test_comments_render_sanitised_and_capped(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    hostile = '<script>alert("x")</script> [click](javascript:alert(1)) **fine**'
    posted = client.post(
        f"/papers/{PAPERS[0]}/comments", data={"csrf_token": csrf, "body": hostile}
    )
    assert posted.status_code == 200
    assert "<script>alert" not in posted.text and 'href="javascript' not in posted.text
    assert "<strong>fine</strong>" in posted.text
    big = client.post(
        f"/papers/{PAPERS[0]}/comments", data={"csrf_token": csrf, "body": "x" * 10_001}
    )
    assert big.status_code == 413 and "10,000" in big.text
    empty = client.post(f"/papers/{PAPERS[0]}/comments", data={"csrf_token": csrf, "body": " "})
    assert empty.status_code == 400
    assert client.get(f"/papers/{PAPERS[0]}").text.count('class="comment"') == 1


def test_collections_pages_feeds_and_privacy(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "owner@example.org")
    made = client.post(
        "/collections",
        data={"csrf_token": csrf, "title": "Tools <b>!</b>", "public": "on"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    url = made.headers["location"]
    pk = url.split("/")[2]
    added = client.post(
        f"/collections/{pk}/papers",
        data={"csrf_token": csrf, "paper_id": PAPERS[2]},
        headers={"HX-Request": "true"},
    )
    assert added.status_code == 200 and 'aria-pressed="true"' in added.text
    page = client.get(url)
    assert page.status_code == 200 and "Tools &lt;b&gt;!&lt;/b&gt;" in page.text
    assert "Paper 3 &lt;script&gt;" in page.text
    atom = client.get(f"/collections/{pk}/feed.atom")
    assert atom.status_code == 200 and atom.headers["content-type"].startswith("application/atom")
    entries = ET.fromstring(atom.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert [e.findtext("{http://www.w3.org/2005/Atom}id") for e in entries] == [
        "http://127.0.0.1:8000/papers/hep-th/9901001"
    ]
    rss = client.get(f"/collections/{pk}/feed.rss")
    assert [i.findtext("title") for i in ET.fromstring(rss.content).iter("item")] == [
        "Paper 3 <script>alert('t3')</script>"
    ]
    assert 'name="next" value="/collections/' in page.text  # removal comes back here
    removed = client.post(
        f"/collections/{pk}/papers",
        data={"csrf_token": csrf, "paper_id": PAPERS[2], "action": "remove", "next": url},
        follow_redirects=False,
    )
    assert removed.status_code == 303 and removed.headers["location"] == url
    assert "No papers yet" in client.get(url).text
    client.post(f"/collections/{pk}/edit", data={"csrf_token": csrf, "title": "Private now"})
    other = TestClient(client.app)
    assert other.get(f"/collections/{pk}").status_code == 404
    assert other.get(f"/collections/{pk}/feed.atom").status_code == 404
    assert other.get("/collections").status_code == 200
    assert other.get("/collections/abc").status_code in {400, 404, 422}


def test_moderation_pages(client: TestClient, smtp_server: SmtpServer, app_config: Config) -> None:
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    assert client.get("/admin").status_code == 403
    assert client.post(f"/papers/{PAPERS[1]}/hide", data={"csrf_token": csrf}).status_code == 403
    community: Community = client.app.state.community  # type: ignore[attr-defined]
    community.set_admin("reader@example.org", True)
    hidden = client.post(f"/papers/{PAPERS[1]}/hide", data={"csrf_token": csrf, "reason": "spam"})
    assert hidden.status_code == 200 and "hide-paper" in hidden.text
    anonymous = TestClient(client.app)
    assert anonymous.get(f"/papers/{PAPERS[1]}").status_code == 404
    admin = client.get("/admin")
    assert admin.status_code == 200 and "hide-paper" in admin.text and "spam" in admin.text
    troll = community.ensure_user("troll@example.org")
    banned = client.post(f"/admin/users/{troll.pk}/ban", data={"csrf_token": csrf})
    assert banned.status_code == 200
    page = anonymous.get("/login")
    mailed = len(smtp_server.to("troll@example.org"))
    refused = anonymous.post(
        "/login", data={"email": "troll@example.org", "csrf_token": csrf_of(page.text)}
    )
    # Answered as any sign-in request (nobody learns who is suspended); no link goes out.
    assert refused.status_code == 200 and "suspended" not in refused.text
    assert len(smtp_server.to("troll@example.org")) == mailed


def test_sign_in_for_someone_else_does_not_lock_them_out(
    client: TestClient, app_config: Config, smtp_server: SmtpServer
) -> None:
    """Issue 14 item 3: five POST /login for another's address used to give its owner 429
    for the rest of the hour. The answer never changes; the requester's network spends its
    own quota; the owner, elsewhere, still gets a link."""
    csrf = csrf_of(client.get("/login").text)
    answers = [
        client.post("/login", data={"email": "owner@example.org", "csrf_token": csrf})
        for _ in range(app_config.login_rate_per_email + 2)
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text.replace(csrf, "") for a in answers}) == 1  # the same answer each time
    sent = len(smtp_server.to("owner@example.org"))
    assert sent == app_config.login_rate_per_email
    owner = TestClient(client.app, client=("203.0.113.50", 40000))
    page = owner.get("/login")
    answer = owner.post(
        "/login", data={"email": "owner@example.org", "csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 200
    assert len(smtp_server.to("owner@example.org")) == sent + 1


def test_strangers_on_many_networks_cannot_lock_out_a_browser_that_signed_in_before(
    client: TestClient, app_config: Config, smtp_server: SmtpServer
) -> None:
    """The outside review: four networks spend an address's hourly cap, after which a new
    browser gets the same answer and no link. The browser its owner signed in with before
    keeps getting links (the pr_known cookie)."""
    owner = TestClient(client.app, client=("203.0.113.60", 40000))
    csrf = web_sign_in(owner, smtp_server, "owner@example.org")
    owner.post("/logout", data={"csrf_token": csrf})
    assert "pr_known" in owner.cookies and "owner@example.org" not in owner.cookies["pr_known"]
    cap = app_config.login_rate_per_email * SIGN_IN_ADDRESS_CAP
    for network in range(SIGN_IN_ADDRESS_CAP + 1):
        stranger = TestClient(client.app, client=(f"198.51.100.{network + 1}", 40000))
        token = csrf_of(stranger.get("/login").text)
        for _ in range(app_config.login_rate_per_email):
            answer = stranger.post(
                "/login", data={"email": "owner@example.org", "csrf_token": token}
            )
            assert answer.status_code == 200
    sent = len(smtp_server.to("owner@example.org"))
    assert sent == cap  # the owner's own first link counted too
    elsewhere = TestClient(client.app, client=("192.0.2.7", 40000))
    page = elsewhere.get("/login")
    elsewhere.post("/login", data={"email": "owner@example.org", "csrf_token": csrf_of(page.text)})
    assert len(smtp_server.to("owner@example.org")) == sent  # a new browser: over the cap
    page = owner.get("/login")
    answer = owner.post(
        "/login", data={"email": "OWNER@example.org", "csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 200
    smtp_server.wait_for(1)
    assert len(smtp_server.to("owner@example.org")) == sent + 1  # the known browser: a link
    # A cookie made for another address, or forged, changes nothing.
    forged = TestClient(client.app, client=("192.0.2.8", 40000))
    forged.cookies.set("pr_known", owner.cookies["pr_known"][:-2] + "xx")
    page = forged.get("/login")
    forged.post("/login", data={"email": "owner@example.org", "csrf_token": csrf_of(page.text)})
    assert len(smtp_server.to("owner@example.org")) == sent + 1


def test_a_flood_from_one_network_is_429(
    client: TestClient, app_config: Config, smtp_server: SmtpServer
) -> None:
    csrf = csrf_of(client.get("/login").text)
    for n in range(app_config.login_rate_per_ip):
        answer = client.post("/login", data={"email": f"a{n}@example.org", "csrf_token": csrf})
        assert answer.status_code == 200
    limited = client.post("/login", data={"email": "b@example.org", "csrf_token": csrf})
    assert limited.status_code == 429 and "too many" in limited.text
    assert int(limited.headers["retry-after"]) > 0
    assert smtp_server.to("b@example.org") == []


def test_api_with_personal_token(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "script@example.org")
    made = client.post("/me/tokens", data={"csrf_token": csrf, "name": "bot"})
    token = re.search(r'data-testid="new-token">(prt_[\w-]+)<', made.text).group(1)  # type: ignore[union-attr]
    api = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    vote = api.post(f"/api/v1/papers/{PAPERS[0]}/vote")
    assert vote.status_code == 200 and vote.json() == {
        "paper_id": PAPERS[0],
        "upvotes": 4,
        "voted": True,
    }
    assert api.delete(f"/api/v1/papers/{PAPERS[0]}/vote").json()["upvotes"] == 3
    comment = api.post(f"/api/v1/papers/{PAPERS[0]}/comments", json={"body": "<b>hi</b> *there*"})
    assert (
        comment.status_code == 201
        and comment.json()["body_html"] == "<p>&lt;b&gt;hi&lt;/b&gt; <em>there</em></p>\n"
    )
    second = api.post(f"/api/v1/papers/{PAPERS[0]}/comments", json={"body": "two"}).json()
    first_page = api.get(f"/api/v1/papers/{PAPERS[0]}/comments?limit=1").json()
    assert [c["id"] for c in first_page["items"]] == [comment.json()["id"]]
    cursor = first_page["next_cursor"]
    rest = api.get(f"/api/v1/papers/{PAPERS[0]}/comments?limit=1&cursor={cursor}").json()
    assert [c["id"] for c in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    _problem(api.get(f"/api/v1/papers/{PAPERS[0]}/comments?cursor=x"), 400)
    _problem(api.get(f"/api/v1/papers/{PAPERS[0]}/comments?limit=1000"), 400)
    # Issue 14 item 9: control characters and a number for a boolean are refused, not stored.
    before = api.get("/api/v1/collections").json()["items"]
    assert (
        "control"
        in _problem(api.post("/api/v1/collections", json={"title": "Bot\x07 list"}), 400)["detail"]
    )
    assert (
        "control"
        in _problem(
            api.post("/api/v1/collections", json={"title": "Bot", "description": "a\x1bb"}), 400
        )["detail"]
    )
    _problem(api.post("/api/v1/collections", json={"title": "Bot list", "public": 0}), 400)
    _problem(api.post("/api/v1/collections", json={"title": "Bot list", "public": "yes"}), 400)
    assert api.get("/api/v1/collections").json()["items"] == before
    created = api.post(
        "/api/v1/collections",
        json={"title": "Bot list", "description": "two\nlines", "public": True},
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    added = api.post(f"/api/v1/collections/{pk}/papers", json={"paper_id": PAPERS[2]})
    assert added.json()["paper_ids"] == [PAPERS[2]]
    assert TestClient(client.app).get(f"/api/v1/collections/{pk}").json()["paper_ids"] == [
        PAPERS[2]
    ]
    page = TestClient(client.app).get("/api/v1/collections?limit=1").json()
    assert [c["id"] for c in page["items"]] == [pk] and page["next_cursor"] is None
    removed = api.delete(f"/api/v1/collections/{pk}/papers/{PAPERS[2]}")
    assert removed.json()["paper_ids"] == []
    # hostile and malformed input
    _problem(
        api.post(
            f"/api/v1/papers/{PAPERS[0]}/comments",
            content=b"{not json",
            headers={"content-type": "application/json"},
        ),
        400,
    )
    _problem(api.post(f"/api/v1/papers/{PAPERS[0]}/comments", json={"body": "x" * 10_001}), 413)
    _problem(api.post(f"/api/v1/papers/{PAPERS[0]}/comments", json={"text": "wrong field"}), 400)
    _problem(api.post("/api/v1/papers/2999.99999/vote"), 404)
    _problem(api.get("/api/v1/collections?cursor=abc"), 400)
    _problem(TestClient(client.app).post(f"/api/v1/papers/{PAPERS[0]}/vote"), 401)
    bad = TestClient(client.app, headers={"Authorization": "Bearer prt_forged"})
    _problem(bad.post(f"/api/v1/papers/{PAPERS[0]}/vote"), 401)
    other = TestClient(client.app)
    other_csrf = web_sign_in(other, smtp_server, "other@example.org")
    other_token = re.search(
        r'data-testid="new-token">(prt_[\w-]+)<',
        other.post("/me/tokens", data={"csrf_token": other_csrf, "name": "x"}).text,
    ).group(1)  # type: ignore[union-attr]
    foreign = TestClient(client.app, headers={"Authorization": f"Bearer {other_token}"})
    _problem(foreign.post(f"/api/v1/collections/{pk}/papers", json={"paper_id": PAPERS[0]}), 403)
    tokens = client.get("/me").text
    token_pk = re.search(r"/me/tokens/(\d+)/revoke", tokens).group(1)  # type: ignore[union-attr]
    client.post(f"/me/tokens/{token_pk}/revoke", data={"csrf_token": csrf})
    _problem(api.post(f"/api/v1/papers/{PAPERS[0]}/vote"), 401)


def test_outbox_only_in_demo_mode(client: TestClient, database_url: str) -> None:
    assert client.get("/dev/outbox").status_code == 404
    demo = create_app(Config(database_url=database_url, demo=True, allowed_hosts="testserver"))
    with TestClient(demo) as browser:
        login = browser.get("/login")
        assert "demo@paperroute.local" in login.text and "/dev/outbox" in login.text
        browser.post(
            "/login", data={"email": "demo@paperroute.local", "csrf_token": csrf_of(login.text)}
        )
        outbox = browser.get("/dev/outbox")
        message = re.search(r'href="(/dev/outbox/\d+)"', outbox.text).group(1)  # type: ignore[union-attr]
        shown = browser.get(message)
        link = re.search(r'<a href="(http://[^"]+)"', shown.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
        confirm = browser.get(link.removeprefix("http://127.0.0.1:8000"))
        browser.post(
            "/auth/verify",
            data={
                "token": re.search(r'name="token" value="([^"]+)"', confirm.text).group(1),
                "csrf_token": csrf_of(confirm.text),
            },
        )  # type: ignore[union-attr]
        assert "admin" in browser.get("/me").text and browser.get("/admin").status_code == 200
        assert browser.get("/dev/outbox/999999").status_code == 404
    demo.state.hub.close()


def test_serving_without_a_secret_key_is_a_startup_error(database_url: str) -> None:
    with pytest.raises(ConfigError, match="secret key"):
        create_app(Config(database_url=database_url))


def test_sign_in_returns_to_the_page_and_never_to_another_site(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    csrf = csrf_of(client.get("/login").text)
    for target in (f"/papers/{PAPERS[0]}", "https://evil.example/x", "//evil.example"):
        client.post("/login", data={"email": "a@example.org", "csrf_token": csrf, "next": target})
    texts = [m.text() for m in smtp_server.wait_for(3)]
    assert "next=%2Fpapers%2F2401.00001" in texts[0]
    assert "evil" not in texts[1] + texts[2]
    token = re.search(r"token=([\w-]+)", texts[0]).group(1)  # type: ignore[union-attr]
    confirm = client.get(f"/auth/verify?token={token}&next=//evil.example")
    assert 'name="next" value="/me"' in confirm.text


def test_hostile_requests_get_4xx_never_500(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    header = {"X-CSRF-Token": csrf}
    for path in ("/collections/99999999999999999999", "/collections/0", "/collections/-1"):
        assert client.get(path).status_code in {400, 404}
    assert client.post("/collections/99999999999/delete", headers=header).status_code == 400
    assert client.get("/collections?before=99999999999999").status_code == 400
    _problem(client.get("/api/v1/collections/99999999999999"), 400)
    _problem(client.get("/api/v1/collections?cursor=99999999999999"), 400)
    assert client.post("/papers/%00/vote", headers=header).status_code == 404
    assert client.post("/papers/" + "9" * 3000 + "/vote", headers=header).status_code == 404
    garbage = client.post(
        f"/papers/{PAPERS[0]}/comments",
        content=b"body=%FF%FE%00&csrf_token=" + csrf.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert garbage.status_code == 400
    multipart = client.post(
        f"/papers/{PAPERS[0]}/comments",
        files={"body": (None, "via multipart"), "csrf_token": (None, csrf)},
    )
    assert multipart.status_code == 200 and "via multipart" in multipart.text
    no_token = client.post(f"/papers/{PAPERS[0]}/comments", files={"body": (None, "x")})
    assert no_token.status_code == 403
    broken = client.post(
        f"/papers/{PAPERS[0]}/comments",
        content=b"--x\r\nbroken",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code == 403
    api = {"X-CSRF-Token": csrf, "content-type": "application/json"}
    for body in (b"", b"[]", b"null", b'{"body": 5}', b'{"body": "\\ud800"}', b"\xff\xfe"):
        response = client.post(f"/api/v1/papers/{PAPERS[0]}/comments", content=body, headers=api)
        _problem(response, 400)


def test_other_bearer_tokens_are_left_to_their_routes(client: TestClient) -> None:
    other = TestClient(client.app, headers={"Authorization": "Bearer some-webhook-secret"})
    assert other.get("/api/v1/collections").status_code == 200
    _problem(other.post(f"/api/v1/papers/{PAPERS[0]}/vote"), 401)


def test_a_vote_shows_at_once_on_cached_anonymous_pages(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    anonymous = TestClient(client.app)
    assert ">3<" in anonymous.get(f"/papers/{PAPERS[0]}").text  # now cached
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    client.post(f"/papers/{PAPERS[0]}/vote", headers={"X-CSRF-Token": csrf})
    assert 'class="vote-count">4<' in anonymous.get(f"/papers/{PAPERS[0]}").text
