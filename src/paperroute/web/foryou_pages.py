"""For you, the reader's side: the /for-you page (and its cold start), "More like this" /
"Not interested" on every card, following authors and categories, and on /me the library
upload, the signals in use (each removable), the export and deleting the account.

Everything here is the signed-in reader's own: routes take the reader from the session
(web/session.py), never from the request, so no one can read or change another's signals.
Actions are forms that work without JavaScript (POST, then a redirect); with htmx they
answer the fragment to swap in."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..community import Community, User
from ..errors import InvalidInput, NotFound
from ..hub import Hub
from ..recommend.foryou import ForYouPage
from ..recommend.signals import MAX_DAYS
from ..recommend.signals_model import LibraryReport
from ..site.errors import RateLimited
from .community_auth import safe_next
from .community_pages import _me_context
from .deps import get_hub, render
from .session import MAX_LIBRARY_BODY, Pk, get_community, get_sessions, require_user
from .templating import author_url, category_url

router = APIRouter(include_in_schema=False)

HubDep = Annotated[Hub, Depends(get_hub)]
UserDep = Annotated[User, Depends(require_user)]
CommunityDep = Annotated[Community, Depends(get_community)]
PAGE = 30
CONFIRM_WORD = "delete"


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _back(next_path: str, fallback: str) -> RedirectResponse:
    return RedirectResponse(safe_next(next_path, fallback), status_code=303)


# -- /for-you -----------------------------------------------------------------------------


def _for_you_context(hub: Hub, user: User | None) -> dict[str, Any]:
    if user is None:
        return {"signed_out": True}
    page: ForYouPage = hub.foryou.page(user.pk, limit=PAGE)
    cards = {c.pk: c for c in hub.community.cards([p.paper_pk for p in page.picks])}
    picks = [(p.pick, cards[p.paper_pk]) for p in page.picks if p.paper_pk in cards]
    categories = hub.reading.categories()[:24] if page.cold else []
    return {
        "signed_out": False,
        "page": page,
        "picks": picks,
        "categories": categories,
        "max_days": MAX_DAYS,
    }


@router.get("/for-you")
async def for_you(request: Request, hub: HubDep) -> Response:
    user: User | None = request.state.user
    context = await run_in_threadpool(_for_you_context, hub, user)
    return render(request, "foryou/for_you.html", context)


@router.post("/for-you/start")
def cold_start(
    request: Request,
    hub: HubDep,
    user: UserDep,
    categories: Annotated[list[str] | None, Form(max_length=60)] = None,
    papers: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The cold start: follow the chosen categories, "more like this" on the given papers.
    An id that names no paper is named back; nothing is stored unless all are usable."""
    chosen = list(dict.fromkeys(categories or []))
    refs = list(dict.fromkeys(papers.replace(",", " ").split()))
    known = {name for name, _count in hub.reading.categories()}
    problems = []
    if len(chosen) > 50 or len(refs) > 50:
        problems.append("At most 50 categories and 50 papers")
        chosen, refs = chosen[:50], refs[:50]
    unknown = [c for c in chosen if c not in known]
    if unknown:
        problems.append("No category " + ", ".join(repr(c[:60]) for c in unknown))
    missing = hub.signals.missing_papers(refs)
    if missing:
        problems.append("No paper " + ", ".join(repr(r[:60]) for r in missing))
    if not problems and (chosen or refs):
        try:
            hub.signals.start(user.pk, chosen, refs)
        except (InvalidInput, NotFound) as exc:
            problems.append(str(exc)[:1].upper() + str(exc)[1:])
    if problems or not (chosen or refs):
        detail = "; ".join(problems) or "Choose a category or give a paper id"
        context = _for_you_context(hub, user) | {
            "error": f"{detail}. Nothing was saved: correct it and start again.",
            "typed": papers[:5000],
            "ticked": set(chosen),
        }
        return render(request, "foryou/for_you.html", context, 400)
    return RedirectResponse("/for-you", status_code=303)


@router.post("/for-you/days")
def set_days(
    hub: HubDep,
    user: UserDep,
    days: Annotated[int, Form(ge=1, le=MAX_DAYS)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    hub.signals.set_days(user.pk, days)
    return _back(next, "/for-you")


# -- feedback on cards --------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/feedback")
def feedback(
    request: Request,
    hub: HubDep,
    user: UserDep,
    paper_id: str,
    kind: Annotated[str, Form(max_length=10)] = "",
    fragment: Annotated[str, Form(max_length=10)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """ "more", "less" or "" (take it back). With htmx: the card's feedback control, or
    with ``fragment=remove`` (on /for-you) nothing, so that the card goes away."""
    pk = hub.signals.set_feedback(user.pk, paper_id, kind or None)
    if _htmx(request):
        if fragment == "remove" and kind == "less":
            return Response(status_code=200)
        context = {"fb_pk": pk, "fb_id": paper_id, "fb_kind": kind or None, "fb_remove": False}
        return render(request, "foryou/_card_feedback.html", context)
    return _back(next, "/me#signals")


# -- follows ------------------------------------------------------------------------------


def _follow(
    request: Request, hub: Hub, user: User, kind: str, value: str, on: str, fallback: str
) -> Response:
    if on not in ("1", "0"):
        raise InvalidInput("on is 1 (follow) or 0 (stop following)")
    hub.signals.follow(user.pk, kind, value, on == "1")
    if _htmx(request):
        context = {"follow_kind": kind, "follow_value": value, "following": on == "1"}
        return render(request, "foryou/_follow.html", context)
    return RedirectResponse(fallback, status_code=303)


@router.post("/authors/{name:path}/follow")
def follow_author(
    request: Request, hub: HubDep, user: UserDep, name: str,
    on: Annotated[str, Form(max_length=2)] = "1",
) -> Response:  # fmt: skip
    return _follow(request, hub, user, "author", name, on, author_url(name))


@router.post("/categories/{category}/follow")
def follow_category(
    request: Request, hub: HubDep, user: UserDep, category: str,
    on: Annotated[str, Form(max_length=2)] = "1",
) -> Response:  # fmt: skip
    return _follow(request, hub, user, "category", category, on, category_url(category))


@router.post("/me/follows/remove")
def unfollow(
    hub: HubDep,
    user: UserDep,
    kind: Annotated[str, Form(max_length=10)],
    value: Annotated[str, Form(max_length=300)],
) -> Response:
    hub.signals.follow(user.pk, kind, value, False)
    return RedirectResponse("/me#signals", status_code=303)


# -- /me: library, signals, export, deletion ------------------------------------------------


def me_section(request: Request, user: User) -> tuple[str, dict[str, Any]]:
    hub: Hub = request.app.state.hub
    report: LibraryReport | None = getattr(request.state, "library_report", None)
    hub.foryou.rematch_library(user.pk)  # papers ingested since the upload show as papers
    return "foryou/me_section.html", {
        "signals": hub.signals.view(user.pk),
        "report": report,
        "library_error": getattr(request.state, "library_error", None),
        "max_upload": MAX_LIBRARY_BODY,
        "max_days": MAX_DAYS,
    }


@router.post("/me/library")
async def upload_library(
    request: Request, hub: HubDep, community: CommunityDep, user: UserDep, library: UploadFile
) -> Response:
    """Replace the library with an uploaded file: 200 with what was stored and skipped, 422
    (the page again, saying why) for a file that cannot be used; bodies over the limit got
    413 from the session middleware before reaching here."""
    data = await library.read()
    name = (library.filename or "library")[:200]
    status = 200
    try:
        report = await run_in_threadpool(hub.foryou.import_library, user.pk, data, name)
        request.state.library_report = report
    except InvalidInput as exc:
        request.state.library_error = str(exc)
        status = 422
    except RateLimited as exc:
        request.state.library_error = str(exc)
        status = 429
    context = await run_in_threadpool(_me_context, request, community, user)
    return render(request, "community/me.html", context, status)


@router.post("/me/library/clear")
def clear_library(hub: HubDep, user: UserDep) -> Response:
    hub.signals.replace_library(user.pk, [], "")
    return RedirectResponse("/me#signals", status_code=303)


@router.post("/me/library/{pk}/remove")
def remove_library_entry(hub: HubDep, user: UserDep, pk: Pk) -> Response:
    hub.signals.remove_library_entry(user.pk, pk)
    return RedirectResponse("/me#signals", status_code=303)


def export_data(hub: Hub, user: User) -> dict[str, Any]:
    """Everything the account holds, as the /me export (and the API's) gives it."""
    community = hub.community
    voted = community.cards(community.voted_paper_pks(user, limit=100_000))
    collections = []
    for found in community.own_collections(user):
        cards = community.cards(community.collection_paper_pks(found))
        collections.append(
            {"title": found.title, "description": found.description, "public": found.public,
             "paper_ids": [c.id for c in cards]}
        )  # fmt: skip
    return {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "created_at": user.created_at.isoformat(),
        },
        "upvotes": [c.id for c in voted],
        "comments": [
            {"paper_id": c.paper_id, "body": c.body, "created_at": c.created_at.isoformat()}
            for c in community.user_comments(user)
        ],
        "collections": collections,
        "api_tokens": [t.name for t in community.api_tokens(user)],
        "for_you": hub.signals.export(user.pk),
    }


@router.get("/me/export")
def export(hub: HubDep, user: UserDep) -> Response:
    body = json.dumps(export_data(hub, user), ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="paperroute-export.json"'},
    )


@router.get("/me/delete")
def delete_confirm(request: Request, user: UserDep) -> Response:
    return render(request, "foryou/delete.html", {"user": user, "word": CONFIRM_WORD})


@router.post("/me/delete")
def delete_account(
    request: Request,
    community: CommunityDep,
    user: UserDep,
    confirm: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Delete the account after the reader typed the confirmation word; every session of
    it ends (the rows go with the account) and this browser's cookie is cleared."""
    if confirm.strip().lower() != CONFIRM_WORD:
        context = {"user": user, "word": CONFIRM_WORD, "error": f"type {CONFIRM_WORD} to confirm"}
        return render(request, "foryou/delete.html", context, 400)
    community.delete_account(user)
    response = render(request, "foryou/deleted.html", {})
    get_sessions(request).sign_out(request, response)
    return response
