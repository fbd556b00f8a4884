"""Reader pages and actions: upvotes, comments, collections (pages and feeds), submitting a
paper, and /me. Actions are plain forms that work without JavaScript (POST, then a redirect);
with htmx (``HX-Request``) votes and collection toggles answer the fragment to swap in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..community import (
    MAX_COMMENT,
    Collection,
    Community,
    Forbidden,
    RateLimited,
    Unavailable,
    User,
)
from ..errors import InvalidInput, NotFound
from ..reading import Card
from .community_auth import safe_next
from .deps import render
from .feeds import card_entries
from .feedxml import ATOM_TYPE, RSS_TYPE, build_atom, build_rss
from .session import MAX_PK, Pk, current_user, get_community, require_user
from .templating import paper_url

router = APIRouter(include_in_schema=False)

CommunityDep = Annotated[Community, Depends(get_community)]
UserDep = Annotated[User, Depends(require_user)]
PAGE = 30


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _back_to_paper(paper_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(paper_url(paper_id) + anchor, status_code=303)


# -- votes ------------------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/vote")
def vote(
    request: Request,
    community: CommunityDep,
    user: UserDep,
    paper_id: str,
    fragment: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Toggle the reader's upvote. With htmx: the paper page's button (with its count), or
    with ``fragment=card`` the button of a card in a list."""
    state = community.vote(user, paper_id)
    if _htmx(request):
        paper = community.paper(state.paper_pk)
        if fragment == "card":
            return render(request, "community/_card_vote.html", {"state": state, "paper": paper})
        return render(request, "community/_vote.html", {"state": state, "paper": paper})
    return _back_to_paper(paper_id)


# -- comments ---------------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/comments")
def add_comment(
    community: CommunityDep,
    user: UserDep,
    paper_id: str,
    body: Annotated[str, Form(max_length=MAX_COMMENT * 4)] = "",
) -> Response:
    comment = community.comment(user, paper_id, body)
    return _back_to_paper(comment.paper_id, f"#comment-{comment.pk}")


@router.post("/comments/{pk}/edit")
def edit_comment(
    community: CommunityDep,
    user: UserDep,
    pk: Pk,
    body: Annotated[str, Form(max_length=MAX_COMMENT * 4)] = "",
) -> Response:
    comment = community.edit_comment(user, pk, body)
    return _back_to_paper(comment.paper_id, f"#comment-{comment.pk}")


@router.post("/comments/{pk}/delete")
def delete_comment(community: CommunityDep, user: UserDep, pk: Pk) -> Response:
    comment = community.delete_comment(user, pk)
    return _back_to_paper(comment.paper_id, "#comments")


@router.post("/comments/{pk}/report")
def report_comment(
    community: CommunityDep,
    user: UserDep,
    pk: Pk,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    comment = community.report_comment(user, pk, reason)
    return _back_to_paper(comment.paper_id, f"#comment-{comment.pk}")


# -- collections ------------------------------------------------------------------------


def _cards(community: Community, collection: Collection) -> list[Card]:
    return community.cards(community.collection_paper_pks(collection))


@router.get("/collections")
def collections_page(
    request: Request,
    community: CommunityDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_PK)] = None,
) -> Response:
    user = current_user(request)
    public = community.public_collections(limit=PAGE + 1, before=before)
    more = len(public) > PAGE
    public = public[:PAGE]
    return render(
        request,
        "community/collections.html",
        {
            "public": public,
            "own": community.own_collections(user) if user else [],
            "next_before": public[-1].pk if more and public else None,
        },
    )


@router.post("/collections")
def create_collection(
    community: CommunityDep,
    user: UserDep,
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    public: Annotated[str, Form(max_length=10)] = "",
    paper_id: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    made = community.create_collection(user, title, description, public == "on")
    if paper_id:
        community.add_to_collection(user, made.pk, paper_id)
        return _back_to_paper(
            community.paper(community.paper_pk(paper_id, user)).id, "#collections"
        )
    return RedirectResponse(f"/collections/{made.pk}/{made.slug}", status_code=303)


@router.get("/collections/{pk}")
@router.get("/collections/{pk}/{slug}")
def collection_page(request: Request, community: CommunityDep, pk: Pk, slug: str = "") -> Response:
    user = current_user(request)
    found = community.collection(pk, user)
    if slug in {"feed.atom", "feed.rss"}:
        return _collection_feed(request, community, found, slug.removeprefix("feed."))
    if slug != found.slug:
        return RedirectResponse(f"/collections/{found.pk}/{found.slug}", status_code=301)
    return render(
        request,
        "community/collection.html",
        {
            "collection": found,
            "cards": _cards(community, found),
            "mine": user is not None and user.pk == found.owner_pk,
        },
    )


def _collection_feed(
    request: Request, community: Community, found: Collection, fmt: str
) -> Response:
    if not found.public:
        return render(request, "error.html", {"status": 404, "title": "Not Found",
                      "detail": "a private collection has no feed"}, 404)  # fmt: skip
    base = request.app.state.config.base_url.rstrip("/")
    entries = card_entries(_cards(community, found), base)
    title = f"{found.title} · a collection by {found.owner_name}"
    self_url = base + request.url.path
    alternate = f"{base}/collections/{found.pk}/{found.slug}"
    if fmt == "atom":
        return Response(
            build_atom(title, self_url, entries, alternate_url=alternate), media_type=ATOM_TYPE
        )
    return Response(
        build_rss(title, self_url, entries, alternate_url=alternate), media_type=RSS_TYPE
    )


@router.post("/collections/{pk}/edit")
def edit_collection(
    community: CommunityDep,
    user: UserDep,
    pk: Pk,
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    public: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    changed = community.edit_collection(
        user, pk, title=title, description=description, public=public == "on"
    )
    return RedirectResponse(f"/collections/{changed.pk}/{changed.slug}", status_code=303)


@router.post("/collections/{pk}/delete")
def delete_collection(community: CommunityDep, user: UserDep, pk: Pk) -> Response:
    community.delete_collection(user, pk)
    return RedirectResponse("/me#collections", status_code=303)


@router.post("/collections/{pk}/papers")
def collection_add(
    request: Request,
    community: CommunityDep,
    user: UserDep,
    pk: Pk,
    paper_id: Annotated[str, Form(max_length=400)] = "",
    action: Annotated[str, Form(max_length=10)] = "add",
    next: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if action == "remove":
        community.remove_from_collection(user, pk, paper_id)
    else:
        community.add_to_collection(user, pk, paper_id)
    paper_pk = community.paper_pk(paper_id, user)
    if _htmx(request):
        # the picker, and the "In collections" list above it (out of band)
        context = {**_picker(community, user, paper_pk), "oob": True}
        return render(request, "community/_collections_picker.html", context)
    if next:
        return RedirectResponse(safe_next(next), status_code=303)
    return _back_to_paper(community.paper(paper_pk).id, "#collections")


def _picker(community: Community, user: User, paper_pk: int) -> dict[str, Any]:
    holding = community.collections_holding(paper_pk, user)
    return {
        "paper": community.paper(paper_pk),
        "own": community.own_collections(user),
        "in_own": {c.pk for c in holding if c.owner_pk == user.pk},
        "holding": holding,
    }


# -- submitting a paper -----------------------------------------------------------------


@router.get("/submit")
def submit_page(request: Request, user: UserDep) -> Response:
    return render(request, "community/submit.html", {"value": "", "error": None})


@router.post("/submit")
async def submit(
    request: Request,
    community: CommunityDep,
    user: UserDep,
    reference: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        outcome = await run_in_threadpool(community.submit, user, reference)
    except (InvalidInput, NotFound, Unavailable, Forbidden, RateLimited) as exc:
        # The form again, with what the reader typed and why it did not work (arXiv
        # unreachable, no such paper, a typo...): nothing to retype.
        status, headers = _SUBMIT_STATUS[type(exc)], None
        if isinstance(exc, RateLimited):
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        context = {"value": reference[:500], "error": str(exc)}
        return render(request, "community/submit.html", context, status, headers=headers)
    return RedirectResponse(paper_url(outcome.paper_id), status_code=303)


_SUBMIT_STATUS: dict[type[Exception], int] = {
    InvalidInput: 400, NotFound: 404, Unavailable: 503, Forbidden: 403, RateLimited: 429,
}  # fmt: skip


# -- /me --------------------------------------------------------------------------------


def _me_context(request: Request, community: Community, user: User) -> dict[str, Any]:
    sections = []
    templates = request.app.state.templates
    for section in request.app.state.me_sections:
        result = section(request, user)
        if result is not None:
            name, context = result
            sections.append(templates.get_template(name).render({"request": request, **context}))
    cards = community.cards(community.voted_paper_pks(user, limit=100))
    return {
        "user": user,
        "voted": cards,
        "comments": community.user_comments(user),
        "collections": community.own_collections(user),
        "tokens": community.api_tokens(user),
        "new_token": None,
        "sections": sections,
        "name_value": user.display_name if user.name_chosen else "",
        "name_error": None,
        "name_saved": request.query_params.get("name") == "saved",
    }


@router.get("/me")
def me(request: Request, community: CommunityDep, user: UserDep) -> Response:
    return render(request, "community/me.html", _me_context(request, community, user))


@router.post("/me/name")
def set_display_name(
    request: Request,
    community: CommunityDep,
    user: UserDep,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        community.set_display_name(user, name)
    except (InvalidInput, RateLimited) as exc:
        # /me again with what was typed and why it was refused: nothing was changed.
        context = _me_context(request, community, user)
        shown = "".join(ch for ch in name[:200] if ch.isprintable())  # no RTL override echoed
        context.update(name_value=shown, name_error=str(exc))
        status = 429 if isinstance(exc, RateLimited) else 400
        return render(request, "community/me.html", context, status)
    return RedirectResponse("/me?name=saved#name", status_code=303)


@router.post("/me/tokens")
def create_token(
    request: Request,
    community: CommunityDep,
    user: UserDep,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    token = community.create_api_token(user, name)
    context = _me_context(request, community, user)
    context["new_token"] = token
    return render(request, "community/me.html", context, headers={"Cache-Control": "no-store"})


@router.post("/me/tokens/{pk}/revoke")
def revoke_token(community: CommunityDep, user: UserDep, pk: Pk) -> Response:
    community.revoke_api_token(user, pk)
    return RedirectResponse("/me#tokens", status_code=303)
