"""Tables of a reader's private signals for "For you" (migration 0012): feedback on papers
("more like this" / "not interested"), followed authors and categories, the imported
library and the reader's For-you settings. Every row belongs to one account and goes with
it (ON DELETE CASCADE); nothing here is ever shown to anyone but its owner."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)

from .schema import metadata
from .types import UTCDateTime

TZ = UTCDateTime()

# One opinion per reader and paper: kind is "more" (more like this) or "less" (not
# interested); giving the other one replaces it.
reader_feedback = Table(
    "reader_feedback",
    metadata,
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("created_at", TZ, nullable=False),
    PrimaryKeyConstraint("user_pk", "paper_pk"),
)

# kind is "author" (value: the name as the author page spells it) or "category" (cs.CL).
reader_follows = Table(
    "reader_follows",
    metadata,
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("value", String(200), nullable=False),
    Column("created_at", TZ, nullable=False),
    PrimaryKeyConstraint("user_pk", "kind", "value"),
)

# The reader's imported library, replaced whole by each upload. An entry that names a
# stored paper points at it (paper_pk); one that does not keeps the file's own metadata,
# privately: it is never written into the public papers table.
library_entries = Table(
    "library_entries",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # order in the file
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="SET NULL")),
    Column("ref", String(400)),  # the id the file gave (arXiv id, DOI), if any
    Column("title", Text, nullable=False),
    Column("authors", Text, nullable=False),  # JSON list
    Column("year", SmallInteger),
    Column("abstract", Text, nullable=False),
    Column("added_at", TZ, nullable=False),
    Index("ix_library_entries_user", "user_pk", "position"),
)

# Per reader: how many days back /for-you looks, and where the library came from.
reader_settings = Table(
    "reader_settings",
    metadata,
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), primary_key=True),
    Column("for_you_days", SmallInteger, nullable=False),
    Column("library_name", String(200)),
    Column("library_at", TZ),
)
