"""A real HTTP server on 127.0.0.1 that answers recorded replies, for testing network clients.

Usage::

    with ReplayServer() as server:
        server.add("/api/query", Reply(503, headers={"Retry-After": "10"}), Reply(200, body))
        client.get(server.url + "/api/query", params={"id_list": "1707.08567"})
        assert server.requests == [("/api/query", {"id_list": "1707.08567"})] * 2

A path answers its replies in order and then repeats the last one. An unregistered path gets
a 404 with a short text body. Recordings are loaded with :func:`load_recording` (arXiv API
``{url, status_code, body}`` JSON) and :func:`load_oai_recording` (an OAI-PMH ``*_N_STATUS.xml``
fixture plus the headers from its nock recording).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

__all__ = ["ReplayServer", "Reply", "load_nock_replies", "load_oai_recording", "load_recording"]

# The server computes these itself; copying recorded ones would lie about the replayed body.
_HOP_HEADERS = frozenset(
    {"content-length", "connection", "transfer-encoding", "keep-alive", "date", "server"}
)
_OAI_NAME = re.compile(r"^(?P<name>.+)_(?P<index>\d+)_(?P<status>\d{3})\.xml$")


@dataclass
class Reply:
    """One canned answer. Content-Type defaults by sniffing the body (XML, JSON, HTML, text).

    ``delay`` seconds pass before the answer is sent (for timeout tests).
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def _sniff_content_type(body: bytes) -> str:
    head = body.lstrip()[:512].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "text/html; charset=utf-8"
    if head.startswith(b"<"):
        return "application/xml; charset=utf-8"
    if head.startswith((b"{", b"[")):
        return "application/json"
    return "text/plain; charset=utf-8"


@dataclass
class _Route:
    path: str
    query: dict[str, str]
    replies: tuple[Reply, ...]
    served: int = 0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return path == self.path and all(query.get(k) == v for k, v in self.query.items())


class ReplayServer:
    """Real HTTP server on an ephemeral port of 127.0.0.1, serving from a daemon thread.

    ``requests`` lists (path, query params) of every GET received, in order; ``request_headers``
    holds their headers (lower-cased names) in the same order.
    """

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.request_headers: list[dict[str, str]] = []
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def add(self, path: str, *replies: Reply, query: dict[str, str] | None = None) -> None:
        """Answer GET ``path`` (whose query contains every ``query`` item) with ``replies`` in
        order, repeating the last. The most specific matching route wins; ties go to the first.
        """
        if not replies:
            raise ValueError("add() needs at least one Reply")
        with self._lock:
            self._routes.append(_Route(path, dict(query or {}), replies))

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _answer(self, raw_path: str, headers: dict[str, str]) -> Reply:
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.requests.append((parts.path, query))
            self.request_headers.append(headers)
            candidates = [r for r in self._routes if r.matches(parts.path, query)]
            if not candidates:
                return Reply(404, f"no reply recorded for {parts.path}\n".encode(), {})
            route = max(candidates, key=lambda r: len(r.query))  # max() keeps the first of ties
            reply = route.replies[min(route.served, len(route.replies) - 1)]
            route.served += 1
            return reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected in tests; say nothing about it.
        pass


def _make_handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server._answer(self.path, headers)
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            names = {k.lower() for k in reply.headers}
            for name, value in reply.headers.items():
                if name.lower() not in _HOP_HEADERS:
                    self.send_header(name, value)
            if "content-type" not in names:
                self.send_header("Content-Type", _sniff_content_type(reply.body))
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean

    return Handler


def load_recording(path: Path | str) -> Reply:
    """A Reply from an arXiv API recording: JSON ``{"url", "status_code", "body"}``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    # The recorder stored the body decoded as ISO-8859-1 (requests' default for text/xml
    # without a charset): encoding it back that way restores arXiv's UTF-8 bytes.
    body = str(data["body"])
    try:
        raw = body.encode("latin-1")
    except UnicodeEncodeError:
        raw = body.encode("utf-8")
    return Reply(int(data["status_code"]), raw)


def load_nock_replies(path: Path | str) -> list[Reply]:
    """Replies, in order, from a nock recording (JSON list of {status, response, rawHeaders})."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    replies = []
    for entry in entries:
        response = entry.get("response", "")
        body = response if isinstance(response, str) else json.dumps(response)
        raw = entry.get("rawHeaders", [])
        headers = {
            str(name): str(value)
            for name, value in zip(raw[::2], raw[1::2], strict=True)
            if str(name).lower() not in _HOP_HEADERS
        }
        replies.append(Reply(int(entry["status"]), body.encode("utf-8"), headers))
    return replies


def load_oai_recording(path: Path | str) -> Reply:
    """A Reply from an OAI-PMH fixture named ``<test>_<index>_<status>.xml``.

    Its body is the file; its headers (Retry-After, Content-Type, ...) come from entry
    ``index`` of ``recordings-with-headers/nock-fixtures/<test>.json`` beside it, when that
    recording exists (otherwise only the sniffed Content-Type is sent).
    """
    xml_path = Path(path)
    m = _OAI_NAME.match(xml_path.name)
    if m is None:
        raise ValueError(f"{xml_path.name}: expected a name like <test>_<index>_<status>.xml")
    status, index = int(m["status"]), int(m["index"])
    headers: dict[str, str] = {}
    nock = xml_path.parent / "recordings-with-headers" / "nock-fixtures" / f"{m['name']}.json"
    if nock.exists():
        recorded = load_nock_replies(nock)[index]
        if recorded.status != status:
            raise ValueError(f"{nock.name}[{index}] has status {recorded.status}, not {status}")
        headers = recorded.headers
    return Reply(status, xml_path.read_bytes(), headers)
