"""Tables of the community: readers, sign-in links, votes, comments, collections, moderation,
the audit log and personal API tokens (migration 0004)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .schema import metadata
from .types import UTCDateTime

TZ = UTCDateTime()

users = Table(
    "users",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # lower-cased
    # Shown on comments and collections: "reader-<pk>" until the reader chooses one on /me
    # (migration 0010; before, the address's local part was shown).
    Column("display_name", String(80), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("banned_at", TZ),
    Column("created_at", TZ, nullable=False),
    Column("last_seen_at", TZ),
    # The name folded for comparison (community/_names.py), unique: two readers cannot
    # share a name. Always set; nullable only because SQLite adds a NOT NULL column by
    # rebuilding the table, which would cascade-delete every reader's votes and comments.
    Column("display_key", String(80)),
    Column("name_chosen_at", TZ),
    Index("ix_users_display_key", "display_key", unique=True),
)

# Single-use, expiring sign-in links: only a hash of the token is stored.
login_tokens = Table(
    "login_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("email", String(320), nullable=False, index=True),
    Column("created_at", TZ, nullable=False),
    Column("expires_at", TZ, nullable=False),
    Column("used_at", TZ),
)

votes = Table(
    "votes",
    metadata,
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("created_at", TZ, nullable=False),
    PrimaryKeyConstraint("paper_pk", "user_pk"),
    Index("ix_votes_user", "user_pk"),
    Index("ix_votes_created", "created_at"),
)

comments = Table(
    "comments",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("body", Text, nullable=False),  # Markdown as written
    Column("body_html", Text, nullable=False),  # rendered and sanitised once, on write
    Column("created_at", TZ, nullable=False),
    Column("hidden_at", TZ),
    Column("edited_at", TZ),  # the last edit by its author
    Index("ix_comments_paper", "paper_pk", "created_at"),
)

comment_reports = Table(
    "comment_reports",
    metadata,
    Column("comment_pk", Integer, ForeignKey("comments.pk", ondelete="CASCADE"), nullable=False),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", TZ, nullable=False),
    PrimaryKeyConstraint("comment_pk", "user_pk"),
    Index("ix_comment_reports_created", "created_at"),
)

collections = Table(
    "collections",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("owner_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("slug", String(80), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("public", Boolean, nullable=False, default=False),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    UniqueConstraint("owner_pk", "slug", name="uq_collections_owner_slug"),
)

collection_papers = Table(
    "collection_papers",
    metadata,
    Column(
        "collection_pk",
        Integer,
        ForeignKey("collections.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("added_at", TZ, nullable=False),
    PrimaryKeyConstraint("collection_pk", "paper_pk"),
    Index("ix_collection_papers_paper", "paper_pk"),
)

# A paper hidden by a moderator disappears from every list, feed and search result.
hidden_papers = Table(
    "hidden_papers",
    metadata,
    Column(
        "paper_pk",
        Integer,
        ForeignKey("papers.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("hidden_by", Integer, ForeignKey("users.pk", ondelete="SET NULL")),
    Column("reason", Text, nullable=False, default=""),
    Column("hidden_at", TZ, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("at", TZ, nullable=False),
    Column("actor_pk", Integer, ForeignKey("users.pk", ondelete="SET NULL")),
    Column("action", String(40), nullable=False),
    Column("target", Text, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_audit_log_at", "at"),
)

# Personal API tokens for writes through /api/v1: only a hash is stored.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(80), nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("last_used_at", TZ),
    Column("revoked_at", TZ),
)

# Fixed-window counters for rate limits (sign-in, submission, subscribe), shared by workers.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(200), nullable=False),
    Column("window_start", Integer, nullable=False),  # epoch seconds of the window
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("key", "window_start"),
)

# Values the hub generates once and every worker shares: the demo mode's throwaway secret key.
site_secrets = Table(
    "site_secrets",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", TZ, nullable=False),
)

# Signed-in sessions: the cookie holds a random nonce (signed); only its hash is kept here, so
# signing out (or a ban) ends a session on the server, not only in the browser.
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("created_at", TZ, nullable=False),
    Index("ix_user_sessions_user", "user_pk"),
)
