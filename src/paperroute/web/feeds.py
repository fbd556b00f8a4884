"""Atom and RSS feeds: daily, trending, each category, each author.

``card_entries(cards, base_url)`` turns paper cards into feed entries for other feeds
(collections, search) to hand to ``build_atom`` / ``build_rss``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .. import browse, trending
from ..errors import NotFound
from ..links import http_url
from . import params
from .deps import get_hub, page_cache
from .feedxml import ATOM_TYPE, RSS_TYPE, FeedEntry, build_atom, build_rss
from .templating import author_url, category_url, paper_url

router = APIRouter(include_in_schema=False)

FEED_SIZE = 50
DAILY_DAYS = 3


def card_entries(cards: Iterable[browse.Card], base_url: str) -> list[FeedEntry]:
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
    request: Request, fmt: str, build: Callable[[], tuple[str, str, list[browse.Card]]]
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


def _daily(request: Request) -> tuple[str, str, list[browse.Card]]:
    with browse.reading(get_hub(request).engine) as connection:
        days = browse.listing_days(connection)[-DAILY_DAYS:]
        cards: list[browse.Card] = []
        for day in reversed(days):
            cards += browse.top_between(connection, day, day, limit=FEED_SIZE).cards
            cards += browse.arxiv_listed(connection, day, limit=FEED_SIZE).cards
    return "paperroute: daily papers", "/", cards[: FEED_SIZE * DAILY_DAYS]


def _trending(request: Request, window: str) -> tuple[str, str, list[browse.Card]]:
    hub = get_hub(request)
    with browse.reading(hub.engine) as connection:
        ranked = trending.rank(connection, trending.Weights.from_config(hub.config), window)
        cards = browse.load_cards(connection, [t.pk for t in ranked[:FEED_SIZE]])
    suffix = "" if window == "week" else f"?window={window}"
    return f"paperroute: trending papers ({window})", f"/trending{suffix}", cards


def _category(request: Request, category: str) -> tuple[str, str, list[browse.Card]]:
    with browse.reading(get_hub(request).engine) as connection:
        found = browse.in_category(connection, category, limit=FEED_SIZE)
    if not found.total:
        raise NotFound(f"no papers in category {category[:60]!r}")
    return f"paperroute: {category}", category_url(category), found.cards


def _author(request: Request, name: str) -> tuple[str, str, list[browse.Card]]:
    with browse.reading(get_hub(request).engine) as connection:
        stored = browse.author_name(connection, name)
        if stored is None:
            raise NotFound(f"no author named {name[:100]!r}")
        found = browse.by_author(connection, name, limit=FEED_SIZE)
    return f"paperroute: papers by {stored}", author_url(stored), found.cards


def _register(fmt: str) -> None:
    async def daily(request: Request) -> Response:
        return await _feed(request, fmt, lambda: _daily(request))

    async def trending_feed(request: Request, window: str = "week") -> Response:
        chosen = params.parse_window(window)
        return await _feed(request, fmt, lambda: _trending(request, chosen))

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
