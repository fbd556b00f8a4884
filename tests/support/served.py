"""A real ``paperroute serve`` in a subprocess on a free port, and slow clients to point at
it (tests/web/test_slow_clients.py and benchmarks/slow_clients.py share them)."""

from __future__ import annotations

import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

PARTIAL_HEAD = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"  # never finished


def wait_until(condition: Callable[[], bool], what: str, deadline_s: float) -> None:
    """Poll ``condition`` every 0.05 s; fail the test naming ``what`` after ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop_all(processes: Sequence[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM every process still running, then wait for each (``timeout`` seconds, then
    SIGKILL): the cluster and digest tests' workers and web nodes."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (children inherit
    it); returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@contextmanager
def served(
    database_url: str,
    folder: Path,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = ("--workers", "1"),
    **settings: str,
) -> Iterator[tuple[str, int]]:
    """(base URL, port) of ``paperroute serve`` (``args``: one worker by default) over
    ``database_url`` with ``PAPERROUTE_<NAME>`` settings and ``env`` (raw variables, applied
    last: demo mode, the browser tests' own settings); stopped on exit. What it writes is in
    ``folder / f"serve-{port}.log"``."""
    port = free_port()
    variables = {
        **os.environ,
        "PAPERROUTE_DATABASE_URL": database_url,
        "PAPERROUTE_SECRET_KEY": "served-tests-throwaway-secret",
        "PAPERROUTE_BASE_URL": f"http://127.0.0.1:{port}",
        **{f"PAPERROUTE_{name.upper()}": value for name, value in settings.items()},
    }
    variables.pop("PAPERROUTE_CONFIG", None)
    variables.pop("PAPERROUTE_DEMO", None)
    variables.update(env or {})
    command = [sys.executable, "-m", "paperroute", "serve", "--port", str(port), *args]
    log = folder / f"serve-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(command, env=variables, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"serve exited {process.returncode}: {log.read_text()}")
            try:
                if httpx.get(base + "/static/css/app.css", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("paperroute serve did not answer within 60 s")
            time.sleep(0.1)
        yield base, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def open_slow(port: int, count: int, *, silent_every: int = 4) -> list[socket.socket]:
    """``count`` connections that start a request head and never finish it (every
    ``silent_every``-th sends nothing at all)."""
    opened: list[socket.socket] = []
    try:
        for n in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            if n % silent_every:
                sock.sendall(PARTIAL_HEAD)
            sock.setblocking(False)
            opened.append(sock)
    except BaseException:
        close_all(opened)
        raise
    return opened


def wait_closed(sockets: list[socket.socket], seconds: float) -> int:
    """How many of ``sockets`` the server closed (EOF or reset) within ``seconds``."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    closed = 0
    deadline = time.monotonic() + seconds
    while closed < len(sockets):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in selector.select(timeout=min(left, 1.0)):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            except BlockingIOError:
                continue
            if not data:
                selector.unregister(sock)
                closed += 1
    selector.close()
    return closed


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def raw_request(port: int, data: bytes, *, timeout: float = 30) -> bytes:
    """Send ``data`` on a fresh connection; everything the server answers until it closes
    (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return answer
