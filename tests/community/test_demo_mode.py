"""Demo mode serves this machine only (issue 14, item 8): /dev/outbox hands the demo admin's
sign-in link to whoever reaches the app, so a request that came through a proxy or from
another machine is refused; and a database made in demo mode, served outside it, no longer
has the demo account as an admin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paperroute import Config
from paperroute.community import DEMO_ADMIN
from paperroute.web.app import create_app


@pytest.fixture
def demo_app(config: Config) -> Iterator[FastAPI]:
    app = create_app(replace(config, demo=True, smtp_url="outbox"))
    yield app
    app.state.hub.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "127.0.0.53", "::ffff:127.0.0.1"])
def test_demo_serves_loopback_clients(demo_app: FastAPI, host: str) -> None:
    with TestClient(demo_app, client=(host, 50000)) as browser:
        assert browser.get("/dev/outbox").status_code == 200
        assert browser.get("/login").status_code == 200


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Forwarded-For", "203.0.113.9"),
        ("X-Forwarded-For", "127.0.0.1"),  # a proxy's header, whatever it says
        ("Forwarded", "for=203.0.113.9;proto=https"),
        ("X-Real-IP", "203.0.113.9"),
        ("Via", "1.1 proxy"),
        ("CF-Connecting-IP", "203.0.113.9"),
        ("True-Client-IP", "203.0.113.9"),
        ("X-Client-IP", "203.0.113.9"),
        ("X-Forwarded-Server", "proxy.example"),
        ("X-Original-URL", "/dev/outbox"),
        ("X-Forwarded-Host", "papers.example.org"),
        ("X-Forwarded-Proto", "https"),
    ],
)
def test_demo_refuses_requests_through_a_proxy(demo_app: FastAPI, header: str, value: str) -> None:
    with TestClient(demo_app, client=("127.0.0.1", 50000)) as browser:
        for path in ("/dev/outbox", "/", "/api/v1/papers", "/login"):
            answer = browser.get(path, headers={header: value})
            assert answer.status_code == 403, (path, header)
            assert "demo mode" in answer.text and "PAPERROUTE_DEMO=0" in answer.text
            assert header.lower() in answer.text.lower()
        posted = browser.post("/login", data={"email": DEMO_ADMIN}, headers={header: value})
        assert posted.status_code == 403


@pytest.mark.parametrize("host", ["203.0.113.9", "10.0.0.2", "2001:db8::1", "::ffff:203.0.113.9"])
def test_demo_refuses_other_machines(demo_app: FastAPI, host: str) -> None:
    with TestClient(demo_app, client=(host, 50000)) as browser:
        answer = browser.get("/dev/outbox")
        assert answer.status_code == 403 and "not from this machine" in answer.text


def test_outside_demo_mode_proxies_are_served(config: Config) -> None:
    app = create_app(config)
    with TestClient(app, client=("203.0.113.9", 50000)) as browser:
        answer = browser.get("/", headers={"X-Forwarded-For": "198.51.100.7"})
        assert answer.status_code == 200
    app.state.hub.close()


def test_a_demo_database_served_for_real_demotes_the_demo_admin(config: Config) -> None:
    demo = create_app(replace(config, demo=True))
    assert demo.state.hub.community.user_by_email(DEMO_ADMIN).is_admin
    demo.state.hub.close()
    served = create_app(config)  # the same database, demo mode off
    community = served.state.hub.community
    demoted = community.user_by_email(DEMO_ADMIN)
    assert demoted is not None and not demoted.is_admin
    assert not community.retire_demo_admin()  # already done: nothing to do
    served.state.hub.close()
    # Back in demo mode it is the admin again.
    again = create_app(replace(config, demo=True))
    assert again.state.hub.community.user_by_email(DEMO_ADMIN).is_admin
    again.state.hub.close()
