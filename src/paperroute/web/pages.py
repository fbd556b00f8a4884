"""The HTML pages of the read side: daily (day, week, month), trending, paper, author,
category, and the feeds index. Anonymous pages come from the page cache (deps.cached_page)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from ..errors import NotFound
from ..reading import SORTS, ListView, Page
from . import params
from .deps import (
    CategoryParam,
    HasCodeParam,
    SortParam,
    anonymous_token,
    cached_page,
    find_paper,
    get_hub,
    list_view,
    page_cache,
    paper_view,
    render_cached,
)
from .sections import HEAD
from .templating import author_url, category_url, paper_url

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
ARXIV_PAGE_SIZE = 25
# No upper bound here: a page past the end of any list, however far, gets the same friendly
# 404 ("page N is past the end of this list"), not a validator's 400.
PageNo = Annotated[int, Query(ge=1, description="page number, from 1")]
MAX_PAGE_NUMBER = 100_000  # no list is that long: further pages are not looked up


def _offset(number: int, size: int) -> int:
    """The first item of page ``number``; pages beyond MAX_PAGE_NUMBER read as an empty
    page just past it (so the database never sees a huge OFFSET)."""
    return (min(number, MAX_PAGE_NUMBER + 1) - 1) * size


# What each window ranks by, in a reader's words (docs/trending.md, #formula).
TRENDING_LINES = {
    "week": "Ranked by upvotes (Hugging Face's and this hub's readers'), fading fast with "
    "age, plus code stars and a boost for the newest papers.",
    "month": "Ranked by the month's upvotes, fading gently (a paper listed a month ago keeps "
    "half of its), plus code stars.",
    "all": "Ranked by upvotes (Hugging Face's and this hub's readers') plus code stars, "
    "however old the paper: the best of all time.",
}
WINDOW_TITLES = {"week": "This week", "month": "This month", "all": "All time"}


def _pages(page: Page, number: int) -> dict[str, Any]:
    last = max(1, -(-page.total // page.limit))
    if number > 1 and not page.cards:
        shown = str(number) if number <= MAX_PAGE_NUMBER else f"{str(number)[:12]}…"
        raise NotFound(f"page {shown} is past the end of this list ({last} pages)")
    return {"page": number, "last_page": last, "total": page.total}


# A list view as asked for in the URL: (sort, category, has_code), read by deps.list_view.
Wanted = tuple[str | None, str | None, str | None]


def _view_context(request: Request, view: ListView, **extra: str) -> dict[str, Any]:
    """What the sort and filter form and the feed links of a list need."""
    query = params.view_params(view.sort, view.category, view.has_code)
    feed_query = [*extra.items(), *query]
    return {
        "view": view,
        "sorts": SORTS,
        "all_categories": [c for c, _n in get_hub(request).reading.categories()],
        "feed_query": ("?" + urlencode(feed_query)) if feed_query else "",
        "view_query": urlencode(query),
    }


def _daily_context(
    request: Request, day: dt.date | None, number: int, wanted: Wanted
) -> dict[str, Any]:
    view = list_view(request, *wanted)
    found = get_hub(request).reading.day(
        day,
        arxiv_offset=_offset(number, ARXIV_PAGE_SIZE),
        arxiv_limit=ARXIV_PAGE_SIZE,
        view=view,
    )
    if found is None:
        return {"day": None, "empty_hub": True}
    arxiv = found.arxiv
    return {
        **_view_context(request, view),
        "day": found.day,
        "hf": found.hf if number == 1 else [],
        "arxiv": arxiv,
        "previous_day": found.previous_day,
        "next_day": found.next_day,
        "week": params.iso_week(found.day),
        "month": f"{found.day:%Y-%m}",
        **(_pages(arxiv, number) if arxiv.total or number > 1 else {"page": 1, "last_page": 1}),
    }


@router.get("/")
async def today(
    request: Request,
    page: PageNo = 1,
    sort: SortParam = None,
    category: CategoryParam = None,
    has_code: HasCodeParam = None,
) -> Response:
    wanted = (sort, category, has_code)
    return await cached_page(
        request, "daily.html", lambda: _daily_context(request, None, page, wanted)
    )


@router.get("/papers/date/{day}")
async def by_day(
    request: Request,
    day: str,
    page: PageNo = 1,
    sort: SortParam = None,
    category: CategoryParam = None,
    has_code: HasCodeParam = None,
) -> Response:
    parsed = params.parse_day(day)
    wanted = (sort, category, has_code)
    return await cached_page(
        request, "daily.html", lambda: _daily_context(request, parsed, page, wanted)
    )


def _range_context(
    request: Request,
    kind: str,
    label: str,
    start: dt.date,
    end: dt.date,
    number: int,
    wanted: Wanted,
) -> dict[str, Any]:
    view = list_view(request, *wanted)
    found = get_hub(request).reading.period(
        start, end, offset=_offset(number, PAGE_SIZE), limit=PAGE_SIZE, view=view
    )
    if kind == "week":
        prev_start, next_start = start - dt.timedelta(days=7), end + dt.timedelta(days=1)
        prev_key, next_key = params.iso_week(prev_start), params.iso_week(next_start)
    else:
        prev_start, next_start = params.prev_month(start), params.next_month(start)
        prev_key, next_key = f"{prev_start:%Y-%m}", f"{next_start:%Y-%m}"
    return {
        **_view_context(request, view),
        "kind": kind,
        "label": label,
        "start": start,
        "end": end,
        "top": found.top,
        "days": found.days,
        "previous": f"/papers/{kind}/{prev_key}" if found.has_earlier else None,
        "next": f"/papers/{kind}/{next_key}" if found.has_later else None,
        "rank_offset": _offset(number, PAGE_SIZE),
        **_pages(found.top, number),
    }


@router.get("/papers/week/{week}")
async def by_week(
    request: Request,
    week: str,
    page: PageNo = 1,
    sort: SortParam = None,
    category: CategoryParam = None,
    has_code: HasCodeParam = None,
) -> Response:
    wanted = (sort, category, has_code)
    start, end = params.parse_week(week)
    label = f"Week {start.isocalendar()[1]}, {start.isocalendar()[0]}"
    return await cached_page(
        request,
        "range.html",
        lambda: _range_context(request, "week", label, start, end, page, wanted),
    )


@router.get("/papers/month/{month}")
async def by_month(
    request: Request,
    month: str,
    page: PageNo = 1,
    sort: SortParam = None,
    category: CategoryParam = None,
    has_code: HasCodeParam = None,
) -> Response:
    wanted = (sort, category, has_code)
    start, end = params.parse_month(month)
    label = f"{start:%B %Y}"
    return await cached_page(
        request,
        "range.html",
        lambda: _range_context(request, "month", label, start, end, page, wanted),
    )


def _trending_context(request: Request, window: str, number: int, wanted: Wanted) -> dict[str, Any]:
    view = list_view(request, *wanted)
    offset = _offset(number, PAGE_SIZE)
    found = get_hub(request).reading.trending(window, offset=offset, limit=PAGE_SIZE, view=view)
    extra = {"window": window} if window != "week" else {}
    return {
        **_view_context(request, view, **extra),
        "window": window,
        "windows": WINDOW_TITLES,
        "explanation": TRENDING_LINES[window],
        "weights": found.weights,
        "cards": found.page.cards,
        "terms": found.terms,
        "rank_offset": offset,
        **_pages(found.page, number),
    }


@router.get("/trending")
async def trending_page(
    request: Request,
    window: str = "week",
    page: PageNo = 1,
    sort: SortParam = None,
    category: CategoryParam = None,
    has_code: HasCodeParam = None,
) -> Response:
    chosen = params.parse_window(window)
    wanted = (sort, category, has_code)
    return await cached_page(
        request, "trending.html", lambda: _trending_context(request, chosen, page, wanted)
    )


def _paper_context(request: Request, ref: str) -> dict[str, Any] | str:
    """The paper page's context, or the canonical id to redirect to."""
    paper = find_paper(request, ref)
    if paper.id != ref:
        return paper.id
    pk, card, terms = paper_view(request, paper)
    request.state.paper_card = card  # the sections may say what the card counts (HF comments)
    head: list[Markup] = []
    sections: list[Markup] = []
    templates = request.app.state.templates
    for place, section in sorted(request.app.state.paper_sections, key=lambda e: e[0]):
        result = section(request, paper, pk)
        if result is not None:
            name, context = result
            html = templates.get_template(name).render({"request": request, **context})
            # S704: rendered by our autoescaping templates
            (head if place == HEAD else sections).append(Markup(html))  # noqa: S704
    return {"paper": paper, "card": card, "terms": terms, "head": head, "sections": sections}


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


class _Canonical(Exception):
    """The page lives at another URL (another spelling of the same author or category)."""

    def __init__(self, path: str) -> None:
        self.path = path


def _canonical_redirect(request: Request, found: _Canonical) -> Response:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(found.path + query, status_code=301)


def _author_context(request: Request, name: str, number: int) -> dict[str, Any]:
    found = get_hub(request).reading.author(
        name, offset=_offset(number, PAGE_SIZE), limit=PAGE_SIZE
    )
    if found.name != name:  # "a. altar luser", "A.  Altar Lüser": one page, one URL
        raise _Canonical(author_url(found.name))
    return {"name": found.name, "papers": found.papers, **_pages(found.papers, number)}


@router.get("/authors/{name:path}")
async def author_page(request: Request, name: str, page: PageNo = 1) -> Response:
    try:
        return await cached_page(
            request, "author.html", lambda: _author_context(request, name, page)
        )
    except _Canonical as found:
        return _canonical_redirect(request, found)


def _categories_context(request: Request) -> dict[str, Any]:
    return {"categories": get_hub(request).reading.categories()}


@router.get("/categories")
async def categories_page(request: Request) -> Response:
    return await cached_page(request, "categories.html", lambda: _categories_context(request))


def _category_context(request: Request, category: str, number: int) -> dict[str, Any]:
    reading = get_hub(request).reading
    try:
        found = reading.category(category, offset=_offset(number, PAGE_SIZE), limit=PAGE_SIZE)
    except NotFound:
        canonical = reading.canonical_category(category)
        if canonical is None or canonical == category:
            raise
        raise _Canonical(category_url(canonical)) from None  # cs.cl -> cs.CL
    return {"category": category, "papers": found, **_pages(found, number)}


@router.get("/categories/{category}")
async def category_page(request: Request, category: str, page: PageNo = 1) -> Response:
    try:
        return await cached_page(
            request, "category.html", lambda: _category_context(request, category, page)
        )
    except _Canonical as found:
        return _canonical_redirect(request, found)


@router.get("/feeds")
async def feeds_page(request: Request) -> Response:
    return await cached_page(request, "feeds.html", lambda: _categories_context(request))
