"""One `digest send` at a time per database.

Two senders resuming the same run would both send its pending digests. The send log's
(subscriber, period) key stops two runs planning the same digest, but not two processes
delivering one run, so delivery holds a lease: a row naming its holder (``host:pid:nonce``)
and an expiry a background thread keeps pushing forward. A holder that died without
releasing it (``kill -9``) is recognised at once when it ran on this host and its pid is gone;
one on another host is waited out until its lease expires (``digest_lease_s``, 120 s).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
from types import TracebackType

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import Clock, utcnow
from ..errors import PaperrouteError
from ..store.schema_digests import digest_lease
from ..store.session import Database

log = logging.getLogger(__name__)
LEASE_SECONDS = 120.0  # the default of digest_lease_s


class SenderBusy(PaperrouteError):
    """Another `digest send` holds the lease."""


def _alive_here(holder: str) -> bool:
    """False when ``holder`` ran on this host and its process is gone."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SendLease:
    """``with SendLease(db):`` holds the lease or raises SenderBusy."""

    def __init__(
        self,
        db: Database,
        name: str = "send",
        *,
        clock: Clock = utcnow,
        lease_s: float = LEASE_SECONDS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.name = name
        self.lease_s = lease_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _expiry(self) -> dt.datetime:
        return self.clock() + dt.timedelta(seconds=self.lease_s)

    def acquire(self) -> None:
        now = self.clock()
        table = digest_lease
        with self.db.write() as connection:
            taken = connection.execute(
                update(table)
                .where(table.c.name == self.name, table.c.expires_at < now)
                .values(holder=self.holder, expires_at=self._expiry())
            )
            if taken.rowcount == 1:
                return
        with self.db.write() as connection:
            try:
                with connection.begin_nested():
                    connection.execute(
                        insert(table).values(
                            name=self.name, holder=self.holder, expires_at=self._expiry()
                        )
                    )
                return
            except IntegrityError:
                pass  # held: see whether its holder is still alive
        with self.db.write() as connection:
            row = connection.execute(select(table).where(table.c.name == self.name)).first()
            if row is not None and not _alive_here(row.holder):
                taken = connection.execute(
                    update(table)
                    .where(table.c.name == self.name, table.c.holder == row.holder)
                    .values(holder=self.holder, expires_at=self._expiry())
                )
                if taken.rowcount == 1:
                    log.warning("took over the digest lease of %s, which is gone", row.holder)
                    return
        holder = row.holder.rsplit(":", 1)[0] if row is not None else "another process"
        raise SenderBusy(
            f"another `paperroute digest send` is running ({holder}); it resumes anything "
            "unfinished, so there is nothing to do: try again later"
        )

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_s / 4):
            try:
                with self.db.write() as connection:
                    connection.execute(
                        update(digest_lease)
                        .where(
                            digest_lease.c.name == self.name,
                            digest_lease.c.holder == self.holder,
                        )
                        .values(expires_at=self._expiry())
                    )
            except Exception:  # the database is away: the next renewal tries again
                log.exception("could not renew the digest lease")

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        with self.db.write() as connection:
            connection.execute(
                delete(digest_lease).where(
                    digest_lease.c.name == self.name, digest_lease.c.holder == self.holder
                )
            )

    def __enter__(self) -> SendLease:
        self.acquire()
        self._renewer = threading.Thread(target=self._renew, name="digest-lease", daemon=True)
        self._renewer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
