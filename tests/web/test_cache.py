"""The anonymous page cache: invalidation by data version, bounds, per-reader CSRF tokens;
and ``paperroute serve`` refusing to start without what it needs."""

from __future__ import annotations

import re
from typing import Any

import pytest
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
    cache._checked = None  # as if the interval had passed
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
    small = PageCache(Version(), max_bytes=800)
    generation = small.generation()
    for n in range(10):
        small.put(FakeRequest(f"/{n}"), b"y" * 100, "text/plain", generation)  # type: ignore[arg-type]
    assert len(small) == 8 and small.lookup("/9", "", "") is not None
    small.put(FakeRequest("/big"), b"z" * 101, "text/plain", generation)  # type: ignore[arg-type]
    assert small.lookup("/big", "", "") is None  # over an eighth of the budget


def test_each_reader_gets_their_own_escaped_token() -> None:
    cache = PageCache(Version())
    generation = cache.generation()
    body = f"<a>{cache.token_placeholder}</a><b>{cache.token_placeholder}</b>".encode()
    cache.put(FakeRequest("/p"), body, "text/html", generation)  # type: ignore[arg-type]
    hit = cache.lookup("/p", "", 'tok"<1>')
    assert hit is not None and hit[0] == b"<a>tok&quot;&lt;1&gt;</a><b>tok&quot;&lt;1&gt;</b>"


@pytest.mark.parametrize("path", ["/trending", "/papers/2608.16590", "/"])
def test_cached_pages_carry_each_readers_csrf_token(sqlite_demo: TestClient, path: str) -> None:
    readers = [sqlite_demo, TestClient(sqlite_demo.app), TestClient(sqlite_demo.app)]
    pages = [reader.get(path).text for reader in readers]  # the first fills the cache
    found = [
        set(re.findall(r'(?:name="csrf_token" value|X-CSRF-Token": )"([^"]*)"', p)) for p in pages
    ]
    assert all(len(tokens) == 1 for tokens in found), found  # one token per page
    tokens = [tokens.pop() for tokens in found]
    assert readers[0].app.state.page_cache.token_placeholder not in "".join(pages)  # type: ignore[attr-defined]
    if all(tokens):  # the session middleware (community) gives each reader a token
        assert len(set(tokens)) == 3
    assert len({page.replace(token, "") for page, token in zip(pages, tokens, strict=True)}) == 1


def test_serve_refuses_bad_options(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    result = cli(url, "serve", "--port", "0")
    assert result.exit_code == 2
    result = cli(url, "serve", "--workers", "0")
    assert result.exit_code == 2
    no_secret = cli(url, "serve", PAPERROUTE_DEMO="0", PAPERROUTE_SECRET_KEY="")
    assert no_secret.exit_code == 2
    assert "secret" in no_secret.stderr.lower()
    for host in ("0.0.0.0", "192.0.2.1", "::", "example.org"):
        exposed = cli(url, "serve", "--host", host, PAPERROUTE_DEMO="1")
        assert exposed.exit_code == 2, host
        assert "/dev/outbox" in exposed.stderr and host in exposed.stderr


def test_paper_sections_built_for_the_cache_hold_no_readers_token(sqlite_demo: TestClient) -> None:
    seen: list[str] = []

    def spy(request: Any, paper: Any, pk: int) -> None:
        # A section sees the token its forms would render while the page is built.
        seen.append(request.state.csrf_token)

    sqlite_demo.app.state.paper_sections.append((0, spy))  # type: ignore[attr-defined]
    first = sqlite_demo.get("/papers/2608.16590")
    second = TestClient(sqlite_demo.app).get("/papers/2608.16590")
    assert first.status_code == second.status_code == 200
    assert seen == [sqlite_demo.app.state.page_cache.token_placeholder]  # type: ignore[attr-defined]  # built once, with the placeholder
