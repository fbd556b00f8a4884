"""The arXiv API (export.arxiv.org/api/query): a pure Atom parser and a paged search client.

:func:`parse_atom` turns one Atom response into an :class:`ApiPage`; :func:`search` asks for
a query or a list of ids page after page through
:class:`~paperroute.sources.http.HttpClient` (which keeps arXiv's one-request-every-3-seconds
pace when built with ``min_interval=ARXIV_MIN_INTERVAL``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InvalidInput, SourceError
from ..ids import try_arxiv_id
from ..model import ParseItem, RecordError
from .common import build_record, parse_datetime, squash
from .oai import NESTED_TOO_DEEPLY, child_text, children, first_doi, load_xml, local_name

if TYPE_CHECKING:
    from .http import HttpClient

SOURCE = "arxiv-api"
API_URL = "https://export.arxiv.org/api/query"
_ERROR_ID = re.compile(r"/api/errors(?:#|$)")
_VERSION_SUFFIX = re.compile(r"v\d+$")


@dataclass(frozen=True, slots=True)
class ApiPage:
    """One Atom response: its entries as records (or RecordErrors) and the OpenSearch paging
    numbers. ``entries`` counts <entry> elements, errors included, for paging. ``error`` is
    set, with one RecordError naming the document in ``items``, when the response cannot be
    read at all."""

    items: tuple[ParseItem, ...] = ()
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None
    entries: int = 0
    error: str | None = None
    notices: tuple[str, ...] = ()


def _int_text(element: ET.Element, name: str) -> int | None:
    text = (child_text(element, name) or "").strip()
    return int(text) if text.isdigit() else None


def _unversioned(url: str | None) -> str | None:
    # Versionless links follow the paper's latest version, as other sources' links do.
    return _VERSION_SUFFIX.sub("", url) if url else None


def _parse_entry(entry: ET.Element, number: int, document: str) -> ParseItem:
    entry_id = squash(child_text(entry, "id"))
    key = entry_id or f"{document} entry {number}"
    try:
        return _entry_record(entry, entry_id, key)
    except RecursionError:
        # ET.tostring recurses once per level: thousands of nested elements exhaust the stack.
        return RecordError(SOURCE, key, NESTED_TOO_DEEPLY)


def _entry_record(entry: ET.Element, entry_id: str, key: str) -> ParseItem:
    if _ERROR_ID.search(entry_id):
        summary = squash(child_text(entry, "summary")) or "unknown error"
        return RecordError(SOURCE, key, f"arXiv API error: {summary}")
    parsed = try_arxiv_id(entry_id)
    if parsed is None:
        return RecordError(SOURCE, key, f"entry id is not an arXiv id: {entry_id[:80]!r}")
    categories: list[str] = []
    for name in ("primary_category", "category"):
        categories += [c.get("term", "") for c in children(entry, name)]
    abs_url = pdf_url = None
    for link in children(entry, "link"):
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            pdf_url = pdf_url or link.get("href")
        elif link.get("rel") == "alternate":
            abs_url = abs_url or link.get("href")
    authors = [child_text(author, "name") or "" for author in children(entry, "author")]
    return build_record(
        source=SOURCE,
        source_key=key,
        title=child_text(entry, "title"),
        abstract=child_text(entry, "summary"),
        authors=authors,
        arxiv_id=parsed.id,
        version=parsed.version,
        doi=first_doi(child_text(entry, "doi")),
        categories=categories,
        submitted_at=parse_datetime(child_text(entry, "published")),
        updated_at=parse_datetime(child_text(entry, "updated")),
        comments=child_text(entry, "comment"),
        journal_ref=child_text(entry, "journal_ref"),
        abs_url=_unversioned(abs_url),
        pdf_url=_unversioned(pdf_url),
        raw=ET.tostring(entry, encoding="utf-8"),
    )


def parse_atom(data: bytes, *, document: str = "response") -> ApiPage:
    """Parse one arXiv API Atom response. Never raises for bad input: a bad entry becomes a
    RecordError naming its id, an arXiv API error entry (id ``.../api/errors#...``) a
    RecordError carrying arXiv's message, and an unreadable document one RecordError naming
    ``document``."""
    try:
        return _parse_atom(data, document)
    except RecursionError:
        # Entries guard themselves; this is the last line for anything walked recursively.
        reason = NESTED_TOO_DEEPLY
        return ApiPage(items=(RecordError(SOURCE, document, reason),), error=reason)


def _parse_atom(data: bytes, document: str) -> ApiPage:
    loaded = load_xml(data)
    root = loaded.root
    reason = loaded.error or "unreadable document"
    if root is not None and local_name(root) != "feed":
        reason = f"not an Atom feed (root element {local_name(root)!r})"
    if root is None or local_name(root) != "feed":
        return ApiPage(items=(RecordError(SOURCE, document, reason),), error=reason)
    entries = children(root, "entry")
    return ApiPage(
        items=tuple(_parse_entry(e, n, document) for n, e in enumerate(entries, start=1)),
        total_results=_int_text(root, "totalResults"),
        start_index=_int_text(root, "startIndex"),
        items_per_page=_int_text(root, "itemsPerPage"),
        entries=len(entries),
        notices=loaded.notices,
    )


def search(
    client: HttpClient,
    *,
    query: str | None = None,
    ids: Sequence[str] = (),
    page_size: int = 100,
    max_results: int | None = None,
    base_url: str = API_URL,
) -> Iterator[ApiPage]:
    """Search by ``query`` (arXiv query syntax, e.g. ``cat:cs.CL AND ti:agents``) and/or by
    ``ids``, one page of ``page_size`` at a time (``start``/``max_results``).

    Stops after a page with no entries, when ``start`` reaches the feed's total, or after
    ``max_results`` entries. Raises InvalidInput without a query or ids, and SourceError
    for an unreadable page; HTTP failures (arXiv answers a bad id with HTTP 400) come from
    the client as SourceError.
    """
    if not query and not ids:
        raise InvalidInput("arXiv API search needs a query or ids")
    if page_size < 1:
        raise InvalidInput(f"page_size must be at least 1, not {page_size}")
    start = 0
    while max_results is None or start < max_results:
        size = page_size if max_results is None else min(page_size, max_results - start)
        params = {
            "search_query": query or "",
            "id_list": ",".join(ids),
            "start": str(start),
            "max_results": str(size),
        }
        page = parse_atom(client.get(base_url, params), document=f"{base_url} start={start}")
        if page.error is not None:
            raise SourceError(f"arXiv API {base_url} start={start}: {page.error}", url=base_url)
        yield page
        if page.entries == 0:
            return
        start += page.entries
        if page.total_results is not None and start >= page.total_results:
            return
