"""Atom 1.0 and RSS 2.0 documents from a list of entries: ``build_atom`` / ``build_rss``.

Used by every feed of the hub (daily, trending, categories, authors, collections, search).
Text is written through ElementTree, so markup in titles and abstracts stays text; characters
XML 1.0 cannot carry (control characters, lone surrogates) are dropped."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed. ``id`` is stable (the paper's URL); ``link`` is where it opens."""

    id: str
    title: str
    link: str
    summary: str
    updated: dt.datetime  # UTC
    authors: Sequence[str] = ()
    categories: Sequence[str] = ()
    extra_links: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (rel/title, href)


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


def _newest(entries: Sequence[FeedEntry]) -> dt.datetime:
    if not entries:
        return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return max(e.updated for e in entries)


def build_atom(
    title: str,
    self_url: str,
    entries: Iterable[FeedEntry],
    *,
    alternate_url: str | None = None,
    subtitle: str | None = None,
    feed_id: str | None = None,
) -> bytes:
    """An Atom 1.0 document (RFC 4287). ``self_url`` is the feed's own absolute URL and, unless
    ``feed_id`` is given, its id."""
    items = list(entries)
    # Plain names under an xmlns attribute on the root (as in build_rss).
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "title", title)
    if subtitle:
        _sub(feed, "subtitle", subtitle)
    _sub(feed, "id", feed_id or self_url)
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    if alternate_url:
        _sub(feed, "link", rel="alternate", href=alternate_url, type="text/html")
    _sub(feed, "updated", _newest(items).isoformat())
    _sub(feed, "generator", "paperroute")
    for item in items:
        entry = _sub(feed, "entry")
        _sub(entry, "id", item.id)
        _sub(entry, "title", item.title)
        _sub(entry, "link", rel="alternate", href=item.link, type="text/html")
        for rel, href in item.extra_links:
            _sub(entry, "link", rel="related", title=rel, href=href)
        _sub(entry, "updated", item.updated.isoformat())
        names = [n for n in item.authors if clean(n).strip()] or ["unknown"]
        for name in names:
            author = _sub(entry, "author")
            _sub(author, "name", name)
        for category in item.categories:
            _sub(entry, "category", term=category)
        _sub(entry, "summary", item.summary, type="text")
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def build_rss(
    title: str,
    self_url: str,
    entries: Iterable[FeedEntry],
    *,
    alternate_url: str | None = None,
    description: str | None = None,
) -> bytes:
    """An RSS 2.0 document; ``guid`` is the entry's stable id (a permalink when it is a URL)."""
    items = list(entries)
    # Prefixed names written as they are (ElementTree's prefix registry is process-global).
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS, "xmlns:dc": DC_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", alternate_url or self_url)
    _sub(channel, "description", description or title)
    _sub(channel, "atom:link", rel="self", href=self_url, type="application/rss+xml")
    _sub(channel, "lastBuildDate", format_datetime(_newest(items)))
    _sub(channel, "generator", "paperroute")
    for item in items:
        node = _sub(channel, "item")
        _sub(node, "title", item.title)
        _sub(node, "link", item.link)
        permalink = "true" if item.id.startswith(("http://", "https://")) else "false"
        _sub(node, "guid", item.id, isPermaLink=permalink)
        _sub(node, "pubDate", format_datetime(item.updated))
        if item.authors:
            # RSS's <author> wants an email address; Dublin Core's creator is a plain name.
            _sub(node, "dc:creator", ", ".join(item.authors))
        for category in item.categories:
            _sub(node, "category", category)
        _sub(node, "description", item.summary)
    return bytes(ET.tostring(rss, encoding="utf-8", xml_declaration=True))
