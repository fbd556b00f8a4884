"""The data-version check is a database query: it never runs on the event loop, and while
one thread runs it the others serve what the cache holds instead of queuing behind it or
querying too."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi.testclient import TestClient

from paperroute.web.cache import PageCache


class SlowVersion:
    def __init__(self) -> None:
        self.value = 0
        self.calls = 0
        self.release = threading.Event()
        self.started = threading.Event()
        self.threads: list[str] = []

    def __call__(self) -> tuple[Any, ...]:
        self.calls += 1
        self.threads.append(threading.current_thread().name)
        self.started.set()
        self.release.wait(5)
        return (self.value,)


def test_one_reader_of_the_version_at_a_time_and_nobody_waits() -> None:
    version = SlowVersion()
    version.release.set()
    # An interval long enough that a loaded machine (CI) does not make the version due
    # again between the reader's read and the last line.
    cache = PageCache(version, check_interval=1.0)
    cache.refresh()
    assert version.calls == 1 and not cache.due()
    time.sleep(1.05)
    assert cache.due()
    version.release.clear()
    reader = threading.Thread(target=cache.refresh)
    reader.start()
    assert version.started.wait(5)
    assert not cache.due()  # someone is reading it
    started = time.monotonic()
    assert cache.lookup("/x", "", "") is None  # goes on at once, no second query
    cache.refresh()
    assert time.monotonic() - started < 1 and version.calls == 2
    version.release.set()
    reader.join(5)
    assert not cache.due()


def test_the_event_loop_never_reads_the_version(sqlite_demo: TestClient) -> None:
    app: Any = sqlite_demo.app
    seen: list[str] = []
    version = app.state.page_cache._version_of

    def spy() -> tuple[Any, ...]:
        seen.append(threading.current_thread().name)
        return version()  # type: ignore[no-any-return]

    app.state.page_cache._version_of = spy
    app.state.page_cache.clear()
    for _ in range(3):
        assert sqlite_demo.get("/").status_code == 200
        app.state.page_cache._checked = None  # due again
    assert seen
    loop_thread = sqlite_demo.portal.call(lambda: threading.current_thread().name)  # type: ignore[union-attr]
    assert loop_thread not in seen, (loop_thread, seen)


def test_the_data_version_moves_with_a_write_by_another_connection(database_url: str) -> None:
    """On both databases: the version stays put while nothing is written, and changes once
    another connection commits (a vote, an import, a moderation)."""
    from sqlalchemy import create_engine, text

    from paperroute import Config, open_hub

    with open_hub(Config(database_url=database_url)) as hub:
        version = hub.reading.data_version
        try:
            # PostgreSQL's version is the server's WAL position: a write to another database
            # of the same server (another test worker's) moves it too, so "stays put" is
            # asked of two reads with nothing written between them, some time in 50 tries.
            for _ in range(50):
                before = version()
                if version() == before:
                    break
            else:
                raise AssertionError("the data version never stayed put between two reads")
            other = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
            with other.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO harvest_state (key, value, updated_at) VALUES ('k', '{}', :t)"
                    ),
                    {"t": "2026-11-27 00:00:00+00:00"},
                )
            other.dispose()
            assert version() != before
        finally:
            hub.reading.close()
