"""Wiring of For you into the app: ``install(app)`` (one line in create_app) adds the /me
section, the template helpers the cards and the author and category pages use, and the
routes (pages and API), ahead of the catch-all paper routes."""

from __future__ import annotations

from fastapi import FastAPI, Request

from ..hub import Hub
from .session import current_user

FEEDBACK_SHOWN = 10_000


def install(app: FastAPI) -> None:
    from .foryou_api import router as api
    from .foryou_pages import me_section
    from .foryou_pages import router as pages

    app.state.me_sections.append(me_section)
    app.state.templates.env.globals["feedback_kinds"] = feedback_kinds
    app.state.templates.env.globals["is_following"] = is_following
    for router in (api, pages):
        app.router.routes[0:0] = router.routes


def feedback_kinds(request: Request) -> dict[int, str]:
    """The signed-in reader's feedback (paper pk -> "more" | "less"), read once per request,
    for the cards of a list; empty when signed out."""
    found: dict[int, str] | None = getattr(request.state, "feedback_kinds", None)
    if found is None:
        user = current_user(request)
        hub: Hub = request.app.state.hub
        found = hub.signals.feedback_kinds(user.pk) if user else {}
        request.state.feedback_kinds = found
    return found


def is_following(request: Request, kind: str, value: str) -> bool:
    user = current_user(request)
    hub: Hub = request.app.state.hub
    return user is not None and hub.signals.is_following(user.pk, kind, value)
