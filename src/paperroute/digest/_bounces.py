"""Delivery status notifications (RFC 3464) and unsubscribe requests by mail.

A DSN is a ``multipart/report; report-type=delivery-status`` message whose
``message/delivery-status`` part holds one block per recipient: ``Final-Recipient:
rfc822; addr``, ``Action: failed|delayed|delivered|relayed|expanded`` and ``Status: X.Y.Z``.
Status 5.x.x with Action failed is a hard bounce, 4.x.x (or Action delayed) a soft one. An
address is suppressed when its bounces within ``digest_bounce_window_days`` reach
``digest_bounce_hard_limit`` (hard) or ``digest_bounce_soft_limit`` (soft).

A DSN only counts for a digest paperroute actually sent: the returned message's headers (the
``text/rfc822-headers`` or ``message/rfc822`` part, or the DSN's own ``In-Reply-To`` /
``References``) must carry the Message-ID of a digest in the send log (``digest_sends``,
status ``sent`` or ``committing``) whose recipient is the bounced address. Message-IDs carry
a tag derived from the site secret (``_render.message_id``), so a stranger cannot forge one.
A report that matches no sent digest changes nothing: it is logged and counted
(``BounceReport.unmatched``); otherwise anyone could suppress any address with a forged DSN.

A message whose subject is ``unsubscribe <token>`` (the mailto form of List-Unsubscribe)
unsubscribes the subscriber that token names. Anything else is reported as "not a DSN" and
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.policy import compat32
from pathlib import Path

from sqlalchemy import Connection, func, insert, select

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import InvalidInput
from ..site.addresses import InvalidAddress, normalise_email
from ..site.errors import BadLink
from ..store.schema_digests import bounces, digest_sends, subscribers
from ..store.session import Database
from ._subscriptions import from_unsubscribe_link, suppress, unsubscribe

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 5 * 1024 * 1024
MAX_RETURNED_IDS = 20
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})")


@dataclass(frozen=True, slots=True)
class Bounce:
    email: str
    kind: str  # hard | soft
    status: str
    detail: str
    original: str = ""  # the DSN's Original-Recipient, when it differs from Final-Recipient


@dataclass(slots=True)
class BounceReport:
    messages: int = 0
    bounces: list[Bounce] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    not_dsn: list[str] = field(default_factory=list)  # "where: why", one per message
    # "where: address: why" for each bounce that names no digest sent to that address
    unmatched: list[str] = field(default_factory=list)


def _text(value: object) -> str:
    return " ".join(str(value or "").split())


def _decoded(value: object) -> str:
    """A header value with RFC 2047 encoded words decoded (a long subject gets them)."""
    try:
        return _text(make_header(decode_header(str(value or ""))))
    except (ValueError, LookupError, UnicodeError):
        return _text(value)


def parse_dsn(message: Message) -> list[Bounce] | None:
    """The bounces a DSN reports; None when ``message`` is not a DSN. Delivered / relayed /
    expanded recipients are not bounces and are left out."""
    if message.get_content_type() != "multipart/report":
        return None
    report_type = message.get_param("report-type")
    if not isinstance(report_type, str) or report_type.lower() != "delivery-status":
        return None
    status_part = next(
        (
            part
            for part in message.walk()
            if part.get_content_type()
            in ("message/delivery-status", "message/global-delivery-status")
        ),
        None,
    )
    if status_part is None:
        return None
    payload = status_part.get_payload()
    blocks: list[Message] = []
    if isinstance(payload, list):
        blocks = [b for b in payload if isinstance(b, Message)]
    elif isinstance(payload, str):
        # Some generators put the fields in as text: split on blank lines and parse.
        for chunk in re.split(r"\r?\n\s*\r?\n", payload):
            if chunk.strip():
                blocks.append(message_from_bytes(chunk.encode("utf-8", "replace"), policy=compat32))
    found: list[Bounce] = []
    for block in blocks:
        final = _recipient(block.get("Final-Recipient"))
        original = _recipient(block.get("Original-Recipient"))
        if not (final or original):
            continue
        email = final or original
        action = _text(block.get("Action")).lower()
        status = _text(block.get("Status"))
        match = _STATUS.match(status)
        if action in ("delivered", "relayed", "expanded") or (match and match.group(1) == "2"):
            continue
        if match is None:
            kind = "hard" if action == "failed" else "soft"
        else:
            kind = "hard" if match.group(1) == "5" and action != "delayed" else "soft"
        detail = _text(block.get("Diagnostic-Code"))[:500] or f"Action: {action or '?'}"
        also = original if original != email else ""
        found.append(Bounce(email, kind, status[:16] or action[:16], detail, also))
    return found


def _recipient(value: object) -> str:
    """The normalised address of a ``Final-Recipient: rfc822; addr`` field ("" if none)."""
    if not value:
        return ""
    address = _text(value).partition(";")[2].strip() or _text(value)
    try:
        return normalise_email(address.strip("<>"))
    except InvalidAddress:
        return ""


def returned_message_ids(message: Message) -> list[str]:
    """The Message-IDs a DSN names for the message it returns: the returned headers' (a
    ``text/rfc822-headers`` or ``message/rfc822`` part) and the DSN's ``In-Reply-To`` and
    ``References``. At most ``MAX_RETURNED_IDS``."""
    found: list[str] = []
    values = [message.get("In-Reply-To"), message.get("References")]
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                values.append(inner.get("Message-ID"))
        elif kind == "text/rfc822-headers":
            text = part.get_payload(decode=True)
            if isinstance(text, bytes):
                headers = message_from_bytes(text, policy=compat32)
                values.append(headers.get("Message-ID"))
    for value in values:
        for match in _MESSAGE_ID.findall(str(value or "")):
            if match not in found:
                found.append(match)
    return found[:MAX_RETURNED_IDS]


def sent_to(connection: Connection, message_ids: list[str]) -> set[tuple[str, str]]:
    """(message id, address) of each digest in the send log with one of ``message_ids``
    that went out (``sent``, or ``committing``: the server may have taken it)."""
    if not message_ids:
        return set()
    rows = connection.execute(
        select(digest_sends.c.message_id, subscribers.c.email)
        .join(subscribers, subscribers.c.pk == digest_sends.c.subscriber_pk)
        .where(
            digest_sends.c.message_id.in_(message_ids),
            digest_sends.c.status.in_(("sent", "committing")),
        )
    ).all()
    return {(row.message_id, row.email) for row in rows}


def read_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, raw message) for each message of a Maildir, an mbox or a single message file.
    Raises InvalidInput when the path cannot be read."""
    if path.is_dir():
        if not all((path / sub).is_dir() for sub in ("cur", "new")):
            raise InvalidInput(f"{path} is a folder but not a Maildir (no cur/ and new/)")
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            with box.get_file(key) as handle:
                yield f"{path}/{key}", handle.read(MAX_MESSAGE_BYTES + 1)
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(5)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if head == b"From ":
        mbox = mailbox.mbox(path, factory=None, create=False)
        for index, key in enumerate(mbox.keys()):
            yield f"{path} message {index + 1}", mbox.get_bytes(key)
        return
    if path.stat().st_size > MAX_MESSAGE_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_MESSAGE_BYTES // 1048576} MB")
    yield str(path), path.read_bytes()


def record_bounce(
    connection: Connection, bounce: Bounce, source: str, received_at: dt.datetime
) -> None:
    """Store one bounce: the only writer of the ``bounces`` table (DSNs read here, and 5xx
    replies to RCPT during delivery)."""
    connection.execute(
        insert(bounces).values(
            email=bounce.email,
            kind=bounce.kind,
            status=bounce.status,
            detail=bounce.detail,
            source=source,
            received_at=received_at,
        )
    )


class BounceProcessor:
    def __init__(self, db: Database, config: Config, secret: str, clock: Clock = utcnow) -> None:
        self.db = db
        self.config = config
        self.secret = secret
        self.clock = clock

    def process(self, where: str, raw: bytes, source: str) -> BounceReport:
        """One message: a DSN (bounces recorded, thresholds applied), an unsubscribe
        request, or neither (reported in ``not_dsn``; nothing changes)."""
        report = BounceReport(messages=1)
        if len(raw) > MAX_MESSAGE_BYTES:
            report.not_dsn.append(f"{where}: larger than {MAX_MESSAGE_BYTES // 1048576} MB")
            return report
        try:
            message = message_from_bytes(raw, policy=compat32)
            found = parse_dsn(message)
        except (ValueError, TypeError, LookupError, IndexError) as exc:
            report.not_dsn.append(f"{where}: unreadable message ({exc.__class__.__name__})")
            return report
        if found is None:
            subject = _decoded(message.get("Subject"))
            if subject.lower().startswith("unsubscribe "):
                token = subject.split(" ", 1)[1].strip()
                try:
                    subscriber = from_unsubscribe_link(self.db, self.secret, token)
                except (BadLink, InvalidInput):
                    report.not_dsn.append(f"{where}: an unsubscribe request with an invalid token")
                    return report
                unsubscribe(self.db, subscriber.pk, "unsubscribe by mail", clock=self.clock)
                report.unsubscribed.append(subscriber.email)
                return report
            report.not_dsn.append(
                f"{where}: not a delivery status notification (RFC 3464: a multipart/report "
                "with report-type=delivery-status and a message/delivery-status part)"
            )
            return report
        if not found:
            report.not_dsn.append(f"{where}: a DSN without a failed or delayed recipient")
            return report
        now = self.clock()
        since = now - dt.timedelta(days=self.config.digest_bounce_window_days)
        message_ids = returned_message_ids(message)
        with self.db.write() as connection:
            mailed = {email for _, email in sent_to(connection, message_ids)}
            for bounce in found:
                if bounce.email not in mailed:
                    if bounce.original not in mailed:
                        why = (
                            "names no Message-ID of a digest sent to this address"
                            if message_ids
                            else "carries no Message-ID of the returned message"
                        )
                        report.unmatched.append(f"{where}: {bounce.email}: {why}")
                        log.warning("bounce for %s ignored (%s): %s", bounce.email, where, why)
                        continue
                    # Forwarded: the digest went to the original address; that one bounced.
                    bounce = Bounce(bounce.original, bounce.kind, bounce.status, bounce.detail)
                record_bounce(connection, bounce, source, now)
                counted = connection.scalar(
                    select(func.count()).where(
                        bounces.c.email == bounce.email,
                        bounces.c.kind == bounce.kind,
                        bounces.c.received_at >= since,
                    )
                )
                limit = (
                    self.config.digest_bounce_hard_limit
                    if bounce.kind == "hard"
                    else self.config.digest_bounce_soft_limit
                )
                if (counted or 0) >= limit:
                    suppress(
                        connection,
                        bounce.email,
                        "hard-bounce" if bounce.kind == "hard" else "soft-bounce",
                        f"{counted} {bounce.kind} bounce(s); last: {bounce.status} {bounce.detail}",
                        clock=self.clock,
                    )
                    report.suppressed.append(bounce.email)
                report.bounces.append(bounce)
        return report

    def process_path(self, path: Path) -> BounceReport:
        total = BounceReport()
        for where, raw in read_messages(path):
            one = self.process(where, raw, "file")
            total.messages += 1
            total.bounces += one.bounces
            total.suppressed += one.suppressed
            total.unsubscribed += one.unsubscribed
            total.not_dsn += one.not_dsn
            total.unmatched += one.unmatched
        return total
