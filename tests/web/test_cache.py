"""The anonymous page cache: invalidation by data version, bounds, per-reader CSRF tokens;
and ``paperroute serve`` refusing to start without what it needs."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from paperroute.web.cache import MAX_KEY, PageCache
from support.cli import cli


class Version:
    def __init__(self) -> None:
        self.value = 0
        self.calls = 0

    def __call__(self) -> tuple[Any, ...]:
        self.calls += 1
        return (self.value,)


class FakeRequest:
    method = "GET"

    def __init__(self, path: str, query: str = "") -> None:
        self.scope = {"path": path, "query_string": query.encode()}

        class State:
            user = None
            csrf_token = ""

        self.state = State()


def test_version_change_drops_everything_and_checks_are_rate_limited() -> None:
    version = Version()
    cache = PageCache(version, check_interval=3600)
    generation = cache.generation()
    cache.put(FakeRequest("/a"), b"body a", "text/plain", generation)  # type: ignore[arg-type]
    assert cache.lookup("/a", "", "") == (b"body a", b"text/plain")
    version.value = 1
    assert cache.lookup("/a", "", "") is not None  # not checked again within the interval
    assert version.calls == 1
    cache.clear()  # forces the next check, and refuses what was built before it
    cache.put(FakeRequest("/a"), b"stale", "text/plain", generation)  # type: ignore[arg-type]
    assert cache.lookup("/a", "", "") is None and version.calls == 2
    generation = cache.generation()
    cache.put(FakeRequest("/a"), b"body a", "text/plain", generation)  # type: ignore[arg-type]
    assert cache.lookup("/a", "", "") is not None
    version.value = 2
    cache._checked = 0.0
    assert cache.lookup("/a", "", "") is None and version.calls == 3


def test_bounded_and_long_keys_are_not_stored() -> None:
    cache = PageCache(Version(), max_entries=3)
    generation = cache.generation()
    for n in range(5):
        cache.put(FakeRequest(f"/{n}"), b"x", "text/plain", generation)  # type: ignore[arg-type]
    assert len(cache) == 3 and cache.lookup("/0", "", "") is None
    long_query = "q=" + "x" * MAX_KEY
    cache.put(FakeRequest("/long", long_query), b"x", "text/plain", generation)  # type: ignore[arg-type]
    assert cache.lookup("/long", long_query, "") is None


def test_each_reader_gets_their_own_escaped_token() -> None:
    cache = PageCache(Version())
    generation = cache.generation()
    body = f"<a>{cache.TOKEN_PLACEHOLDER}</a><b>{cache.TOKEN_PLACEHOLDER}</b>".encode()
    cache.put(FakeRequest("/p"), body, "text/html", generation)  # type: ignore[arg-type]
    hit = cache.lookup("/p", "", 'tok"<1>')
    assert hit is not None and hit[0] == b"<a>tok&quot;&lt;1&gt;</a><b>tok&quot;&lt;1&gt;</b>"


def test_cached_pages_carry_each_readers_csrf_token(sqlite_demo: TestClient) -> None:
    first = sqlite_demo.get("/trending")
    other = TestClient(sqlite_demo.app)  # another reader: no cookies
    second = other.get("/trending")
    tokens = [
        re.search(r'name="csrf_token" value="([^"]*)"', r.text)[1]  # type: ignore[index]
        for r in (first, second)
    ]
    assert PageCache.TOKEN_PLACEHOLDER not in first.text + second.text
    if all(tokens):  # the session middleware (community) gives each reader a token
        assert tokens[0] != tokens[1]
    assert first.text.replace(tokens[0], "") == second.text.replace(tokens[1], "")


def test_serve_refuses_bad_options(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    result = cli(url, "serve", "--port", "0")
    assert result.exit_code == 2
    result = cli(url, "serve", "--workers", "0")
    assert result.exit_code == 2
    no_secret = cli(url, "serve", PAPERROUTE_DEMO="0", PAPERROUTE_SECRET_KEY="")
    assert no_secret.exit_code == 2
    assert "secret" in no_secret.stderr.lower()
