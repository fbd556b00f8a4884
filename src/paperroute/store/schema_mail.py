"""The mail outbox: in demo mode (and ``smtp_url = "outbox"``) sent messages are kept here and
shown at /dev/outbox instead of leaving the machine."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, Table, Text

from .schema import metadata
from .types import UTCDateTime

outbox = Table(
    "outbox",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),  # the message as it would go over SMTP
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_outbox_recipient", "recipient", "pk"),
)
