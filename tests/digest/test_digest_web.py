"""The digest pages and API over the real app (TestClient), mail to a real SMTP server:
subscribe from the footer and the full form, confirm, manage, unsubscribe by page and by
RFC 8058 one-click POST, the admin preview, the JSON API and the bounce webhook, with
malformed and hostile input everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperroute import Config, open_hub
from paperroute.store.schema_digests import digest_sends, subscribers, suppressions
from paperroute.store.schema_mail import outbox as outbox_table
from paperroute.web.app import create_app
from support.community import csrf_of, web_sign_in
from support.digest_data import AS_OF, DATA, make_config, paper_records
from support.smtp import SmtpServer

TOKEN = "bounce-webhook-token-0123456789"


@pytest.fixture
def web_config(database_url: str, smtp_server: SmtpServer) -> Config:
    config = make_config(
        database_url,
        smtp_url=smtp_server.url,
        # http: the session cookie of an https site is Secure, and TestClient speaks http.
        base_url="http://papers.example.org",
        digest_bounce_token=TOKEN,
        digest_subscribe_per_ip_hour=6,
        http_timeout=5.0,
    )
    with open_hub(config) as hub:
        hub.papers.ingest(paper_records())
    return config


@pytest.fixture
def client(web_config: Config) -> Iterator[TestClient]:
    app = create_app(web_config)
    with TestClient(app) as made:
        yield made
    app.state.hub.close()


def status_of(client: TestClient, email: str) -> tuple[str | None, str | None]:
    engine = client.app.state.hub._db.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        status = connection.scalar(select(subscribers.c.status).where(subscribers.c.email == email))
        reason = connection.scalar(
            select(suppressions.c.reason).where(suppressions.c.email == email)
        )
    return status, reason


def mailed_link(server: SmtpServer, email: str, path: str) -> str:
    return server.found_in_last(email, rf"http://papers\.example\.org({re.escape(path)}\S+)")


def confirm(client: TestClient, link: str) -> Any:
    """Follow a confirmation link and press its Confirm button."""
    page = client.get(link)
    assert page.status_code == 200, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token, page.text
    return client.post(
        "/subscribe/confirm", data={"token": token.group(1), "csrf_token": csrf_of(page.text)}
    )


def subscribe(client: TestClient, **fields: str) -> Any:
    page = client.get("/subscribe")
    return client.post("/subscribe", data={"csrf_token": csrf_of(page.text), **fields})


def test_footer_form_then_confirm_then_manage(client: TestClient, smtp_server: SmtpServer) -> None:
    home = client.get("/subscribe")
    answer = client.post(
        "/subscribe", data={"email": "Reader@Example.org", "csrf_token": csrf_of(home.text)}
    )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert status_of(client, "reader@example.org") == ("pending", None)
    link = mailed_link(smtp_server, "reader@example.org", "/subscribe/confirm?token=")
    # Following the link shows a button: a mail scanner's GET confirms nothing.
    shown = client.get(link)
    assert shown.status_code == 200 and "Confirm my subscription" in shown.text
    assert status_of(client, "reader@example.org") == ("pending", None)
    page = confirm(client, link)
    assert page.status_code == 200 and "Subscription confirmed" in page.text
    assert status_of(client, "reader@example.org") == ("confirmed", None)
    assert "Subscription confirmed" in client.get(link).text  # following it again is fine
    manage = re.search(r'href="(/subscription/[^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = client.get(manage)
    assert form.status_code == 200 and 'name="keywords"' in form.text
    saved = client.post(
        manage,
        data={
            "csrf_token": csrf_of(form.text),
            "full": "1",
            "categories": "cs.CL",
            "keywords": "diffusion\nagents",
            "frequency": "weekly",
            "weekday": "4",
            "send_hour": "18",
            "timezone": "Asia/Tokyo",
            "max_papers": "5",
        },
    )
    assert saved.status_code == 200 and "Saved" in saved.text
    assert "Asia/Tokyo" in saved.text and "diffusion" in saved.text
    bad = client.post(
        manage, data={"csrf_token": csrf_of(form.text), "full": "1", "timezone": "Mars/Base"}
    )
    assert bad.status_code == 400 and "not a time zone" in bad.text
    gone = client.post(f"{manage}/unsubscribe", data={"csrf_token": csrf_of(form.text)})
    assert gone.status_code == 200 and "Unsubscribed" in gone.text
    assert status_of(client, "reader@example.org") == ("unsubscribed", "unsubscribed")


def test_subscribe_needs_its_csrf_token(client: TestClient) -> None:
    answer = client.post("/subscribe", data={"email": "reader@example.org"})
    assert answer.status_code == 403
    assert status_of(client, "reader@example.org") == (None, None)


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"email": "not-an-address"}, 400, "needs a name, an @"),
        ({"email": "reader@example.org\r\nBcc: x@example.org"}, 400, "line breaks"),
        ({"email": "üser@example.org"}, 400, "SMTPUTF8"),
        ({"email": "x" * 3000 + "@example.org"}, 400, "longer than"),
        ({"email": "reader@example.org", "full": "1", "trending": ""}, 400, "choose at least"),
        ({"email": "reader@example.org", "timezone": "../../etc/passwd"}, 400, "time zone"),
        ({"email": "reader@example.org", "max_papers": "99999999999999999999"}, 400, "max"),
        ({"email": "reader@example.org", "keywords": "x" * 5000}, 400, "too long"),
    ],
)
def test_bad_subscriptions_are_explained(
    client: TestClient, smtp_server: SmtpServer, fields: dict[str, str], status: int, message: str
) -> None:
    answer = subscribe(client, **fields)
    assert answer.status_code == status
    assert message in answer.text and "Traceback" not in answer.text
    assert smtp_server.messages == []


def test_rate_limit_answers_429(client: TestClient, smtp_server: SmtpServer) -> None:
    for n in range(6):
        assert subscribe(client, email=f"r{n}@example.org").status_code == 200
    answer = subscribe(client, email="r9@example.org")
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    assert "too many" in answer.text


def test_one_click_unsubscribe(client: TestClient, smtp_server: SmtpServer) -> None:
    subscribe(client, email="reader@example.org")
    confirm(client, mailed_link(smtp_server, "reader@example.org", "/subscribe/confirm?token="))
    assert status_of(client, "reader@example.org") == ("confirmed", None)
    app = client.app
    result = app.state.digests.send(ignore_hour=True)  # type: ignore[attr-defined]
    assert result.report.sent == 1
    digest = smtp_server.to("reader@example.org")[-1].message
    header = str(digest["List-Unsubscribe"])
    url = re.search(r"<http://papers\.example\.org(/unsubscribe/[^>]+)>", header).group(1)  # type: ignore[union-attr]
    # The GET is a page, not the action (link scanners follow links).
    assert client.get(url).status_code == 200
    assert status_of(client, "reader@example.org")[0] == "confirmed"
    # A mail provider's POST: no cookie, no CSRF token, the RFC 8058 body.
    with TestClient(app) as provider:
        forged = provider.post(url[:-4] + "AAAA", content=b"List-Unsubscribe=One-Click")
        assert forged.status_code == 400
        assert status_of(client, "reader@example.org")[0] == "confirmed"
        done = provider.post(
            url,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200
        again = provider.post(url, content=b"List-Unsubscribe=One-Click")
        assert again.status_code == 200
    assert status_of(client, "reader@example.org") == ("unsubscribed", "unsubscribed")


@pytest.mark.parametrize(
    "path",
    [
        "/subscribe/confirm?token=",
        "/subscribe/confirm?token=abc.def",
        "/subscribe/confirm?token=" + "A" * 5000,
        "/subscription/abc.def",
        "/subscription/%00%0d%0a",
        "/unsubscribe/abc.def",
    ],
)
def test_forged_links_are_400_pages(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 400 and "not valid" in answer.text


def test_forged_confirmation_post_is_refused(client: TestClient) -> None:
    page = client.get("/subscribe")
    for token in ("abc.def", "", "x" * 5000):
        answer = client.post(
            "/subscribe/confirm", data={"token": token, "csrf_token": csrf_of(page.text)}
        )
        assert answer.status_code == 400 and "not valid" in answer.text


def test_api_subscriptions(client: TestClient, smtp_server: SmtpServer) -> None:
    ok = client.post(
        "/api/v1/subscriptions",
        json={"email": "api@bücher.de", "categories": ["cs.CL"], "frequency": "daily"},
    )
    assert ok.status_code == 202 and ok.json()["status"] == "pending"
    assert smtp_server.wait_for(1)[0].recipients == ("api@xn--bcher-kva.de",)
    for body, status in [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"email": 5}', 400),
        (b'{"email": "a@example.org", "frequency": "hourly"}', 400),
        (b'{"email": "a@example.org\\r\\nBcc: b@example.org"}', 400),
        # The types the schema promises, not the form's strings: "3", "false", null.
        (b'{"email": "a@example.org", "weekday": "3"}', 400),
        (b'{"email": "a@example.org", "max_papers": true}', 400),
        (b'{"email": "a@example.org", "trending": "false"}', 400),
        (b'{"email": "a@example.org", "keywords": null}', 400),
        (b'{"email": "a@example.org", "categories": "cs.CL"}', 400),
    ]:
        answer = client.post(
            "/api/v1/subscriptions", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == status, body
        assert answer.headers["content-type"] == "application/problem+json"
    # JSON in a form's or plain text's clothes (what another site can post unasked): 415.
    kinds = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "")
    for kind in (*kinds, "text/plain+json", "text/json"):
        answer = client.post(
            "/api/v1/subscriptions",
            content=b'{"email": "plain@example.org"}',
            headers={"content-type": kind},
        )
        assert answer.status_code == 415, kind
        assert "application/json" in answer.json()["detail"]
    # A misspelt field is named back, not dropped (the subscription would differ from intent).
    typo = client.post(
        "/api/v1/subscriptions",
        content=b'{"email": "typo@example.org", "frequncy": "weekly"}',
        headers={"content-type": "application/json"},
    )
    assert typo.status_code == 400 and "unknown field 'frequncy'" in typo.json()["detail"]
    assert "frequency" in typo.json()["detail"]  # the known fields listed
    # Two Content-Type headers are malformed, whichever comes first.
    for pair in (("application/json", "text/plain"), ("text/plain", "application/json")):
        answer = client.post(
            "/api/v1/subscriptions",
            content=b'{"email": "two@example.org"}',
            headers=[("content-type", kind) for kind in pair],
        )
        assert answer.status_code == 415, pair
    for body, message in [
        (b"not json", "not valid JSON"),
        ('{"email": "b@example.org", "keywords": ["caf\xe9"]}'.encode("latin-1"), "UTF-8"),
        (b'{"email": "b@example.org", "keywords": ' + b"[" * 5000 + b"]" * 5000 + b"}", "deeply"),
        # Which of two e-mails would be subscribed? Neither: the body is refused.
        (b'{"email": "c1@example.org", "email": "c2@example.org"}', "'email' is given twice"),
        ('{"email": "d@example.org"}'.encode("utf-16"), "UTF-8"),
        (b'{"email": "e@example.org", "max_papers": ' + b"9" * 5000 + b"}", "number"),
    ]:
        answer = client.post(
            "/api/v1/subscriptions", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400 and message in answer.json()["detail"], body[:40]
    huge = client.post(
        "/api/v1/subscriptions",
        content=b'{"email": "' + b"a" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["title"] == "Content Too Large"  # RFC 9110's name, as the webhook's
    # A declared length over the cap is refused at once, whatever is sent after it.
    for declared in ("5000000", "9" * 30):
        told = client.post(
            "/api/v1/subscriptions",
            content=b'{"email": "f@example.org"}',
            headers={"content-type": "application/json", "content-length": declared},
        )
        assert told.status_code == 413, declared


def test_bounce_webhook(client: TestClient) -> None:
    dsn = (DATA / "dsn-mailbox-full-hard.eml").read_bytes()
    assert client.post("/api/v1/bounces", content=dsn).status_code == 401
    wrong = client.post("/api/v1/bounces", content=dsn, headers={"X-Bounce-Token": "nope"})
    assert wrong.status_code == 401
    not_dsn = client.post(
        "/api/v1/bounces",
        content=(DATA / "not-dsn-gmail-plain.eml").read_bytes(),
        headers={"X-Bounce-Token": TOKEN},
    )
    assert not_dsn.status_code == 422 and "not a delivery status" in not_dsn.json()["detail"]
    assert status_of(client, "user@aol.com") == (None, None)
    # Never mailed: a forged DSN is answered but changes nothing.
    forged = client.post("/api/v1/bounces", content=dsn, headers={"X-Bounce-Token": TOKEN})
    assert forged.status_code == 200, forged.text
    assert forged.json()["unmatched"] == 1 and forged.json()["suppressed"] == []
    assert status_of(client, "user@aol.com") == (None, None)
    hub = client.app.state.hub  # type: ignore[attr-defined]
    hub.digests.add_confirmed("user@aol.com", {"trending": "on"})
    assert hub.digests.send(as_of=AS_OF, ignore_hour=True).report.sent == 1
    with hub._db.engine.connect() as connection:
        message_id = connection.scalar(select(digest_sends.c.message_id))
    dsn = dsn.replace(b"<4E326A95.3010907@example.com>", message_id.encode())
    ok = client.post("/api/v1/bounces", content=dsn, headers={"X-Bounce-Token": TOKEN})
    assert ok.status_code == 200, ok.text
    assert ok.json()["suppressed"] == ["user@aol.com"] and ok.json()["unmatched"] == 0
    assert status_of(client, "user@aol.com") == ("confirmed", "hard-bounce")
    # A hard-bounced address cannot subscribe again from the form.
    answer = subscribe(client, email="user@aol.com")
    assert answer.status_code == 403 and "suppression list" in answer.text


def test_admin_preview_and_me_section(
    client: TestClient, smtp_server: SmtpServer, web_config: Config
) -> None:
    assert client.get(
        "/digest/preview?email=x@example.org", follow_redirects=False
    ).status_code in (
        303,
        401,
    )
    with open_hub(web_config) as hub:
        hub.community.ensure_user("admin@example.org", admin=True)
    web_sign_in(client, smtp_server, "admin@example.org")
    me = client.get("/me")
    assert "Email digest" in me.text and "Subscribe with this address" in me.text
    answer = client.post(
        "/subscribe", data={"email": "admin@example.org", "csrf_token": csrf_of(me.text)}
    )
    assert answer.status_code == 200 and "no confirmation needed" in answer.text
    assert "Manage your digest" in client.get("/me").text
    preview = client.get("/digest/preview?email=admin@example.org")
    assert preview.status_code == 200
    assert re.search(
        r'data-testid="preview-subject">paperroute digest, \w{3} \d+ \w{3} \d{4}: \d+ papers?<',
        preview.text,
    )
    assert "srcdoc=" in preview.text and "sandbox" in preview.text
    assert client.get("/digest/preview?email=nobody@example.org").status_code == 404
    assert client.get("/digest/preview?email=bad").status_code == 400


def test_demo_mode_puts_the_first_digest_in_the_outbox(database_url: str) -> None:
    """`make demo`: subscribe, confirm, and read a real digest at /dev/outbox."""
    config = make_config(database_url, smtp_url="", demo=True, base_url="http://testserver")
    with open_hub(config) as hub:
        hub.papers.ingest(paper_records())
    app = create_app(config)
    with TestClient(app) as client:
        assert subscribe(client, email="newcomer@example.org").status_code == 200
        outbox = client.get("/dev/outbox")
        assert outbox.status_code == 200 and "Confirm your paperroute digest" in outbox.text
        engine = app.state.hub._db.engine
        with engine.connect() as connection:
            raw = connection.scalar(select(outbox_table.c.raw).order_by(outbox_table.c.pk))
        text = message_from_bytes(raw, policy=default).get_body(("plain",)).get_content()
        link = re.search(r"http://testserver(/subscribe/confirm\?token=\S+)", text)
        assert link, text
        page = confirm(client, link.group(1))
        assert "your first digest is already in the" in page.text
        with engine.connect() as connection:
            subjects = connection.scalars(
                select(outbox_table.c.subject).order_by(outbox_table.c.pk)
            ).all()
        assert len(subjects) == 2 and subjects[1].startswith("paperroute digest, ")
    app.state.hub.close()


def test_the_answer_does_not_tell_who_is_subscribed(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    def answer(email: str) -> str:
        page = subscribe(client, email=email)
        assert page.status_code == 200
        found = re.search(r'role="status">([^<]+)<', page.text)
        assert found
        return found.group(1).replace(email, "ADDRESS")

    first = answer("known@example.org")
    confirm(client, mailed_link(smtp_server, "known@example.org", "/subscribe/confirm?token="))
    assert answer("known@example.org") == first == answer("stranger@example.org")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 1000 + b"]" * 1000, "nested too deeply"),  # was a RecursionError: 500
        (b'{"email": "a@example.org", "categories": false}', "categories must be a list"),
        (b'{"email": "a@example.org", "categories": 5}', "categories must be a list"),
        (b'{"email": "a@example.org", "categories": ["cs.FOO"]}', "not an arXiv category"),
        (b'{"email": "a@example.org", "categories": [["cs.CL"]]}', "must be text"),
        (b'{"email": "a@example.org", "keywords": {"a": 1}}', "keywords must be a list"),
        (b'{"email": "a@example.org", "authors": {"Ada": 1}}', "authors must be a list"),
        (b'{"email": "a@example.org", "trending": "maybe", "max_papers": true}', "max papers"),
        (b'{"email": "a@example.org", "trending": 1}', "trending must be true or false"),
        (b'{"email": "a@example.org", "frequency": ["daily"]}', "frequency must be text"),
        (b'{"email": "a@example.org", "timezone": {"x": 1}}', "timezone must be text"),
        (b'{"email": "a@example.org", "weekday": 2.5}', "weekday"),
        (b'{"email": "a@example.org", "send_hour": null}', "send hour"),
    ],
)
def test_every_subscription_field_is_validated(
    client: TestClient, smtp_server: SmtpServer, body: bytes, message: str
) -> None:
    answer = client.post(
        "/api/v1/subscriptions", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert message in answer.json()["detail"]
    assert smtp_server.messages == []


def test_categories_are_arxiv_s_in_arxiv_s_spelling(client: TestClient) -> None:
    ok = client.post(
        "/api/v1/subscriptions",
        json={"email": "cats@example.org", "categories": ["CS.cl", "cs.CL", "math", "quant-ph"]},
    )
    assert ok.status_code == 202, ok.text
    with open_hub(client.app.state.config) as hub:  # type: ignore[attr-defined]
        subscriber = hub.digests.find("cats@example.org")
    assert subscriber is not None
    assert subscriber.prefs.categories == ("cs.CL", "math", "quant-ph")
