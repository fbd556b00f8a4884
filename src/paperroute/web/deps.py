"""What routes receive: the hub, and ``render`` for templates (with the anonymous page cache)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import NotFound
from ..hub import Hub
from ..model import Paper
from ..reading import Card, ListView, Terms, storable
from . import params
from .cache import PageCache


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def find_paper(request: Request, ref: str) -> Paper:
    """``hub.papers.show(ref)``, with text no database can hold answered as not found."""
    if not storable(ref):
        raise NotFound(f"no paper {ref[:100]!r}")
    return get_hub(request).papers.show(ref)


def paper_view(request: Request, paper: Paper) -> tuple[int, Card, Terms | None]:
    """A paper's key, card and this week's trending terms (the paper page and its JSON);
    NotFound when it is hidden, even if it was hidden a moment ago."""
    view = get_hub(request).reading.paper(paper.id)
    return view.pk, view.card, view.terms


SortParam = Annotated[
    str | None,
    Query(
        max_length=20,
        description="upvotes, newest or stars (default: the list's own order)",
        json_schema_extra={"enum": ["upvotes", "newest", "stars"]},
    ),
]
CategoryParam = Annotated[
    str | None, Query(max_length=60, description="only papers in this category, e.g. cs.CL")
]
HasCodeParam = Annotated[
    str | None,
    Query(
        max_length=10,
        description="1 or true: only papers with a code link (0 or false: all)",
        json_schema_extra={"enum": ["1", "0", "true", "false"]},
    ),
]


def list_view(
    request: Request,
    sort: str | None,
    category: str | None,
    has_code: str | None,
    *,
    blank_is_default: bool = True,
) -> ListView:
    """The list view a page, a feed or the API was asked for (``?sort=&category=&has_code=``;
    on pages an empty value, what a form's "any" choice sends, means the default; the API
    refuses it): InvalidInput (400) for a bad sort or flag, NotFound (404) for a category no
    paper is in. Reads the database: call it in a worker thread."""
    if blank_is_default:
        sort, category, has_code = sort or None, category or None, has_code or None
    flag = params.parse_flag("has_code", has_code)
    return get_hub(request).reading.list_view(sort, category, has_code=flag)


def page_cache(request: Request) -> PageCache:
    cache: PageCache = request.app.state.page_cache
    return cache


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    *,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` in the site layout (``request`` is added to the context)."""
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {"request": request, **context}, status_code=status, headers=headers
    )
    return response


@contextmanager
def anonymous_token(request: Request) -> Iterator[str]:
    """While an anonymous page is built and rendered, ``request.state.csrf_token`` is the
    cache's placeholder (so that sections rendered along the way hold it too); yields the
    reader's real token."""
    token = getattr(request.state, "csrf_token", "") or ""
    if getattr(request.state, "user", None) is not None:
        yield token
        return
    request.state.csrf_token = page_cache(request).token_placeholder
    try:
        yield token
    finally:
        request.state.csrf_token = token


def render_cached(
    request: Request, template: str, context: dict[str, Any], generation: int
) -> Response:
    """Render a page every anonymous reader sees alike, and keep it for the next one.

    The CSRF token is per reader, so the page is rendered with a placeholder that is swapped
    for the reader's token on the way out. Signed-in readers always get a fresh render.
    ``generation``: the cache's, taken before the context was built."""
    cache = page_cache(request)
    if getattr(request.state, "user", None) is not None:
        return render(request, template, context)
    with anonymous_token(request) as token:
        body = bytes(render(request, template, context).body)
    cache.put(request, body, "text/html; charset=utf-8", generation)
    return cache.respond(body, "text/html; charset=utf-8", token)


async def cached_page(
    request: Request, template: str, build: Callable[[], dict[str, Any]]
) -> Response:
    """An anonymous reader's page from the cache, else ``build()`` (run in a worker thread:
    it reads the database) rendered and kept."""
    cache = page_cache(request)
    hit = cache.get(request)
    if hit is not None:
        return hit
    generation = cache.generation()
    with anonymous_token(request):
        context = await run_in_threadpool(build)
    return render_cached(request, template, context, generation)
