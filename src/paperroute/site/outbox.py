"""The outbox: mail kept in the database instead of sent (demo mode, shown at /dev/outbox).
This module is the only code that reads or writes the ``outbox`` table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import Connection, insert, select

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import ConfigError, NotFound
from ..mail.headers import check_settings, envelope_sender
from ..mail.transport import OUTBOX, Mailer, SmtpMailer, smtp_settings
from ..store.schema_mail import outbox
from ..store.session import Database


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    pk: int
    recipient: str
    subject: str
    created_at: dt.datetime
    raw: bytes


def uses_outbox(config: Config) -> bool:
    """Mail goes to the outbox: ``smtp_url`` is ``outbox``, or unset in demo mode."""
    return config.smtp_url == OUTBOX or (not config.smtp_url and config.demo)


def put(
    connection: Connection,
    *,
    message_id: str,
    recipient: str,
    subject: str,
    raw: bytes,
    created_at: dt.datetime,
) -> None:
    """Keep one message, in the caller's transaction (a digest and its ``sent`` mark are
    one transaction)."""
    connection.execute(
        insert(outbox).values(
            message_id=message_id,
            recipient=recipient,
            subject=subject,
            raw=raw,
            created_at=created_at,
        )
    )


class OutboxMailer:
    """A :class:`~paperroute.mail.transport.Mailer` that keeps every message in the outbox."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    def send(self, message: EmailMessage) -> None:
        raw = message.as_bytes(policy=SMTP)
        with self.db.write() as connection:
            put(
                connection,
                message_id=str(message.get("Message-ID", "")),
                recipient=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                raw=raw,
                created_at=self.clock(),
            )


def open_mailer(config: Config, db: Database, clock: Clock = utcnow) -> Mailer:
    """The mailer the configuration asks for. Raises ConfigError when mail cannot be sent
    (also for a From, Reply-To, Sender or return path that is not an address)."""
    check_settings(config)
    if uses_outbox(config):
        return OutboxMailer(db, clock)
    if not config.smtp_url:
        raise ConfigError(
            "sending mail needs PAPERROUTE_SMTP_URL (smtp://host:port, smtps://..., or "
            "'outbox' to keep messages in the database)"
        )
    settings = smtp_settings(config)
    return SmtpMailer(settings, lambda recipient: envelope_sender(config, recipient))


def messages(db: Database, *, limit: int = 100) -> list[OutboxMessage]:
    """The latest messages first."""
    with db.read() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.pk.desc()).limit(limit))
        return [_message(row) for row in rows]


def message(db: Database, pk: int) -> OutboxMessage:
    """One message. Raises NotFound."""
    with db.read() as connection:
        row = connection.execute(select(outbox).where(outbox.c.pk == pk)).first()
    if row is None:
        raise NotFound(f"no message {pk}")
    return _message(row)


def _message(row: object) -> OutboxMessage:
    m = row._mapping  # type: ignore[attr-defined]
    return OutboxMessage(
        pk=int(m["pk"]),
        recipient=str(m["recipient"]),
        subject=str(m["subject"]),
        created_at=m["created_at"],
        raw=bytes(m["raw"]),
    )
