"""Plain-text copies of a daily-papers web page (the text a browser's "save as text" or a
reader view gives for huggingface.co/papers).

The format, from real saved pages: a few site lines ("new", "Get trending papers in your
email inbox!", "Subscribe", "byAK and the research community"), a date line such as
``Mar 14``, then one block per paper: the title line, a blank line, the abstract paragraph,
a blank line. Papers carry no identifiers, so records have no arXiv id (the store gives them
a content-hash id); code and project links in abstracts are picked up by build_record.

Decisions: a title with no abstract after it (the next paragraph is another title, or the
page ends) is a RecordError "no abstract after title": without id, authors or abstract such
a record cannot be told apart from a stray line of the page. A date line gives each paper a
DailyEntry only when the year is known (the ``year`` argument or a year on the line itself):
"Mar 14" alone names no day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..model import DailyEntry, PaperRecord, RecordError
from .common import build_record, squash

SOURCE = "page"

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        1,
    )
    for name in names
}
_DATE_LINE = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    r"(?P<month>[a-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{4}))?$",
    re.IGNORECASE,
)
_ISO_DATE_LINE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})$")
# Site chrome seen on saved pages; compared case-insensitively without trailing punctuation.
_CHROME = frozenset(
    {
        "new",
        "get trending papers in your email inbox",
        "subscribe",
        "byak and the research community",
        "daily papers",
        "trending papers",
        "papers",
        "previous",
        "next",
        "search",
        "submit",
        "submit paper",
    }
)
# Titles are short and seldom sentences; abstracts are long or made of sentences.
_TITLE_MAX = 300
_UNKNOWN_CHROME_MAX = 60
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@dataclass(frozen=True, slots=True)
class _Paragraph:
    text: str
    line: int  # 1-based line number of its first line
    bad_utf8: bool


def parse_page(
    data: bytes, *, document: str = "page", year: int | None = None
) -> Iterator[PaperRecord | RecordError]:
    """Parse a saved daily-papers page into records without ids.

    source_key is ``"{document}#{n}"``, n counting the paper blocks from 1. A block holding
    bytes that are not UTF-8 is a RecordError for that block; the other blocks still parse.
    An empty page or one with no paper blocks yields one RecordError naming ``document``.
    """
    day: dt.date | None = None
    number = 0  # blocks emitted so far: records and errors alike
    pending: _Paragraph | None = None  # a title waiting for its abstract

    def title_only(title: _Paragraph) -> Iterator[RecordError]:
        nonlocal number
        # A short line before the first paper is most likely site chrome this parser does
        # not know yet (header variants), not a paper that lost its abstract.
        if number == 0 and len(title.text) <= _UNKNOWN_CHROME_MAX:
            return
        number += 1
        yield _no_abstract(title, f"{document}#{number}")

    for paragraph in _paragraphs(data):
        is_date, date = _date_line(paragraph.text, year)
        if is_date:
            day = date
            continue
        if _is_chrome(paragraph.text):
            continue
        if not _looks_like_abstract(paragraph.text):
            if pending is not None:
                yield from title_only(pending)
            pending = paragraph
            continue
        number += 1
        if pending is None:
            reason = f"abstract without a title (line {paragraph.line})"
            yield RecordError(SOURCE, f"{document}#{number}", reason)
        else:
            yield _record(pending, paragraph, f"{document}#{number}", day)
            pending = None
    if pending is not None:
        yield from title_only(pending)
    if number == 0:
        yield RecordError(SOURCE, document, "no papers found (expected title and abstract blocks)")


def _paragraphs(data: bytes) -> list[_Paragraph]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", "replace").encode("utf-8")
    data = data.removeprefix(b"\xef\xbb\xbf")
    paragraphs: list[_Paragraph] = []
    lines: list[str] = []
    start = 0
    bad = False
    # Split bytes, not text: UTF-8 never puts 0x0A inside a character, so a stray latin-1
    # byte spoils only the paragraph holding it.
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("utf-8", "replace")
            bad = True
        if line.strip():
            if not lines:
                start = number
            lines.append(line)
            continue
        if lines:
            paragraphs.append(_Paragraph(squash(" ".join(lines)), start, bad))
        lines, bad = [], False
    if lines:
        paragraphs.append(_Paragraph(squash(" ".join(lines)), start, bad))
    return paragraphs


def _date_line(text: str, year: int | None) -> tuple[bool, dt.date | None]:
    """Whether the paragraph is a date line, and the day it names (None when its year is
    unknown or the date impossible)."""
    iso = _ISO_DATE_LINE.match(text)
    if iso:
        try:
            return True, dt.date(int(iso["year"]), int(iso["month"]), int(iso["day"]))
        except ValueError:
            return True, None
    match = _DATE_LINE.match(text)
    if not match or match["month"].lower() not in _MONTHS:
        return False, None
    known_year = int(match["year"]) if match["year"] else year
    if known_year is None:
        return True, None
    try:
        return True, dt.date(known_year, _MONTHS[match["month"].lower()], int(match["day"]))
    except ValueError:
        return True, None


def _is_chrome(text: str) -> bool:
    return text.lower().rstrip(" !.:") in _CHROME


def _looks_like_abstract(text: str) -> bool:
    if len(text) > _TITLE_MAX:
        return True
    return len(text) > 120 and len(_SENTENCE_END.findall(text)) >= 2


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _no_abstract(title: _Paragraph, key: str) -> RecordError:
    return RecordError(
        SOURCE, key, f"no abstract after title {_short(title.text)!r} (line {title.line})"
    )


def _record(
    title: _Paragraph, abstract: _Paragraph, key: str, day: dt.date | None
) -> PaperRecord | RecordError:
    if title.bad_utf8 or abstract.bad_utf8:
        line = title.line if title.bad_utf8 else abstract.line
        return RecordError(
            SOURCE,
            key,
            f"not valid UTF-8 text (line {line}, title {_short(title.text)!r}); "
            "save the page as UTF-8",
        )
    daily = (DailyEntry(day=day, source="hf", kind="listed"),) if day else ()
    text = f"{title.text}\n\n{abstract.text}"
    return build_record(
        source=SOURCE,
        source_key=key,
        title=title.text,
        abstract=abstract.text,
        daily=daily,
        # The day is part of the record (its DailyEntry), so part of its fingerprint: the same
        # paper on another day's page is a change, not a repeat.
        raw=f"{day}\n{text}" if day else text,
    )
