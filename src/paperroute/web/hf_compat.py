"""``/api/daily_papers`` in the JSON shape of Hugging Face's endpoint, so that tools written
for Hugging Face (its ``huggingface_hub`` client, scripts reading the dumps) work against a
self-hosted hub.

Parameters as Hugging Face's: ``date`` (YYYY-MM-DD), ``week`` (YYYY-Www) or ``month``
(YYYY-MM) — at most one, default the newest day with daily papers; ``p`` page from 0;
``limit`` 1..100 (default 50); ``sort`` ``publishedAt`` (newest first) or ``trending``
(the hub's trending score); without ``sort``, most upvoted first. Items are the Hugging Face
daily papers of the period (reader votes added to upvotes); hidden papers are left out."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..errors import InvalidInput
from ..links import http_url
from ..reading import Card
from . import params
from .deps import get_hub, page_cache

router = APIRouter(tags=["compatibility"])

SORTS = ("publishedAt", "trending")


def hf_time(value: dt.date | dt.datetime | None) -> str | None:
    """Hugging Face's timestamp format: 2026-08-20T00:00:00.000Z."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def hf_item(card: Card, listed: dt.date | None) -> dict[str, Any]:
    """One item of /api/daily_papers (the fields huggingface_hub reads, and a few more)."""
    submitter = (
        None if card.submitter is None else {"name": card.submitter, "fullname": card.submitter}
    )
    paper: dict[str, Any] = {
        "id": card.id,
        "authors": [{"name": name} for name in card.authors],
        "publishedAt": hf_time(card.submitted_at or card.day),
        "submittedOnDailyAt": hf_time(listed),
        "title": card.title,
        "summary": card.abstract,
        "upvotes": card.upvotes,
        "numComments": card.all_comments,
    }
    if submitter is not None:
        paper["submittedOnDailyBy"] = submitter
    # Stored links come from outside: only http(s) ones reach a client (as on the pages).
    if (code := http_url(card.code_url)) is not None:
        paper["githubRepo"] = code
    if card.code_stars is not None:
        paper["githubStars"] = card.code_stars
    if (project := http_url(card.project_url)) is not None:
        paper["projectPage"] = project
    return {
        "paper": paper,
        "publishedAt": hf_time(listed or card.day),
        "title": card.title,
        "summary": card.abstract,
        "numComments": card.all_comments,
        "submittedBy": submitter,
    }


def _period(
    date: str | None, week: str | None, month: str | None
) -> tuple[dt.date, dt.date] | None:
    given = [value for value in (date, week, month) if value is not None]
    if len(given) > 1:
        raise InvalidInput("give at most one of date, week and month")
    if date is not None:
        day = params.parse_day(date)
        return day, day
    if week is not None:
        return params.parse_week(week)
    if month is not None:
        return params.parse_month(month)
    return None


@router.get("/api/daily_papers")
async def daily_papers(
    request: Request,
    date: Annotated[str | None, Query(max_length=40, json_schema_extra=params.DAY_SCHEMA)] = None,
    week: Annotated[str | None, Query(max_length=40)] = None,
    month: Annotated[str | None, Query(max_length=40)] = None,
    p: Annotated[int, Query(ge=0, le=100_000, description="page, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    sort: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Hugging Face daily papers of a day, week or month, in Hugging Face's JSON shape."""
    period = _period(date, week, month)
    if sort is not None and sort not in SORTS:
        raise InvalidInput(f"sort must be publishedAt or trending, not {sort[:40]!r}")
    cache = page_cache(request)
    hit = cache.get(request)
    if hit is not None:
        return hit
    generation = cache.generation()

    def build() -> list[dict[str, Any]]:
        ranked = get_hub(request).reading.hf_daily_papers(period, sort)
        chosen = ranked[p * limit : (p + 1) * limit]
        return [hf_item(card, listed) for card, listed in chosen]

    body = json.dumps(await run_in_threadpool(build), ensure_ascii=False).encode()
    cache.put(request, body, "application/json", generation)
    return Response(body, media_type="application/json")
