"""Delivering a planned run: a pool of SMTP connections (threads), a shared rate limit,
retries with back-off, and the send log written around each message.

The send log protocol, per (run, subscriber) row:

1. ``pending``: planned, nothing sent.
2. MAIL, RCPT, DATA and the content go out; then ``committing`` is committed; then the
   final dot is written. A crash before this commit leaves ``pending``: the server never
   got the dot and discarded the message, so resending is safe.
3. After the server's 250 reply, ``sent`` is committed together with the papers the
   subscriber has now received and the last day their digest covered.

A row found in ``committing`` on resume is the one case no SMTP client can settle: the dot
may have reached the server just before the crash (or the connection broke while waiting
for the reply; RFC 1047). Such a row is sent again, byte for byte the same message with the
same Message-ID: at least once, never a different digest, and only for the messages that
were in flight (at most one per connection). See docs/digests.md for why, and for the
outbox, where the message and the ``sent`` mark are one transaction and there is no doubt.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import ConfigError
from ..mail.headers import VERP_MARK, check_settings, envelope_sender
from ..mail.transport import MailError, SmtpSettings, smtp_settings
from ..reading import Card
from ..reading.sql import load_cards
from ..site import outbox
from ..store.schema_digests import (
    digest_received,
    digest_runs,
    digest_sends,
    subscribers,
    suppressions,
)
from ..store.session import Database
from ._bounces import Bounce, record_bounce
from ._render import Renderer
from ._smtp_session import Dropped, Rejected, SmtpSession
from ._subscriptions import suppress, to_subscriber
from .model import Pick, Subscriber, picks_from_json

log = logging.getLogger(__name__)
OPEN = ("pending", "committing", "deferred")
GIVE_UP_AFTER = dt.timedelta(days=1)  # a deferred digest older than this is marked failed


@dataclass(slots=True)
class Report:
    """What a delivery did (counts over every run it worked on)."""

    sent: int = 0
    retried: int = 0  # temporary failures (4xx, dropped connections) that were retried
    resent_in_doubt: int = 0  # rows found 'committing' (a crash between dot and 'sent')
    suppressed: int = 0  # 5xx on the recipient: address suppressed
    failed: int = 0  # permanent failures (5xx) and given-up digests
    deferred: int = 0  # still failing after every try: left for the next run
    cancelled: int = 0  # unsubscribed or suppressed after the run was planned
    errors: list[str] = field(default_factory=list)
    # Why the run stopped before its end (TLS refused, login refused): every message would
    # fail alike, so the rest stay pending for the next run, none marked sent.
    stopped: str | None = None

    def merge(self, other: Report) -> None:
        for name in ("sent", "retried", "resent_in_doubt", "suppressed", "failed", "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cancelled += other.cancelled
        self.errors.extend(other.errors[:20])
        self.stopped = self.stopped or other.stopped


class RateLimiter:
    """At most ``rate`` acquisitions per second over all threads (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class _Stop(Exception):
    """A MailError that every message would meet (``MailError.stops_run``)."""


@dataclass(slots=True)
class _Item:
    subscriber: Subscriber
    status: str
    message_id: str
    period: str
    picks: list[Pick]
    attempts: int


class _Statements:
    """The send log's per-message statements, built once per delivery."""

    def __init__(self) -> None:
        row = (digest_sends.c.run_pk == bindparam("run")) & (
            digest_sends.c.subscriber_pk == bindparam("sub")
        )
        self.committing = (
            update(digest_sends)
            .where(row)
            .values(
                status="committing",
                attempts=digest_sends.c.attempts + 1,
                updated_at=bindparam("now"),
            )
        )
        self.sent = (
            update(digest_sends)
            .where(row)
            .values(status="sent", last_error=None, updated_at=bindparam("now"))
        )
        self.received_sqlite = sqlite.insert(digest_received).on_conflict_do_nothing()
        self.received_postgresql = postgresql.insert(digest_received).on_conflict_do_nothing()
        day: BindParameter[dt.date] = bindparam("day")
        self.through = (
            update(subscribers)
            .where(subscribers.c.pk == bindparam("sub"))
            .where(subscribers.c.through_day.is_(None) | (subscribers.c.through_day < day))
            .values(through_day=day)
        )


class _WorkerLog:
    """One worker's writes to the send log. A digest's ``sent`` mark is committed with the
    next write of the same worker (usually the next digest's ``committing`` mark): one
    transaction per message instead of two. A connection still has at most one row that
    may be in doubt after a crash: the last one whose dot was written (docs/digests.md)."""

    def __init__(self, delivery: Delivery, run_pk: int, ref_day: Any) -> None:
        self.delivery = delivery
        self.run_pk = run_pk
        self.ref_day = ref_day
        self.unsaved: list[_Item] = []

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.delivery.db.write() as connection:
            for item in self.unsaved:
                self.delivery._mark_sent(connection, self.run_pk, item, self.ref_day)
            yield connection
        self.unsaved.clear()

    def sent(self, item: _Item) -> None:
        self.unsaved.append(item)

    def flush(self) -> None:
        if self.unsaved:
            with self.transaction():
                pass


class Delivery:
    """Sends the open rows of runs. ``sleep`` and ``clock`` are injectable for tests."""

    def __init__(
        self,
        db: Database,
        config: Config,
        secret: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.secret = secret
        self.sleep = sleep
        self.clock = clock
        check_settings(config)
        # MAIL FROM: one address for every message unless it is VERP (per recipient).
        self._sender = None if VERP_MARK in config.mail_return_path else envelope_sender(config, "")
        self.renderer = Renderer(config, secret)
        self._statements = _Statements()
        self.outbox = outbox.uses_outbox(config)
        if not config.smtp_url and not self.outbox:
            raise ConfigError(
                "sending digests needs PAPERROUTE_SMTP_URL (smtp://host:port, smtps://..., or "
                "'outbox' to keep messages in the database)"
            )
        self.settings: SmtpSettings | None = None if self.outbox else smtp_settings(config)

    # -- loading -------------------------------------------------------------------------

    def _load(self, run_pk: int, report: Report) -> tuple[list[_Item], dict[int, Card], Any]:
        with self.db.write() as connection:
            run = connection.execute(select(digest_runs).where(digest_runs.c.pk == run_pk)).one()
            if self.clock() - run.started_at > GIVE_UP_AFTER:
                result = connection.execute(
                    update(digest_sends)
                    .where(digest_sends.c.run_pk == run_pk, digest_sends.c.status == "deferred")
                    .values(status="failed", updated_at=self.clock())
                )
                report.failed += result.rowcount or 0
            unsuppressed = (
                ~select(suppressions.c.email)
                .where(suppressions.c.email == subscribers.c.email)
                .exists()
            )
            cancelled = connection.execute(
                update(digest_sends)
                .where(
                    digest_sends.c.run_pk == run_pk,
                    digest_sends.c.status.in_(OPEN),
                    digest_sends.c.subscriber_pk.in_(
                        select(subscribers.c.pk).where(
                            (subscribers.c.status != "confirmed") | ~unsuppressed
                        )
                    ),
                )
                .values(status="cancelled", updated_at=self.clock())
            )
            report.cancelled += cancelled.rowcount or 0
            rows = connection.execute(
                select(digest_sends, subscribers)
                .join(subscribers, subscribers.c.pk == digest_sends.c.subscriber_pk)
                .where(digest_sends.c.run_pk == run_pk, digest_sends.c.status.in_(OPEN))
                .order_by(digest_sends.c.subscriber_pk)
            ).all()
            items = [
                _Item(
                    subscriber=to_subscriber(row),
                    status=row.status,
                    message_id=row.message_id,
                    period=row.period,
                    picks=picks_from_json(row.papers),
                    attempts=int(row.attempts),
                )
                for row in rows
            ]
            paper_pks = sorted({p.paper_pk for item in items for p in item.picks})
            cards: dict[int, Card] = {}
            for start in range(0, len(paper_pks), 5000):
                for card in load_cards(connection, paper_pks[start : start + 5000]):
                    cards[card.pk] = card
        return items, cards, run

    # -- the send log ----------------------------------------------------------------------

    def _mark(self, connection: Connection, run_pk: int, item: _Item, **values: Any) -> None:
        connection.execute(
            update(digest_sends)
            .where(
                digest_sends.c.run_pk == run_pk,
                digest_sends.c.subscriber_pk == item.subscriber.pk,
            )
            .values(updated_at=self.clock(), **values)
        )

    def _mark_sent(self, connection: Connection, run_pk: int, item: _Item, ref_day: Any) -> None:
        # Statements built once (_Statements): this runs for every message.
        st = self._statements
        now = self.clock()
        connection.execute(st.sent, {"run": run_pk, "sub": item.subscriber.pk, "now": now})
        if item.picks:
            received: Executable = st.received_sqlite
            if connection.dialect.name == "postgresql":
                received = st.received_postgresql
            connection.execute(
                received,
                [
                    {"subscriber_pk": item.subscriber.pk, "paper_pk": p.paper_pk, "run_pk": run_pk}
                    for p in item.picks
                ],
            )
        if ref_day is not None:
            connection.execute(st.through, {"sub": item.subscriber.pk, "day": ref_day})

    def _mark_committing(self, connection: Connection, run_pk: int, item: _Item) -> None:
        connection.execute(
            self._statements.committing,
            {"run": run_pk, "sub": item.subscriber.pk, "now": self.clock()},
        )

    def _record_bounce(self, connection: Connection, email: str, code: int, text: str) -> None:
        now = self.clock()
        record_bounce(connection, Bounce(email, "hard", str(code), text[:1000]), "smtp", now)
        suppress(connection, email, "smtp-5xx", f"{code} {text}"[:1000], clock=self.clock)

    # -- sending ---------------------------------------------------------------------------

    def run(self, run_pk: int) -> Report:
        """Send every open row of ``run_pk``; mark the run finished when none is left."""
        report = Report()
        items, cards, run = self._load(run_pk, report)
        report.resent_in_doubt += sum(1 for item in items if item.status == "committing")
        if items:
            work: queue.Queue[_Item] = queue.Queue()
            for item in items:
                work.put(item)
            limiter = RateLimiter(self.config.digest_rate_per_s)
            lock = threading.Lock()
            stop = threading.Event()
            workers = [
                threading.Thread(
                    target=self._worker,
                    args=(run_pk, run, work, cards, limiter, report, lock, stop),
                    name=f"digest-smtp-{n}",
                    daemon=True,
                )
                for n in range(min(self.config.digest_pool_size, len(items)))
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        with self.db.write() as connection:
            left = connection.scalar(
                select(func.count())
                .select_from(digest_sends)
                .where(digest_sends.c.run_pk == run_pk, digest_sends.c.status.in_(OPEN))
            )
            if not left:
                connection.execute(
                    update(digest_runs)
                    .where(digest_runs.c.pk == run_pk)
                    .values(finished_at=self.clock())
                )
        return report

    def _worker(
        self,
        run_pk: int,
        run: Any,
        work: queue.Queue[_Item],
        cards: dict[int, Card],
        limiter: RateLimiter,
        report: Report,
        lock: threading.Lock,
        stop: threading.Event,
    ) -> None:
        session = None if self.settings is None else SmtpSession(self.settings)
        local = Report()
        sendlog = _WorkerLog(self, run_pk, run.ref_day)
        try:
            while not stop.is_set():
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    break
                try:
                    self._deliver(run_pk, run, item, cards, limiter, session, local, sendlog)
                except _Stop as exc:
                    stop.set()
                    local.stopped = str(exc)
                    log.error("digest run %d stopped: %s", run_pk, exc)
                except Exception as exc:  # a bug or the database: keep the row open
                    log.exception("digest to %s failed", item.subscriber.email)
                    local.errors.append(f"{item.subscriber.email}: {exc}")
        finally:
            try:
                sendlog.flush()
            except Exception as exc:  # the rows stay 'committing': resent by the next run
                log.exception("could not record the last digests as sent")
                local.errors.append(f"send log: {exc}")
            if session is not None:
                session.close()
            with lock:
                report.merge(local)

    def _deliver(
        self,
        run_pk: int,
        run: Any,
        item: _Item,
        cards: dict[int, Card],
        limiter: RateLimiter,
        session: SmtpSession | None,
        report: Report,
        sendlog: _WorkerLog,
    ) -> None:
        rendered = self.renderer.message(
            item.subscriber,
            item.picks,
            cards,
            day=dt.date.fromisoformat(item.period),
            message_id=item.message_id,
            sent_at=run.as_of,
            links_issued=run.started_at,
        )
        attempts = 0
        while True:
            attempts += 1
            limiter.acquire()
            if session is None:
                # The outbox is in the same database: message and 'sent' in one transaction.
                with self.db.write() as connection:
                    outbox.put(
                        connection,
                        message_id=rendered.message_id,
                        recipient=rendered.to,
                        subject=rendered.subject,
                        raw=rendered.raw,
                        created_at=self.clock(),
                    )
                    self._mark(connection, run_pk, item, attempts=digest_sends.c.attempts + 1)
                    self._mark_sent(connection, run_pk, item, run.ref_day)
                report.sent += 1
                return

            def before_dot() -> None:
                with sendlog.transaction() as connection:
                    self._mark_committing(connection, run_pk, item)

            error: str
            try:
                sender = self._sender or envelope_sender(self.config, rendered.to)
                session.send(sender, rendered.to, rendered.raw, before_dot)
            except Rejected as exc:
                if exc.permanent:
                    with sendlog.transaction() as connection:
                        self._mark(connection, run_pk, item, status="failed", last_error=str(exc))
                        if exc.stage == "rcpt":
                            self._record_bounce(connection, rendered.to, exc.code, exc.text)
                    if exc.stage == "rcpt":
                        report.suppressed += 1
                    else:
                        report.failed += 1
                    return
                error = str(exc)
                # Refused before or at the dot: the server did not take it.
                with sendlog.transaction() as connection:
                    self._mark(connection, run_pk, item, status="pending", last_error=error)
            except Dropped as exc:
                error = str(exc)
                if not exc.after_dot:
                    with sendlog.transaction() as connection:
                        self._mark(connection, run_pk, item, status="pending", last_error=error)
                # After the dot the row stays 'committing': it may have been delivered.
            except MailError as exc:  # cannot connect
                if exc.stops_run:
                    # Nothing was sent and the row stays as it was: the next run sends it.
                    raise _Stop(str(exc)) from exc
                error = str(exc)
                if exc.permanent and attempts >= 2:
                    with sendlog.transaction() as connection:
                        self._mark(connection, run_pk, item, status="deferred", last_error=error)
                    report.deferred += 1
                    return
            else:
                sendlog.sent(item)
                report.sent += 1
                return
            if attempts >= self.config.digest_max_attempts:
                with sendlog.transaction() as connection:
                    self._mark(
                        connection,
                        run_pk,
                        item,
                        status="deferred",
                        last_error=error[:1000],
                    )
                report.deferred += 1
                report.errors.append(f"{rendered.to}: {error}")
                return
            report.retried += 1
            sendlog.flush()  # nothing waits in doubt during the back-off
            log.info("digest to %s: %s; retrying", rendered.to, error)
            self.sleep(self.config.digest_retry_base_s * 2 ** (attempts - 1))
