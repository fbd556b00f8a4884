"""Digest subscriptions on the web: subscribe (footer form, /subscribe page), confirm,
manage and unsubscribe by signed link, RFC 8058 one-click unsubscribe, the admin's preview
and the /me section (the JSON API and the bounce webhook: ``digest_api``).
``install(app)`` wires them all (one line in create_app, after the community's install).

The one-click endpoint (``POST /unsubscribe/{token}``) is answered by a small middleware
ahead of the session middleware: mail providers post to it without cookies or a CSRF token
(RFC 8058 3.1), and the signed token in its URL is what authorises it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Config
from ..digest import (
    FREQUENCIES,
    WEEKDAYS,
    BadLink,
    Digests,
    MailError,
    Preferences,
    RateLimited,
    Subscriber,
    Suppressed,
    time_zones,
)
from ..errors import ConfigError, InvalidInput, NotFound, PaperrouteError
from ..links import paper_path
from ..site.addresses import display_email, normalise_email
from ..site.outbox import uses_outbox
from . import digest_api
from .deps import render
from .digest_deps import FORM_FIELDS, DigestsDep
from .security import PREVIEW_CSP
from .session import client_ip, current_user, require_admin

log = logging.getLogger(__name__)
router = APIRouter()
MAX_FORM_FIELD = 4000


def _form_context(prefs: Preferences, **extra: Any) -> dict[str, Any]:
    return {
        "prefs": prefs,
        "frequencies": FREQUENCIES,
        "weekdays": list(enumerate(WEEKDAYS)),
        "zones": time_zones(),
        "hours": range(24),
        "error": None,
        "email": "",
        **extra,
    }


async def _fields(request: Request) -> dict[str, Any]:
    """Form fields as the preference parser takes them (lists as newline-separated text)."""
    form = await request.form(max_files=0, max_fields=50)
    fields: dict[str, Any] = {}
    for name in ("email", "full", *FORM_FIELDS, "trending", "for_you"):
        value = form.get(name)
        if isinstance(value, str):
            if len(value) > MAX_FORM_FIELD:
                raise InvalidInput(f"the field {name} is too long")
            fields[name] = value
    if fields.pop("full", None):
        for box in ("trending", "for_you"):
            fields.setdefault(box, "off")  # an unticked box sends nothing
    return fields


def _entered(fields: dict[str, Any]) -> Preferences:
    """What the reader typed, for showing the form again (no validation)."""

    def items(name: str) -> tuple[str, ...]:
        raw = str(fields.get(name, ""))
        return tuple(p.strip() for line in raw.splitlines() for p in line.split(",") if p.strip())

    return Preferences(
        categories=items("categories"),
        keywords=tuple(line.strip() for line in str(fields.get("keywords", "")).splitlines()),
        authors=items("authors"),
        trending=str(fields.get("trending", "on")).lower() in {"on", "1", "true", "yes"},
        for_you=str(fields.get("for_you", "off")).lower() in {"on", "1", "true", "yes"},
        seeds=tuple(str(fields.get("seeds", "")).replace(",", " ").split()[:200]),
    )


# -- subscribe ------------------------------------------------------------------------------


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_page(request: Request, email: str = "") -> Response:
    return render(request, "digest/subscribe.html", _form_context(Preferences(), email=email[:320]))


@router.post("/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request, digests: DigestsDep) -> Response:
    fields = await _fields(request)
    email = str(fields.pop("email", ""))
    user = current_user(request)
    own_address = user is not None and _same_address(email, user.email)
    try:
        if own_address:
            outcome = await run_in_threadpool(digests.subscribe_signed_in, email, fields)
        else:
            outcome = await run_in_threadpool(
                digests.subscribe, email, fields, client=client_ip(request)
            )
    except RateLimited as exc:
        context = _form_context(_entered(fields), email=email[:320], error=str(exc))
        return render(
            request,
            "digest/subscribe.html",
            context,
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except Suppressed as exc:
        context = _form_context(_entered(fields), email=email[:320], error=str(exc))
        return render(request, "digest/subscribe.html", context, status=403)
    except InvalidInput as exc:
        context = _form_context(_entered(fields), email=email[:320], error=str(exc))
        return render(request, "digest/subscribe.html", context, status=400)
    except (MailError, ConfigError) as exc:
        log.error("subscription mail failed: %s", exc)
        context = _form_context(
            _entered(fields),
            email=email[:320],
            error="we could not send the confirmation mail just now; please try again later",
        )
        return render(request, "digest/subscribe.html", context, status=503)
    return render(
        request,
        "digest/subscribe_sent.html",
        {"message": outcome.message, "confirmed": own_address and not outcome.confirmation_sent},
        status=200,
    )


def _same_address(typed: str, account: str) -> bool:
    try:
        return normalise_email(typed) == normalise_email(account)
    except InvalidInput:
        return False


@router.get("/subscribe/confirm", response_class=HTMLResponse)
async def confirm_page(request: Request, digests: DigestsDep, token: str = "") -> Response:
    """A page with a Confirm button, not the action: mail scanners follow links, and a
    subscription must be confirmed by the person who reads the mail."""
    try:
        subscriber, done = await run_in_threadpool(digests.check_confirmation, token[:600])
    except (BadLink, NotFound) as exc:
        return _bad_link(request, exc)
    if done:
        return render(
            request,
            "digest/confirmed.html",
            {"subscriber": subscriber, "manage_url": _manage_path(digests, subscriber)},
        )
    return render(
        request,
        "digest/confirm.html",
        {"email": display_email(subscriber.email), "token": token[:600]},
    )


@router.post("/subscribe/confirm", response_class=HTMLResponse)
async def confirm(request: Request, digests: DigestsDep) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    token = form.get("token")
    try:
        if not isinstance(token, str):
            raise BadLink("this link is not valid")
        subscriber = await run_in_threadpool(digests.confirm, token[:600])
    except (BadLink, NotFound) as exc:
        return _bad_link(request, exc)
    except Suppressed as exc:
        return render(request, "digest/message.html", _message("Address suppressed", str(exc)), 403)
    first = await run_in_threadpool(_demo_first_digest, request, digests, subscriber)
    return render(
        request,
        "digest/confirmed.html",
        {
            "subscriber": subscriber,
            "manage_url": _manage_path(digests, subscriber),
            "demo_digest": first,
        },
    )


def _demo_first_digest(request: Request, digests: Digests, subscriber: Subscriber) -> bool:
    """Demo mode with the local outbox: send the first digest now, so that a newcomer can
    read one in /dev/outbox without waiting for the hour or running the scheduler."""
    config: Config = request.app.state.config
    if not (config.demo and uses_outbox(config)):
        return False
    try:
        result = digests.send(ignore_hour=True, only=[subscriber.email])
    except PaperrouteError as exc:
        log.warning("demo digest for %s not sent: %s", subscriber.email, exc)
        return False
    return result.report.sent > 0


def _message(title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "detail": detail}


def _bad_link(request: Request, exc: Exception) -> Response:
    """The 400 page for a confirmation, manage or unsubscribe link that is not (or no
    longer) valid."""
    return render(request, "digest/message.html", _message("Link not valid", str(exc)), 400)


def _manage_path(digests: Digests, subscriber: Subscriber) -> str:
    return f"/subscription/{digests.manage_token(subscriber)}"


# -- manage ---------------------------------------------------------------------------------


def _manage_context(
    digests: Digests, subscriber: Subscriber, token: str, **extra: Any
) -> dict[str, Any]:
    return _form_context(
        subscriber.prefs,
        subscriber=subscriber,
        shown_email=display_email(subscriber.email),
        token=token,
        for_you_source=digests.for_you_source(subscriber),
        unknown_seeds=digests.unknown_seeds(subscriber),
        seed_titles=_seed_links(subscriber.prefs.seeds, digests.seed_titles(subscriber)),
        **extra,
    )


def _seed_links(seeds: tuple[str, ...], titles: dict[str, str]) -> list[tuple[str, str, str]]:
    """(id, title, path) of each seed paper the hub holds and shows, in the given order."""
    return [(seed, titles[seed], paper_path(seed)) for seed in seeds if seed in titles]


@router.get("/subscription/{token}", response_class=HTMLResponse)
async def manage_page(request: Request, token: str, digests: DigestsDep) -> Response:
    try:
        subscriber = await run_in_threadpool(digests.by_manage_link, token[:600])
        context = await run_in_threadpool(_manage_context, digests, subscriber, token)
    except (BadLink, NotFound) as exc:
        return _bad_link(request, exc)
    return render(request, "digest/manage.html", context)


@router.get("/subscription/{token}/preview", response_class=HTMLResponse)
async def manage_preview(request: Request, token: str, digests: DigestsDep) -> Response:
    """The subscriber's next digest as mail clients show it, For-you section included:
    the manage link reaches only the address's owner, who is the linked reader."""
    try:
        subscriber = await run_in_threadpool(digests.by_manage_link, token[:600])
        rendered = await run_in_threadpool(digests.preview, subscriber.email)
    except (BadLink, NotFound) as exc:
        return _bad_link(request, exc)
    return render(
        request,
        "digest/manage_preview.html",
        {"shown_email": display_email(subscriber.email), "token": token, "rendered": rendered},
        headers={"content-security-policy": PREVIEW_CSP},
    )


@router.post("/subscription/{token}", response_class=HTMLResponse)
async def manage_save(request: Request, token: str, digests: DigestsDep) -> Response:
    fields = await _fields(request)
    fields.pop("email", None)
    try:
        subscriber = await run_in_threadpool(digests.by_manage_link, token[:600])
    except (BadLink, NotFound) as exc:
        return _bad_link(request, exc)
    try:
        subscriber = await run_in_threadpool(digests.update, token[:600], fields)
    except InvalidInput as exc:
        context = await run_in_threadpool(
            _manage_context, digests, subscriber, token, error=str(exc)
        )
        context["prefs"] = _entered(fields)
        return render(request, "digest/manage.html", context, status=400)
    context = await run_in_threadpool(_manage_context, digests, subscriber, token, saved=True)
    return render(request, "digest/manage.html", context)


@router.post("/subscription/{token}/unsubscribe", response_class=HTMLResponse)
async def manage_unsubscribe(request: Request, token: str, digests: DigestsDep) -> Response:
    try:
        subscriber = await run_in_threadpool(digests.unsubscribe_by_manage_link, token[:600])
    except (BadLink, NotFound) as exc:
        return _bad_link(request, exc)
    return render(request, "digest/unsubscribed.html", {"email": display_email(subscriber.email)})


# -- unsubscribe ----------------------------------------------------------------------------


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: str, digests: DigestsDep) -> Response:
    """A confirmation page, not the action: link scanners follow GET links in mail."""
    try:
        subscriber = await run_in_threadpool(digests.by_unsubscribe_link, token[:600])
    except (BadLink, NotFound) as exc:
        return _bad_link(request, exc)
    return render(
        request,
        "digest/unsubscribe.html",
        {"email": display_email(subscriber.email), "token": token, "status": subscriber.status},
    )


class OneClickUnsubscribe:
    """Answers ``POST /unsubscribe/{token}`` before the session middleware's CSRF check."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not path.startswith("/unsubscribe/")
            or path.count("/") != 2
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await _one_click(request, path.removeprefix("/unsubscribe/"))
        await response(scope, receive, send)


async def _one_click(request: Request, token: str) -> Response:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > 10_000:
            return PlainTextResponse("request body too large", status_code=413)
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=20)
    browser = "text/html" in request.headers.get("accept", "")
    digests: Digests = request.app.state.digests
    try:
        subscriber = await run_in_threadpool(digests.unsubscribe, token[:600], how="one-click")
    except (BadLink, NotFound) as exc:
        if browser:
            return _page(request, "digest/message.html", _message("Link not valid", str(exc)), 400)
        return PlainTextResponse(str(exc), status_code=400)
    except PaperrouteError as exc:
        log.error("one-click unsubscribe failed: %s", exc)
        return PlainTextResponse("please try again shortly", status_code=503)
    one_click = fields.get("List-Unsubscribe") == ["One-Click"]
    if browser and not one_click:
        return _page(
            request, "digest/unsubscribed.html", {"email": display_email(subscriber.email)}, 200
        )
    return PlainTextResponse("unsubscribed", status_code=200)


def _page(request: Request, template: str, context: dict[str, Any], status: int) -> Response:
    request.state.user = None  # answered outside the session: render as signed out
    request.state.csrf_token = ""
    return render(request, template, context, status=status)


# -- admin preview --------------------------------------------------------------------------


@router.get("/digest/preview", response_class=HTMLResponse, dependencies=[Depends(require_admin)])
async def preview(request: Request, digests: DigestsDep, email: str = "") -> Response:
    if not email:
        return render(
            request, "digest/preview.html", {"email": "", "rendered": None, "error": None}
        )
    try:
        # Someone else looks: the linked reader's private signals stay out of it.
        rendered = await run_in_threadpool(lambda: digests.preview(email[:400], private=False))
    except (InvalidInput, NotFound) as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        context = {"email": email[:320], "rendered": None, "error": str(exc)}
        return render(request, "digest/preview.html", context, status=status)
    return render(
        request,
        "digest/preview.html",
        {"email": email, "rendered": rendered, "error": None},
        headers={"content-security-policy": PREVIEW_CSP},
    )


# -- /me ------------------------------------------------------------------------------------


def me_section(request: Request, user: Any) -> tuple[str, dict[str, Any]] | None:
    digests: Digests = request.app.state.digests
    try:
        subscriber = digests.find(user.email)
    except InvalidInput:
        return None
    manage = _manage_path(digests, subscriber) if subscriber else None
    return "digest/me_section.html", {
        "subscriber": subscriber,
        "manage_url": manage,
        "email": user.email,
    }


def install(app: FastAPI) -> None:
    app.state.digests = app.state.hub.digests
    app.state.me_sections.append(me_section)
    app.add_middleware(OneClickUnsubscribe)
    app.include_router(router)
    app.include_router(digest_api.router)
