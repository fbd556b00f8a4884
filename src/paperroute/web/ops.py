"""What an operator's machines ask the hub: ``/healthz``, ``/readyz``, ``/metrics``; and the
request metrics and access log of every other request.

:class:`Operations` is pure ASGI, just inside :class:`~paperroute.web.security.FrontDoor`
(so its answers carry the security headers) and outside the demo guard, the sessions, the
page cache and every route, so that a probe costs no session lookup, no cache refresh and
no rate limit. In demo mode a request the demo guard would refuse is left to it.

- ``/healthz``: 200 while the process serves; touches nothing else.
- ``/readyz``: runs every named check (``app.state.ready_checks``: name -> a blocking
  callable returning a :class:`~paperroute.model.Check`; the database and the migrations by
  default) in worker threads, each within :data:`CHECK_SECONDS`; 200 when all pass, else
  503, with each check's answer as JSON. Details never name a server, a URL or a secret.
  A pass is reused for :data:`READY_REUSE_SECONDS`, so a flood of probes costs the
  database one pass a second.
- ``/metrics``: Prometheus' text format (``web/metrics.py``), to a request bearing
  ``metrics_token`` or coming from ``metrics_networks``; 401 / 403 to anyone else.

A new readiness check is one line where the app is wired:
``app.state.ready_checks["queue"] = hub.jobs.check_queue``.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Config, networks
from ..hub import Hub
from ..logs import ACCESS_LOGGER
from ..model import Check
from .demo_guard import refusal
from .metrics import CONTENT_TYPE, Metrics

ReadyCheck = Callable[[], Check]
CHECK_SECONDS = 5.0  # a check that takes longer fails ("timed out")
# /readyz answers anyone: its checks run at most once per this many seconds per process,
# whatever the rate of requests (concurrent ones share one pass).
READY_REUSE_SECONDS = 1.0
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_access = logging.getLogger(ACCESS_LOGGER)
_log = logging.getLogger("paperroute.ops")


def default_checks(hub: Hub) -> dict[str, ReadyCheck]:
    """The readiness checks every hub has."""
    return {"database": hub.check_database, "migrations": hub.check_migrations}


def route_label(scope: Scope, status: int, fixed: frozenset[str] = frozenset()) -> str:
    """The bounded name of what answered: a route's template, never the raw path.
    ``fixed``: the app's routes without parameters (a plain Starlette route, such as the
    OpenAPI document's, leaves no ``route`` in the scope)."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    if scope["path"] in OPS_PATHS or scope["path"] in fixed:
        return str(scope["path"])
    if scope["path"].startswith("/static/"):
        return "/static"
    if scope.get("state", {}).get("page_cache_hit"):
        return "<page cache>"
    return "<unmatched>" if status == 404 else "<other>"


class Operations:
    """Pure ASGI: answers the three operations paths and observes every other request (see
    the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        config: Config,
        metrics: Metrics,
        checks: dict[str, ReadyCheck],
        ready_reuse: float = READY_REUSE_SECONDS,
    ) -> None:
        self.app = app
        self.ready_reuse = ready_reuse
        self._last_ready: tuple[float, dict[str, Check]] | None = None
        self._ready_lock = asyncio.Lock()
        self.metrics = metrics
        self.checks = checks  # the app's dict: checks added after start-up count too
        self.demo = config.demo
        self.access_log = config.access_log
        self.token = config.metrics_token.encode()
        self.networks = networks(config.metrics_networks)
        self.fixed: frozenset[str] | None = None  # read from the app at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        scope.setdefault("state", {})
        if self.fixed is None:
            routes = getattr(scope.get("app"), "routes", [])
            paths = (getattr(route, "path", "") for route in routes)
            self.fixed = frozenset(p for p in paths if p and "{" not in p)
        try:
            if scope["path"] in OPS_PATHS and not (self.demo and refusal(scope)):
                await self._answer(scope, observed)
            else:
                await self.app(scope, receive, observed)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope, status, self.fixed)
            self.metrics.observe(scope["method"], route, status, seconds)
            if self.access_log:
                self._log_access(scope, route, status, seconds)

    async def _answer(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(
                send, scope, 405, b"GET or HEAD only\n", headers=[(b"allow", b"GET, HEAD")]
            )
            return
        path = scope["path"]
        if path == "/healthz":
            await _respond(send, scope, 200, _json({"status": "ok"}), json_body=True)
        elif path == "/readyz":
            results = await self._ready()
            ok = all(check.ok for check in results.values())
            answer = {
                "status": "ok" if ok else "fail",
                "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in results.items()},
            }
            await _respond(send, scope, 200 if ok else 503, _json(answer), json_body=True)
        else:
            refused = self._refuse_metrics(scope)
            if refused is not None:
                status, text, extra = refused
                await _respond(send, scope, status, text.encode(), headers=extra)
                return
            exposition = await run_in_threadpool(self.metrics.render)
            await _respond(send, scope, 200, exposition, content_type=CONTENT_TYPE.encode())

    async def _ready(self) -> dict[str, Check]:
        async with self._ready_lock:
            last = self._last_ready
            if last is not None and time.monotonic() - last[0] < self.ready_reuse:
                return last[1]
            names = list(self.checks)
            runs = (_run_check(name, self.checks[name]) for name in names)
            answers = dict(zip(names, await asyncio.gather(*runs), strict=True))
            self._last_ready = (time.monotonic(), answers)
            return answers

    def _refuse_metrics(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        """None when the request may read /metrics, else (status, text, headers)."""
        if self.token:
            for name, value in scope["headers"]:
                if name == b"authorization":
                    scheme, _, given = value.partition(b" ")
                    if scheme.lower() == b"bearer" and hmac.compare_digest(
                        given.strip(), self.token
                    ):
                        return None
        if self.networks and _client_in(scope, self.networks):
            return None
        if self.token:
            challenge = [(b"www-authenticate", b'Bearer realm="paperroute metrics"')]
            return 401, "/metrics needs the metrics token (Authorization: Bearer ...)\n", challenge
        why = (
            "this client's network is not in metrics_networks"
            if self.networks
            else "nobody may read /metrics until metrics_token or metrics_networks is set"
        )
        return 403, f"{why} (docs/deploy.md)\n", []

    def _log_access(self, scope: Scope, route: str, status: int, seconds: float) -> None:
        # A path whose template takes a token (a subscription's manage link) is logged as
        # its template: the token is a credential. Query strings are never logged.
        # raw_path is the request line's, still percent-encoded; a server that gives none
        # gets the decoded path encoded again, so that CR LF never reach a log line.
        raw = scope.get("raw_path") or quote(scope["path"], safe="/:@!$&'()*+,;=-._~").encode()
        path = route if "{token" in route else raw.decode("latin-1")
        client = scope.get("client")
        fields: dict[str, Any] = {
            "method": scope["method"],
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "client": client[0] if client else None,
        }
        _access.info(
            '%s "%s %s" %d %.1f ms',
            fields["client"],
            fields["method"],
            path,
            status,
            fields["duration_ms"],
            extra={"fields": fields},
        )


async def _run_check(name: str, check: ReadyCheck) -> Check:
    try:
        return await asyncio.wait_for(run_in_threadpool(check), CHECK_SECONDS)
    except TimeoutError:
        return Check(False, f"timed out after {CHECK_SECONDS:g} s")
    except Exception as exc:  # a broken check reads as a failed one, not as a 500
        _log.exception("readiness check %s failed", name)
        return Check(False, f"error: {exc.__class__.__name__}")


def _client_in(scope: Scope, allowed: tuple[Any, ...]) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(str(client[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in allowed)


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode() + b"\n"


async def _respond(
    send: Send,
    scope: Scope,
    status: int,
    body: bytes,
    *,
    json_body: bool = False,
    content_type: bytes = b"text/plain; charset=utf-8",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    kind = b"application/json" if json_body else content_type
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
