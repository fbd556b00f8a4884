"""BibTeX / BibLaTeX libraries: a tolerant hand-written parser (no dependency).

Understood: ``@string`` macros and ``#`` concatenation, the month macros, braced and quoted
values with nested braces, ``@comment`` / ``@preamble`` (skipped), LaTeX accents and escapes
in titles, names and abstracts (decoded to Unicode), ``Last, First`` names, and the places
arXiv ids hide in exports: ``eprint`` (+ ``archivePrefix`` / ``eprinttype`` = arXiv), an
arxiv.org URL, an arXiv DOI (10.48550/arXiv.X), ``journal = {arXiv preprint arXiv:X}``,
``number = {arXiv:X}``, DBLP's ``volume = {abs/X}``. ``note`` / ``annote`` are personal notes,
never taken as the paper's comments; ``keywords`` are ignored.

A broken entry (unbalanced braces, a missing ``=``) yields a RecordError naming its key and
line, and parsing resumes at the next ``@`` at the start of a line. Bytes that are not UTF-8
make the entries holding them RecordErrors (the others still come through).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from ..ids import try_arxiv_id
from ..model import ParseItem, RecordError
from .common import build_record
from .latex import latex_to_unicode

SOURCE = "bibtex"
# The most text one entry's values may hold (after ``#`` joins and macros), each value and
# all together, and all ``@string`` macros together: the longest real values are author
# lists of large collaborations (~5,000 names). Without it a brace left open made its value
# the rest of the file, and macros joined into each other doubled at every step.
MAX_VALUE = 1_000_000
# What all entries' values may hold together beyond the file's own size: a macro named in
# every entry would otherwise make a small file a huge one (each copy decoded from LaTeX).
EXPANDS = "expands to more than"

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_HEAD = re.compile(r"@[ \t]*([A-Za-z][\w\-]*)\s*([{(])")
_KEY = re.compile(r"\s*([^\s,{}()\"=#%]*)\s*(,?)")
_NAME = re.compile(r"\s*([^\s=,{}()\"#%]+)\s*=\s*")
_BARE = re.compile(r"\s*([^\s=,{}()\"#%]+)")
_BRACES = re.compile(r"[{}]|\n(?=@[ \t]*[A-Za-z][\w\-]*\s*[{(])")
_QUOTED = re.compile(r"[{}\"]|\n(?=@[ \t]*[A-Za-z][\w\-]*\s*[{(])")
_NEXT_AT = re.compile(r"\n(?=@)")
# The name and arXiv-hint patterns run on whitespace-squashed text (single spaces), so they
# need no unbounded \s* / \s+: on a long run of spaces those made every start position
# rescan the whole run (quadratic; seconds for a few KB of hostile input).
_AND = re.compile(r" and ", re.IGNORECASE)
_COMMA = re.compile(r" ?, ?")
_SURROGATE = re.compile("[\udc80-\udcff]")
# Old-style archives are at most 8 letters ("cond-mat", "solv-int"); an unbounded run let
# "arxivarxiv..." rescan the rest of the text from every "arxiv".
_ARXIV_TEXT = re.compile(
    r"arxiv ?[:.]? ?(?:abs/)?"
    r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z\-]{0,15}(?:\.[a-z]{2})?/\d{7}(?:v\d+)?)"
    r"(?: ?\[([^\]]{1,80})\])?",
    re.IGNORECASE,
)
_CATEGORY_SPLIT = re.compile(r"[,;\s]+")
_DATE = re.compile(r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![\d])")


_TOO_LONG = f"a value longer than {MAX_VALUE:,} characters (a brace or quote left open?)"
_TOO_MUCH = f"values of more than {MAX_VALUE:,} characters in all"


class _Broken(Exception):
    """An entry the parser cannot finish; the reason goes into the RecordError."""


class _TooMuch(Exception):
    """The document's values together passed the scanner's budget: parsing stops."""


def arxiv_hint(text: str | None) -> tuple[str, list[str]] | None:
    """An arXiv id written in free text (``arXiv preprint arXiv:2401.01234``, ``arXiv:1305.4904
    [quant-ph]``, an arxiv.org URL) and the categories in brackets after it, if any."""
    if not text or "arxiv" not in text.lower():
        return None
    parsed = try_arxiv_id(text.strip())
    if parsed is not None:
        return str(parsed), []
    match = _ARXIV_TEXT.search(" ".join(text.split()))
    if match is None:
        return None
    cats = _CATEGORY_SPLIT.split(match.group(2).strip()) if match.group(2) else []
    return match.group(1), [c for c in cats if c]


def split_categories(text: str | None) -> list[str]:
    return [c for c in _CATEGORY_SPLIT.split(text or "") if c]


def full_date(value: str | None) -> dt.datetime | None:
    """Midnight UTC of a fully known date written ``2014-07-25`` or ``2019/09/25`` (a range or
    a time may follow); None when only a year or a month is known."""
    match = _DATE.match(value) if value else None
    return _ymd(*match.groups()) if match else None


def _ymd(year: str | None, month: str | None, day: str | None) -> dt.datetime | None:
    if not (year and month and day):
        return None
    month_text = month.strip().lower()[:3]
    try:
        number = _MONTHS.index(month_text) + 1 if month_text in _MONTHS else int(month)
        return dt.datetime(int(year.strip()), number, int(day.strip()), tzinfo=dt.UTC)
    except ValueError:
        return None


def journal_ref(
    journal: str | None, volume: str | None, pages: str | None, year: str | None
) -> str | None:
    """``Science 345 (2014) 420-424``, arXiv's usual journal-ref shape; None for preprints."""
    if not journal or arxiv_hint(journal) or journal.strip().lower() in {"arxiv", "corr"}:
        return None
    parts = [journal.strip()]
    if volume:
        parts.append(volume.strip())
    if year:
        parts.append(f"({year.strip()[:4]})")
    if pages:
        parts.append(pages.strip().replace("–", "-"))
    return " ".join(parts)


def _split_depth0(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Split on ``pattern`` only outside braces ({Barnes and Noble} is one name)."""
    if "{" not in text:
        return pattern.split(text)
    parts: list[str] = []
    depth, last, start = 0, 0, 0
    for match in pattern.finditer(text):
        depth += text.count("{", last, match.start()) - text.count("}", last, match.start())
        last = match.start()
        if depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return parts


def bib_name(name: str) -> str:
    """``Last, First`` -> ``First Last``; ``Last, Jr, First`` -> ``First Last Jr``."""
    parts = [p.strip() for p in _split_depth0(" ".join(name.split()), _COMMA)]
    if len(parts) == 2 and parts[1]:
        name = f"{parts[1]} {parts[0]}"
    elif len(parts) >= 3:
        name = f"{parts[2]} {parts[0]} {parts[1]}"
    return latex_to_unicode(name)


def bib_authors(value: str) -> list[str]:
    names = []
    for part in _split_depth0(" ".join(value.split()), _AND):
        if part.strip() and part.strip().lower() != "others":
            names.append(bib_name(part))
    return names


class _Scanner:
    """Walks the text entry by entry; one instance per document."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.macros: dict[str, str] = {m: n for m, n in zip(_MONTHS, _MONTH_NAMES, strict=True)}
        self.macro_size = 0
        self.budget = len(text) + MAX_VALUE
        self.expanded = 0  # characters of every value read so far

    def define(self, macros: dict[str, str]) -> None:
        """Add ``@string`` macros, refusing them past MAX_VALUE characters in all."""
        size = self.macro_size + sum(len(v) for v in macros.values())
        if size > MAX_VALUE:
            raise _Broken(f"@string macros of more than {MAX_VALUE:,} characters in all")
        self.macros.update(macros)
        self.macro_size = size

    def braced(self, pos: int, closer: str) -> tuple[str, int]:
        """The text of a value opened by ``{`` or ``"`` just before ``pos``, and the position
        after its closing delimiter."""
        pattern, depth = (_QUOTED if closer == '"' else _BRACES), 0
        end = min(len(self.text), pos + MAX_VALUE + 1)
        for match in pattern.finditer(self.text, pos, end):
            char = match.group(0)
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    if closer == "}":
                        return self.text[pos : match.start()], match.end()
                    raise _Broken("unbalanced braces")
                depth -= 1
            elif char == '"':
                if depth == 0:
                    return self.text[pos : match.start()], match.end()
            else:
                raise _Broken("unbalanced braces (the next entry starts inside a value)")
        if end < len(self.text):
            raise _Broken(_TOO_LONG)
        raise _Broken("unbalanced braces (runs to the end of the file)")

    def value(self, pos: int) -> tuple[str, int]:
        """A field value: pieces joined by ``#``; macros expanded."""
        pieces: list[str] = []
        size = 0
        text = self.text
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            char = text[pos : pos + 1]
            if char in ("{", '"'):
                piece, pos = self.braced(pos + 1, "}" if char == "{" else '"')
            else:
                match = _BARE.match(text, pos)
                if match is None:
                    raise _Broken(f"expected a value at {text[pos : pos + 20]!r}")
                word, pos = match.group(1), match.end()
                piece = word if word.isdigit() else self.macros.get(word.lower(), word)
            pieces.append(piece)
            size += len(piece)
            if size > MAX_VALUE:
                raise _Broken(_TOO_LONG)
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if text[pos : pos + 1] != "#":
                return "".join(pieces), pos
            pos += 1

    def fields(self, pos: int, closer: str, *, entry: bool = True) -> tuple[dict[str, str], int]:
        fields: dict[str, str] = {}
        size = 0
        text = self.text
        while True:
            while pos < len(text) and (text[pos].isspace() or text[pos] == ","):
                pos += 1
            if text[pos : pos + 1] == closer:
                return fields, pos + 1
            match = _NAME.match(text, pos)
            if match is None:
                found = text[pos : pos + 20] or "the end of the file"
                raise _Broken(f"expected 'name = value' at {found!r}")
            value, pos = self.value(match.end())
            size += len(value)
            if size > MAX_VALUE:
                raise _Broken(_TOO_MUCH)
            self.expanded += len(value) if entry else 0  # macros have their own cap
            if self.expanded > self.budget:
                raise _TooMuch
            fields.setdefault(match.group(1).lower(), value)
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if text[pos : pos + 1] not in (",", closer):
                raise _Broken(
                    f"expected ',' or {closer!r} after field {match.group(1)!r} "
                    "(unbalanced braces or quotes?)"
                )

    def skip_block(self, pos: int, closer: str) -> int:
        if closer == "}":
            return self.braced(pos, "}")[1]
        end = self.text.find(")", pos)
        if end < 0:
            raise _Broken("unterminated @comment/@preamble")
        return end + 1


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8").lstrip("\ufeff"), False
    except UnicodeDecodeError:
        # Keep the bad bytes as surrogates so that only the entries holding them fail.
        return data.decode("utf-8", "surrogateescape").lstrip("\ufeff"), True


def parse_bibtex(data: bytes, *, document: str = "library") -> Iterator[ParseItem]:
    """Parse a BibTeX/BibLaTeX library. Yields a PaperRecord per entry (source "bibtex",
    source_key = the citation key) or a RecordError per unusable entry."""
    text, bad_bytes = _decode(data)
    scanner = _Scanner(text)
    pos, line, line_pos, entries = 0, 1, 0, 0
    while True:
        pos = text.find("@", pos)
        if pos < 0:
            break
        head = _HEAD.match(text, pos)
        if head is None:
            pos += 1
            continue
        line += text.count("\n", line_pos, pos)
        line_pos, start = pos, pos
        kind, closer = head.group(1).lower(), "}" if head.group(2) == "{" else ")"
        key = ""
        try:
            if kind in ("comment", "preamble"):
                pos = scanner.skip_block(head.end(), closer)
                continue
            if kind == "string":
                fields, pos = scanner.fields(head.end(), closer, entry=False)
                scanner.define(fields)
                continue
            entries += 1
            key_match = _KEY.match(text, head.end())
            assert key_match is not None  # the pattern matches the empty string
            key = key_match.group(1)
            if not key_match.group(2):
                raise _Broken("no ',' after the citation key")
            fields, pos = scanner.fields(key_match.end(), closer)
        except _TooMuch:
            yield RecordError(
                SOURCE,
                document,
                f"{document} {EXPANDS} {scanner.budget:,} characters of values (the same "
                f"@string macro in every entry?); stopped at line {line}",
            )
            return
        except _Broken as error:
            yield RecordError(
                SOURCE, key or f"{document}:{line}", f"{error} (entry at line {line})"
            )
            resume = _NEXT_AT.search(text, start + 1)
            pos = resume.end() if resume else len(text)
            continue
        raw = text[start:pos]
        if bad_bytes and _SURROGATE.search(raw):
            yield RecordError(
                SOURCE,
                key or f"{document}:{line}",
                f"entry at line {line} is not valid UTF-8 text; save the library as UTF-8",
            )
            continue
        yield _record(fields, key or f"{document}:{line}", raw)
    if entries == 0 and text.strip() and "@" not in text:
        yield RecordError(SOURCE, document, "no BibTeX entries found (is this a .bib file?)")


def _record(fields: dict[str, str], key: str, raw: str) -> ParseItem:
    get = fields.get
    arxiv_id: str | None = None
    categories = split_categories(get("primaryclass") or get("eprintclass"))
    eprint_type = (get("archiveprefix") or get("eprinttype") or "").strip().lower()
    eprint = (get("eprint") or "").strip()
    if eprint and eprint_type == "arxiv":
        arxiv_id = eprint  # declared arXiv: an invalid id is an error, not silently dropped
    elif eprint and not eprint_type and try_arxiv_id(eprint):
        arxiv_id = eprint
    url = (get("url") or "").strip() or None
    journal = get("journal") or get("journaltitle")
    if arxiv_id is None:
        for candidate in (url, journal, get("number"), get("howpublished"), get("note")):
            hint = arxiv_hint(candidate)
            if hint and try_arxiv_id(hint[0]):
                arxiv_id = hint[0]
                categories = categories or hint[1]
                break
    if arxiv_id is None and (journal or "").strip().lower() == "corr":
        volume = (get("volume") or "").strip()
        if volume.lower().startswith("abs/") and try_arxiv_id(volume[4:]):
            arxiv_id = volume[4:]
    if not categories and journal and (hint := arxiv_hint(journal)):
        categories = hint[1]
    is_arxiv_url = url is not None and try_arxiv_id(url) is not None
    year = get("year")
    date = full_date(get("date")) or _ymd(year, get("month"), get("day"))
    return build_record(
        source=SOURCE,
        source_key=key,
        title=latex_to_unicode(get("title") or ""),
        abstract=latex_to_unicode(get("abstract") or ""),
        authors=bib_authors(get("author") or ""),
        arxiv_id=arxiv_id,
        doi=get("doi"),
        categories=categories,
        submitted_at=date,
        journal_ref=journal_ref(
            latex_to_unicode(journal) if journal else None,
            get("volume"),
            latex_to_unicode(get("pages") or ""),
            year or (get("date") or "")[:4] or None,
        ),
        abs_url=None if is_arxiv_url else url,
        raw=raw,
    )
