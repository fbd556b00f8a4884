"""Submitting a paper by arXiv id or URL: a paper the hub has is just found; a new one is
fetched through the arXiv API client and stored like any import, listed on the day it was
submitted (source "hub", kind "submitted", the reader as submitter)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from ..config import Config
from ..errors import InvalidInput, NotFound, SourceError
from ..ids import try_arxiv_id
from ..model import DailyEntry, PaperRecord, ParseItem, RecordError
from ..sources import arxiv_api
from ..sources.http import HttpClient
from .errors import Unavailable

MAX_INPUT = 500
SUBMIT_TIMEOUT = 15.0  # seconds: a reader is waiting for the page


def parse_reference(text: str) -> str:
    """The versionless arXiv id in what a reader typed; InvalidInput otherwise."""
    raw = text.strip()
    if not raw:
        raise InvalidInput("enter an arXiv id (2401.01234) or an arXiv URL")
    if len(raw) > MAX_INPUT:
        raise InvalidInput(f"that is not an arXiv id or URL (over {MAX_INPUT} characters)")
    parsed = try_arxiv_id(raw)
    if parsed is None:
        raise InvalidInput(
            f"{raw[:80]!r} is not an arXiv id or URL: use a form like 2401.01234, "
            "arXiv:2401.01234v2 or https://arxiv.org/abs/2401.01234"
        )
    return parsed.id


def fetch_record(
    config: Config, arxiv_id: str, client_factory: Callable[[], HttpClient] | None = None
) -> PaperRecord:
    """The paper as the arXiv API describes it. Raises NotFound or Unavailable."""
    make = client_factory or (
        lambda: HttpClient(min_interval=0.0, max_retries=1, timeout=SUBMIT_TIMEOUT, max_wait=5.0)
    )
    items: list[ParseItem] = []
    try:
        with make() as client:
            for page in arxiv_api.search(
                client, ids=[arxiv_id], max_results=1, base_url=config.arxiv_api_url
            ):
                items.extend(page.items)
    except SourceError as exc:
        if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
            raise NotFound(f"arXiv has no paper {arxiv_id}") from exc
        raise Unavailable(
            f"arXiv cannot be reached right now, so {arxiv_id} could not be fetched; "
            "try again in a few minutes"
        ) from exc
    for item in items:
        if isinstance(item, PaperRecord) and item.arxiv_id == arxiv_id:
            return item
    reasons = "; ".join(i.reason for i in items if isinstance(i, RecordError))
    raise NotFound(f"arXiv has no paper {arxiv_id}" + (f" ({reasons[:200]})" if reasons else ""))


def as_submission(record: PaperRecord, submitter: str, now: datetime) -> PaperRecord:
    entry = DailyEntry(
        day=now.date(), source="hub", kind="submitted", submitter=submitter, submitted_at=now
    )
    return dataclasses.replace(record, daily=(*record.daily, entry))
