"""For you in the JSON API (/api/v1/me/...): the reader's recommendations, the library
upload and feedback on papers. Authenticated as every /api/v1 write is (community_api.py):
``Authorization: Bearer <personal token>``, or the session cookie plus ``X-CSRF-Token``
(reads with the cookie alone). Errors are RFC 9457 problem documents."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..community import User
from ..errors import InvalidInput
from ..hub import Hub
from ..recommend.signals_model import LibraryReport
from .community_api import WRITE
from .deps import get_hub
from .problems import problem_response
from .session import require_user
from .templating import paper_url

router = APIRouter(prefix="/api/v1/me", tags=["for you"])

HubDep = Annotated[Hub, Depends(get_hub)]
UserDep = Annotated[User, Depends(require_user)]
MAX_LIMIT = 100


class PickOut(BaseModel):
    paper_id: str
    title: str
    score: float
    reason: str = Field(description='why it was picked, e.g. "close to <title> you saved"')
    reason_paper_id: str | None = Field(description="the paper the reason names, if any")
    url: str


class Recommendations(BaseModel):
    since: dt.date = Field(description="papers announced (else submitted) on or after this day")
    cold_start: bool = Field(description="true: the reader has no signal yet, so no picks")
    items: list[PickOut]


class LibraryOut(BaseModel):
    format: str = Field(description="bibtex, json (CSL / Zotero), ris or list")
    stored: int
    matched: int = Field(description="entries that are papers of this hub")
    skipped: list[str] = Field(description="each skipped entry: where it was and why")


class FeedbackIn(BaseModel):
    kind: Literal["more", "less"] = Field(description="more like this, or not interested")


class FeedbackOut(BaseModel):
    paper_id: str
    kind: Literal["more", "less"] | None


UNUSABLE: dict[int | str, dict[str, Any]] = {
    422: {"description": "the file is not a usable library (problem+json, detail says why)"},
    413: {"description": "the body is over 8 MiB (problem+json)"},
}


@router.get("/recommendations", summary="Your For-you picks", response_model=Recommendations)
def recommendations(
    hub: HubDep,
    user: UserDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 30,
    since: Annotated[
        int | None, Query(ge=1, le=90, description="days back (default: your setting)")
    ] = None,
) -> Recommendations:
    page = hub.foryou.page(user.pk, limit=limit, days=since)
    return Recommendations(
        since=page.since,
        cold_start=page.cold,
        items=[
            PickOut(
                paper_id=p.pick.paper_id,
                title=p.pick.title,
                score=p.pick.score,
                reason=p.pick.reason,
                reason_paper_id=p.pick.reason_paper_id,
                url=paper_url(p.pick.paper_id),
            )
            for p in page.picks
        ],
    )


@router.post(
    "/library",
    summary="Replace your library with a file (the request body)",
    response_model=LibraryOut,
    dependencies=WRITE,
    responses=UNUSABLE,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_library(
    request: Request,
    hub: HubDep,
    user: UserDep,
    filename: Annotated[str, Query(max_length=200)] = "library",
) -> Any:
    data = await request.body()
    try:
        report: LibraryReport = await run_in_threadpool(
            hub.foryou.import_library, user.pk, data, filename
        )
    except InvalidInput as exc:
        return problem_response(422, "Unprocessable Content", str(exc))
    return LibraryOut(
        format=report.format,
        stored=report.stored,
        matched=report.matched,
        skipped=list(report.skipped),
    )


@router.post(
    "/feedback/{paper_id:path}",
    summary="More like this / not interested",
    response_model=FeedbackOut,
    dependencies=WRITE,
)
def give_feedback(hub: HubDep, user: UserDep, paper_id: str, body: FeedbackIn) -> FeedbackOut:
    hub.signals.set_feedback(user.pk, paper_id, body.kind)
    return FeedbackOut(paper_id=paper_id, kind=body.kind)


@router.delete(
    "/feedback/{paper_id:path}",
    summary="Take back your feedback on a paper",
    response_model=FeedbackOut,
    dependencies=WRITE,
)
def take_back_feedback(hub: HubDep, user: UserDep, paper_id: str) -> FeedbackOut:
    hub.signals.set_feedback(user.pk, paper_id, None)
    return FeedbackOut(paper_id=paper_id, kind=None)
