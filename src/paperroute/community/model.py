"""Plain types of the community: readers, comments, collections, API tokens, audit entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class User:
    pk: int
    email: str
    display_name: str
    is_admin: bool
    banned_at: dt.datetime | None
    created_at: dt.datetime
    name_chosen: bool = False  # False: still the neutral default "reader-<pk>"

    @property
    def banned(self) -> bool:
        return self.banned_at is not None


@dataclass(frozen=True, slots=True)
class VoteState:
    """A paper's upvotes (readers' votes plus those it had on Hugging Face) and whether the
    reader asking has voted."""

    paper_pk: int
    count: int
    voted: bool


@dataclass(frozen=True, slots=True)
class Comment:
    pk: int
    paper_pk: int
    paper_id: str
    user_pk: int
    author: str
    body: str
    body_html: str  # sanitised: safe to insert as HTML
    created_at: dt.datetime
    hidden_at: dt.datetime | None
    edited_at: dt.datetime | None = None
    paper_title: str = ""


@dataclass(frozen=True, slots=True)
class ReportedComment:
    """A comment readers reported, for the admins' page."""

    comment: Comment
    reports: int
    reason: str  # the latest


@dataclass(frozen=True, slots=True)
class Collection:
    pk: int
    owner_pk: int
    owner_name: str
    slug: str
    title: str
    description: str
    public: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    paper_count: int = 0


@dataclass(frozen=True, slots=True)
class ApiToken:
    pk: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    pk: int
    at: dt.datetime
    actor: str | None
    action: str
    target: str
    detail: str


@dataclass(frozen=True, slots=True)
class Submission:
    """The outcome of submitting a paper: its id, and whether it was new to the hub."""

    paper_id: str
    created: bool
