"""The front door: which ``Host`` the hub answers to, and the browser policy on every answer.

:class:`FrontDoor` is the outermost middleware, so that nothing (a page cache hit, the
one-click unsubscribe, a CSRF refusal, an error page) leaves without the security headers,
and no request naming a foreign host reaches a route: links are built from ``base_url`` or
are relative anyway, but a host check also keeps framework redirects (a trailing slash) and
any future link from echoing an attacker's ``Host``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Config

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

# Everything from this origin only: no inline script, no style attribute, no framing, no
# plugin, no <base> or form posting elsewhere. The vendored htmx and KaTeX run under it
# (htmx's indicator <style> is switched off by the htmx-config meta tag in base.html).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'"
)

# On every answer: no framing by other sites (a hidden vote or sign-in button under a
# decoy), no content sniffing, and no full URL (a sign-in link's token) sent to other sites.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
CSP_HEADER = b"content-security-policy"
# The admin's digest preview shows the mail's HTML in a sandboxed srcdoc frame, which
# inherits the page's policy: mail HTML needs its style attributes. Scripts stay 'self'.
PREVIEW_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'").replace(
    "img-src 'self' data:", "img-src 'self' data: https:"
)
HSTS = (b"strict-transport-security", b"max-age=31536000")
# A load balancer probes each node by its address, not by base_url's host: these two paths
# (web/ops.py) answer whatever Host a request names. Their answers hold no link and nothing
# from the request, so a forged Host gains nothing there; /metrics keeps the check.
ANY_HOST_PATHS = frozenset({"/healthz", "/readyz"})


def trusted_hosts(config: Config) -> frozenset[str]:
    """The host names (lower case, no port) a request may name: ``base_url``'s, the
    ``allowed_hosts`` setting's and the loopback names."""
    names = {urlsplit(config.base_url).hostname or "", *LOOPBACK}
    names |= {n.strip().lower() for n in config.allowed_hosts.replace(" ", ",").split(",")}
    return frozenset(n for n in names if n)


# A Host header is a name or an IPv4 address, or a bracketed IPv6 address, with an optional
# port of digits: nothing else (``127.0.0.1:@attacker.example`` reads as attacker.example
# to a URL parser).
_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9.-]+))(?::[0-9]{1,5})?")


def host_name(header: bytes) -> str:
    """``Host`` without its port, lower case: ``[::1]:8000`` -> ``::1``; "" when it is not a
    well-formed host (which no trusted name equals)."""
    match = _HOST.fullmatch(header.decode("latin-1").strip().lower())
    if match is None:
        return ""
    return match["v6"] or match["name"]


class FrontDoor:
    """Answers 400 to a request whose ``Host`` is not trusted (but for the health probes,
    :data:`ANY_HOST_PATHS`), and adds the security headers
    (the CSP unless a route set its own, HSTS when ``base_url`` is https) to every answer."""

    def __init__(self, app: ASGIApp, config: Config) -> None:
        self.app = app
        self.hosts = trusted_hosts(config)
        extra = [HSTS] if config.base_url.lower().startswith("https://") else []
        self.headers = [*SECURITY_HEADERS, *extra]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == CSP_HEADER for name, _ in headers):
                    headers.append((CSP_HEADER, CSP.encode()))
                message = {**message, "headers": [*headers, *self.headers]}
            await send(message)

        hosts = [value for name, value in scope["headers"] if name == b"host"]
        foreign = len(hosts) > 1 or (hosts and host_name(hosts[0]) not in self.hosts)
        if foreign and scope["path"] not in ANY_HOST_PATHS:
            body = b"unknown host: this hub answers only to its own address (base_url)\n"
            await secured(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await secured({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, secured)
