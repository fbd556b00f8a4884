"""Tables of the digests domain (migration 0005): subscribers, the suppression list, bounces,
digest runs, the per-recipient send log and the papers each subscriber has received.

The send log is what makes delivery resumable: one row per (run, subscriber) holding the
papers chosen for that digest, so that a run killed at any moment is finished by the next
``paperroute digest send`` with the very same messages (see docs/digests.md).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from .schema import metadata
from .types import UTCDateTime

TZ = UTCDateTime()

subscribers = Table(
    "subscribers",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised (digest/address.py)
    Column("status", String(16), nullable=False),  # pending | confirmed | unsubscribed
    Column("frequency", String(16), nullable=False),  # weekdays | daily | weekly
    Column("weekday", SmallInteger, nullable=False),  # 0 = Monday; used by weekly
    Column("send_hour", SmallInteger, nullable=False),  # 0-23, local time
    Column("timezone", String(64), nullable=False),  # IANA name
    Column("trending", Boolean, nullable=False),
    Column("categories", Text, nullable=False),  # JSON list
    Column("keywords", Text, nullable=False),  # JSON list of queries
    Column("authors", Text, nullable=False),  # JSON list
    Column("max_papers", SmallInteger, nullable=False),
    # Bumped on unsubscribe and on every new confirmation: older confirmation links die.
    Column("token_version", Integer, nullable=False),
    # The last listing day a sent digest covered: the next one starts after it.
    Column("through_day", Date),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    Column("confirmed_at", TZ),
    Column("for_you", Boolean, nullable=False, server_default=false()),  # the For-you section
    Column("seed_ids", Text, nullable=False, server_default="[]"),  # JSON list, no account
    Index("ix_subscribers_status", "status"),
)

# An address here gets nothing; why decides whether a new confirmed subscribe lifts it.
suppressions = Table(
    "suppressions",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("reason", String(16), nullable=False),  # unsubscribed | soft-bounce | hard-bounce...
    Column("detail", Text, nullable=False),
    Column("created_at", TZ, nullable=False),
)

bounces = Table(
    "bounces",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("kind", String(8), nullable=False),  # soft | hard
    Column("status", String(16), nullable=False),  # the DSN's Status (5.1.1) or SMTP code
    Column("detail", Text, nullable=False),
    Column("source", String(16), nullable=False),  # smtp | file | webhook
    Column("received_at", TZ, nullable=False),
    Index("ix_bounces_email", "email", "received_at"),
)

digest_runs = Table(
    "digest_runs",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("started_at", TZ, nullable=False),
    Column("as_of", TZ, nullable=False),  # the clock the run was planned with
    Column("ref_day", Date),  # the newest listing day its digests cover
    Column("finished_at", TZ),
)

# One row per (run, subscriber): pending -> committing -> sent, or failed / deferred.
digest_sends = Table(
    "digest_sends",
    metadata,
    Column("run_pk", Integer, ForeignKey("digest_runs.pk", ondelete="CASCADE"), nullable=False),
    Column(
        "subscriber_pk", Integer, ForeignKey("subscribers.pk", ondelete="CASCADE"), nullable=False
    ),
    Column("period", String(24), nullable=False),  # which slot of the subscriber's schedule
    Column("status", String(12), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("papers", Text, nullable=False),  # JSON [[paper_pk, reason], ...] in digest order
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("updated_at", TZ, nullable=False),
    PrimaryKeyConstraint("run_pk", "subscriber_pk"),
    # At most one digest per subscriber and slot, whatever runs overlap.
    UniqueConstraint("subscriber_pk", "period", name="uq_digest_sends_period"),
    Index("ix_digest_sends_status", "run_pk", "status"),
    # Bounces are matched to the digest they return by its Message-ID (migration 0007).
    Index("ix_digest_sends_message_id", "message_id"),
)

digest_received = Table(
    "digest_received",
    metadata,
    Column(
        "subscriber_pk", Integer, ForeignKey("subscribers.pk", ondelete="CASCADE"), nullable=False
    ),
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("run_pk", Integer, nullable=False),
    PrimaryKeyConstraint("subscriber_pk", "paper_pk"),
    Index("ix_digest_received_paper", "paper_pk"),
)

# One sender at a time: `digest send` holds this lease while it plans and delivers, renewing
# it; a holder that died (kill -9) is recognised by its host and pid and taken over at once.
digest_lease = Table(
    "digest_lease",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(200), nullable=False),  # host:pid:random
    Column("expires_at", TZ, nullable=False),
)
