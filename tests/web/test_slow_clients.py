"""Slow and greedy clients against a real ``paperroute serve`` (issue 14, item 7): thousands
of connections that never finish their request head do not stop others from being served,
and each is closed once ``serve_header_timeout`` has passed; a request body that never
ends is cut at ``serve_body_timeout``; a 200 KB request head is refused with 431; a
connection idle after a keep-alive answer that then starts a head and stalls is closed too.
No timing is asserted beyond "answered" and "closed within the timeout plus a margin"."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.served import close_all, open_slow, raise_fd_limit, raw_request, served, wait_closed

TARGET = 8_000  # idle connections, when the machine's open-file limit allows
HEADER_TIMEOUT = 3.0
BODY_TIMEOUT = 3.0
MARGIN = 15.0  # a loaded 2-core machine: closing thousands of sockets takes a while

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """(base URL, port, slow connections to open): the client and the server each need a
    file descriptor per connection, plus some for themselves."""
    limit = raise_fd_limit(TARGET + 1_000)
    count = min(TARGET, limit - 500)
    folder = tmp_path_factory.mktemp("slow")
    with served(
        f"sqlite:///{folder / 'hub.db'}",
        folder,
        serve_header_timeout=str(HEADER_TIMEOUT),
        serve_body_timeout=str(BODY_TIMEOUT),
        serve_keep_alive_timeout="2",
        serve_limit_concurrency=str(count + 500),
    ) as (base, port):
        yield base, port, count


def test_idle_connections_neither_block_others_nor_stay_open(
    server: tuple[str, int, int],
) -> None:
    base, port, count = server
    assert count >= 1_000, "the open-file limit allows too few connections to mean anything"
    started = time.monotonic()
    slow = open_slow(port, count)
    try:
        answer = httpx.get(base + "/", timeout=10)
        assert answer.status_code == 200
        closed = wait_closed(slow, started + HEADER_TIMEOUT + MARGIN - time.monotonic())
        assert closed == count
    finally:
        close_all(slow)
    assert httpx.get(base + "/", timeout=10).status_code == 200


def test_a_200_kb_request_head_is_refused(server: tuple[str, int, int]) -> None:
    _, port, _ = server
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    answer = raw_request(port, head)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert not answer.startswith(b"HTTP/1.1 200")
    # Many headers adding up to the same is refused as well; a normal head is not.
    many = b"".join(b"X-H%d: %s\r\n" % (n, b"b" * 1000) for n in range(200))
    answer = raw_request(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    ok = raw_request(
        port, b"GET /static/css/app.css HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert ok.startswith(b"HTTP/1.1 200 ")


def test_a_body_that_never_ends_is_cut(server: tuple[str, int, int]) -> None:
    _, port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=BODY_TIMEOUT + MARGIN) as sock:
        sock.sendall(
            b"POST /api/v1/subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":'
        )
        assert wait_closed([sock], BODY_TIMEOUT + MARGIN) == 1


def test_a_head_stalled_after_a_keep_alive_answer_is_closed(
    server: tuple[str, int, int],
) -> None:
    _, port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT + MARGIN) as sock:
        sock.sendall(b"GET /static/css/app.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        # Keep the connection busy with bytes of a head, faster than the keep-alive timeout.
        sock.setblocking(False)
        for part in (b"GET / HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"X-Slow: 1\r\n"):
            sock.sendall(part)
            time.sleep(1.0)
        assert wait_closed([sock], HEADER_TIMEOUT + MARGIN) == 1


def test_the_settings_reach_the_server(tmp_path: Path) -> None:
    """A concurrency limit of 20: with 40 idle connections open, a request gets 503."""
    with served(
        f"sqlite:///{tmp_path / 'hub.db'}",
        tmp_path,
        serve_limit_concurrency="20",
        serve_header_timeout="60",
    ) as (base, port):
        slow = open_slow(port, 40)
        try:
            time.sleep(0.5)  # let the server accept them
            assert httpx.get(base + "/static/css/app.css", timeout=10).status_code == 503
        finally:
            close_all(slow)
