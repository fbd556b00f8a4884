"""The community's part of the JSON API (/api/v1): votes, comments, collections.

Reads are open (private collections only to their owner); writes need a signed-in reader:
``Authorization: Bearer <personal token>`` (made at /me), or the session cookie plus the
``X-CSRF-Token`` header. Errors are RFC 9457 problem documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, StrictBool

from ..community import Collection, Comment, Community, User, VoteState
from . import params
from .session import MAX_PK, Pk, current_user, get_community, require_user

router = APIRouter(prefix="/api/v1", tags=["community"])

# Documents the scheme in OpenAPI; the session middleware has already checked the token.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="personalToken",
    description="A personal API token made at /me (prt_...)",
)
WRITE = [Depends(_bearer)]

CommunityDep = Annotated[Community, Depends(get_community)]
UserDep = Annotated[User, Depends(require_user)]
MAX_PAGE = 100


class VoteOut(BaseModel):
    paper_id: str
    upvotes: int = Field(description="readers' votes plus Hugging Face upvotes")
    voted: bool


class CommentIn(BaseModel):
    body: str = Field(description="Markdown, at most 10,000 characters", max_length=40_000)


class CommentOut(BaseModel):
    id: int
    paper_id: str
    author: str
    body: str
    body_html: str = Field(
        description="rendered and sanitised; math ($...$, \\(...\\)) kept as written, with its "
        "delimiters, for the client to typeset (the site uses KaTeX's auto-render)"
    )
    created_at: dt.datetime
    edited_at: dt.datetime | None = Field(None, description="the author's last edit")


class ReportIn(BaseModel):
    reason: str = Field("", description="why (at most 500 characters kept)", max_length=2000)


class ReportOut(BaseModel):
    reported: bool = Field(description="true: the admins see it on /admin")


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class CollectionIn(BaseModel):
    title: str = Field(max_length=1000)
    description: str = Field(default="", max_length=10_000)
    public: StrictBool = False  # 0, 1 or "yes" are refused, not read as a boolean


class CollectionPaperIn(BaseModel):
    paper_id: str = Field(max_length=400)


class CollectionOut(BaseModel):
    id: int
    slug: str
    title: str
    description: str
    public: bool
    owner: str
    paper_count: int
    url: str
    created_at: dt.datetime
    updated_at: dt.datetime


class CollectionDetail(CollectionOut):
    paper_ids: list[str]


class CollectionPage(BaseModel):
    items: list[CollectionOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


def _vote(community: Community, state: VoteState) -> VoteOut:
    return VoteOut(
        paper_id=community.paper(state.paper_pk).id, upvotes=state.count, voted=state.voted
    )


def _comment(found: Comment) -> CommentOut:
    return CommentOut(
        id=found.pk,
        paper_id=found.paper_id,
        author=found.author,
        body=found.body,
        body_html=found.body_html,
        created_at=found.created_at,
        edited_at=found.edited_at,
    )


def _collection(found: Collection) -> CollectionOut:
    return CollectionOut(
        id=found.pk,
        slug=found.slug,
        title=found.title,
        description=found.description,
        public=found.public,
        owner=found.owner_name,
        paper_count=found.paper_count,
        url=f"/collections/{found.pk}/{found.slug}",
        created_at=found.created_at,
        updated_at=found.updated_at,
    )


def _detail(community: Community, found: Collection) -> CollectionDetail:
    cards = community.cards(community.collection_paper_pks(found))
    return CollectionDetail(**_collection(found).model_dump(), paper_ids=[c.id for c in cards])


@router.post("/papers/{paper_id:path}/vote", summary="Upvote a paper", dependencies=WRITE)
def upvote(community: CommunityDep, user: UserDep, paper_id: str) -> VoteOut:
    return _vote(community, community.vote(user, paper_id, True))


@router.delete("/papers/{paper_id:path}/vote", summary="Take back an upvote", dependencies=WRITE)
def unvote(community: CommunityDep, user: UserDep, paper_id: str) -> VoteOut:
    return _vote(community, community.vote(user, paper_id, False))


@router.get("/papers/{paper_id:path}/comments", summary="A paper's comments, oldest first")
def list_comments(
    request: Request,
    community: CommunityDep,
    paper_id: str,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> CommentPage:
    viewer = current_user(request)
    pk = community.paper_pk(paper_id, viewer)
    scope = f"comments:{pk}"
    found = community.comments(pk, None, after=_cursor(cursor, scope), limit=limit + 1)
    items = [_comment(c) for c in found[:limit]]
    more = len(found) > limit
    return CommentPage(
        items=items, next_cursor=_next_cursor(scope, items[-1].id if more and items else None)
    )


def _cursor(cursor: str | None, scope: str) -> int | None:
    """The last key of the previous page (keyset pagination), from its opaque cursor."""
    return None if cursor is None else params.decode_cursor(cursor, scope, low=1, high=MAX_PK)


def _next_cursor(scope: str, last_pk: int | None) -> str | None:
    return None if last_pk is None else params.encode_cursor(scope, last_pk)


@router.post(
    "/papers/{paper_id:path}/comments",
    status_code=201,
    summary="Comment on a paper",
    dependencies=WRITE,
)
def post_comment(
    community: CommunityDep, user: UserDep, paper_id: str, payload: CommentIn
) -> CommentOut:
    return _comment(community.comment(user, paper_id, payload.body))


@router.patch("/comments/{pk}", summary="Edit your own comment", dependencies=WRITE)
def edit_comment(community: CommunityDep, user: UserDep, pk: Pk, payload: CommentIn) -> CommentOut:
    return _comment(community.edit_comment(user, pk, payload.body))


@router.delete(
    "/comments/{pk}", status_code=204, summary="Delete your own comment", dependencies=WRITE
)
def delete_comment(community: CommunityDep, user: UserDep, pk: Pk) -> Response:
    community.delete_comment(user, pk)
    return Response(status_code=204)


@router.post("/comments/{pk}/report", summary="Report a comment to the admins", dependencies=WRITE)
def report_comment(
    community: CommunityDep, user: UserDep, pk: Pk, payload: ReportIn | None = None
) -> ReportOut:
    community.report_comment(user, pk, payload.reason if payload else "")
    return ReportOut(reported=True)


@router.get("/collections", summary="Public collections, newest first")
def public_collections(
    community: CommunityDep,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 30,
) -> CollectionPage:
    size = max(1, min(limit, MAX_PAGE))
    found = community.public_collections(limit=size + 1, before=_cursor(cursor, "collections"))
    more = len(found) > size
    items = [_collection(c) for c in found[:size]]
    last = items[-1].id if more and items else None
    return CollectionPage(items=items, next_cursor=_next_cursor("collections", last))


@router.get("/collections/{pk}", summary="One collection and its papers")
def get_collection(request: Request, community: CommunityDep, pk: Pk) -> CollectionDetail:
    return _detail(community, community.collection(pk, current_user(request)))


@router.post("/collections", status_code=201, summary="Create a collection", dependencies=WRITE)
def create_collection(
    community: CommunityDep, user: UserDep, payload: CollectionIn
) -> CollectionDetail:
    made = community.create_collection(user, payload.title, payload.description, payload.public)
    return _detail(community, made)


@router.post("/collections/{pk}/papers", summary="Add a paper to a collection", dependencies=WRITE)
def add_paper(
    community: CommunityDep, user: UserDep, pk: Pk, payload: CollectionPaperIn
) -> CollectionDetail:
    return _detail(community, community.add_to_collection(user, pk, payload.paper_id))


@router.delete(
    "/collections/{pk}/papers/{paper_id:path}",
    summary="Remove a paper from a collection",
    dependencies=WRITE,
)
def remove_paper(community: CommunityDep, user: UserDep, pk: Pk, paper_id: str) -> CollectionDetail:
    return _detail(community, community.remove_from_collection(user, pk, paper_id))


@router.delete(
    "/collections/{pk}", status_code=204, summary="Delete a collection", dependencies=WRITE
)
def delete_collection(community: CommunityDep, user: UserDep, pk: Pk) -> Response:
    community.delete_collection(user, pk)
    return Response(status_code=204)
