"""JSON Lines dumps of arXiv metadata, streamed in constant memory, plain or gzip.

Two shapes, detected per line:

* our corpus shape: ``{id, title, authors: [...], categories: [...], comment, summary,
  listing_dates: [...], sources: [...]}``: one ``DailyEntry(day, "arxiv", "listed")`` per
  listing date; ``announced_on`` is the earliest one.
* the Kaggle arXiv snapshot: ``{id, submitter, authors: "A, B and C", title, comments,
  journal-ref, doi, report-no, categories: "cs.LG stat.ML", license, abstract,
  versions: [{version: "v1", created: "Mon, 2 Apr 2007 19:18:42 GMT"}], update_date,
  authors_parsed: [[last, first, suffix]]}``: the latest version; ``submitted_at`` is v1's
  date, ``updated_at`` the latest version's.

``source_key`` is ``"{document}:{line}"`` plus `` ({id})`` when the line names one; ``raw`` is
the line's bytes. A broken line (not JSON, not an object, longer than ``MAX_LINE`` bytes, not
UTF-8) yields a RecordError naming its line number and parsing goes on; so does a field of
the wrong type (``categories: 5``, a title that is not text), the error naming the field.
Categories may be a list or a space-separated string, authors a list or an arXiv author
string, in either shape. The parser does one ``json.loads`` per line and nothing per-record
that scales with the text beyond what ``build_record`` does: it runs on 200k-record dumps.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from json import JSONDecodeError, loads
from pathlib import Path
from typing import Any, BinaryIO, cast

from ..model import DailyEntry, ParseItem, RecordError
from .common import build_record
from .latex import latex_to_unicode

SOURCE = "jsonl"
MAX_LINE = 2 * 1024 * 1024  # bytes; arXiv records are a few KB, 2 MB is surely not one
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_CACHED_DAYS = 50_000  # ~137 years of days

# arXiv author strings: "A, B and C", "A (Inst), B ((1) X, (2) Y)", "A, Jr., B". Matched on
# whitespace-squashed text, so each space is a single one: unbounded \s* runs made a long run
# of spaces quadratic (every start position rescanned the whole run).
_AUTHOR_SEP = re.compile(r" ?, ?(?:and )?| and | ?; ?")
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


def open_jsonl(path: Path) -> BinaryIO:
    """Open a JSON Lines file for :func:`iter_jsonl`, decompressing when it starts with the gzip
    magic bytes (whatever its name). The caller closes it."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return cast(BinaryIO, gzip.GzipFile(path, "rb"))
    return path.open("rb")


def parse_jsonl(data: bytes, *, document: str = "data") -> Iterator[ParseItem]:
    """:func:`iter_jsonl` over bytes in memory (gzip-compressed or not)."""
    stream: BinaryIO = io.BytesIO(data)
    if data[:2] == _GZIP_MAGIC:
        stream = cast(BinaryIO, gzip.GzipFile(fileobj=stream, mode="rb"))
    return iter_jsonl(stream, document=document)


def iter_jsonl(stream: BinaryIO, *, document: str) -> Iterator[ParseItem]:
    """Records of a JSON Lines stream, read one line at a time (memory stays bounded by
    MAX_LINE). A stream that breaks off (a truncated or corrupt gzip) ends with a RecordError
    naming the document and the line it reached."""
    readline = stream.readline
    limit = MAX_LINE + 2  # room for "\r\n"
    days: dict[str, tuple[dt.date, DailyEntry] | None] = {}
    line_no = 0
    while True:
        try:
            line = readline(limit)
        except (OSError, EOFError, zlib.error) as error:
            yield RecordError(SOURCE, document, f"unreadable after line {line_no}: {error}")
            return
        if not line:
            return
        line_no += 1
        if len(line) == limit and not line.endswith(b"\n"):
            yield RecordError(
                SOURCE, f"{document}:{line_no}", f"line longer than {MAX_LINE:,} bytes; skipped"
            )
            try:
                while (rest := readline(limit)) and not rest.endswith(b"\n"):
                    pass
            except (OSError, EOFError, zlib.error) as error:
                yield RecordError(SOURCE, document, f"unreadable after line {line_no}: {error}")
                return
            continue
        line = line.strip()
        if not line:
            continue
        if line_no == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]  # a UTF-8 byte order mark
        if len(line) > MAX_LINE:
            yield RecordError(
                SOURCE, f"{document}:{line_no}", f"line longer than {MAX_LINE:,} bytes; skipped"
            )
            continue
        try:
            # Decoding first is faster than letting json sniff the encoding of bytes.
            obj = loads(line.decode("utf-8"))
        except UnicodeDecodeError as error:
            yield RecordError(
                SOURCE,
                f"{document}:{line_no}",
                f"not UTF-8 text ({error.reason} at byte {error.start})",
            )
            continue
        except (JSONDecodeError, ValueError, RecursionError) as error:
            yield RecordError(SOURCE, f"{document}:{line_no}", f"not valid JSON: {error}")
            continue
        if not isinstance(obj, dict):
            yield RecordError(
                SOURCE, f"{document}:{line_no}", f"not a JSON object (a {type(obj).__name__})"
            )
            continue
        yield _record(obj, f"{document}:{line_no}", line, days)


def _record(
    obj: dict[str, Any], where: str, line: bytes, days: dict[str, tuple[dt.date, DailyEntry] | None]
) -> ParseItem:
    paper_id = obj.get("id")
    key = f"{where} ({paper_id})" if isinstance(paper_id, str) and paper_id else where
    # One line of an odd shape must never abort the file: whatever a field holds, the worst
    # outcome is a RecordError for its line.
    try:
        if "listing_dates" in obj or isinstance(obj.get("authors"), list):
            return _corpus(obj, key, line, days)
        if "versions" in obj or "abstract" in obj or isinstance(obj.get("authors"), str):
            return _kaggle(obj, key, line)
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
        return RecordError(SOURCE, key, f"unexpected record shape: {exc}")
    return RecordError(SOURCE, key, "neither the corpus shape nor the Kaggle arXiv shape")


class _Shape(Exception):
    """A field of the wrong type; its message names the field."""


def _kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _title(obj: dict[str, Any]) -> Any:
    """The title as given, or None when missing (build_record reports that); anything other
    than text raises _Shape."""
    title = obj.get("title")
    if title is not None and not isinstance(title, str):
        raise _Shape(f"title is {_kind(title)}, not text")
    return title


def _categories(value: Any) -> list[str]:
    """Categories given as a list of strings or as one space-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        words: list[str] = []
        for category in value:
            if isinstance(category, str):
                words.extend(category.split())
            elif category is not None:
                raise _Shape(f"categories holds {_kind(category)}, not a category")
        return words
    raise _Shape(f"categories is {_kind(value)}, not a list of strings or a string")


def _authors(value: Any) -> list[str]:
    """Authors given as a list of names or as one arXiv author string ("A, B and C")."""
    if value is None:
        return []
    if isinstance(value, str):
        return split_arxiv_authors(value)
    if isinstance(value, list):
        names = [a for a in value if a is not None]
        if all(isinstance(a, str) for a in names):
            return _fix_authors(names)
        odd = next(a for a in names if not isinstance(a, str))
        raise _Shape(f"authors holds {_kind(odd)}, not a name")
    raise _Shape(f"authors is {_kind(value)}, not a list of names or a string")


def _corpus(
    obj: dict[str, Any], key: str, line: bytes, days: dict[str, tuple[dt.date, DailyEntry] | None]
) -> ParseItem:
    listing = obj.get("listing_dates") or ()
    daily: list[DailyEntry] = []
    announced: dt.date | None = None
    if isinstance(listing, list):
        for text in listing:
            # A few thousand distinct days across a whole dump: parse each once.
            cached = days.get(text) if isinstance(text, str) else None
            if cached is None and isinstance(text, str) and text not in days:
                try:
                    day = dt.date.fromisoformat(text[:10])
                    cached = (day, DailyEntry(day=day, source="arxiv", kind="listed"))
                except ValueError:
                    cached = None
                if len(days) < _MAX_CACHED_DAYS:  # junk dates must not grow it without bound
                    days[text] = cached
            if cached is not None:
                daily.append(cached[1])
                if announced is None or cached[0] < announced:
                    announced = cached[0]
    try:
        title = _title(obj)
        authors = _authors(obj.get("authors"))
        categories = _categories(obj.get("categories"))
    except _Shape as problem:
        return RecordError(SOURCE, key, str(problem))
    return build_record(
        source=SOURCE,
        source_key=key,
        title=title,
        abstract=obj.get("summary") or obj.get("abstract") or "",
        authors=authors,
        arxiv_id=obj.get("id"),
        categories=categories,
        comments=obj.get("comment") or obj.get("comments"),
        announced_on=announced,
        daily=daily,
        raw=line,
    )


def _fix_authors(authors: list[str]) -> list[str]:
    """The corpus's scrapers split arXiv's author string on ", " blindly: an affiliation with a
    comma falls apart ("Golse (CMLS", "LJLL)") and names joined by ",\\n" stay together. Only
    when such signs are there (a few percent of records) is the list re-joined and re-split;
    LaTeX accents are decoded only in names that have a backslash."""
    joined = ", ".join(authors)
    if (
        "(" in joined
        or ")" in joined
        or "\n" in joined
        or " and " in joined
        or joined.count(",") >= len(authors)
    ):
        return split_arxiv_authors(joined)
    if "\\" in joined or "{" in joined:
        return [latex_to_unicode(a) if "\\" in a or "{" in a else a for a in authors]
    return authors


def split_arxiv_authors(text: str) -> list[str]:
    """Split an arXiv author string ("A, B and C") into names, dropping parenthesised
    affiliations and decoding LaTeX accents; "Jr." joins the name before it."""
    if "(" in text:
        text = _strip_parens(text)
    if "\\" in text or "{" in text:
        text = latex_to_unicode(text)
    text = " ".join(text.split())  # _AUTHOR_SEP expects single spaces
    names: list[str] = []
    for part in _AUTHOR_SEP.split(text):
        name = part.strip()
        if not name:
            continue
        if names and name.lower() in _SUFFIXES:
            names[-1] = f"{names[-1]} {name}"
        else:
            names.append(name)
    return names


def _strip_parens(text: str) -> str:
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _when(text: Any) -> dt.datetime | None:
    """arXiv's version dates, RFC 2822: ``Mon, 2 Apr 2007 19:18:42 GMT``."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return parsedate_to_datetime(text).astimezone(dt.UTC)
    except (TypeError, ValueError, IndexError):
        return None


def _parsed_name(parts: list[Any]) -> str:
    """``[last, first, suffix]`` -> ``first last suffix``."""
    ordered = [parts[1] if len(parts) > 1 else "", parts[0], *parts[2:]]
    name = " ".join(str(p) for p in ordered if p)
    return latex_to_unicode(name) if "\\" in name or "{" in name else name


def _kaggle(obj: dict[str, Any], key: str, line: bytes) -> ParseItem:
    versions = obj.get("versions")
    submitted = updated = None
    version: int | None = None
    if isinstance(versions, list) and versions:
        numbered: list[tuple[int, Any]] = []
        for entry in versions:
            if isinstance(entry, dict):
                label = str(entry.get("version") or "").lstrip("v")
                # isdecimal, not isdigit: int() refuses superscripts; and int() refuses
                # thousands of digits, so keep to what a version number can be.
                if label.isdecimal() and len(label) <= 6:
                    numbered.append((int(label), entry.get("created")))
        if numbered:
            numbered.sort(key=lambda pair: pair[0])
            submitted, updated = _when(numbered[0][1]), _when(numbered[-1][1])
            version = numbered[-1][0]
    try:
        title = _title(obj)
        parsed = obj.get("authors_parsed")
        if isinstance(parsed, list) and parsed:
            authors = [_parsed_name(n) for n in parsed if isinstance(n, list) and n]
        else:
            authors = _authors(obj.get("authors"))
        categories = _categories(obj.get("categories"))
    except _Shape as problem:
        return RecordError(SOURCE, key, str(problem))
    return build_record(
        source=SOURCE,
        source_key=key,
        title=title,
        abstract=obj.get("abstract") or "",
        authors=authors,
        arxiv_id=obj.get("id"),
        version=version,
        # arXiv lists several DOIs space-separated; the first is the paper's.
        doi=doi.split()[0] if isinstance(doi := obj.get("doi"), str) and doi.strip() else None,
        categories=categories,
        submitted_at=submitted,
        updated_at=updated,
        comments=obj.get("comments"),
        journal_ref=obj.get("journal-ref"),
        license=obj.get("license"),
        raw=line,
    )
