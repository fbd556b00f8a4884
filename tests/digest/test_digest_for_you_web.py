"""The For-you choice on the web, over the real app (TestClient) on SQLite and PostgreSQL:
the manage page's For-you fields and its preview, the JSON API's ``for_you`` and ``seeds``,
and hostile seed input (a clear 400, nothing stored), mail to a real SMTP server."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperroute import Config, Hub, open_hub
from paperroute.web.app import create_app
from support.community import csrf_of, web_sign_in
from support.digest_data import make_config, paper_records
from support.embedders import HashEmbedder
from support.smtp import SmtpServer

FIRST_DAY_PAPER = "2608.16890"  # listed on the first of the three days
DIGEST_DAY_PAPER = "2608.19861"  # listed on the last: the digest's day


@pytest.fixture
def web_config(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Config:
    config = make_config(
        database_url,
        smtp_url=smtp_server.url,
        base_url="http://papers.example.org",
        vector_index_dir=str(tmp_path / "index"),
    )
    with open_hub(config, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(paper_records())
        hub.search.embed()
        hub.search.store_term_bags()
    return config


@pytest.fixture
def client(web_config: Config) -> Iterator[TestClient]:
    app = create_app(web_config, embedder=HashEmbedder())
    with TestClient(app) as made:
        yield made
    app.state.hub.close()


def hub_of(client: TestClient) -> Hub:
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    return hub


def manage_path(client: TestClient, email: str) -> str:
    hub = hub_of(client)
    subscriber = hub.digests.find(email)
    assert subscriber is not None
    return f"/subscription/{hub.digests.manage_token(subscriber)}"


def test_manage_page_sets_for_you_and_seeds(client: TestClient) -> None:
    hub = hub_of(client)
    hub.digests.add_confirmed("anon@example.org", {"frequency": "daily"})
    path = manage_path(client, "anon@example.org")
    form = client.get(path)
    assert form.status_code == 200 and 'name="for_you"' in form.text and 'name="seeds"' in form.text
    assert "No reader account has this address and no seed papers" in form.text
    fields = {"csrf_token": csrf_of(form.text), "full": "1", "trending": "on", "for_you": "on"}
    for seeds, said in [
        ("garbage, 2401.01234", "not one: &#39;garbage&#39;"),
        ("２４０１.０１２３４", "arXiv ids like 2401.01234"),
        (" ".join(f"2401.{n:05d}" for n in range(300)), "at most 50"),
        ("2401.01234 hep-th/99", "&#39;hep-th/99&#39;"),
    ]:
        bad = client.post(path, data={**fields, "seeds": seeds, "max_papers": "3"})
        assert bad.status_code == 400 and said in bad.text, bad.text[-2000:]
        kept = hub.digests.find("anon@example.org")
        assert kept is not None and not kept.prefs.for_you and kept.prefs.max_papers == 10
    huge = client.post(path, data={**fields, "seeds": "2401.01234 " * 1000})
    assert huge.status_code == 400 and "too long" in huge.text
    saved = client.post(path, data={**fields, "seeds": f"arXiv:{FIRST_DAY_PAPER}v1,\n2401.01234"})
    assert saved.status_code == 200 and "Saved" in saved.text
    assert "For you uses the seed papers below" in saved.text and FIRST_DAY_PAPER in saved.text
    # A paper the hub does not hold yet is kept, and named; one it holds is listed by title.
    assert re.search(
        r'data-testid="unknown-seeds">Not on this hub yet: 2401\.01234\. It counts once', saved.text
    )
    title = html.escape(hub.papers.show(FIRST_DAY_PAPER).title, quote=False)
    listed = re.search(r'data-testid="seed-titles">(.*?)</ul>', saved.text, re.S)
    assert listed is not None and title in listed.group(1) and "2401.01234" not in listed.group(1)
    assert f'href="/papers/{FIRST_DAY_PAPER}"' in listed.group(1)
    # A seed paper the moderators hid keeps its title to itself.
    moderator = hub.community.ensure_user("mod@example.org", admin=True)
    hub.community.set_paper_hidden(moderator, FIRST_DAY_PAPER, True, "spam")
    assert title not in client.get(path).text
    stored = hub.digests.find("anon@example.org")
    assert stored is not None and stored.prefs.for_you
    assert stored.prefs.seeds == (FIRST_DAY_PAPER, "2401.01234")
    # Unticking the box turns it off and keeps the seeds.
    off = client.post(path, data={**fields, "for_you": "", "seeds": FIRST_DAY_PAPER})
    assert off.status_code == 200
    turned = hub.digests.find("anon@example.org")
    assert turned is not None and not turned.prefs.for_you and turned.prefs.seeds


def test_manage_preview_shows_the_section_or_says_why_not(client: TestClient) -> None:
    hub = hub_of(client)
    hub.digests.add_confirmed(
        "anon@example.org",
        {"frequency": "daily", "for_you": True, "seeds": [FIRST_DAY_PAPER]},
    )
    page = client.get(manage_path(client, "anon@example.org") + "/preview")
    assert page.status_code == 200 and "sandbox" in page.text
    body = html.unescape(re.search(r'srcdoc="([^"]*)"', page.text).group(1))  # type: ignore[union-attr]
    assert "For you</h2>" in body and "close to " in body
    assert "script-src" in page.headers["content-security-policy"]
    hub.digests.add_confirmed("plain@example.org", {"frequency": "daily", "for_you": True})
    why = client.get(manage_path(client, "plain@example.org") + "/preview")
    assert why.status_code == 200 and 'data-testid="for-you-note"' in why.text
    assert "no reader account has this address and no seed papers" in why.text
    forged = client.get("/subscription/MS4x.forged/preview")
    assert forged.status_code == 400


def test_admin_preview_leaves_a_reader_s_signals_out(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    hub = hub_of(client)
    hub.community.ensure_user("admin@example.org", admin=True)
    reader = hub.community.ensure_user("reader@example.org")
    hub.signals.set_feedback(reader.pk, FIRST_DAY_PAPER, "more")
    hub.digests.add_confirmed("reader@example.org", {"frequency": "daily", "for_you": True})
    own = client.get(manage_path(client, "reader@example.org") + "/preview")
    assert "For you&lt;/h2&gt;" in own.text or "For you</h2>" in html.unescape(own.text)
    web_sign_in(client, smtp_server, "admin@example.org")
    admin = client.get("/digest/preview?email=reader@example.org")
    assert admin.status_code == 200 and 'data-testid="for-you-note"' in admin.text
    assert "private" in admin.text
    assert "For you</h2>" not in html.unescape(admin.text) and "close to" not in admin.text


def test_api_takes_for_you_and_refuses_hostile_seeds(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    hub = hub_of(client)
    for seeds, said in [
        ([f"2401.{n:05d}" for n in range(10_000)], "at most 50"),
        (["../../etc/passwd"], "arXiv ids like"),
        (["2401.01234", "\u0661\u0662\u0663\u0664.\u0661\u0662\u0663\u0664"], "arXiv ids like"),
        ("2401.01234" * 5000, "seeds must be a list"),
        ({"$ne": 1}, "seeds must be a list"),
        ([None], "must be an arXiv id"),
    ]:
        answer = client.post(
            "/api/v1/subscriptions",
            json={"email": "api@example.org", "for_you": True, "seeds": seeds},
        )
        assert answer.status_code == 400, (seeds, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert said in answer.json()["detail"]
        assert hub.digests.find("api@example.org") is None
    over = client.post(
        "/api/v1/subscriptions",
        json={"email": "api@example.org", "seeds": [f"2401.{n:05d}" for n in range(100_000)]},
    )
    assert over.status_code == 413 and hub.digests.find("api@example.org") is None
    flag = client.post(
        "/api/v1/subscriptions", json={"email": "api@example.org", "for_you": "maybe?"}
    )  # the API takes the boolean it documents, not a form's "on"
    assert flag.status_code == 400 and "for_you must be true or false" in flag.json()["detail"]
    bad_flag = client.post(
        "/api/v1/subscriptions", json={"email": "api2@example.org", "for_you": [1]}
    )
    assert bad_flag.status_code == 400 and "for_you must be true or false" in bad_flag.text
    ok = client.post(
        "/api/v1/subscriptions",
        json={"email": "api3@example.org", "for_you": True, "seeds": [DIGEST_DAY_PAPER]},
    )
    assert ok.status_code == 202
    stored = hub.digests.find("api3@example.org")
    assert stored is not None and stored.status == "pending"
    assert stored.prefs.for_you and stored.prefs.seeds == (DIGEST_DAY_PAPER,)
    schema = client.get("/api/v1/openapi.json").json()
    assert "seeds" in str(schema) and "for_you" in str(schema)
