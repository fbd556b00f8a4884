"""The HTML pages of the read side: daily (day, week, month), trending, paper, author,
category, and the feeds index. Anonymous pages come from the page cache (deps.cached_page)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import Connection, func, select
from starlette.concurrency import run_in_threadpool

from .. import browse, trending
from ..errors import NotFound
from ..store.schema import daily_entries
from ..store.types import as_date
from . import params
from .deps import anonymous_token, cached_page, get_hub, page_cache, paper_view, render_cached
from .templating import paper_url

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
ARXIV_PAGE_SIZE = 25
PageNo = Annotated[int, Query(ge=1, le=100_000, description="page number, from 1")]

TRENDING_LINE = (
    "Ranked by upvotes (Hugging Face's and this hub's readers'), fading with age, "
    "plus code stars and a boost for recency."
)
WINDOW_TITLES = {"week": "This week", "month": "This month", "all": "All time"}


def _pages(page: browse.Page, number: int) -> dict[str, Any]:
    last = max(1, -(-page.total // page.limit))
    if number > 1 and not page.cards:
        raise NotFound(f"page {number} is past the end of this list ({last} pages)")
    return {"page": number, "last_page": last, "total": page.total}


def _has_days(connection: Connection, start: dt.date, end: dt.date) -> bool:
    found = connection.scalar(
        select(daily_entries.c.day).where(daily_entries.c.day.between(start, end)).limit(1)
    )
    return found is not None


def _daily_context(request: Request, day: dt.date | None, number: int) -> dict[str, Any]:
    hub = get_hub(request)
    with browse.reading(hub.engine) as connection:
        if day is None:
            day = browse.newest_day(connection)
            if day is None:
                return {"day": None, "empty_hub": True}
        hf = browse.top_between(connection, day, day, limit=browse.MAX_PAGE)
        arxiv = browse.arxiv_listed(
            connection, day, offset=(number - 1) * ARXIV_PAGE_SIZE, limit=ARXIV_PAGE_SIZE
        )
        before, after = browse.neighbour_days(connection, day)
    return {
        "day": day,
        "hf": hf.cards if number == 1 else [],
        "arxiv": arxiv,
        "previous_day": before,
        "next_day": after,
        "week": params.iso_week(day),
        "month": f"{day:%Y-%m}",
        **(_pages(arxiv, number) if arxiv.total or number > 1 else {"page": 1, "last_page": 1}),
    }


@router.get("/")
async def today(request: Request, page: PageNo = 1) -> Response:
    return await cached_page(request, "daily.html", lambda: _daily_context(request, None, page))


@router.get("/papers/date/{day}")
async def by_day(request: Request, day: str, page: PageNo = 1) -> Response:
    parsed = params.parse_day(day)
    return await cached_page(request, "daily.html", lambda: _daily_context(request, parsed, page))


def _range_context(
    request: Request, kind: str, label: str, start: dt.date, end: dt.date, number: int
) -> dict[str, Any]:
    hub = get_hub(request)
    with browse.reading(hub.engine) as connection:
        top = browse.top_between(
            connection, start, end, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        days = [
            (as_date(d), n)
            for d, n in connection.execute(
                select(daily_entries.c.day, func.count())
                .where(daily_entries.c.day.between(start, end))
                .group_by(daily_entries.c.day)
                .order_by(daily_entries.c.day)
            )
        ]
        if kind == "week":
            prev_start, next_start = start - dt.timedelta(days=7), end + dt.timedelta(days=1)
            prev_key, next_key = params.iso_week(prev_start), params.iso_week(next_start)
        else:
            prev_start, next_start = params.prev_month(start), params.next_month(start)
            prev_key, next_key = f"{prev_start:%Y-%m}", f"{next_start:%Y-%m}"
        has_prev = _has_days(connection, dt.date.min, start - dt.timedelta(days=1))
        has_next = _has_days(connection, next_start, dt.date.max)
    return {
        "kind": kind,
        "label": label,
        "start": start,
        "end": end,
        "top": top,
        "days": days,
        "previous": f"/papers/{kind}/{prev_key}" if has_prev else None,
        "next": f"/papers/{kind}/{next_key}" if has_next else None,
        "rank_offset": (number - 1) * PAGE_SIZE,
        **_pages(top, number),
    }


@router.get("/papers/week/{week}")
async def by_week(request: Request, week: str, page: PageNo = 1) -> Response:
    start, end = params.parse_week(week)
    label = f"Week {start.isocalendar()[1]}, {start.isocalendar()[0]}"
    return await cached_page(
        request,
        "range.html",
        lambda: _range_context(request, "week", label, start, end, page),
    )


@router.get("/papers/month/{month}")
async def by_month(request: Request, month: str, page: PageNo = 1) -> Response:
    start, end = params.parse_month(month)
    label = f"{start:%B %Y}"
    return await cached_page(
        request,
        "range.html",
        lambda: _range_context(request, "month", label, start, end, page),
    )


def _trending_context(request: Request, window: str, number: int) -> dict[str, Any]:
    hub = get_hub(request)
    weights = trending.Weights.from_config(hub.config)
    with browse.reading(hub.engine) as connection:
        ranked = trending.rank(connection, weights, window)
        offset = (number - 1) * PAGE_SIZE
        chosen = ranked[offset : offset + PAGE_SIZE]
        cards = browse.load_cards(connection, [t.pk for t in chosen])
    terms = {t.pk: t for t in chosen}
    page = browse.Page(cards, len(ranked), offset, PAGE_SIZE)
    return {
        "window": window,
        "windows": WINDOW_TITLES,
        "explanation": TRENDING_LINE,
        "weights": weights,
        "cards": cards,
        "terms": terms,
        "rank_offset": offset,
        **_pages(page, number),
    }


@router.get("/trending")
async def trending_page(request: Request, window: str = "week", page: PageNo = 1) -> Response:
    chosen = params.parse_window(window)
    return await cached_page(
        request, "trending.html", lambda: _trending_context(request, chosen, page)
    )


def _paper_context(request: Request, ref: str) -> dict[str, Any] | str:
    """The paper page's context, or the canonical id to redirect to."""
    paper = browse.find_paper(get_hub(request), ref)
    if paper.id != ref:
        return paper.id
    pk, card, terms = paper_view(request, paper)
    sections = []
    templates = request.app.state.templates
    for section in request.app.state.paper_sections:
        result = section(request, paper, pk)
        if result is not None:
            name, context = result
            html = templates.get_template(name).render({"request": request, **context})
            sections.append(Markup(html))  # noqa: S704 - rendered by our autoescaping templates
    return {"paper": paper, "card": card, "terms": terms, "sections": sections}


@router.get("/papers/{paper_id:path}")
async def paper_page(request: Request, paper_id: str) -> Response:
    cache = page_cache(request)
    hit = cache.get(request)
    if hit is not None:
        return hit
    generation = cache.generation()
    with anonymous_token(request):  # the sections render forms with the CSRF token
        context = await run_in_threadpool(_paper_context, request, paper_id)
    if isinstance(context, str):
        return RedirectResponse(paper_url(context), status_code=301)
    return render_cached(request, "paper.html", context, generation)


def _author_context(request: Request, name: str, number: int) -> dict[str, Any]:
    hub = get_hub(request)
    with browse.reading(hub.engine) as connection:
        stored = browse.author_name(connection, name)
        if stored is None:
            raise NotFound(f"no author named {name[:100]!r}")
        found = browse.by_author(connection, name, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return {"name": stored, "papers": found, **_pages(found, number)}


@router.get("/authors/{name:path}")
async def author_page(request: Request, name: str, page: PageNo = 1) -> Response:
    return await cached_page(request, "author.html", lambda: _author_context(request, name, page))


def _categories_context(request: Request) -> dict[str, Any]:
    with browse.reading(get_hub(request).engine) as connection:
        return {"categories": browse.categories(connection)}


@router.get("/categories")
async def categories_page(request: Request) -> Response:
    return await cached_page(request, "categories.html", lambda: _categories_context(request))


def _category_context(request: Request, category: str, number: int) -> dict[str, Any]:
    with browse.reading(get_hub(request).engine) as connection:
        found = browse.in_category(
            connection, category, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    if found.total == 0:
        raise NotFound(f"no papers in category {category[:60]!r}")
    return {"category": category, "papers": found, **_pages(found, number)}


@router.get("/categories/{category}")
async def category_page(request: Request, category: str, page: PageNo = 1) -> Response:
    return await cached_page(
        request, "category.html", lambda: _category_context(request, category, page)
    )


@router.get("/feeds")
async def feeds_page(request: Request) -> Response:
    return await cached_page(request, "feeds.html", lambda: _categories_context(request))
