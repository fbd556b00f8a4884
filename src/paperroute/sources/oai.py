"""arXiv over OAI-PMH: a pure parser for ListRecords/GetRecord responses and a harvester.

:func:`parse_oai` reads one response in any of the three metadata formats arXiv serves
(``arXivRaw``, ``arXiv``, ``oai_dc``; detected per record from the metadata element) and
returns an :class:`OaiPage`: the records, the resumption token and the page's newest header
datestamp, which the hub checkpoints after storing the page. :func:`harvest` requests pages
one after another through :class:`~paperroute.sources.http.HttpClient`.

OAI-PMH does not say when arXiv announced a paper, so ``announced_on`` stays None.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..errors import SourceError
from ..ids import try_doi
from ..model import ParseItem, RecordError
from .common import build_record, parse_datetime, squash

if TYPE_CHECKING:
    from .http import HttpClient

SOURCE = "arxiv-oai"
OAI_BASE_URL = "https://oaipmh.arxiv.org/oai"

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ARXIV_RAW_NS = "http://arxiv.org/OAI/arXivRaw/"
ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
_ARXIV_OAI_PREFIX = "oai:arxiv.org:"
NESTED_TOO_DEEPLY = "XML nested too deeply"


# --- XML loading, shared with the arXiv API parser -------------------------------------------


@dataclass(frozen=True, slots=True)
class XmlDocument:
    """A parsed document (``root``) or why it could not be read (``error``), plus notices
    about repairs made while reading it (invalid UTF-8 replaced)."""

    root: ET.Element | None
    error: str | None = None
    notices: tuple[str, ...] = ()


_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._\-]+)[\"']")


def load_xml(data: bytes) -> XmlDocument:
    """Parse ``data`` safely: DTDs, entities and external references are refused (never
    expanded). A document that claims (or defaults to) UTF-8 but holds invalid bytes is read
    again with those bytes replaced by U+FFFD, and a notice says so, so that one mis-encoded
    record does not cost the whole page."""
    try:
        return XmlDocument(fromstring(data))
    except DefusedXmlException as exc:
        return XmlDocument(None, f"XML entities and DTDs are not allowed ({type(exc).__name__})")
    except ET.ParseError as exc:
        first_error = f"malformed XML: {exc}"
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return XmlDocument(None, first_error)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        repaired = data.decode("utf-8", errors="replace").encode("utf-8")
        notice = f"invalid UTF-8 at byte {exc.start}; invalid bytes were replaced with U+FFFD"
        try:
            return XmlDocument(fromstring(repaired), notices=(notice,))
        except (DefusedXmlException, ET.ParseError):
            return XmlDocument(None, f"{first_error} ({notice.split(';')[0]})")
    return XmlDocument(None, first_error)


def local_name(element: ET.Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(element: ET.Element) -> str:
    tag = element.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Children by local name: some recorded responses omit or vary the namespace."""
    return [child for child in element if local_name(child) == name]


def child_text(element: ET.Element, name: str) -> str | None:
    for child in children(element, name):
        text = "".join(child.itertext())
        if text.strip():
            return text
    return None


# --- names ---------------------------------------------------------------------------------

_COMBINING = {
    "'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a",
}  # fmt: skip
_LETTERS = {
    "ss": "ß", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "o": "ø",
    "O": "Ø", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}  # fmt: skip
_TEX_SYMBOL_ACCENT = re.compile(r"\\([`'\"^~=.])\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))")
_TEX_LETTER_ACCENT = re.compile(r"\\([uvHckr])(?:\s*\{\s*(\\?[A-Za-z])\s*\}|\s+([A-Za-z]))")
_TEX_LETTER = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)(?![A-Za-z])(?:\{\})?")


def _accent(match: re.Match[str]) -> str:
    letter = (match.group(2) or match.group(3)).lstrip("\\")
    return letter + _COMBINING[match.group(1)]


def detex_name(name: str) -> str:
    """Turn TeX accents in a person's name into Unicode: ``Bal\\'azs`` -> ``Balázs``.

    arXiv keeps names as submitted, in TeX; other sources send Unicode, and the hub merges
    authors across sources."""
    if "\\" not in name and "{" not in name:
        return name
    text = _TEX_SYMBOL_ACCENT.sub(_accent, name)
    text = _TEX_LETTER_ACCENT.sub(_accent, text)
    text = _TEX_LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
    text = unicodedata.normalize("NFC", text.replace("{", "").replace("}", ""))
    return text.replace("ı\u0301", "í").replace("ı\u0300", "ì").replace("ı\u0308", "ï")


def _strip_parentheses(text: str) -> str:
    """Drop parenthesised affiliations, nested ones included: ``A (X, Y (Z)), B`` -> ``A , B``."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return "".join(out)


_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*;\s*")


def split_authors(text: str) -> list[str]:
    """arXiv's author string, ``A, B and C`` (affiliations in parentheses), as names."""
    names = _AUTHOR_SEPARATOR.split(squash(_strip_parentheses(text)))
    return [detex_name(name) for name in (squash(n) for n in names) if name]


def invert_name(name: str) -> str:
    """``Last, First`` (Dublin Core, arXiv keyname/forenames) -> ``First Last``."""
    parts = [squash(part) for part in name.split(",")]
    if len(parts) < 2 or not parts[1]:
        return detex_name(squash(name))
    return detex_name(" ".join([parts[1], parts[0], *parts[2:]]).strip())


def first_doi(text: str | None) -> str | None:
    """arXiv's doi field may list several DOIs (``a, b;c``); the first valid one is kept."""
    for candidate in re.split(r"[\s,;]+", text or ""):
        if try_doi(candidate):
            return candidate
    return None


def _rfc2822(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


# --- records -------------------------------------------------------------------------------


def _id_from_identifier(identifier: str) -> str | None:
    if identifier.lower().startswith(_ARXIV_OAI_PREFIX):
        return identifier[len(_ARXIV_OAI_PREFIX) :]
    return None


def _from_arxiv_raw(meta: ET.Element, key: str, raw: bytes) -> ParseItem:
    versions: list[tuple[int, dt.datetime | None]] = []
    for element in children(meta, "version"):
        label = element.get("version", "").lstrip("v")
        if label.isdigit():
            versions.append((int(label), _rfc2822(child_text(element, "date"))))
    versions.sort()
    categories = (child_text(meta, "categories") or "").split()
    return build_record(
        source=SOURCE,
        source_key=key,
        title=child_text(meta, "title"),
        abstract=child_text(meta, "abstract"),
        authors=split_authors(child_text(meta, "authors") or ""),
        arxiv_id=child_text(meta, "id") or _id_from_identifier(key),
        version=versions[-1][0] if versions else None,
        doi=first_doi(child_text(meta, "doi")),
        categories=categories,
        submitted_at=versions[0][1] if versions else None,
        updated_at=versions[-1][1] if versions else None,
        comments=child_text(meta, "comments"),
        journal_ref=child_text(meta, "journal-ref"),
        license=child_text(meta, "license"),
        raw=raw,
    )


def _from_arxiv(meta: ET.Element, key: str, raw: bytes) -> ParseItem:
    authors: list[str] = []
    for element in children(meta, "authors"):
        for author in children(element, "author"):
            parts = [child_text(author, part) for part in ("forenames", "keyname", "suffix")]
            authors.append(detex_name(" ".join(squash(p) for p in parts if p)))
    created = parse_datetime(child_text(meta, "created"))
    return build_record(
        source=SOURCE,
        source_key=key,
        title=child_text(meta, "title"),
        abstract=child_text(meta, "abstract"),
        authors=authors,
        arxiv_id=child_text(meta, "id") or _id_from_identifier(key),
        doi=first_doi(child_text(meta, "doi")),
        categories=(child_text(meta, "categories") or "").split(),
        submitted_at=created,
        updated_at=parse_datetime(child_text(meta, "updated")) or created,
        comments=child_text(meta, "comments"),
        journal_ref=child_text(meta, "journal-ref"),
        license=child_text(meta, "license"),
        raw=raw,
    )


def _from_oai_dc(meta: ET.Element, key: str, raw: bytes) -> ParseItem:
    abstract: str | None = None
    comments: list[str] = []
    for text in ("".join(d.itertext()) for d in children(meta, "description")):
        stripped = text.strip()
        if stripped.startswith("Comment:"):
            comments.append(stripped.removeprefix("Comment:").strip())
        elif abstract is None:
            abstract = text
    arxiv_id = _id_from_identifier(key)
    doi: str | None = None
    for text in ("".join(i.itertext()).strip() for i in children(meta, "identifier")):
        if "arxiv.org/abs/" in text:
            arxiv_id = text.split("arxiv.org/abs/", 1)[1]
        elif try_doi(text):
            doi = doi or text
    dates = [d for d in (parse_datetime(t) for t in _texts(meta, "date")) if d is not None]
    return build_record(
        source=SOURCE,
        source_key=key,
        title=child_text(meta, "title"),
        abstract=abstract,
        authors=[invert_name(name) for name in _texts(meta, "creator")],
        arxiv_id=arxiv_id,
        doi=doi,
        # dc:subject holds category names ("Computer Science - Information Theory"), not
        # codes; build_record drops what is not a category code.
        categories=(),
        submitted_at=min(dates) if dates else None,
        updated_at=max(dates) if dates else None,
        comments="; ".join(comments) or None,
        raw=raw,
    )


def _texts(element: ET.Element, name: str) -> list[str]:
    return [t for t in ("".join(c.itertext()).strip() for c in children(element, name)) if t]


_FORMATS = {ARXIV_RAW_NS: _from_arxiv_raw, ARXIV_NS: _from_arxiv, OAI_DC_NS: _from_oai_dc}
_FORMATS_BY_NAME = {"arXivRaw": _from_arxiv_raw, "arXiv": _from_arxiv, "dc": _from_oai_dc}


def _parse_record(record: ET.Element, fallback_key: str) -> tuple[ParseItem | None, str | None]:
    """One <record>: (item or None when deleted upstream, header datestamp)."""
    header = next(iter(children(record, "header")), None)
    if header is None:
        return RecordError(SOURCE, fallback_key, "record has no header"), None
    key = squash(child_text(header, "identifier")) or fallback_key
    datestamp = squash(child_text(header, "datestamp")) or None
    if header.get("status") == "deleted":
        return None, datestamp
    metadata = next(iter(children(record, "metadata")), None)
    meta = next(iter(metadata), None) if metadata is not None else None
    if meta is None:
        return RecordError(SOURCE, key, "record has no metadata"), datestamp
    # Detect the format by namespace; some recordings drop the namespace, so fall back on
    # the element's name.
    parser = _FORMATS.get(namespace(meta)) or _FORMATS_BY_NAME.get(local_name(meta))
    if parser is None:
        return RecordError(SOURCE, key, f"unsupported metadata format {meta.tag!r}"), datestamp
    try:
        # ET.tostring recurses once per level: thousands of nested elements exhaust the stack.
        return parser(meta, key, ET.tostring(meta, encoding="utf-8")), datestamp
    except RecursionError:
        return RecordError(SOURCE, key, NESTED_TOO_DEEPLY), datestamp


@dataclass(frozen=True, slots=True)
class OaiPage:
    """One OAI-PMH response.

    ``error`` is set when the page as a whole failed: an OAI-PMH error other than
    noRecordsMatch (``"badArgument: <text>"``, with ``error_code``) or an unreadable document;
    ``items`` then holds one RecordError naming the document. noRecordsMatch is an empty,
    successful page (``no_records_match`` and a notice). ``last_datestamp`` is the newest
    header datestamp on the page, deleted records included; ``deleted`` counts records
    deleted upstream, which yield no item. ``resumption_token`` is None on the last page.
    """

    items: tuple[ParseItem, ...] = ()
    resumption_token: str | None = None
    complete_list_size: int | None = None
    cursor: int | None = None
    last_datestamp: str | None = None
    deleted: int = 0
    error: str | None = None
    error_code: str | None = None
    no_records_match: bool = False
    notices: tuple[str, ...] = ()


def _int_attr(element: ET.Element, name: str) -> int | None:
    value = (element.get(name) or "").strip()
    return int(value) if value.isdigit() else None


def parse_oai(data: bytes, *, document: str = "response") -> OaiPage:
    """Parse a ListRecords or GetRecord response. Never raises for bad input."""
    try:
        return _parse_oai(data, document)
    except RecursionError:
        # Records guard themselves; this is the last line for anything walked recursively.
        reason = NESTED_TOO_DEEPLY
        return OaiPage(items=(RecordError(SOURCE, document, reason),), error=reason)


def _parse_oai(data: bytes, document: str) -> OaiPage:
    loaded = load_xml(data)
    if loaded.root is None:
        reason = loaded.error or "unreadable document"
        return OaiPage(items=(RecordError(SOURCE, document, reason),), error=reason)
    root = loaded.root
    notices = list(loaded.notices)
    if local_name(root) != "OAI-PMH":
        reason = f"not an OAI-PMH response (root element {local_name(root)!r})"
        return OaiPage(items=(RecordError(SOURCE, document, reason),), error=reason)
    errors = [
        (e.get("code") or "unknown", squash("".join(e.itertext()))) for e in children(root, "error")
    ]
    real = [(code, text) for code, text in errors if code != "noRecordsMatch"]
    if real:
        code, text = real[0]
        reason = f"{code}: {text}" if text else code
        failure = RecordError(SOURCE, document, f"OAI-PMH error {reason}")
        return OaiPage(items=(failure,), error=reason, error_code=code, notices=tuple(notices))
    if errors:
        notices.append("noRecordsMatch: no records in the requested range")
        return OaiPage(no_records_match=True, notices=tuple(notices))

    items: list[ParseItem] = []
    deleted = 0
    datestamps: list[str] = []
    token: str | None = None
    complete: int | None = None
    cursor: int | None = None
    verbs = [*children(root, "ListRecords"), *children(root, "GetRecord")]
    if not verbs:
        # Anything else (Identify, ListSets...) would otherwise read as an empty last page.
        names = ", ".join(sorted({local_name(c) for c in root} - {"responseDate", "request"}))
        reason = f"neither ListRecords nor GetRecord in the response (found: {names or 'nothing'})"
        return OaiPage(items=(RecordError(SOURCE, document, reason),), error=reason)
    for verb in verbs:
        for number, record in enumerate(children(verb, "record"), start=1):
            item, datestamp = _parse_record(record, f"{document} record {number}")
            if datestamp:
                datestamps.append(datestamp)
            if item is None:
                deleted += 1
            else:
                items.append(item)
        for element in children(verb, "resumptionToken"):
            token = squash(element.text) or None
            complete = _int_attr(element, "completeListSize")
            cursor = _int_attr(element, "cursor")
    return OaiPage(
        items=tuple(items),
        resumption_token=token,
        complete_list_size=complete,
        cursor=cursor,
        last_datestamp=max(datestamps) if datestamps else None,
        deleted=deleted,
        notices=tuple(notices),
    )


def harvest(
    client: HttpClient,
    *,
    base_url: str = OAI_BASE_URL,
    prefix: str = "arXivRaw",
    set_spec: str | None = None,
    from_date: str | None = None,
    until: str | None = None,
    resumption_token: str | None = None,
) -> Iterator[OaiPage]:
    """ListRecords, one page at a time, until the resumption token runs out.

    Pass ``resumption_token`` to resume a harvest: OAI-PMH then forbids every other argument,
    so prefix/set/dates are not sent. The caller stores each page's records, then checkpoints
    its ``resumption_token`` and ``last_datestamp``. Raises SourceError for an OAI-PMH error
    (other than noRecordsMatch, which ends the harvest quietly), an unreadable page, or a
    server that hands back the token it was given (which would loop forever); HTTP failures
    come from the client as SourceError too.
    """
    token = resumption_token
    number = 0
    while True:
        number += 1
        params: dict[str, str] = {"verb": "ListRecords"}
        if token:
            params["resumptionToken"] = token
        else:
            params["metadataPrefix"] = prefix
            for name, value in (("set", set_spec), ("from", from_date), ("until", until)):
                if value:
                    params[name] = value
        data = client.get(base_url, params)
        page = parse_oai(data, document=f"ListRecords page {number}")
        if page.error is not None:
            where = f"resumptionToken {token!r}" if token else f"page {number}"
            raise SourceError(f"OAI-PMH {page.error} ({base_url}, {where})", url=base_url)
        yield page
        if not page.resumption_token:
            return
        if page.resumption_token == token:
            raise SourceError(
                f"OAI-PMH server repeated resumptionToken {token!r}; stopping", url=base_url
            )
        token = page.resumption_token
