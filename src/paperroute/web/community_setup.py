"""Wiring of the community into the app: ``install(app)`` (one line in create_app).

It resolves the secret key (a ConfigError at start-up outside demo mode without one), puts
:class:`~paperroute.community.Community` and :class:`~paperroute.web.session.Sessions` on
``app.state``, adds the session/CSRF middleware, maps the community's errors to statuses,
adds the paper page's and /me's sections, and in demo mode makes ``demo@paperroute.local``
an admin and refuses requests from anywhere but this machine (``demo_guard``). Outside demo
mode it demotes that account: a database created in demo mode may be served for real later.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from ..community import (
    DEMO_ADMIN,
    MAX_COMMENT,
    BadLink,
    Community,
    Conflict,
    Forbidden,
    NotSignedIn,
    RateLimited,
    TooLarge,
    Unavailable,
)
from ..errors import ConfigError
from ..hub import Hub
from ..model import Paper
from .demo_guard import DemoGuard
from .problems import error_response, wants_problem
from .sections import DISCUSSION, HEAD, PAPER_ACTIONS
from .session import SessionMiddleware, Sessions, current_user

STYLESHEET = "/static/css/community.css"
VOTES_SHOWN = 10_000  # a reader's latest upvotes that the cards of a list show as theirs


def install(app: FastAPI) -> None:
    hub: Hub = app.state.hub
    community = hub.community
    try:
        secret = community.secret
    except ConfigError:
        hub.close()  # the app will not start: do not leave its database connections open
        raise
    app.state.community = community
    app.state.sessions = Sessions(community, hub.config, secret)
    app.add_middleware(SessionMiddleware)
    _install_error_handlers(app)
    app.state.paper_sections.append((HEAD, paper_vote))
    app.state.paper_sections.append((PAPER_ACTIONS, paper_actions))
    app.state.paper_sections.append((DISCUSSION, paper_comments))
    app.state.templates.env.globals["community_css"] = STYLESHEET
    app.state.templates.env.globals["voted_pks"] = voted_pks
    if hub.config.demo:
        community.ensure_user(DEMO_ADMIN, admin=True)
        app.add_middleware(DemoGuard)  # outermost: before the session and the page cache
    else:
        community.retire_demo_admin()

    from .community_admin import router as admin
    from .community_api import router as api
    from .community_auth import router as auth
    from .community_pages import router as pages

    # Ahead of every other route: the paper page's catch-all /papers/{id:path} and the
    # API's paper routes would otherwise take /papers/{id}/vote and friends.
    for router in (api, auth, pages, admin):
        app.router.routes[0:0] = router.routes


async def _community_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotSignedIn):
        if not wants_problem(request) and request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return error_response(
            request, 401, str(exc), headers={"WWW-Authenticate": 'Bearer realm="paperroute"'}
        )
    if isinstance(exc, Forbidden):
        return error_response(request, 403, str(exc))
    if isinstance(exc, RateLimited):
        return error_response(request, 429, str(exc), headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, Conflict):
        return error_response(request, 409, str(exc))
    if isinstance(exc, TooLarge):
        return error_response(request, 413, str(exc))
    if isinstance(exc, BadLink):
        return error_response(request, 400, str(exc))
    if isinstance(exc, Unavailable):
        return error_response(request, 503, str(exc))
    return error_response(request, 400, str(exc))


def _install_error_handlers(app: FastAPI) -> None:
    for kind in (NotSignedIn, Forbidden, RateLimited, Conflict, TooLarge, BadLink, Unavailable):
        app.add_exception_handler(kind, _community_error)


def voted_pks(request: Request) -> frozenset[int]:
    """The papers the signed-in reader has upvoted (read once per request), for the vote
    buttons of the cards in a list; empty when signed out."""
    found: frozenset[int] | None = getattr(request.state, "voted_pks", None)
    if found is None:
        user = current_user(request)
        community: Community = request.app.state.community
        found = (
            frozenset(community.voted_paper_pks(user, limit=VOTES_SHOWN)) if user else frozenset()
        )
        request.state.voted_pks = found
    return found


def _panel(request: Request, paper: Paper, paper_pk: int) -> dict[str, Any]:
    """What the paper page shows of the community, read once for both its sections."""
    found: dict[str, Any] | None = getattr(request.state, "community_panel", None)
    if found is None:
        community: Community = request.app.state.community
        panel = community.paper_panel(paper_pk, current_user(request))
        found = {
            "paper": paper,
            "state": panel.votes,
            "comments": panel.comments,
            "holding": panel.holding,
            "own": panel.own,
            "in_own": panel.in_own,
            "hidden": panel.hidden,
            "max_comment": MAX_COMMENT,
        }
        request.state.community_panel = found
    return found


def paper_vote(request: Request, paper: Paper, paper_pk: int) -> tuple[str, dict[str, Any]]:
    """The upvote button (with the count) in the page head."""
    return "community/paper_vote.html", _panel(request, paper, paper_pk)


def paper_actions(request: Request, paper: Paper, paper_pk: int) -> tuple[str, dict[str, Any]]:
    """The collections that hold the paper (and moderation, for an admin)."""
    return "community/paper_actions.html", _panel(request, paper, paper_pk)


def paper_comments(request: Request, paper: Paper, paper_pk: int) -> tuple[str, dict[str, Any]]:
    """The paper's comments."""
    return "community/paper_comments.html", _panel(request, paper, paper_pk)
