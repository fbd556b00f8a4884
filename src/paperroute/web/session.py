"""Who is asking, and is it really them: signed session cookies, CSRF tokens, API tokens.

:class:`SessionMiddleware` (pure ASGI) runs before every route and sets

- ``request.state.user``: the signed-in :class:`~paperroute.community.User`, or None (a
  banned reader counts as signed out). The cookie is a signed ``reader:nonce``; the nonce's
  hash is a row of ``user_sessions``, so signing out or a ban ends it on the server;
- ``request.state.csrf_token``: the token every form sends as ``csrf_token`` (htmx sends it
  as the ``X-CSRF-Token`` header). Signed in, it is an HMAC of the session's random nonce;
  signed out, of a random ``pr_csrf`` cookie (double submit), so it needs no storage;
- ``request.state.via_api_token``: True when an ``Authorization: Bearer prt_...`` personal
  token authenticated an ``/api/`` request (other bearer tokens are left to their routes).
  Such requests carry no ambient authority, so they skip the CSRF check, as do ``/api/``
  requests without a session cookie.

A POST, PUT, PATCH or DELETE without the right token gets 403 before any route runs, and a
body over ``MAX_BODY`` gets 413. The cookie is ``HttpOnly``, ``SameSite=Lax``, and
``Secure`` when ``base_url`` is https.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..community import API_TOKEN_PREFIX, Community, Forbidden, NotSignedIn, User
from ..config import Config
from ..site.signing import derive_key, mac_with_key, sign, unsign
from . import problems

SESSION_COOKIE = "pr_session"
# Set on sign-in: this browser has signed in with an address (a keyed hash of it, no
# address in clear). Sign-in requests for that address from it skip the address-wide cap.
KNOWN_COOKIE = "pr_known"
KNOWN_DAYS = 365
CSRF_COOKIE = "pr_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY = 1024 * 1024  # bytes: comments are capped far below; nothing else is bigger
# A library upload (a BibTeX or Zotero export) is the one bigger body: these paths only.
MAX_LIBRARY_BODY = 8 * 1024 * 1024
LIBRARY_PATHS = frozenset({"/me/library", "/api/v1/me/library"})
MAX_PK = 2**31 - 1  # the largest INTEGER key: a bigger number in a URL names nothing
Pk = Annotated[int, Path(ge=1, le=MAX_PK)]
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Sessions:
    """Makes and reads the session cookie; lives on ``app.state.sessions``."""

    def __init__(self, community: Community, config: Config, secret: str) -> None:
        self.community = community
        self.secret = secret
        self._csrf_key = derive_key(secret, "csrf")
        self._known_key = derive_key(secret, "known-browser")
        self.max_age = config.session_days * 86400
        self.secure = config.base_url.lower().startswith("https://")

    def csrf_for(self, nonce: str, signed_in: bool) -> str:
        return mac_with_key(self._csrf_key, ("s:" if signed_in else "a:") + nonce)

    def session_nonce(self, cookie: str | None) -> tuple[int, str] | None:
        if not cookie:
            return None
        value = unsign(self.secret, "session", cookie, max_age=self.max_age)
        if value is None:
            return None
        pk, _, nonce = value.partition(":")
        if not pk.isdigit() or not nonce:
            return None
        return int(pk), nonce

    def _cookie(self, name: str, value: str, max_age: int) -> str:
        # Values are base64url and names fixed: nothing to quote (and SimpleCookie is slow
        # for what every first visit pays).
        secure = "; Secure" if self.secure else ""
        return f"{name}={value}; HttpOnly; Max-Age={max_age}; Path=/; SameSite=Lax{secure}"

    def sign_in(self, response: Response, user: User) -> None:
        """Start a session (kept on the server) and set its cookie. Its nonce is new, so the
        signed-out CSRF token stops working."""
        nonce = self.community.open_session(user)
        token = sign(self.secret, "session", f"{user.pk}:{nonce}")
        response.headers.append("set-cookie", self._cookie(SESSION_COOKIE, token, self.max_age))
        known = sign(self.secret, "known", self._address_tag(user.email))
        response.headers.append("set-cookie", self._cookie(KNOWN_COOKIE, known, KNOWN_DAYS * 86400))

    def _address_tag(self, address: str) -> str:
        return mac_with_key(self._known_key, address)

    def known_browser(self, request: Request) -> Callable[[str], bool]:
        """Whether this browser signed in before with a given (normalised) address."""
        cookie = request.cookies.get(KNOWN_COOKIE, "")
        tag = unsign(self.secret, "known", cookie, max_age=KNOWN_DAYS * 86400) if cookie else None
        return lambda address: (
            tag is not None
            and hmac.compare_digest(tag.encode(), self._address_tag(address).encode())
        )

    def sign_out(self, request: Request, response: Response) -> None:
        """End the session on the server too: its cookie, if copied, no longer works."""
        nonce = getattr(request.state, "session_nonce", None)
        if nonce:
            self.community.close_session(nonce)
        response.headers.append("set-cookie", self._cookie(SESSION_COOKIE, "", 0))

    def anonymous_cookie(self, nonce: str) -> str:
        return self._cookie(CSRF_COOKIE, nonce, 365 * 86400)


class SessionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sessions: Sessions = scope["app"].state.sessions
        headers = dict(scope["headers"])
        state = scope.setdefault("state", {})
        state["user"], state["csrf_token"], state["via_api_token"] = None, "", False
        path: str = scope["path"]
        method: str = scope["method"]
        cookies = cookie_parser(headers.get(b"cookie", b"").decode("latin-1"))
        new_cookie: str | None = None

        authorization = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, credential = authorization.partition(" ")
        personal = credential.strip().startswith(API_TOKEN_PREFIX)
        # Other bearer tokens (the bounce webhook's) are for their own routes to check.
        if path.startswith("/api/") and scheme.lower() == "bearer" and personal:
            user = await run_in_threadpool(sessions.community.api_user, credential.strip())
            if user is None or user.banned:
                await self._refuse(
                    scope, receive, send, 401, "the API token is unknown, revoked or suspended"
                )
                return
            state["user"], state["via_api_token"] = user, True
        else:
            session = sessions.session_nonce(cookies.get(SESSION_COOKIE))
            if session is not None:
                user = await run_in_threadpool(sessions.community.session_user, *session)
                if user is not None:
                    state["user"], state["session_nonce"] = user, session[1]
                    state["csrf_token"] = sessions.csrf_for(session[1], True)
            # JSON and static files need no CSRF token: no cookie for them (proxies cache
            # responses without Set-Cookie).
            if state["user"] is None and not path.startswith(("/api/", "/static/")):
                nonce = cookies.get(CSRF_COOKIE, "")
                if not (
                    20 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum()
                ):
                    nonce = secrets.token_urlsafe(24)
                    new_cookie = sessions.anonymous_cookie(nonce)
                state["csrf_token"] = sessions.csrf_for(nonce, False)

        if method in UNSAFE:
            limit = MAX_LIBRARY_BODY if path in LIBRARY_PATHS else MAX_BODY
            # A declared length over the cap is refused before any of it is read (the
            # client may never send it all: the answer would wait for the read timeout).
            declared = headers.get(b"content-length", b"").strip()
            over = declared.isdigit() and (len(declared) > 18 or int(declared) > limit)
            body = None if over else await _read_body(receive, limit)
            if body is None:
                await self._refuse(
                    scope, receive, send, 413, f"the request body is over {limit:,} bytes"
                )
                return
            receive = _replay(body)
            if not state["via_api_token"] and not (
                path.startswith("/api/") and SESSION_COOKIE not in cookies
            ):
                if headers.get(b"sec-fetch-site") == b"cross-site":
                    # The browser says another site sent it: refused whatever its token (a
                    # second layer beside it; browsers that send no such header rely on it).
                    await self._refuse(
                        scope, receive, send, 403,
                        "this form was sent from another site: open paperroute and try again",
                    )  # fmt: skip
                    return
                supplied = await _supplied_token(scope, headers, body)
                if not supplied:
                    await self._refuse(
                        scope, receive, send, 403,
                        "this form is missing its security token (CSRF): reload the page and "
                        "try again",
                    )  # fmt: skip
                    return
                expected = state["csrf_token"].encode()
                if not hmac.compare_digest(supplied.encode("utf-8", "replace"), expected):
                    await self._refuse(
                        scope, receive, send, 403,
                        "this form's security token (CSRF) is not valid for your session: "
                        "reload the page and try again",
                    )  # fmt: skip
                    return

        wrote = method in UNSAFE
        # What a signed-in reader sees (their address, their token) and any answer that sets
        # a cookie is for that browser alone: never kept by a shared cache.
        personal = (
            state["user"] is not None
            and not state["via_api_token"]
            and not path.startswith("/static/")
        )
        if new_cookie is None and not wrote and not personal:
            await self.app(scope, receive, send)
            return
        cookie = new_cookie.encode("latin-1") if new_cookie else None
        cache = getattr(scope["app"].state, "page_cache", None)

        async def outgoing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message["headers"])
                if cookie is not None:
                    headers.append((b"set-cookie", cookie))
                if personal or any(name.lower() == b"set-cookie" for name, _ in headers):
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"private, no-store"))
                message = {**message, "headers": headers}
                # A write this process made shows at once on the cached anonymous pages
                # (other workers see it within a second, through the data version).
                if wrote and cache is not None and message["status"] < 400:
                    cache.clear()
            await send(message)

        await self.app(scope, receive, outgoing)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
        response = problems.error_response(Request(scope, receive), status, detail)
        await response(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _supplied_token(scope: Scope, headers: dict[bytes, bytes], body: bytes) -> str:
    header = headers.get(CSRF_HEADER)
    if header:
        return header.decode("latin-1").strip()
    content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
    if content_type.startswith(_FORM_TYPES[0]):
        try:
            fields = parse_qs(body.decode("utf-8"), max_num_fields=1000)
        except (UnicodeDecodeError, ValueError):
            return ""
        return (fields.get(CSRF_FIELD) or [""])[0]
    if content_type.startswith(_FORM_TYPES[1]):
        try:
            form = await Request(scope, _replay(body)).form()
        except Exception:  # a malformed multipart body: no token to be found in it
            return ""
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def current_user(request: Request) -> User | None:
    user: User | None = getattr(request.state, "user", None)
    return user


def require_user(request: Request) -> User:
    """Dependency: the signed-in reader, else NotSignedIn (401, or a redirect to /login)."""
    user = current_user(request)
    if user is None:
        raise NotSignedIn("sign in first")
    return user


def require_admin(request: Request) -> User:
    """Dependency: a signed-in admin, else 401/403."""
    user = require_user(request)
    if not user.is_admin:
        raise Forbidden("only admins can do this")
    return user


def get_community(request: Request) -> Community:
    community: Community = request.app.state.community
    return community


def get_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
