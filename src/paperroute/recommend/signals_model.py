"""The plain types of a reader's private signals (see ``recommend/signals.py``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

FeedbackKind = Literal["more", "less"]
FollowKind = Literal["author", "category"]


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """ "More like this" (``more``) or "not interested" (``less``) on one paper."""

    paper_pk: int
    paper_id: str
    title: str
    kind: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class FollowItem:
    kind: str  # author | category
    value: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A library entry as stored: the paper it names, when the hub has it, and the file's
    own metadata either way."""

    paper_pk: int | None
    ref: str | None
    title: str
    authors: tuple[str, ...]
    year: int | None
    abstract: str


@dataclass(frozen=True, slots=True)
class LibraryItem:
    pk: int
    title: str
    authors: tuple[str, ...]
    year: int | None
    abstract: str
    ref: str | None
    paper_id: str | None  # None: not in this hub, kept from the file
    added_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LibraryReport:
    """What an upload did: entries stored (``matched`` of them papers of this hub) and every
    entry skipped, each with where it was and why."""

    format: str
    stored: int
    matched: int
    skipped: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SignalsView:
    """Everything a reader's For-you uses, for /me and the export."""

    feedback: list[FeedbackItem]
    follows: list[FollowItem]
    library: list[LibraryItem]
    library_total: int
    library_name: str | None
    library_at: dt.datetime | None
    days: int
    upvoted: list[str] = field(default_factory=list)
    library_matched: int = 0  # entries that are papers of this hub
