"""Zotero libraries as JSON: Zotero item JSON (a Better BibTeX JSON export ``{"items": [...]}``,
the Zotero web API's ``[{"key", "data": {...}}]``, the zotero/translators ``testCases``
format) and CSL JSON (``[{"type", "title", "author", "issued", ...}]``). The shape is detected.

Attachments, notes and annotations are skipped silently: they are not papers. The arXiv id is
taken from ``archiveID`` (``arXiv:X``), an ``arXiv:`` line in ``extra`` (also where BBT keeps
``tex.eprint``), an arxiv.org URL, ``number`` / ``publicationTitle`` (``arXiv:X [cs]``), or an
arXiv DOI; the categories from the brackets after it. ``source_key`` is the citation key,
else the Zotero item key, else the title.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..ids import try_arxiv_id
from ..model import ParseItem, RecordError
from .bibtex import arxiv_hint, full_date, journal_ref, split_categories
from .common import build_record

SOURCE = "zotero"

_SKIPPED_TYPES = {"attachment", "note", "annotation"}
# CSL types whose container-title is a journal or proceedings (not a book's title).
_PERIODICAL_TYPES = {
    "article-journal",
    "article-magazine",
    "article-newspaper",
    "paper-conference",
}
# An Extra line "key: value"; the key is matched alone, after line.partition(":") and strip():
# a pattern spanning the whole line backtracked quadratically on long runs of spaces.
_EXTRA_KEY = re.compile(r"[\w.\- ]+")
# Zotero keeps rich text in titles as a few HTML tags.
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_HTML_TAG = re.compile(r"</?(?:i|b|sub|sup|span|sc)(?:\s[^>]*)?>", re.IGNORECASE)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value)
    return str(value).strip() or None


def _clean_title(value: Any) -> str:
    return _HTML_TAG.sub("", value) if isinstance(value, str) else ""


def _items(doc: Any) -> list[Any] | None:
    """The list of items in any of the supported shapes; None if this is none of them."""
    if isinstance(doc, dict):
        if isinstance(doc.get("items"), list):
            return list(doc["items"])
        if "itemType" in doc or "type" in doc:
            return [doc]
        return None
    if not isinstance(doc, list):
        return None
    items: list[Any] = []
    for element in doc:
        # A translators test case: {"type": "web", "url": ..., "items": [...] or "multiple"}.
        if isinstance(element, dict) and "items" in element and "itemType" not in element:
            if isinstance(element["items"], list):
                items.extend(element["items"])
        else:
            items.append(element)
    return items


def parse_zotero(data: bytes, *, document: str = "library") -> Iterator[ParseItem]:
    """Parse a Zotero / Better BibTeX / CSL JSON export into records (source "zotero")."""
    try:
        doc = json.loads(data)
    except UnicodeDecodeError as error:
        yield RecordError(
            SOURCE, document, f"not UTF-8 text ({error.reason} at byte {error.start})"
        )
        return
    except (ValueError, RecursionError) as error:
        yield RecordError(SOURCE, document, f"not valid JSON: {error}")
        return
    items = _items(doc)
    if items is None:
        yield RecordError(
            SOURCE,
            document,
            'not a Zotero or CSL JSON export (expected {"items": [...]} or a list of items)',
        )
        return
    for index, item in enumerate(items, 1):
        where = f"{document}#{index}"
        if not isinstance(item, dict):
            yield RecordError(SOURCE, where, "item is not a JSON object")
            continue
        data_field = item.get("data")
        if isinstance(data_field, dict) and "itemType" in data_field:
            item = data_field  # the Zotero web API wraps each item
        if "itemType" in item:
            if item["itemType"] in _SKIPPED_TYPES:
                continue
            yield _zotero_item(item, where)
        elif "type" in item:
            yield _csl_item(item, where)
        else:
            yield RecordError(SOURCE, where, "neither a Zotero item (itemType) nor CSL JSON (type)")


def _raw(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)


def _extra_fields(extra: str | None) -> tuple[dict[str, str], list[str]]:
    """``key: value`` lines of Zotero's Extra field (lower-cased keys) and all its lines."""
    fields: dict[str, str] = {}
    lines = extra.splitlines() if extra else []
    for line in lines:
        key, colon, value = line.partition(":")
        key = key.strip()
        if colon and key and _EXTRA_KEY.fullmatch(key):
            fields.setdefault(key.lower(), value.strip())
    return fields, lines


def _arxiv(candidates: list[str | None]) -> tuple[str | None, list[str]]:
    """The first arXiv id found, with the categories written next to it (or next to a later
    mention of the same paper)."""
    found: str | None = None
    base: str | None = None
    categories: list[str] = []
    for candidate in candidates:
        hint = arxiv_hint(candidate)
        parsed = try_arxiv_id(hint[0]) if hint else None
        if hint is None or parsed is None:
            continue
        if found is None:
            found, base = hint[0], parsed.id
        if parsed.id == base and not categories:
            categories = hint[1]
    return found, categories


def _year(date: str | None) -> str | None:
    match = _YEAR.search(date) if date else None
    return match.group(0) if match else None


def _zotero_item(item: dict[str, Any], where: str) -> ParseItem:
    extra, extra_lines = _extra_fields(_text(item.get("extra")))
    title = _clean_title(item.get("title"))
    key = (
        _text(item.get("citationKey"))
        or extra.get("citation key")
        or _text(item.get("key") or item.get("itemKey"))
        or (title.strip()[:200] if title.strip() else where)
    )
    authors = []
    for creator in item.get("creators") or []:
        if not isinstance(creator, dict) or creator.get("creatorType", "author") != "author":
            continue
        name = creator.get("name") or " ".join(
            str(part) for part in (creator.get("firstName"), creator.get("lastName")) if part
        )
        authors.append(str(name))
    url = _text(item.get("url"))
    venue = _text(item.get("publicationTitle") or item.get("proceedingsTitle"))
    eprint = extra.get("tex.eprint")
    eprint_type = (extra.get("tex.archiveprefix") or extra.get("tex.eprinttype") or "").lower()
    declared = eprint if eprint and (eprint_type == "arxiv" or try_arxiv_id(eprint)) else None
    arxiv_id, categories = _arxiv(
        [_text(item.get("archiveID")), *extra_lines, url, _text(item.get("number")), venue]
    )
    categories = split_categories(extra.get("tex.primaryclass")) or categories
    date = _text(item.get("date"))
    return build_record(
        source=SOURCE,
        source_key=key,
        title=title,
        abstract=_text(item.get("abstractNote")) or "",
        authors=authors,
        arxiv_id=arxiv_id or declared,
        version=extra.get("version") if (arxiv_id or declared) else None,
        doi=_text(item.get("DOI")) or extra.get("doi"),
        categories=categories,
        submitted_at=full_date(date),
        journal_ref=journal_ref(
            venue, _text(item.get("volume")), _text(item.get("pages")), _year(date)
        ),
        license=_text(item.get("rights")),
        abs_url=None if url is None or try_arxiv_id(url) else url,
        raw=_raw(item),
    )


def _csl_name(name: Any) -> str:
    if not isinstance(name, dict):
        return str(name)
    if name.get("literal"):
        return str(name["literal"])
    parts = (
        name.get("given"),
        name.get("dropping-particle"),
        name.get("non-dropping-particle"),
        name.get("family"),
        name.get("suffix"),
    )
    return " ".join(str(part) for part in parts if part)


def _csl_date(issued: Any) -> tuple[str | None, str | None]:
    """(``YYYY-MM-DD`` when fully known, the year) of a CSL date."""
    if not isinstance(issued, dict):
        return None, None
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        first = [str(p) for p in parts[0][:3]]
        if len(first) == 3:
            return "{}-{:0>2}-{:0>2}".format(*first), first[0]
        return None, first[0]
    raw = _text(issued.get("raw") or issued.get("literal"))
    return raw, (raw[:4] if raw and raw[:4].isdigit() else None)


def _csl_item(item: dict[str, Any], where: str) -> ParseItem:
    title = _clean_title(item.get("title"))
    csl_id = item.get("id")
    key = (
        _text(item.get("citation-key"))
        or (csl_id.strip() if isinstance(csl_id, str) and csl_id.strip() else None)
        or (title.strip()[:200] if title.strip() else where)
    )
    note = _text(item.get("note"))
    _, note_lines = _extra_fields(note)
    url = _text(item.get("URL"))
    venue = _text(item.get("container-title"))
    arxiv_id, categories = _arxiv([*note_lines, url, _text(item.get("number")), venue])
    date, year = _csl_date(item.get("issued"))
    authors: list[Any] = item["author"] if isinstance(item.get("author"), list) else []
    return build_record(
        source=SOURCE,
        source_key=key,
        title=title,
        abstract=_text(item.get("abstract")) or "",
        authors=[_csl_name(name) for name in authors],
        arxiv_id=arxiv_id,
        doi=_text(item.get("DOI")),
        categories=categories,
        submitted_at=full_date(date),
        journal_ref=journal_ref(venue, _text(item.get("volume")), _text(item.get("page")), year)
        if item.get("type") in _PERIODICAL_TYPES
        else None,
        license=_text(item.get("license")),
        abs_url=None if url is None or try_arxiv_id(url) else url,
        raw=_raw(item),
    )
