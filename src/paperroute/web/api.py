"""JSON API, read side, under /api/v1: daily, trending, papers, authors, categories.

Lists are cursor-paginated: a response's ``next_cursor`` (opaque; null at the end) is passed
back as ``?cursor=``. Errors are RFC 9457 problem documents (problems.py). Anonymous answers
come from the page cache, like the pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..links import http_url
from ..model import Paper
from ..reading import MAX_PAGE, Card
from ..reading.scoring import formula
from . import params
from .deps import (
    CategoryParam,
    HasCodeParam,
    SortParam,
    find_paper,
    get_hub,
    list_view,
    page_cache,
    paper_view,
)
from .templating import paper_url

router = APIRouter(prefix="/api/v1", tags=["papers"])

JSON_TYPE = "application/json"
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="next_cursor of the previous page")
]


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str


class PaperItem(BaseModel):
    id: str
    url: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    # Guessed from the most similar papers' categories (docs/upkeep.md), for a paper without
    # categories of its own; never mixed into ``categories``.
    inferred_categories: list[str]
    listed_on: dt.date | None
    published_at: dt.datetime | None
    upvotes: int
    hf_upvotes: int
    votes: int
    comments: int
    hf_comments: int
    reader_comments: int
    code_url: str | None
    code_stars: int | None
    project_url: str | None
    abs_url: str | None
    pdf_url: str | None
    score: float | None = None


class PaperList(BaseModel):
    items: list[PaperItem]
    total: int
    next_cursor: str | None


class DailyList(PaperList):
    date: dt.date | None
    previous_date: dt.date | None
    next_date: dt.date | None


class TrendingList(PaperList):
    window: str
    formula: str


class Listing(BaseModel):
    day: dt.date
    source: str
    kind: str
    upvotes: int | None
    submitter: str | None


class TrendingTerms(BaseModel):
    score: float
    upvote_term: float
    star_term: float
    recency_term: float
    age_days: float


class PaperDetail(PaperItem):
    arxiv_id: str | None
    version: int | None
    doi: str | None
    updated_at: dt.datetime | None
    journal_ref: str | None
    license: str | None
    notes: str | None
    listings: list[Listing]
    trending: TrendingTerms | None


class CategoryCount(BaseModel):
    category: str
    papers: int


class CategoryList(BaseModel):
    items: list[CategoryCount]


class AuthorList(PaperList):
    name: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "bad parameter or cursor (problem+json)"},
    404: {"model": Problem, "description": "not found (problem+json)"},
}


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def card_json(card: Card, score: float | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": card.id,
        "url": paper_url(card.id),
        "title": card.title,
        "abstract": card.abstract,
        "authors": list(card.authors),
        "categories": list(card.categories),
        "inferred_categories": list(card.inferred_categories),
        "listed_on": _iso(card.day),
        "published_at": _iso(card.submitted_at),
        "upvotes": card.upvotes,
        "hf_upvotes": card.hf_upvotes,
        "votes": card.votes,
        "comments": card.all_comments,
        "hf_comments": card.hf_comments,
        "reader_comments": card.comments,
        "code_url": http_url(card.code_url),
        "code_stars": card.code_stars,
        "project_url": http_url(card.project_url),
        "abs_url": http_url(card.abs_url),
        "pdf_url": http_url(card.pdf_url),
    }
    if score is not None:
        item["score"] = round(score, 6)
    return item


# -- cursors ----------------------------------------------------------------------------


def decode_cursor(cursor: str | None, scope: str) -> int:
    """The offset a list starts at: 0, or the one its cursor stands for."""
    return 0 if cursor is None else params.decode_cursor(cursor, scope)


def _next(scope: str, offset: int, count: int, total: int) -> str | None:
    return params.encode_cursor(scope, offset + count) if offset + count < total else None


async def _cached_json(request: Request, build: Callable[[], Any]) -> Response:
    cache = page_cache(request)
    hit = cache.get(request)
    if hit is not None:
        return hit
    generation = cache.generation()
    data = await run_in_threadpool(build)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    cache.put(request, body, JSON_TYPE, generation)
    return Response(body, media_type=JSON_TYPE)


def _view_scope(*wanted: str | None) -> str:
    """What a list's cursor scope adds for a sort or a filter (nothing without one, so the
    cursors handed out before lists took them stay valid)."""
    return "".join(f":{value}" for value in wanted) if any(v is not None for v in wanted) else ""


# -- endpoints ----------------------------------------------------------------------------


@router.get("/daily", response_model=DailyList, responses=ERRORS)
async def daily(
    request: Request,
    date: Annotated[
        str | None,
        Query(max_length=40, description="YYYY-MM-DD", json_schema_extra=params.DAY_SCHEMA),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    sort: SortParam = None,
    category: CategoryParam = None,
    has_code: HasCodeParam = None,
) -> Response:
    """The papers of a day (default: the newest day with listings): Hugging Face's daily
    papers by upvotes, then the day's arXiv listings; ``sort``, ``category`` and
    ``has_code`` narrow and order both parts, as on the page."""
    day = params.parse_day(date) if date is not None else None
    scope = f"daily:{day}" + _view_scope(sort, category, has_code)
    offset = decode_cursor(cursor, scope)

    def build() -> dict[str, Any]:
        view = list_view(request, sort, category, has_code, blank_is_default=False)
        found = get_hub(request).reading.day_slice(day, offset=offset, limit=limit, view=view)
        if found is None:
            return {"date": None, "previous_date": None, "next_date": None, "items": [],
                    "total": 0, "next_cursor": None}  # fmt: skip
        return {
            "date": found.day.isoformat(),
            "previous_date": _iso(found.previous_day),
            "next_date": _iso(found.next_day),
            "items": [card_json(c) for c in found.cards],
            "total": found.total,
            "next_cursor": _next(scope, offset, len(found.cards), found.total),
        }

    return await _cached_json(request, build)


@router.get("/trending", response_model=TrendingList, responses=ERRORS)
async def trending_list(
    request: Request,
    window: Annotated[
        str,
        Query(
            max_length=20,
            description="week, month or all",
            json_schema_extra={"enum": ["week", "month", "all"]},
        ),
    ] = "week",
    cursor: Cursor = None,
    limit: Limit = 30,
    sort: SortParam = None,
    category: CategoryParam = None,
    has_code: HasCodeParam = None,
) -> Response:
    """Trending papers with their scores (docs/trending.md explains the formula), by score
    or by ``sort``; ``category`` and ``has_code`` narrow them, as on the page."""
    chosen = params.parse_window(window)
    scope = f"trending:{chosen}" + _view_scope(sort, category, has_code)
    offset = decode_cursor(cursor, scope)

    def build() -> dict[str, Any]:
        view = list_view(request, sort, category, has_code, blank_is_default=False)
        found = get_hub(request).reading.trending(chosen, offset=offset, limit=limit, view=view)
        scores = {t.pk: t.score for t in found.ranked}
        total = found.page.total
        return {
            "window": chosen,
            "formula": formula(found.weights, chosen),
            "items": [card_json(c, scores[c.pk]) for c in found.page.cards],
            "total": total,
            "next_cursor": _next(scope, offset, len(found.ranked), total),
        }

    return await _cached_json(request, build)


def _paper_detail(request: Request, paper: Paper) -> dict[str, Any]:
    _pk, card, terms = paper_view(request, paper)
    data = card_json(card)
    data.update(
        arxiv_id=paper.arxiv_id,
        version=paper.version,
        doi=paper.doi,
        updated_at=_iso(paper.updated_at),
        journal_ref=paper.journal_ref,
        license=paper.license,
        notes=paper.comments,
        listings=[
            {
                "day": e.day.isoformat(),
                "source": e.source,
                "kind": e.kind,
                "upvotes": e.upvotes,
                "submitter": e.submitter,
            }
            for e in paper.daily
        ],
        trending=None
        if terms is None
        else {
            "score": round(terms.score, 6),
            "upvote_term": round(terms.upvote_term, 6),
            "star_term": round(terms.star_term, 6),
            "recency_term": round(terms.recency_term, 6),
            "age_days": round(terms.age_days, 4),
        },
    )
    return data


@router.get("/authors/{name:path}", response_model=AuthorList, responses=ERRORS)
async def author(request: Request, name: str, cursor: Cursor = None, limit: Limit = 30) -> Response:
    """An author's papers, newest first (the name matches up to case and spacing)."""
    scope = "author"
    offset = decode_cursor(cursor, scope)

    def build() -> dict[str, Any]:
        found = get_hub(request).reading.author(name, offset=offset, limit=limit)
        papers = found.papers
        return {
            "name": found.name,
            "items": [card_json(c) for c in papers.cards],
            "total": papers.total,
            "next_cursor": _next(scope, offset, len(papers.cards), papers.total),
        }

    return await _cached_json(request, build)


@router.get("/categories", response_model=CategoryList)
async def category_list(request: Request) -> Response:
    """Every category with its number of papers, largest first."""

    def build() -> dict[str, Any]:
        found = get_hub(request).reading.categories()
        return {"items": [{"category": c, "papers": n} for c, n in found]}

    return await _cached_json(request, build)


@router.get("/categories/{category}", response_model=PaperList, responses=ERRORS)
async def category(
    request: Request, category: str, cursor: Cursor = None, limit: Limit = 30
) -> Response:
    """Papers of one category, newest first."""
    scope = "category"
    offset = decode_cursor(cursor, scope)

    def build() -> dict[str, Any]:
        found = get_hub(request).reading.category(category, offset=offset, limit=limit)
        return {
            "category": category,
            "items": [card_json(c) for c in found.cards],
            "total": found.total,
            "next_cursor": _next(scope, offset, len(found.cards), found.total),
        }

    return await _cached_json(request, build)


# Last: its {paper_id:path} would otherwise take /api/v1/papers/{id}/similar, /vote, ...
@router.get("/papers/{paper_id:path}", response_model=PaperDetail, responses=ERRORS)
async def paper(request: Request, paper_id: str) -> Response:
    """One paper by id, arXiv id (any version) or DOI, with its listings and trending terms."""

    def build() -> dict[str, Any]:
        return _paper_detail(request, find_paper(request, paper_id))

    return await _cached_json(request, build)
