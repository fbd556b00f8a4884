"""Plain types shared by sources, store, hub and interfaces. No behaviour beyond small helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any, Literal, final

# How a paper appeared in a day's listing. arXiv announcement types, plus "listed" for a
# listing whose type is unknown and "submitted" for a Hugging Face daily submission.
EntryKind = Literal["new", "cross", "replace", "replace-cross", "listed", "submitted"]


@final
@dataclass(frozen=True, slots=True)
class DailyEntry:
    """A paper listed on a given day by a source (arXiv announcement, HF daily papers)."""

    day: dt.date
    source: str  # "arxiv" or "hf"
    kind: EntryKind = "listed"
    submitter: str | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    submitted_at: dt.datetime | None = None  # UTC
    ai_keywords: tuple[str, ...] = ()
    ai_summary: str | None = None  # Hugging Face's machine-written one-sentence summary

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(getattr(self, name) for name in _ENTRY_FIELDS))


_ENTRY_FIELDS = tuple(f.name for f in fields(DailyEntry))


@final
@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One paper as one source describes it: what every parser yields.

    Parsers fill what their source knows and leave the rest empty; the hub merges records of
    the same paper (by arXiv id, then DOI) into one stored paper. Datetimes are UTC-aware.
    ``source_key`` names the record inside its source (OAI identifier, line number, BibTeX
    key...) so that errors and provenance can point at it; ``record_hash`` fingerprints the
    raw record so that re-importing an unchanged record costs almost nothing.
    """

    source: str  # arxiv-oai, arxiv-api, arxiv-rss, hf-daily, jsonl, bibtex, zotero or page
    source_key: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    arxiv_id: str | None = None  # versionless
    version: int | None = None
    doi: str | None = None  # normalised, lower-case
    categories: tuple[str, ...] = ()  # primary first
    submitted_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    announced_on: dt.date | None = None
    comments: str | None = None
    journal_ref: str | None = None
    license: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    code_stars: int | None = None
    project_url: str | None = None
    daily: tuple[DailyEntry, ...] = ()
    record_hash: str | None = None
    title_hash: int = 0  # ids.title_hash(title), computed once where the record is parsed
    warnings: tuple[str, ...] = ()  # what validation repaired or dropped; the record is usable

    def __reduce__(self) -> tuple[Any, ...]:
        # By position: loads ~3x faster than the generic dataclass state, and bulk imports
        # send every record from the parser process to the writer.
        return (type(self), tuple(getattr(self, name) for name in _RECORD_FIELDS))


_RECORD_FIELDS = tuple(f.name for f in fields(PaperRecord))


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record (or a whole response) a parser could not use, and why. Yielded, not raised,
    so that one bad record never stops the rest of a batch."""

    source: str
    source_key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source} {self.source_key}: {self.reason}"


ParseItem = PaperRecord | RecordError
MAX_NOTICES = 200


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str
    source_key: str
    fetched_at: dt.datetime
    record_hash: str | None


@dataclass(frozen=True, slots=True)
class Paper:
    """A stored paper, merged from every record of it."""

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    arxiv_id: str | None
    version: int | None
    doi: str | None
    submitted_at: dt.datetime | None
    updated_at: dt.datetime | None
    announced_on: dt.date | None
    comments: str | None
    journal_ref: str | None
    license: str | None
    abs_url: str | None
    pdf_url: str | None
    code_url: str | None
    code_stars: int | None
    project_url: str | None
    daily: tuple[DailyEntry, ...] = ()
    provenance: tuple[Provenance, ...] = ()


@dataclass(slots=True)
class IngestReport:
    """What an import did: counts, and one line per skipped record with its reason."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RecordError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    warnings: int = 0

    def warn(self, message: str) -> None:
        """A record was stored after a repair; the first MAX_NOTICES are kept verbatim."""
        self.warnings += 1
        if self.warnings <= MAX_NOTICES:
            self.notices.append(f"warning: {message}")

    @property
    def failed(self) -> bool:
        return bool(self.skipped)

    def merge(self, other: IngestReport) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped.extend(other.skipped)
        self.notices.extend(other.notices)
        self.warnings += other.warnings


@final
@dataclass(frozen=True, slots=True)
class Check:
    """One readiness check's answer (``/readyz``): whether the part works, and a short word
    on it for an operator. ``detail`` never holds a secret, a URL or a password."""

    ok: bool
    detail: str
