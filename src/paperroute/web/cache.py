"""In-process cache of what anonymous readers get: rendered pages, JSON and feeds, keyed by
path and query, dropped as a whole when the data changes.

The data version (``hub.reading.data_version``: a value that changes with every committed
write, read without a table scan) is read at most once per ``check_interval`` seconds.
So an anonymous hit does no database work, and ``StateDefaults`` serves it before routing.
One cache per worker process (on ``app.state.page_cache``).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from html import escape
from typing import Any

from fastapi import Request
from fastapi.responses import Response

MAX_KEY = 512  # longer queries are served fresh, never stored


class PageCache:
    """Thread-safe LRU of response bodies for anonymous GETs, bounded in entries and bytes.
    A body is stored split at the CSRF placeholder (``token_placeholder``), so that each
    reader's token is joined in without a search."""

    def __init__(
        self,
        version: Callable[[], tuple[Any, ...]],
        *,
        max_entries: int = 2000,
        max_bytes: int = 64 * 1024 * 1024,
        check_interval: float = 1.0,
    ) -> None:
        self._version_of = version
        # Random per cache, and never sent (every answer has the reader's token in its
        # place): stored text (a comment) cannot contain it, so no reader's token is ever
        # joined into what someone else wrote.
        self.token_placeholder = "csrf-" + secrets.token_hex(16)
        self._token_bytes = self.token_placeholder.encode()
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._interval = check_interval
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[list[bytes], bytes]] = OrderedDict()
        self._version: tuple[Any, ...] | None = None
        # When the version was last read (time.monotonic); None: never, or forced by clear().
        # Not 0.0: on a machine up for less than one interval, 0.0 would never be due.
        self._checked: float | None = None
        self._checking = False  # a thread is reading the data version now
        self._generation = 0  # bumped whenever entries are dropped

    @staticmethod
    def key_of(path: str, query: str) -> str | None:
        key = path + ("?" + query if query else "")
        return key if len(key) <= MAX_KEY else None

    def due(self) -> bool:
        """Whether the data version should be read again (and nobody is reading it): then
        the caller on the event loop runs ``refresh`` in a worker thread, since the read is a
        database query."""
        return not self._checking and self._stale(time.monotonic())

    def _stale(self, now: float) -> bool:
        return self._checked is None or now - self._checked >= self._interval

    def refresh(self) -> None:
        """Read the data version when it is due, dropping every entry if it changed. While
        one thread reads it, the others go on with the entries they have (at most one
        interval old) instead of waiting or querying too."""
        now = time.monotonic()
        with self._lock:
            if self._checking or not self._stale(now):
                return
            self._checking = True
        try:
            version = self._version_of()
        finally:
            with self._lock:
                self._checking = False
        with self._lock:
            self._checked = now
            if version != self._version:
                self._version = version
                self._drop_all()

    def clear(self) -> None:
        """Forget everything (after a write this process made, so that it shows at once)."""
        with self._lock:
            self._drop_all()
            self._checked = None

    def _drop_all(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self._generation += 1

    def generation(self) -> int:
        """Call before building an answer and hand the result to ``put``: an answer built
        while the data changed is then not stored."""
        self.refresh()
        return self._generation

    def lookup(self, path: str, query: str, token: str) -> tuple[bytes, bytes] | None:
        """(body, media type) of a stored answer, with ``token`` in place, or None."""
        key = self.key_of(path, query)
        if key is None:
            return None
        self.refresh()
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
        parts, media_type = hit
        if len(parts) == 1:
            return parts[0], media_type
        return escape(token, quote=True).encode().join(parts), media_type

    def get(self, request: Request) -> Response | None:
        if request.method != "GET" or getattr(request.state, "user", None) is not None:
            return None
        token = getattr(request.state, "csrf_token", "") or ""
        found = self.lookup(request.scope["path"], _query(request), token)
        if found is None:
            return None
        return Response(found[0], media_type=found[1].decode())

    def put(self, request: Request, body: bytes, media_type: str, generation: int) -> None:
        if request.method != "GET" or getattr(request.state, "user", None) is not None:
            return
        key = self.key_of(request.scope["path"], _query(request))
        if key is None:
            return
        with self._lock:
            if generation != self._generation:
                return
            if len(body) > self._max_bytes // 8:
                return  # one answer never takes more than an eighth of the cache
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= sum(map(len, old[0]))
            self._entries[key] = (body.split(self._token_bytes), media_type.encode())
            self._bytes += len(body) - len(self._token_bytes) * (body.count(self._token_bytes))
            while len(self._entries) > self._max or self._bytes > self._max_bytes:
                _, (parts, _type) = self._entries.popitem(last=False)
                self._bytes -= sum(map(len, parts))

    def respond(self, body: bytes, media_type: str, token: str) -> Response:
        if self._token_bytes in body:
            body = body.replace(self._token_bytes, escape(token, quote=True).encode())
        return Response(body, media_type=media_type)

    def __len__(self) -> int:
        return len(self._entries)


def _query(request: Request) -> str:
    raw: bytes = request.scope.get("query_string", b"")
    return raw.decode("latin-1")
