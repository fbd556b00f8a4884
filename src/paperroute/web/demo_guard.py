"""Demo mode serves this machine only.

In demo mode /dev/outbox shows every sign-in link, the demo admin's included, so whoever
reaches the app can become its admin. ``paperroute serve`` refuses a non-loopback address,
but a reverse proxy on the same machine would still hand the app to the world: this
middleware answers 403 to any request that carries a proxy's forwarding headers or comes
from a client address that is not loopback. Outside demo mode it is not installed.

A proxy that forwards without any of these headers (nginx's bare ``proxy_pass``) cannot be
told from a local browser; docs/security.md says so: never put demo mode behind a proxy.
"""

from __future__ import annotations

import ipaddress

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Headers a proxy, tunnel or CDN adds (any x-forwarded-* and x-original-* as well).
FORWARDING_HEADERS = frozenset(
    {
        b"forwarded",
        b"via",
        b"x-real-ip",
        b"x-client-ip",
        b"x-cluster-client-ip",
        b"cf-connecting-ip",
        b"true-client-ip",
        b"fastly-client-ip",
    }
)
FORWARDING_PREFIXES = (b"x-forwarded-", b"x-original-")
REFUSAL = (
    "paperroute is in demo mode, which serves this machine only (anyone who reaches it can "
    "sign in as its admin through /dev/outbox). This request {why}. Open it on this machine "
    "at http://127.0.0.1, or run the hub with PAPERROUTE_DEMO=0 to serve it to others."
)


def refusal(scope: Scope) -> str | None:
    """Why a request may not be served in demo mode; None when it may."""
    for name, _ in scope.get("headers", ()):
        folded = name.lower()
        if folded in FORWARDING_HEADERS or folded.startswith(FORWARDING_PREFIXES):
            return f"came through a proxy (it has a {name.decode('latin-1')} header)"
    client = scope.get("client")
    if client:
        try:
            address = ipaddress.ip_address(str(client[0]).split("%", 1)[0])
        except ValueError:
            return None  # not a socket address (an in-process client, as in the tests)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_loopback:
            return f"came from {address}, not from this machine"
    return None


class DemoGuard:
    """Pure ASGI: refuses (403) what :func:`refusal` names, before any other work."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            why = refusal(scope)
            if why is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                response = PlainTextResponse(REFUSAL.format(why=why), status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
