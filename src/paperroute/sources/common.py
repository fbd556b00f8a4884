"""Validation and normalisation every parser shares."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from ..ids import arxiv_id_from_doi, title_hash, try_arxiv_id, try_doi
from ..links import extract_code_url, extract_project_url
from ..model import DailyEntry, PaperRecord, RecordError

MAX_TITLE = 2_000
MAX_ABSTRACT = 20_000  # arXiv caps abstracts at 1,920 characters; 10x leaves room for others
MAX_AUTHORS = 5_000  # large collaborations list ~3,000
MAX_AUTHOR_NAME = 300
MAX_FIELD = 5_000  # comments, journal-ref, license, URLs
MAX_CATEGORIES = 50
MAX_COUNT = 2**31 - 1  # upvotes, stars: PostgreSQL integer columns
MAX_CATEGORY = 40  # the longest arXiv category is 17 characters; the column holds 40

_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z\-]*(?:\.[A-Za-z\-]+)?$")
_GLUED_AND = re.compile(r"(?<=[a-z])and\s+(?=[A-Z])|\s+and\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def squash(text: str | None) -> str:
    """Collapse runs of whitespace (arXiv wraps titles and abstracts at 80 columns)."""
    if not text:
        return ""
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


@functools.lru_cache(maxsize=4096)
def _valid_category(text: str) -> bool:
    return _CATEGORY.match(text) is not None


def fingerprint(raw: bytes | str) -> str:
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_datetime(value: Any) -> dt.datetime | None:
    """ISO 8601 / RFC 3339 (``Z`` allowed) or a date, to an aware UTC datetime; None if blank
    or unreadable."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not value or not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _optional(value: Any, name: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    text = squash(value)
    if len(text) > MAX_FIELD:
        problems.append(f"{name} too long ({len(text):,} characters)")
        return None
    return text or None


def build_record(
    *,
    source: str,
    source_key: str,
    title: Any,
    abstract: Any = "",
    authors: Iterable[Any] = (),
    arxiv_id: Any = None,
    version: Any = None,
    doi: Any = None,
    categories: Iterable[Any] = (),
    submitted_at: dt.datetime | None = None,
    updated_at: dt.datetime | None = None,
    announced_on: dt.date | None = None,
    comments: Any = None,
    journal_ref: Any = None,
    license: Any = None,
    abs_url: Any = None,
    pdf_url: Any = None,
    code_url: Any = None,
    code_stars: Any = None,
    project_url: Any = None,
    daily: Iterable[DailyEntry] = (),
    raw: bytes | str | None = None,
) -> PaperRecord | RecordError:
    """Validate and normalise one record. Returns a RecordError (never raises) when the
    record cannot be stored: no title, a field far too large, an invalid arXiv id."""

    def fail(reason: str) -> RecordError:
        return RecordError(source, source_key, reason)

    if not isinstance(title, str) or not squash(title):
        return fail("missing title")
    clean_title = squash(title)
    if len(clean_title) > MAX_TITLE:
        return fail(f"title too long ({len(clean_title):,} characters, limit {MAX_TITLE:,})")
    if abstract is None:
        abstract = ""
    if not isinstance(abstract, str):
        return fail("abstract is not text")
    clean_abstract = squash(abstract)
    if len(clean_abstract) > MAX_ABSTRACT:
        return fail(
            f"abstract too long ({len(clean_abstract):,} characters, limit {MAX_ABSTRACT:,})"
        )

    if isinstance(authors, str | bytes) or not isinstance(authors, Iterable):
        return fail(f"authors must be a list, not {type(authors).__name__}")
    if isinstance(categories, str):
        categories = categories.split()
    elif isinstance(categories, bytes) or not isinstance(categories, Iterable):
        return fail(f"categories must be a list, not {type(categories).__name__}")
    problems: list[str] = []
    names: list[str] = []
    for author in authors:
        name = squash(author if isinstance(author, str) else str(author))
        if not name:
            continue
        if len(name) > MAX_AUTHOR_NAME:
            # Scrapers glue lists into one name ("A Kongand B Xingand C Wang"): split them.
            parts = [p.strip() for p in _GLUED_AND.split(name) if p.strip()]
            if len(parts) > 1 and all(len(p) <= MAX_AUTHOR_NAME for p in parts):
                problems.append(f"split an author name glued from {len(parts)} names")
                names.extend(parts)
            else:
                problems.append(f"dropped an author name of {len(name):,} characters")
            continue
        names.append(name)
    if len(names) > MAX_AUTHORS:
        return fail(f"too many authors ({len(names):,}, limit {MAX_AUTHORS:,})")

    clean_doi: str | None = None
    if doi:
        clean_doi = try_doi(str(doi))
        if clean_doi is None:
            problems.append(f"ignored invalid DOI {str(doi)[:60]!r}")

    parsed_id = None
    parsed_version: int | None = None
    if arxiv_id:
        parsed = try_arxiv_id(str(arxiv_id))
        if parsed is None:
            return fail(f"invalid arXiv id {str(arxiv_id)[:60]!r}")
        parsed_id, parsed_version = parsed.id, parsed.version
    elif clean_doi:
        from_doi = arxiv_id_from_doi(clean_doi)
        if from_doi is not None:
            parsed_id, parsed_version = from_doi.id, from_doi.version
    if version is not None:
        try:
            parsed_version = int(str(version).lstrip("v"))
        except ValueError:
            problems.append(f"ignored invalid version {str(version)[:20]!r}")
    if parsed_version is not None and not 1 <= parsed_version <= 1000:
        parsed_version = None

    cats: list[str] = []
    for category in categories:
        text = category.strip() if isinstance(category, str) else str(category)
        if text and len(text) <= MAX_CATEGORY and text not in cats and _valid_category(text):
            cats.append(text)
    if len(cats) > MAX_CATEGORIES:
        cats = cats[:MAX_CATEGORIES]

    clean_comments = _optional(comments, "comments", problems)
    stars: int | None = None
    if code_stars is not None:
        try:
            stars = min(max(0, int(code_stars)), MAX_COUNT)
        except (TypeError, ValueError):
            problems.append("ignored invalid code stars")
    clean_code = _optional(code_url, "code URL", problems)
    clean_project = _optional(project_url, "project URL", problems)
    if clean_code is None:
        clean_code = extract_code_url(clean_abstract, clean_comments)
    if clean_project is None:
        clean_project = extract_project_url(clean_abstract, clean_comments)
    clean_abs = _optional(abs_url, "abs URL", problems)
    clean_pdf = _optional(pdf_url, "PDF URL", problems)
    if parsed_id:
        clean_abs = clean_abs or f"https://arxiv.org/abs/{parsed_id}"
        clean_pdf = clean_pdf or f"https://arxiv.org/pdf/{parsed_id}"

    texts = [clean_title, clean_abstract, clean_comments or "", *names]
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        # JSON can spell lone surrogates ("\ud800"); no database stores them.
        return fail("text is not valid Unicode (a lone surrogate code point)")

    return PaperRecord(
        source=source,
        source_key=source_key,
        title=clean_title,
        abstract=clean_abstract,
        authors=tuple(names),
        arxiv_id=parsed_id,
        version=parsed_version,
        doi=clean_doi,
        categories=tuple(cats),
        submitted_at=submitted_at,
        updated_at=updated_at,
        announced_on=announced_on,
        comments=clean_comments,
        journal_ref=_optional(journal_ref, "journal-ref", problems),
        license=_optional(license, "license", problems),
        abs_url=clean_abs,
        pdf_url=clean_pdf,
        code_url=clean_code,
        code_stars=stars,
        project_url=clean_project,
        daily=tuple(daily),
        record_hash=fingerprint(raw) if raw is not None else None,
        title_hash=title_hash(clean_title),
        warnings=tuple(problems),
    )
