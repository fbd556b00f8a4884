"""Signing in by emailed link, signing out, and the demo mode's outbox (/dev/outbox)."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from ..community import DEMO_ADMIN, Community
from ..errors import NotFound
from ..site.outbox import uses_outbox
from .deps import render
from .session import Pk, Sessions, client_ip, current_user, get_community, get_sessions

router = APIRouter(include_in_schema=False)

CommunityDep = Annotated[Community, Depends(get_community)]
_URL = re.compile(r"https?://[^\s<>\"']+")


def safe_next(target: str | None, fallback: str = "/me") -> str:
    """Only paths on this site: never an open redirect to another host (``fallback``
    instead)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    if any(ord(c) < 32 for c in target) or len(target) > 1000:
        return fallback
    return target


def _outbox_on(request: Request) -> bool:
    """Mail goes to the outbox at /dev/outbox (demo mode without an SMTP server)."""
    config = request.app.state.config
    return config.demo and uses_outbox(config)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    context = {"next": safe_next(next), "demo_admin": DEMO_ADMIN, "outbox": _outbox_on(request)}
    return render(request, "community/login.html", context)


@router.post("/login")
def login_request(
    request: Request,
    community: CommunityDep,
    sessions: Annotated[Sessions, Depends(get_sessions)],
    email: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=1000)] = "/me",
) -> Response:
    target = safe_next(next)
    address = community.request_sign_in(
        email,
        client_ip(request),
        "" if target == "/me" else target,
        known_browser=sessions.known_browser(request),
    )
    context = {"email": address, "next": target, "outbox": _outbox_on(request)}
    return render(request, "community/login_sent.html", context)


@router.get("/auth/verify")
def verify_page(
    request: Request,
    community: CommunityDep,
    token: Annotated[str, Query(max_length=500)] = "",
    next: Annotated[str, Query(max_length=1000)] = "/me",
) -> Response:
    """Following the emailed link shows one button: mail scanners that open links do not
    use up the single-use link; the reader's click (a POST) does."""
    email = community.check_sign_in(token)
    return render(
        request,
        "community/verify.html",
        {"email": email, "token": token, "next": safe_next(next)},
    )


@router.post("/auth/verify")
def verify(
    request: Request,
    community: CommunityDep,
    sessions: Annotated[Sessions, Depends(get_sessions)],
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=1000)] = "/me",
) -> Response:
    user = community.sign_in(token)
    response = RedirectResponse(safe_next(next), status_code=303)
    sessions.sign_in(response, user)
    return response


@router.post("/logout")
def logout(request: Request, sessions: Annotated[Sessions, Depends(get_sessions)]) -> Response:
    response = RedirectResponse("/", status_code=303)
    sessions.sign_out(request, response)
    return response


# -- /dev/outbox (demo mode only) -------------------------------------------------------


def _demo_only(request: Request) -> None:
    if not request.app.state.config.demo:
        raise NotFound(f"there is nothing at {request.url.path}")


def _text_part(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def linkify(text: str) -> Markup:
    """Escape ``text``, then make its http(s) URLs clickable."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))  # noqa: S704 - every part above is escaped


@router.get("/dev/outbox", dependencies=[Depends(_demo_only)])
async def outbox(request: Request, community: CommunityDep) -> Response:
    messages = await run_in_threadpool(community.outbox)
    return render(request, "community/outbox.html", {"messages": messages})


@router.get("/dev/outbox/{pk}", dependencies=[Depends(_demo_only)])
async def outbox_message(request: Request, community: CommunityDep, pk: Pk) -> Response:
    message = await run_in_threadpool(community.outbox_message, pk)
    context: dict[str, Any] = {"message": message, "body": linkify(_text_part(message.raw))}
    return render(request, "community/outbox_message.html", context)
