"""Hugging Face daily papers: ``GET https://huggingface.co/api/daily_papers?date=YYYY-MM-DD``.

The response is a JSON list of submissions; each has a ``paper`` object whose ``id`` is the
arXiv id, plus the submission's own fields (``numComments``, ``submittedBy``). Early days
(mid 2024) lack ``submittedOnDailyAt``/``submittedBy``; later days add ``githubRepo``,
``githubStars``, ``projectPage`` and ``ai_keywords``.

Real dumps of this API also hold two shapes of bad input that an importer meets:
items stored as Python ``repr`` strings instead of objects (every day of Dec 2024 in one
public archive), and a wrapper object ``{"status", "date", "count", "data": [...]}``. Both are
recovered: repr strings with :func:`ast.literal_eval` (literals only, never ``eval``) under a
size cap, the wrapper by reading its ``data`` list.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..model import DailyEntry, PaperRecord, RecordError
from .common import build_record, parse_date, parse_datetime, squash

if TYPE_CHECKING:
    from .http import HttpClient

SOURCE = "hf-daily"
DAILY_PAPERS_URL = "https://huggingface.co/api/daily_papers"
# A real repr'd item is under 10 KB; literal_eval's cost grows with size and nesting.
MAX_REPR_ITEM = 256 * 1024
MAX_KEYWORDS = 100
MAX_SUMMARY = 2000  # characters of the machine-written summary (a sentence or two)
PAGE_LIMIT = 100  # the API answers 50 items unless asked for more; 100 is its maximum
MAX_PAGES = 10
MAX_COUNT = 2**31 - 1  # counts land in int4 columns (PostgreSQL) and int64 ones (SQLite)


def parse_daily(
    data: bytes, *, day: dt.date | None = None, document: str = "response"
) -> Iterator[PaperRecord | RecordError]:
    """Parse one daily_papers response (or a saved dump of one).

    ``day`` is the listing day (the ``date`` asked for, or the dump's file name); without it
    each item's ``paper.submittedOnDailyAt`` gives the day, and an item with neither gets no
    DailyEntry. source_key is ``"{day}/{arXiv id}"`` (just the id when the day is unknown).
    Invalid JSON or a top level that is not a list yields one RecordError naming ``document``.
    """
    # surrogateescape keeps undecodable bytes visible, so the record holding them is reported
    # (see _parse_item) instead of the whole response.
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    try:
        top = json.loads(text)
    except json.JSONDecodeError as exc:
        yield RecordError(SOURCE, document, f"invalid JSON: {exc}")
        return
    except RecursionError:
        yield RecordError(SOURCE, document, "invalid JSON: nested too deeply")
        return
    except ValueError as exc:
        # A number of thousands of digits passes the grammar but trips int()'s size limit.
        yield RecordError(SOURCE, document, f"invalid JSON: {exc}")
        return
    if isinstance(top, dict) and isinstance(top.get("data"), list):
        day = day or parse_date(top.get("date"))
        top = top["data"]
    if not isinstance(top, list):
        if isinstance(top, dict) and "error" in top:
            reason = f"the API answered an error: {squash(str(top['error']))[:200]}"
        else:
            reason = f"expected a JSON list of daily papers, got {type(top).__name__}"
        yield RecordError(SOURCE, document, reason)
        return
    for index, item in enumerate(top):
        yield _parse_item(item, day, f"{document}[{index}]")


def fetch_day(
    client: HttpClient, day: dt.date, *, base_url: str = DAILY_PAPERS_URL
) -> list[PaperRecord | RecordError]:
    """Fetch every daily paper of ``day``.

    The API returns 50 items unless given ``limit`` (at most 100) and pages with ``p``; pages
    are read until one comes back short, empty, or with nothing new (a server that ignores
    ``p`` would otherwise repeat page 0 forever). HTTP failures raise SourceError.
    """
    results: list[PaperRecord | RecordError] = []
    seen: set[str] = set()
    for page in range(MAX_PAGES):
        params = {"date": day.isoformat(), "limit": str(PAGE_LIMIT)}
        if page:
            params["p"] = str(page)
        body = client.get(base_url, params=params)
        items = list(parse_daily(body, day=day, document=f"{base_url}?date={day}&p={page}"))
        fresh = [item for item in items if item.source_key not in seen]
        seen.update(item.source_key for item in fresh)
        results.extend(fresh)
        if len(items) < PAGE_LIMIT or not fresh:
            break
    return results


def _recover(item: Any, key: str) -> dict[str, Any] | RecordError:
    """An item as a dict; a Python repr string is read with literal_eval (literals only)."""
    if isinstance(item, dict):
        return item
    if not isinstance(item, str):
        return RecordError(SOURCE, key, f"item is a {type(item).__name__}, not an object")
    if len(item) > MAX_REPR_ITEM:
        return RecordError(
            SOURCE, key, f"item is a string of {len(item):,} characters, too long to recover"
        )
    try:
        value = ast.literal_eval(item)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        return RecordError(
            SOURCE, key, f"item is a string that is neither JSON nor a Python literal ({exc})"
        )
    if not isinstance(value, dict):
        return RecordError(SOURCE, key, f"item string holds a {type(value).__name__}, not a dict")
    return value


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(name)
    return obj


def _count(value: Any) -> int | None:
    """A non-negative count clamped to MAX_COUNT; None unless an int."""
    # bool is an int in Python; true/false is not a count.
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return min(max(value, 0), MAX_COUNT)


def _text_or_none(value: Any) -> str | None:
    return (squash(value) or None) if isinstance(value, str) else None


def _parse_item(item: Any, day: dt.date | None, index_key: str) -> PaperRecord | RecordError:
    recovered = _recover(item, index_key)
    if isinstance(recovered, RecordError):
        return recovered
    item = recovered
    paper = item.get("paper")
    if not isinstance(paper, dict):
        return RecordError(SOURCE, index_key, "item has no 'paper' object")
    paper_id = paper.get("id")
    if not isinstance(paper_id, str) or not paper_id.strip():
        return RecordError(SOURCE, index_key, "item has no paper id")
    paper_id = paper_id.strip()

    submitted_daily = parse_datetime(paper.get("submittedOnDailyAt"))
    listing_day = day or (submitted_daily.date() if submitted_daily else None)
    key = f"{listing_day}/{paper_id}" if listing_day else paper_id

    # The listing day is part of what the record says (its DailyEntry), so it is part of the
    # fingerprint: the same item listed on another day is a change, not a repeat.
    prefix = f"{listing_day}\n".encode() if listing_day else b""
    try:
        raw = prefix + json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # surrogateescape smuggled undecodable bytes in: say which record they spoiled.
        return RecordError(SOURCE, key, "record is not valid UTF-8 text")
    except (TypeError, ValueError, RecursionError):
        # A recovered repr may hold values JSON cannot express (sets, tuples as keys...).
        try:
            raw = prefix + repr(item).encode("utf-8", "replace")
        except (ValueError, RecursionError):
            return RecordError(SOURCE, key, "record cannot be fingerprinted")

    authors = [
        author.get("name") if isinstance(author, dict) else author
        for author in (paper.get("authors") or [])
        if isinstance(author, (dict, str))
    ]
    keywords = paper.get("ai_keywords")
    ai_keywords = tuple(
        squash(word)[:200]
        for word in (keywords if isinstance(keywords, list) else [])[:MAX_KEYWORDS]
        if isinstance(word, str) and squash(word)
    )
    summary = paper.get("ai_summary")
    ai_summary = squash(summary)[:MAX_SUMMARY] or None if isinstance(summary, str) else None
    submitter = _text_or_none(_get(paper, "submittedOnDailyBy", "user")) or _text_or_none(
        _get(item, "submittedBy", "name")
    )
    daily: tuple[DailyEntry, ...] = ()
    if listing_day is not None:
        daily = (
            DailyEntry(
                day=listing_day,
                source="hf",
                kind="submitted",
                submitter=submitter,
                upvotes=_count(paper.get("upvotes")),
                num_comments=_count(item.get("numComments")),
                submitted_at=submitted_daily,
                ai_keywords=ai_keywords,
                ai_summary=ai_summary,
            ),
        )
    stars = paper.get("githubStars")
    return build_record(
        source=SOURCE,
        source_key=key,
        title=paper.get("title") or item.get("title"),
        abstract=paper.get("summary") or item.get("summary") or "",
        authors=[name for name in authors if isinstance(name, str)],
        arxiv_id=paper_id,
        # paper.publishedAt is arXiv's submission time; the item's copy is off by hours.
        submitted_at=parse_datetime(paper.get("publishedAt")),
        code_url=_text_or_none(paper.get("githubRepo")),
        code_stars=_count(stars),
        project_url=_text_or_none(paper.get("projectPage")),
        daily=daily,
        raw=raw,
    )
