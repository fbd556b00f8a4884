"""How ``paperroute serve`` runs uvicorn: its HTTP protocol, with deadlines for slow clients
and a cap on the request head.

uvicorn times out an idle keep-alive connection, but not a client that connects and sends
nothing, nor one that sends its headers a byte at a time (slowloris), nor a request body
that never ends: each held a socket and a file descriptor for ever. ``GuardedProtocol``
gives every request a deadline for its head (``serve_header_timeout``, counted from the
connection or from the first byte after a keep-alive pause) and one for its body
(``serve_body_timeout``), and answers 431 to a request head larger than
``serve_max_header_bytes``. The concurrency cap (503 beyond ``serve_limit_concurrency``)
and the keep-alive timeout are uvicorn's own.

On httptools, uvicorn's fast parser: the same guard on h11 (pure Python) served cached
pages at half the rate (benchmarks/web.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from typing import Any

from uvicorn.config import Config as UvicornConfig
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from ..config import Config
from ..logs import server_log_config
from .metrics import MULTIPROC_ENV

TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"content-length: 36\r\n\r\n"
    b"the request's headers are too large\n"
)


class ServeConfig(UvicornConfig):
    """uvicorn's configuration plus the two deadlines and the head cap; module-level, so
    that it pickles to the worker processes of ``--workers N``."""

    def __init__(
        self,
        *args: Any,
        header_timeout: float,
        body_timeout: float,
        max_head_bytes: int,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_head_bytes = max_head_bytes


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with read deadlines and a 431 for an oversized head."""

    def __init__(
        self,
        config: UvicornConfig,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = float(getattr(config, "header_timeout", 10.0))
        self.body_timeout = float(getattr(config, "body_timeout", 30.0))
        self._max_head = int(getattr(config, "max_head_bytes", 16_384))
        self._head_bytes = 0  # of the head being received
        self._in_head = self._in_body = False
        self._pending = 0  # requests received and not yet answered
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_kind = ""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_body:
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end
            if self._head_bytes > self._max_head:
                self._disarm()
                self.transport.write(TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)
        self._watch()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._in_head, self._in_body, self._head_bytes = False, True, 0

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_body = False
        self._pending += 1

    def on_response_complete(self) -> None:
        self._pending = max(0, self._pending - 1)
        super().on_response_complete()
        self._watch()

    def _watch(self) -> None:
        """Arm the deadline the connection's state calls for (or none)."""
        if self.transport.is_closing():
            self._disarm()
        elif self._in_body:
            self._arm("body", self.body_timeout)
        elif self._in_head or (self._pending == 0 and self.timeout_keep_alive_task is None):
            # Receiving a head, or waiting for one while uvicorn's keep-alive timer is not
            # running: a fresh connection, or bytes that arrived after a keep-alive pause.
            self._arm("head", self.header_timeout)
        else:
            self._disarm()  # idle keep-alive (uvicorn's timer) or the app's turn

    def _arm(self, kind: str, seconds: float) -> None:
        if self._deadline is not None and self._deadline_kind == kind:
            return  # a deadline, not an idle timer: more bytes do not extend it
        self._disarm()
        self._deadline_kind = kind
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
            self._deadline_kind = ""

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            # Closing makes uvicorn tell a waiting app "http.disconnect".
            self.transport.close()


def run(
    config: Config,
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    forwarded_allow_ips: str | None = None,
    verbose: bool = False,
) -> bool:
    """``uvicorn.run`` with the settings that defend against slow and greedy clients
    (``app``: the import string of an app factory). False when a single-process server
    could not start (the address in use...; uvicorn has logged why).

    ``forwarded_allow_ips`` (addresses and CIDRs, comma-separated): the proxies whose
    ``X-Forwarded-For`` / ``-Proto`` are believed, so that the client address (per-IP
    limits, ``metrics_networks``, the access log) is the one the proxy saw; None believes
    no one. Each worker process logs in ``config.log_format`` (``logs.server_log_config``);
    with several workers, their request metrics meet in a fresh folder
    (``PROMETHEUS_MULTIPROC_DIR``, removed at exit) unless one is set already."""
    from uvicorn.server import Server
    from uvicorn.supervisors import Multiprocess

    served = ServeConfig(
        app,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=GuardedProtocol,
        access_log=False,  # paperroute's own (access_log setting), with the route template
        log_config=server_log_config(config.log_format, verbose=verbose),
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips or "127.0.0.1",
        timeout_keep_alive=config.serve_keep_alive_timeout,
        limit_concurrency=config.serve_limit_concurrency,
        header_timeout=config.serve_header_timeout,
        body_timeout=config.serve_body_timeout,
        max_head_bytes=config.serve_max_header_bytes,
    )
    server = Server(config=served)
    if served.workers > 1:
        made = None
        if not os.environ.get(MULTIPROC_ENV):
            made = tempfile.mkdtemp(prefix="paperroute-metrics-")
            os.environ[MULTIPROC_ENV] = made  # read by each worker as it starts (spawned)
        try:
            Multiprocess(served, sockets=[served.bind_socket()]).run()
        finally:
            if made:
                shutil.rmtree(made, ignore_errors=True)
        return True
    server.run()
    return server.started
