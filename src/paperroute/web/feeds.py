"""Atom and RSS feeds: daily, trending, each category, each author.

``card_entries(cards, base_url)`` turns paper cards into feed entries for other feeds
(collections, search) to hand to ``build_atom`` / ``build_rss``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..links import http_url
from ..reading import Card, ListView
from . import params
from .deps import CategoryParam, HasCodeParam, SortParam, get_hub, list_view, page_cache
from .feedxml import ATOM_TYPE, RSS_TYPE, FeedEntry, build_atom, build_rss
from .templating import author_url, category_url, paper_url

router = APIRouter(include_in_schema=False)

FEED_SIZE = 50
DAILY_DAYS = 3


def card_entries(cards: Iterable[Card], base_url: str) -> list[FeedEntry]:
    base = base_url.rstrip("/")
    entries = []
    for card in cards:
        when = card.day or (card.submitted_at.date() if card.submitted_at else dt.date(2000, 1, 1))
        links = [
            (name, url)
            for name, raw in (("pdf", card.pdf_url), ("code", card.code_url))
            if (url := http_url(raw)) is not None
        ]
        url = base + paper_url(card.id)
        entries.append(
            FeedEntry(
                id=url,
                title=card.title,
                link=url,
                summary=card.abstract,
                updated=dt.datetime.combine(when, dt.time(), tzinfo=dt.UTC),
                authors=card.authors,
                categories=card.categories,
                extra_links=tuple(links),
            )
        )
    return entries


def _document(
    fmt: str, title: str, request: Request, alternate: str, entries: list[FeedEntry]
) -> bytes:
    base = request.app.state.config.base_url.rstrip("/")
    self_url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if fmt == "atom":
        return build_atom(title, self_url, entries, alternate_url=base + alternate)
    return build_rss(title, self_url, entries, alternate_url=base + alternate)


async def _feed(
    request: Request, fmt: str, build: Callable[[], tuple[str, str, list[Card]]]
) -> Response:
    cache = page_cache(request)
    hit = cache.get(request)
    if hit is not None:
        return hit
    generation = cache.generation()

    def work() -> bytes:
        title, alternate, cards = build()
        base = request.app.state.config.base_url
        return _document(fmt, title, request, alternate, card_entries(cards, base))

    body = await run_in_threadpool(work)
    media_type = ATOM_TYPE if fmt == "atom" else RSS_TYPE
    cache.put(request, body, media_type, generation)
    return Response(body, media_type=media_type)


Wanted = tuple[str | None, str | None, str | None]


def _described(title: str, view: ListView) -> str:
    """The feed's title with how it is narrowed and sorted."""
    parts = [f"in {view.category}"] if view.category else []
    parts += ["with code"] if view.has_code else []
    parts += [f"by {view.sort}"] if view.sort else []
    return f"{title} ({', '.join(parts)})" if parts else title


def _query(first: list[tuple[str, str]], view: ListView) -> str:
    found = [*first, *params.view_params(view.sort, view.category, view.has_code)]
    return "?" + urlencode(found) if found else ""


def _daily(request: Request, wanted: Wanted) -> tuple[str, str, list[Card]]:
    view = list_view(request, *wanted)
    cards = get_hub(request).reading.latest_days(DAILY_DAYS, FEED_SIZE, view=view)
    title = _described("paperroute: daily papers", view)
    return title, "/" + _query([], view), cards[: FEED_SIZE * DAILY_DAYS]


def _trending(request: Request, window: str, wanted: Wanted) -> tuple[str, str, list[Card]]:
    view = list_view(request, *wanted)
    found = get_hub(request).reading.trending(window, limit=FEED_SIZE, view=view)
    suffix = _query([("window", window)] if window != "week" else [], view)
    title = _described(f"paperroute: trending papers ({window})", view)
    return title, f"/trending{suffix}", found.page.cards


def _category(request: Request, category: str) -> tuple[str, str, list[Card]]:
    found = get_hub(request).reading.category(category, limit=FEED_SIZE)
    return f"paperroute: {category}", category_url(category), found.cards


def _author(request: Request, name: str) -> tuple[str, str, list[Card]]:
    found = get_hub(request).reading.author(name, limit=FEED_SIZE)
    return f"paperroute: papers by {found.name}", author_url(found.name), found.papers.cards


def _register(fmt: str) -> None:
    async def daily(
        request: Request,
        sort: SortParam = None,
        category: CategoryParam = None,
        has_code: HasCodeParam = None,
    ) -> Response:
        wanted = (sort, category, has_code)
        return await _feed(request, fmt, lambda: _daily(request, wanted))

    async def trending_feed(
        request: Request,
        window: str = "week",
        sort: SortParam = None,
        category: CategoryParam = None,
        has_code: HasCodeParam = None,
    ) -> Response:
        chosen = params.parse_window(window)
        wanted = (sort, category, has_code)
        return await _feed(request, fmt, lambda: _trending(request, chosen, wanted))

    async def category(request: Request, category: str) -> Response:
        return await _feed(request, fmt, lambda: _category(request, category))

    async def author(request: Request, name: str) -> Response:
        return await _feed(request, fmt, lambda: _author(request, name))

    routes: list[tuple[str, Any]] = [
        (f"/feeds/daily.{fmt}", daily),
        (f"/feeds/trending.{fmt}", trending_feed),
        (f"/feeds/categories/{{category}}.{fmt}", category),
        (f"/feeds/authors/{{name:path}}.{fmt}", author),
    ]
    for path, endpoint in routes:
        router.add_api_route(path, endpoint, methods=["GET"], name=f"{endpoint.__name__}_{fmt}")


for _fmt in ("atom", "rss"):
    _register(_fmt)
