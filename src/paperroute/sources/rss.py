"""arXiv announcement feeds, the 2024+ format of rss.arxiv.org (``/rss/cs.LG`` and ``/atom/cs.LG``).

Each feed is one day's announcement: its channel ``pubDate`` (RSS) or its entries'
``published`` (Atom) name the day, every item carries ``arxiv:announce_type``
(new / cross / replace / replace-cross) and a description of the form
``arXiv:2409.12345v2 Announce Type: new \\nAbstract: ...``. On weekends and holidays arXiv
serves the feed with no items at all.

A lagging feed (arXiv or a cache still serving yesterday's batch) looks exactly like a normal
one, so :class:`FeedBatch` carries a fingerprint of its (id, announce type) pairs and
:func:`is_repeat` compares it with what the hub saw last time: a repeated batch must be
reported, not silently treated as "no new papers".
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET  # only to serialise elements; parsing goes through defusedxml
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ..ids import try_arxiv_id
from ..model import DailyEntry, EntryKind, PaperRecord, RecordError
from .common import build_record, fingerprint

if TYPE_CHECKING:
    from .http import HttpClient

SOURCE = "arxiv-rss"
NESTED_TOO_DEEPLY = "XML nested too deeply"

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_DC = "{http://purl.org/dc/elements/1.1/}"

_KIND: dict[str, EntryKind] = {
    "new": "new",
    "cross": "cross",
    "replace": "replace",
    "replace-cross": "replace-cross",
}
# Bounded repeats: with \S+? / \s+ a text of many "arXiv:" (or one long run of spaces) was
# rescanned from every start position, quadratic in its length.
_DESC_ID = re.compile(
    r"arXiv:(\S{1,80}?)\s{1,20}Announce Type:\s{0,20}([\w\-]{1,40})", re.IGNORECASE
)
_ABSTRACT = re.compile(r"Abstract:\s*", re.IGNORECASE)
# The pre-2024 feed appended "(arXiv:2401.01234v1 [cs.LG])" to titles; harmless to strip.
# Matched on the whitespace-squashed title, so a single optional space stands for \s*.
_OLD_TITLE_SUFFIX = re.compile(r" ?\(arXiv:[^)]{0,200}\)$")


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """One fetched feed: its items and what the hub needs to tell a new batch from a repeat.

    ``feed_date`` is the announcement day (None when the feed names none); ``fingerprint``
    hashes the sorted set of (arXiv id, announce type) pairs of its good records, so that two
    feeds listing the same announcements have the same fingerprint whatever their order or
    build time. ``skip_days`` are the channel's ``<skipDays>`` (RSS only).
    """

    items: tuple[PaperRecord | RecordError, ...]
    feed_date: dt.date | None
    fingerprint: str
    skip_days: tuple[str, ...] = ()

    @property
    def records(self) -> tuple[PaperRecord, ...]:
        return tuple(item for item in self.items if isinstance(item, PaperRecord))

    @property
    def errors(self) -> tuple[RecordError, ...]:
        return tuple(item for item in self.items if isinstance(item, RecordError))

    @property
    def empty(self) -> bool:
        """True when the feed lists nothing: arXiv's answer on weekends and holidays."""
        return not self.items


def batch_fingerprint(pairs: set[tuple[str, str]]) -> str:
    """Stable hash of (arXiv id, announce type) pairs, independent of their order."""
    return fingerprint("\n".join(f"{aid}\t{kind}" for aid, kind in sorted(pairs)))


def parse_feed(data: bytes, *, document: str = "feed") -> FeedBatch:
    """Parse an arXiv RSS 2.0 or Atom announcement feed.

    Never raises for bad input: an unreadable document gives a batch holding one RecordError
    whose source_key is ``document``; a bad item gives a RecordError and the other items
    still come out.
    """
    try:
        return _parse_feed(data, document)
    except RecursionError:
        # Items guard themselves; this is the last line for anything walked recursively.
        error = RecordError(SOURCE, document, NESTED_TOO_DEEPLY)
        return FeedBatch((error,), None, batch_fingerprint(set()))


def _parse_feed(data: bytes, document: str) -> FeedBatch:
    root = _parse_xml(data, document)
    if isinstance(root, RecordError):
        return FeedBatch((root,), None, batch_fingerprint(set()))
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            error = RecordError(SOURCE, document, "RSS document has no <channel>")
            return FeedBatch((error,), None, batch_fingerprint(set()))
        elements = channel.findall("item")
        feed_date = _rss_feed_date(channel, elements)
        skip_days = tuple(
            (day.text or "").strip() for day in channel.findall("skipDays/day") if day.text
        )
    elif root.tag == f"{_ATOM}feed":
        elements = root.findall(f"{_ATOM}entry")
        feed_date = _atom_feed_date(root, elements)
        skip_days = ()
    else:
        tag = root.tag.rsplit("}", 1)[-1]
        error = RecordError(SOURCE, document, f"not an RSS or Atom feed (root element <{tag}>)")
        return FeedBatch((error,), None, batch_fingerprint(set()))

    items: list[PaperRecord | RecordError] = []
    pairs: set[tuple[str, str]] = set()
    for number, element in enumerate(elements, 1):
        item, announce_type = _parse_item(element, f"{document}#item{number}", feed_date)
        items.append(item)
        if isinstance(item, PaperRecord) and item.arxiv_id:
            pairs.add((item.arxiv_id, announce_type))
    return FeedBatch(tuple(items), feed_date, batch_fingerprint(pairs), skip_days)


def is_repeat(
    batch: FeedBatch, previous_fingerprint: str | None, previous_date: dt.date | None
) -> str | None:
    """A human message when ``batch`` repeats the previously fetched one, else None.

    A repeat is a batch with the previous batch's fingerprint, or one dated the same day as
    (or earlier than) the previous batch. An empty batch is never a repeat: an empty feed is
    arXiv's normal answer on days without announcements, and the hub reports it as such.
    """
    if batch.empty:
        return None
    count = len(batch.records)
    papers = f"{count} paper{'s' if count != 1 else ''}"
    if batch.feed_date is not None and previous_date is not None:
        if batch.feed_date == previous_date:
            return (
                f"the feed is still dated {batch.feed_date}, like the previous fetch: arXiv "
                f"has not announced a new batch yet or the feed is lagging ({papers} already "
                "seen); try again later"
            )
        if batch.feed_date < previous_date:
            return (
                f"the feed is dated {batch.feed_date}, older than the previous fetch "
                f"({previous_date}): a stale copy is being served; try again later"
            )
    if previous_fingerprint is not None and batch.fingerprint == previous_fingerprint:
        when = f" (dated {previous_date})" if previous_date else ""
        dated = f"dated {batch.feed_date} " if batch.feed_date else ""
        return (
            f"the feed {dated}lists the same {papers} as the previous fetch{when}: it is "
            "probably lagging; try again later"
        )
    return None


def fetch_feed(client: HttpClient, url: str) -> FeedBatch:
    """GET an arXiv feed and parse it. HTTP failures raise SourceError (from the client)."""
    return parse_feed(client.get(url), document=url)


def _parse_xml(data: bytes, document: str) -> ET.Element | RecordError:
    def fail(reason: str) -> RecordError:
        return RecordError(SOURCE, document, reason)

    if not data.strip():
        return fail("empty document")
    try:
        # forbid_dtd: an announcement feed has no business declaring a DTD, and refusing it
        # also stops entity-expansion bombs before any expansion happens.
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        return fail(f"XML entities and DTDs are not allowed ({type(exc).__name__})")
    except ET.ParseError as exc:
        reason = f"malformed XML: {exc}"
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            reason += f" (the document is not valid UTF-8: byte {bad.start})"
        return fail(reason)
    return root


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    if found is None:
        return None
    text = "".join(found.itertext()).strip()
    return text or None


def _rfc822_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        # The day as the feed states it (arXiv says midnight US Eastern): no UTC conversion.
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        return None


def _iso_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip()).date()
    except ValueError:
        return None


def _most_common(days: list[dt.date | None]) -> dt.date | None:
    counts = Counter(day for day in days if day is not None)
    return counts.most_common(1)[0][0] if counts else None


def _rss_feed_date(channel: ET.Element, items: list[ET.Element]) -> dt.date | None:
    for tag in ("pubDate", "lastBuildDate"):
        day = _rfc822_date(_text(channel, tag))
        if day is not None:
            return day
    return _most_common([_rfc822_date(_text(item, "pubDate")) for item in items])


def _atom_feed_date(feed: ET.Element, entries: list[ET.Element]) -> dt.date | None:
    # Entries' <published> is midnight US Eastern with its offset, i.e. the announcement day;
    # the feed's <updated> is the UTC build time, which names the next day for a late build.
    day = _most_common([_iso_date(_text(entry, f"{_ATOM}published")) for entry in entries])
    return day or _iso_date(_text(feed, f"{_ATOM}updated"))


def _split_authors(creator: str | None) -> list[str]:
    """arXiv's dc:creator is one comma-separated list, sometimes ending "..., and Name"."""
    if not creator:
        return []
    # Squashed first, so that single spaces stand for \s+ (long runs made \s+ quadratic).
    parts = [part.strip() for part in " ".join(creator.split()).split(",")]
    # Only the last part can hold "A and B"; names themselves rarely contain " and ".
    parts[-1:] = parts[-1].split(" and ")
    return [name.removeprefix("and ") for name in parts if name.removeprefix("and ")]


def _parse_item(
    element: ET.Element, fallback_key: str, feed_date: dt.date | None
) -> tuple[PaperRecord | RecordError, str]:
    atom = element.tag == f"{_ATOM}entry"
    ns = _ATOM if atom else ""
    description = _text(element, f"{ns}summary" if atom else "description") or ""
    guid = _text(element, f"{ns}id" if atom else "guid")
    if atom:
        link_el = element.find(f"{_ATOM}link[@rel='alternate']")
        if link_el is None:
            link_el = element.find(f"{_ATOM}link")
        link = link_el.get("href") if link_el is not None else None
    else:
        link = _text(element, "link")

    described = _DESC_ID.search(description)
    candidates = [
        guid.rsplit(":", 1)[-1] if guid and guid.lower().startswith("oai:arxiv.org:") else guid,
        described.group(1) if described else None,
        link,
    ]
    parsed = next((p for p in map(try_arxiv_id, candidates) if p is not None), None)
    raw_id = next((c for c in candidates if c), None)
    key = parsed.id if parsed else (raw_id or fallback_key)

    announce_type = (
        _text(element, f"{_ARXIV}announce_type")
        or (described.group(2) if described else None)
        or "listed"
    ).lower()
    if parsed is None:
        reason = (
            f"invalid arXiv id {raw_id[:60]!r}" if raw_id else "no arXiv id in guid, link or text"
        )
        return RecordError(SOURCE, key, reason), announce_type

    split = _ABSTRACT.split(description, maxsplit=1)
    if len(split) == 2:
        abstract = split[1]
    else:
        abstract = description[described.end() :] if described else description

    if atom:
        categories = [c.get("term", "") for c in element.findall(f"{_ATOM}category")]
        item_day = _iso_date(_text(element, f"{_ATOM}published"))
    else:
        categories = [c.text or "" for c in element.findall("category")]
        item_day = _rfc822_date(_text(element, "pubDate"))
    day = feed_date or item_day
    kind = _KIND.get(announce_type, "listed")
    daily = (DailyEntry(day=day, source="arxiv", kind=kind),) if day else ()
    doi = (_text(element, f"{_ARXIV}DOI") or "").split()
    try:
        # ET.tostring recurses once per level: thousands of nested elements exhaust the stack.
        raw = ET.tostring(element, encoding="utf-8")
    except RecursionError:
        return RecordError(SOURCE, parsed.id, NESTED_TOO_DEEPLY), announce_type

    record = build_record(
        source=SOURCE,
        source_key=parsed.id,
        title=_OLD_TITLE_SUFFIX.sub("", " ".join((_text(element, f"{ns}title") or "").split())),
        abstract=abstract,
        authors=_split_authors(_text(element, f"{_DC}creator")),
        arxiv_id=str(parsed),
        doi=doi[0] if doi else None,
        categories=categories,
        announced_on=day if announce_type == "new" else None,
        comments=_text(element, f"{_ARXIV}comment") or _text(element, f"{_ARXIV}comments"),
        journal_ref=_text(element, f"{_ARXIV}journal_reference"),
        license=_text(element, f"{_DC}rights"),
        abs_url=link if link and link.startswith("http") else None,
        daily=daily,
        raw=raw,
    )
    return record, announce_type
