"""Helpers of the route sweeps (tests/web/test_hostile_headers.py, test_hidden_sweep.py):
every GET route of the app, filled with values, and signing in through demo mode's outbox."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from paperroute import Config
from paperroute.web.app import create_app
from support.community import csrf_of

QUERIES = {
    "/search": "q=attention&page=2",
    "/search/suggest": "q=att",
    "/search/feed": "q=attention",
    "/api/v1/search": "q=attention",
    "/digest/preview": "email=swept%40example.org",
    "/auth/verify": "token=abc.%C3%A9",
    "/subscribe/confirm": "token=abc.%C3%A9",
}


def get_routes(routes: list[BaseRoute]) -> Iterator[str]:
    """Every GET path template of the app (FastAPI nests included routers)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from get_routes(inner.routes)
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield route.path  # type: ignore[attr-defined]


def fill(template: str, values: Mapping[str, str], queries: Mapping[str, str] = QUERIES) -> str:
    """``template`` with its parameters from ``values`` (``outbox`` for /dev/outbox's pk)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "pk" and template.startswith("/dev/outbox"):
            name = "outbox"
        return quote(values[name], safe="/" if match.group(2) == ":path" else "")

    path = re.sub(r"\{(\w+)(:path)?\}", one, template)
    query = queries.get(template, "")
    return path + ("?" + query if query else "")


def demo_app_copy(sqlite_demo_url: str, folder: Path) -> TestClient:
    """A client of the app in demo mode over a copy of the demo database."""
    source = Path(sqlite_demo_url.removeprefix("sqlite:///"))
    shutil.copy(source, folder / "demo.db")
    config = Config(
        database_url=f"sqlite:///{folder / 'demo.db'}",
        demo=True,
        secret_key="web-tests-throwaway-secret",
        allowed_hosts="testserver",
    )
    return TestClient(create_app(config))


def outbox_sign_in(client: TestClient, email: str) -> str:
    """Sign ``client`` in as ``email`` through /login and demo mode's outbox; the CSRF
    token of the session."""
    login = client.get("/login")
    client.post("/login", data={"email": email, "csrf_token": csrf_of(login.text)})
    listing = client.get("/dev/outbox").text
    mails = re.findall(r'<li><a href="(/dev/outbox/\d+)">.*?to ([^ <]+) ', listing)
    found = max((int(path.rsplit("/", 1)[1]), path) for path, to in mails if to == email)
    assert found, "no sign-in mail in the outbox"
    shown = client.get(found[1]).text
    link = re.search(r'href="http://127\.0\.0\.1:8000(/auth/verify[^"]+)"', shown)
    assert link
    confirm = client.get(link.group(1).replace("&amp;", "&")).text
    token = re.search(r'name="token" value="([^"]+)"', confirm)
    assert token
    done = client.post(
        "/auth/verify", data={"token": token.group(1), "csrf_token": csrf_of(confirm)}
    )
    assert done.status_code == 200
    return csrf_of(done.text)
