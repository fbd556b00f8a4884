"""A reader's library file, parsed without touching the database: BibTeX / BibLaTeX, Better
BibTeX / CSL JSON, Zotero item JSON, RIS, or a plain list of arXiv ids, DOIs and URLs (one a
line). The format is detected from the content (the file name only words the messages).

The BibTeX and Zotero/CSL readers are the import's own tolerant parsers
(``sources.bibtex``, ``sources.zotero``); RIS and plain lists are read here. Every entry that
cannot be used is listed in ``LibraryParse.skipped`` with where it is and why; a file that is
none of these formats, empty, binary, larger than ``MAX_LIBRARY_BYTES`` or holding more than
``MAX_LIBRARY_ENTRIES`` entries raises :class:`LibraryError` (nothing is half-read).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import InvalidInput
from ..ids import arxiv_id_from_doi, try_arxiv_id, try_doi
from ..model import PaperRecord, RecordError
from ..sources.bibtex import EXPANDS, MAX_VALUE, parse_bibtex
from ..sources.zotero import parse_zotero

MAX_LIBRARY_BYTES = 64 * 1024 * 1024
MAX_LIBRARY_ENTRIES = 50_000
MAX_LINE = 2_000  # a plain-list line longer than this is no identifier
# An RIS value (with its wrapped lines) longer than this, or an entry of more tag lines,
# is no reference: the entry is skipped. Abstracts are the longest real values.
MAX_RIS_VALUE = 100_000
MAX_RIS_LINES = 5_000
LibraryFormat = Literal["bibtex", "json", "ris", "list"]

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_BIB_HEAD = re.compile(r"^[ \t]*@[ \t]*[A-Za-z][\w\-]*\s*[{(]", re.MULTILINE)
_YEAR = re.compile(r"(?<!\d)((?:1[5-9]|20)\d\d)(?!\d)")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/", re.IGNORECASE)
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_ARXIV_URL = re.compile(r"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/", re.I)


class LibraryError(InvalidInput):
    """A library file that cannot be used at all (its message says why, in one line)."""


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One paper of a library: an arXiv id (versionless), a DOI (lower-cased) and/or a title,
    with what the file says of it. ``key`` names it in the file (citation key, line)."""

    key: str
    arxiv_id: str | None = None
    doi: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    added: dt.date | None = None
    abstract: str = ""


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry (or line) of the file that was not used, and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LibraryParse:
    format: LibraryFormat
    entries: tuple[LibraryEntry, ...]
    skipped: tuple[Skipped, ...]


def parse_library(data: bytes, filename: str | None = None) -> LibraryParse:
    """Parse a library file (see the module docstring). Raises LibraryError."""
    name = filename or "the library file"
    if len(data) > MAX_LIBRARY_BYTES:
        raise LibraryError(
            f"{name} is {len(data):,} bytes; a library may be at most {MAX_LIBRARY_BYTES:,}"
        )
    data = _utf16_to_utf8(data)
    if not data.strip(b" \t\r\n\x0b\x0c\xef\xbb\xbf"):
        raise LibraryError(f"{name} is empty")
    if b"\x00" in data:
        raise LibraryError(f"{name} is a binary file (it holds NUL bytes), not a library")
    head = data.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    # BibTeX's @string macros let a small file name the same long text in every entry:
    # what the entries hold may not outgrow the file by more than this.
    budget = 2 * len(data) + MAX_VALUE
    if head in (b"{", b"["):
        return _collect("json", _from_json(data, name), name, budget)
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    if any(_RIS_TAG.match(line) and line.startswith("TY") for line in text.splitlines()[:50]):
        return _collect("ris", _from_ris(text), name, budget)
    if _BIB_HEAD.search(text):
        records = _from_records(parse_bibtex(data, document=name))
        return _collect("bibtex", records, name, budget)
    return _collect("list", _from_list(text), name, budget)


def _utf16_to_utf8(data: bytes) -> bytes:
    """Some Windows tools save UTF-16 with a byte-order mark: read it as the text it is."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data


def _collect(
    fmt: LibraryFormat, items: Iterable[LibraryEntry | Skipped], name: str, budget: int
) -> LibraryParse:
    entries: list[LibraryEntry] = []
    skipped: list[Skipped] = []
    size = 0
    for item in items:
        if isinstance(item, LibraryEntry):
            size += len(item.key) + len(item.title or "") + len(item.abstract)
            size += sum(len(a) for a in item.authors)
            if size > budget:
                raise LibraryError(
                    f"{name} expands to more than {budget:,} characters of titles, authors "
                    "and abstracts (the same @string macro in every entry?)"
                )
        if isinstance(item, Skipped):
            skipped.append(Skipped(_shown(item.where), _shown(item.reason)))
        elif not _encodable(item):
            skipped.append(Skipped(_shown(item.key), "not valid Unicode text"))
        else:
            entries.append(item)
        if len(entries) + len(skipped) > MAX_LIBRARY_ENTRIES:
            raise LibraryError(
                f"{name} holds more than {MAX_LIBRARY_ENTRIES:,} entries; split it or keep "
                "the papers you read most"
            )
    if not entries:
        what = {
            "json": "Zotero/CSL JSON",
            "ris": "RIS",
            "bibtex": "BibTeX",
            "list": "list of arXiv ids, DOIs or URLs",
        }[fmt]
        first = f" (first problem: {skipped[0]})" if skipped else ""
        if fmt == "list":
            raise LibraryError(
                f"{name} is not a BibTeX, RIS or Zotero/CSL JSON export, nor a list of arXiv "
                f"ids, DOIs or URLs{first}"
            )
        raise LibraryError(f"{name} looks like {what} but has no usable entry{first}")
    return LibraryParse(fmt, tuple(entries), tuple(skipped))


def _shown(text: str) -> str:
    """``text`` with what no page or database should carry (control characters; lone
    surrogates: bytes that were not UTF-8) as U+FFFD."""
    return _UNSHOWABLE.sub("\ufffd", text)


def _encodable(entry: LibraryEntry) -> bool:
    texts = [entry.key, entry.title or "", entry.doi or "", entry.abstract, *entry.authors]
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _entry(record: PaperRecord, added: dt.date | None = None) -> LibraryEntry:
    return LibraryEntry(
        key=record.source_key,
        arxiv_id=record.arxiv_id,
        doi=record.doi,
        title=record.title or None,
        authors=record.authors,
        year=record.submitted_at.year if record.submitted_at else None,
        added=added,
        abstract=record.abstract,
    )


def _from_records(
    items: Iterable[PaperRecord | RecordError], added: dict[str, dt.date] | None = None
) -> Iterator[LibraryEntry | Skipped]:
    for item in items:
        if isinstance(item, RecordError) and EXPANDS in item.reason:
            raise LibraryError(item.reason)  # the parser stopped: nothing is half-read
        if isinstance(item, RecordError):
            yield Skipped(item.source_key, item.reason)
        else:
            yield _entry(item, (added or {}).get(item.source_key))


def _from_json(data: bytes, name: str) -> Iterator[LibraryEntry | Skipped]:
    try:
        doc = json.loads(data)
    except UnicodeDecodeError as error:
        raise LibraryError(
            f"{name} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except RecursionError:
        raise LibraryError(f"{name} is JSON nested too deeply to be a library") from None
    except ValueError as error:
        raise LibraryError(f"{name} is not valid JSON: {error}") from None
    bad = _lone_surrogate(doc)
    if bad is not None:
        raise LibraryError(
            f"{name} is not valid Unicode: it holds a lone surrogate (\\u{ord(bad):04x}, "
            "an escape no text can hold); export the library again"
        )
    items = _json_items(doc)
    if items is None:
        raise LibraryError(
            f'{name} is JSON but not a Zotero or CSL JSON export (expected {{"items": [...]}} '
            "or a list of items)"
        )
    if len(items) > MAX_LIBRARY_ENTRIES:
        raise LibraryError(
            f"{name} holds {len(items):,} entries; a library may hold at most "
            f"{MAX_LIBRARY_ENTRIES:,}"
        )
    added = _added_dates(items)
    # The parser reads the document again: the second pass costs far less than the first.
    yield from _from_records(parse_zotero(data, document=name), added)


def _lone_surrogate(doc: Any) -> str | None:
    """The first lone surrogate in any key or string of a JSON document, if any (JSON may
    escape one: ``"\\ud800"``; no database stores it). Iterative: the nesting is the
    file's."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                return item[error.start]
    return None


def _json_items(doc: Any) -> list[Any] | None:
    if isinstance(doc, dict):
        if isinstance(doc.get("items"), list):
            return list(doc["items"])
        if "itemType" in doc or "type" in doc:
            return [doc]
        return None
    if isinstance(doc, list):
        return doc
    return None


def _added_dates(items: list[Any]) -> dict[str, dt.date]:
    """Zotero's ``dateAdded`` by each key the parser may name an item with."""
    found: dict[str, dt.date] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        inner = item.get("data")
        if isinstance(inner, dict) and "itemType" in inner:
            item = inner
        day = _iso_day(item.get("dateAdded"))
        if day is None:
            continue
        for key in ("citationKey", "key", "itemKey", "title"):
            value = item.get(key)
            if isinstance(value, str) and value.strip():
                found.setdefault(value.strip()[:200], day)
    return found


def _iso_day(value: Any) -> dt.date | None:
    match = _ISO_DAY.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _identifier(text: str) -> tuple[str | None, str | None]:
    """(arXiv id, DOI) written in ``text``: an id, ``arXiv:``/``doi:`` forms or a URL."""
    text = text.strip()
    if _DOI_URL.match(text) or text.lower().startswith("doi:") or text.startswith("10."):
        doi = try_doi(text)
        if doi is not None:
            from_doi = arxiv_id_from_doi(doi)
            return (from_doi.id, None) if from_doi else (None, doi)
    parsed = try_arxiv_id(_ARXIV_URL.sub("", text).removesuffix(".pdf"))
    if parsed is None:
        parsed = try_arxiv_id(text)
    return (parsed.id, None) if parsed else (None, None)


def _from_list(text: str) -> Iterator[LibraryEntry | Skipped]:
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"line {number}"
        if len(line) > MAX_LINE:
            yield Skipped(where, f"line too long ({len(line):,} characters) to be an id")
            continue
        arxiv_id, doi = _identifier(line)
        if arxiv_id is None and doi is None:
            shown = line[:60] + ("..." if len(line) > 60 else "")
            yield Skipped(where, f"not an arXiv id, DOI or arxiv.org/doi.org URL: {shown!r}")
            continue
        yield LibraryEntry(key=where, arxiv_id=arxiv_id, doi=doi)


def _from_ris(text: str) -> Iterator[LibraryEntry | Skipped]:
    """Linear in the file: a wrapped value is kept as its pieces (joined once, at the
    entry's end, never re-copied per line) and every value and entry is capped, so a hostile
    file of endless continuation lines costs no more than its size."""
    fields: dict[str, list[list[str]]] | None = None
    start = 0
    last: list[str] | None = None  # the pieces of the value being wrapped
    size, lines, problem = 0, 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        match = _RIS_TAG.match(line.rstrip())
        if match is None:
            if fields is not None and last is not None and not problem and line.strip():
                size += len(line) + 1
                if size > MAX_RIS_VALUE:
                    problem = f"a value longer than {MAX_RIS_VALUE:,} characters"
                else:
                    last.append(line.strip())  # a wrapped value
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "TY":
            if fields is not None:
                yield Skipped(f"entry at line {start}", "no ER line before the next TY")
            fields, start, last, lines, problem = {}, number, None, 0, ""
            continue
        if fields is None:
            continue  # text before the first entry
        if tag == "ER":
            where = f"entry at line {start}"
            yield Skipped(where, problem) if problem else _ris_entry(_joined(fields), start)
            fields, last = None, None
            continue
        lines += 1
        if problem:
            continue
        if lines > MAX_RIS_LINES:
            problem = f"more than {MAX_RIS_LINES:,} lines"
            continue
        size = len(value)
        if size > MAX_RIS_VALUE:
            problem = f"a value longer than {MAX_RIS_VALUE:,} characters"
            continue
        last = [value]
        fields.setdefault(tag, []).append(last)
    if fields is not None:
        yield Skipped(f"entry at line {start}", "no ER line: the file ends inside the entry")


def _joined(fields: dict[str, list[list[str]]]) -> dict[str, list[str]]:
    """Each value's pieces joined, control characters (an RIS file is plain text) shown as
    U+FFFD: they would reach the reader's pages and the database as they are."""
    return {tag: [_shown(" ".join(p for p in pieces if p)) for pieces in values]
            for tag, values in fields.items()}  # fmt: skip


def _ris_entry(fields: dict[str, list[str]], start: int) -> LibraryEntry | Skipped:
    def first(*tags: str) -> str | None:
        for tag in tags:
            for value in fields.get(tag, ()):
                if value:
                    return value
        return None

    where = f"entry at line {start}"
    title = first("TI", "T1", "CT", "BT")
    if title is not None and len(title) > 2_000:
        return Skipped(where, f"title too long ({len(title):,} characters)")
    arxiv_id: str | None = None
    doi = try_doi(first("DO"))
    if doi is not None and (from_doi := arxiv_id_from_doi(doi)) is not None:
        arxiv_id, doi = from_doi.id, None
    for value in [*fields.get("UR", ()), *fields.get("L1", ()), *fields.get("M1", ())]:
        if arxiv_id is None and "arxiv" in value.lower():
            arxiv_id, _ = _identifier(value.removeprefix("arXiv:").strip())
    if title is None and arxiv_id is None and doi is None:
        return Skipped(where, "no title, arXiv id or DOI")
    date = first("PY", "Y1", "DA") or ""
    year = _YEAR.search(date)
    authors = tuple(v for tag in ("AU", "A1") for v in fields.get(tag, ()) if v)
    return LibraryEntry(
        key=first("ID") or where,
        arxiv_id=arxiv_id,
        doi=doi,
        title=" ".join(title.split()) if title else None,
        authors=authors[:1000],
        year=int(year.group(1)) if year else None,
        added=_iso_day((first("Y2") or "").replace("/", "-")),
        abstract=" ".join((first("AB", "N2") or "").split())[:100_000],
    )
