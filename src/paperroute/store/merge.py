"""How a record of a paper merges into what is already stored: pure functions, no I/O.

Rules (documented in docs/ingest.md):
- arXiv's own metadata (OAI-PMH, the API, the announcement feeds, JSON Lines dumps of arXiv)
  is authoritative: a record of the same or a newer version replaces title, abstract,
  authors, categories, comments, journal-ref and license.
- any source's record of a strictly newer version replaces them too;
- otherwise a record only fills fields that are still empty;
- Hugging Face's curated code repository, stars and project page replace extracted ones;
  the latest star count wins;
- the version is the highest seen, submitted the earliest, updated the latest, announced
  the earliest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from ..ids import canonical_id, title_hash
from ..model import DailyEntry, PaperRecord

AUTHORITATIVE = frozenset({"arxiv-oai", "arxiv-api", "arxiv-rss", "jsonl"})
CURATED_LINKS = frozenset({"hf-daily"})
_TEXT_FIELDS = ("abstract", "comments", "journal_ref", "license")


@dataclass(slots=True)
class PaperState:
    """A paper's stored fields while a batch is merged."""

    id: str
    title: str
    title_hash: int = 0
    abstract: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    arxiv_id: str | None = None
    version: int | None = None
    doi: str | None = None
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
    pk: int | None = None
    daily: dict[tuple[dt.date, str], DailyEntry] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The values of the papers table's merged columns."""
        return {
            "id": self.id,
            "arxiv_id": self.arxiv_id,
            "doi": self.doi,
            "version": self.version,
            "title": self.title,
            "title_hash": self.title_hash,
            "abstract": self.abstract,
            "authors_text": ", ".join(self.authors),
            "categories": " ".join(self.categories),
            "primary_category": self.categories[0] if self.categories else None,
            "comments": self.comments,
            "journal_ref": self.journal_ref,
            "license": self.license,
            "submitted_at": self.submitted_at,
            "updated_at": self.updated_at,
            "announced_on": self.announced_on,
            "abs_url": self.abs_url,
            "pdf_url": self.pdf_url,
            "code_url": self.code_url,
            "code_stars": self.code_stars,
            "project_url": self.project_url,
        }

    def copy(self) -> PaperState:
        return replace(self, daily=dict(self.daily))


def fold_name(name: str) -> str:
    """An author's name as the authors table keys it: case and spacing folded."""
    return " ".join(name.casefold().split())[:300]


def _folded(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fold_name(name) for name in names)


def _earliest(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None or a <= b else b


def _latest(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None or a >= b else b


def new_state(record: PaperRecord) -> PaperState:
    first_author = record.authors[0] if record.authors else None
    state = PaperState(
        id=canonical_id(record.arxiv_id, record.doi, record.title, first_author),
        title=record.title,
        title_hash=record.title_hash or title_hash(record.title),
    )
    merge_into(state, record)
    return state


def merge_into(state: PaperState, record: PaperRecord) -> None:
    """Merge ``record`` into ``state`` in place, by the rules of this module's docstring."""
    old_version = state.version or 0
    new_version = record.version or 0
    replaces = new_version > old_version or (
        record.source in AUTHORITATIVE and new_version >= old_version
    )
    for name in _TEXT_FIELDS:
        value = getattr(record, name)
        if value and (replaces or not getattr(state, name)):
            setattr(state, name, value)
    if replaces and record.title != state.title:
        state.title = record.title
        state.title_hash = record.title_hash or title_hash(record.title)
    # The authors table keeps one spelling per folded name: a list that differs only in case
    # or spacing is the same list, and must not count as a change.
    if record.authors and (
        not state.authors or (replaces and _folded(record.authors) != _folded(state.authors))
    ):
        state.authors = record.authors
    if record.categories and (replaces or not state.categories):
        state.categories = record.categories

    if record.arxiv_id and not state.arxiv_id:
        state.arxiv_id = record.arxiv_id
        state.id = record.arxiv_id
    if record.doi and not state.doi:
        state.doi = record.doi
        if state.id.startswith("hash:"):
            state.id = f"doi:{record.doi}"
    if record.version is not None:
        state.version = max(record.version, state.version or 0)
    state.submitted_at = _earliest(state.submitted_at, record.submitted_at)
    state.updated_at = _latest(state.updated_at, record.updated_at)
    state.announced_on = _earliest(state.announced_on, record.announced_on)
    state.abs_url = state.abs_url or record.abs_url
    state.pdf_url = state.pdf_url or record.pdf_url

    curated = record.source in CURATED_LINKS
    if record.code_url and (curated or not state.code_url):
        state.code_url = record.code_url
    if record.project_url and (curated or not state.project_url):
        state.project_url = record.project_url
    if record.code_stars is not None:
        state.code_stars = record.code_stars

    for entry in record.daily:
        state.daily[(entry.day, entry.source)] = entry
