"""Planning a digest run: who is due, and which papers each of them gets.

The plan is computed in memory (candidates.py, select.py) and then stored in one
transaction: a ``digest_runs`` row and one ``digest_sends`` row per subscriber holding the
chosen papers. From then on the run's content is fixed; delivery (delivery.py) only renders
and sends what the rows say, so a resumed run sends the same digests it planned.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import PaperrouteError
from ..store.schema_digests import (
    digest_received,
    digest_runs,
    digest_sends,
    subscribers,
    suppressions,
)
from ..store.session import Database
from . import _candidates as cands
from . import _foryou as foryou
from ._foryou import ForYouPicker
from ._render import message_id
from ._schedule import current_slot, slot_start
from ._select import Selector, window_start
from ._subscriptions import to_subscriber
from .model import Pick, Subscriber, picks_json


class RunConflict(PaperrouteError):
    """Another run planned digests for the same subscribers at the same time."""


@dataclass(slots=True)
class Planned:
    subscriber: Subscriber
    period: str
    picks: list[Pick]


@dataclass(slots=True)
class Plan:
    as_of: dt.datetime
    ref_day: dt.date | None
    due: int = 0
    digests: list[Planned] = field(default_factory=list)
    nothing_new: int = 0
    candidates: cands.Candidates | None = None


def _received(connection: Connection, paper_pks: list[int]) -> dict[int, set[int]]:
    found: defaultdict[int, set[int]] = defaultdict(set)
    for start in range(0, len(paper_pks), 5000):
        chunk = paper_pks[start : start + 5000]
        rows = connection.execute(
            select(digest_received.c.subscriber_pk, digest_received.c.paper_pk).where(
                digest_received.c.paper_pk.in_(chunk)
            )
        )
        for subscriber_pk, paper_pk in rows:
            found[subscriber_pk].add(paper_pk)
    return found


def due_subscribers(
    connection: Connection,
    as_of: dt.datetime,
    *,
    ignore_hour: bool = False,
    only: Collection[str] | None = None,
    preview: bool = False,
) -> list[tuple[Subscriber, str]]:
    """Confirmed, unsuppressed subscribers whose current slot has no digest yet.
    ``preview``: any subscriber of ``only``, sent or not."""
    query = select(subscribers).order_by(subscribers.c.pk)
    if not preview:
        query = query.where(
            subscribers.c.status == "confirmed",
            ~select(suppressions.c.email)
            .where(suppressions.c.email == subscribers.c.email)
            .exists(),
        )
    if only is not None:
        query = query.where(subscribers.c.email.in_(list(only)))
    due: list[tuple[Subscriber, str]] = []
    zones: dict[str, ZoneInfo] = {}
    for row in connection.execute(query):
        subscriber = to_subscriber(row)
        day = current_slot(subscriber.prefs, as_of, ignore_hour=ignore_hour, zones=zones)
        # Confirmed after the slot: the first digest waits for the next slot.
        if (
            not ignore_hour
            and subscriber.confirmed_at
            and (slot_start(subscriber.prefs, day) < subscriber.confirmed_at)
        ):
            continue
        due.append((subscriber, day.isoformat()))
    if not due or preview:
        return due
    periods = sorted({period for _, period in due})
    sent = {
        (row.subscriber_pk, row.period)
        for row in connection.execute(
            select(digest_sends.c.subscriber_pk, digest_sends.c.period).where(
                digest_sends.c.period.in_(periods)
            )
        )
    }
    return [(s, p) for s, p in due if (s.pk, p) not in sent]


def compute(
    db: Database,
    config: Config,
    as_of: dt.datetime,
    *,
    ignore_hour: bool = False,
    only: Collection[str] | None = None,
    send_empty: bool | None = None,
    preview: bool = False,
    picker: ForYouPicker | None = None,
    with_account: bool = True,
) -> Plan:
    """Who is due at ``as_of`` and what each gets; nothing is written. ``preview``: plan
    for the subscribers of ``only`` whatever their status and the send log say.
    ``picker``: adds the For-you sections (none without it); ``with_account=False`` leaves
    the linked reader's signals out of them (an admin's preview)."""
    empty_ok = config.digest_send_empty if send_empty is None else send_empty
    with db.read() as connection:
        ref_day = cands.reference_day(connection, as_of)
        plan = Plan(as_of=as_of, ref_day=ref_day)
        due = due_subscribers(
            connection, as_of, ignore_hour=ignore_hour, only=only, preview=preview
        )
        plan.due = len(due)
        if not due:
            return plan
        if ref_day is None:
            plan.nothing_new = len(due)
            if empty_ok:
                plan.digests = [Planned(s, p, []) for s, p in due]
            return plan
        starts = {s.pk: window_start(s, ref_day) for s, _ in due}
        pool = cands.load(connection, config, min(starts.values()), ref_day)
        received = _received(connection, [card.pk for card in pool.cards])
    plan.candidates = pool
    selector = Selector(pool)
    chosen: list[list[Pick]] = []
    for subscriber, _period in due:
        chosen.append(
            selector.pick(
                subscriber.prefs, starts[subscriber.pk], received.get(subscriber.pk, set())
            )
        )
    if picker is not None:
        _add_for_you(picker, pool, due, starts, received, chosen, with_account=with_account)
    for (subscriber, period), picks in zip(due, chosen, strict=True):
        if not picks:
            plan.nothing_new += 1
            if not empty_ok:
                continue
        plan.digests.append(Planned(subscriber, period, picks))
    return plan


def _add_for_you(
    picker: ForYouPicker,
    pool: cands.Candidates,
    due: list[tuple[Subscriber, str]],
    starts: dict[int, dt.date],
    received: dict[int, set[int]],
    chosen: list[list[Pick]],
    *,
    with_account: bool,
) -> None:
    """Append each For-you subscriber's section to their picks (in place)."""
    ids = {card.pk: card.id for card in pool.cards}
    windows: dict[dt.date, frozenset[int]] = {}  # by first day, shared
    asked: list[tuple[int, foryou.Request]] = []
    for n, (subscriber, _period) in enumerate(due):
        start = starts[subscriber.pk]
        window = windows.get(start)
        if window is None:
            window = frozenset(c.pk for c in pool.cards if c.day is None or c.day >= start)
            windows[start] = window
        request = picker.request(
            subscriber,
            ids,
            window,
            chosen[n],
            received.get(subscriber.pk, set()),
            with_account=with_account,
        )
        if request is not None:
            asked.append((n, request))
    if not asked:
        return
    ids = {card.pk: card.id for card in pool.cards}
    ranked = foryou.rank_requests(picker.recommender, [request for _, request in asked], ids)
    by_id = {card.id: card for card in pool.cards}
    for (n, request), found in zip(asked, ranked, strict=True):
        chosen[n].extend(foryou.section(by_id, request, found))


def store(
    db: Database, config: Config, secret: str, plan: Plan, *, clock: Clock = utcnow
) -> int | None:
    """Store the plan as a new run (one transaction). None when there is nothing to send.
    Raises RunConflict when another run stored a digest for one of these slots first."""
    if not plan.digests:
        return None
    now = clock()
    with db.write() as connection:
        try:
            run_pk = int(
                connection.execute(
                    insert(digest_runs)
                    .values(started_at=now, as_of=plan.as_of, ref_day=plan.ref_day)
                    .returning(digest_runs.c.pk)
                ).scalar_one()
            )
            rows = [
                {
                    "run_pk": run_pk,
                    "subscriber_pk": item.subscriber.pk,
                    "period": item.period,
                    "status": "pending",
                    "message_id": message_id(config, secret, run_pk, item.subscriber.pk),
                    "papers": picks_json(item.picks),
                    "attempts": 0,
                    "updated_at": now,
                }
                for item in plan.digests
            ]
            for start in range(0, len(rows), 10000):
                connection.execute(insert(digest_sends), rows[start : start + 10000])
        except IntegrityError as exc:  # raised out of the block: the transaction rolls back
            raise RunConflict(
                "another digest run planned some of these digests at the same time; run "
                "`paperroute digest send` again (it resumes that run and skips what it planned)"
            ) from exc
    return run_pk


def open_runs(connection: Connection) -> list[int]:
    """Runs with digests not yet sent (pending, committing or deferred), oldest first."""
    rows = connection.execute(
        select(digest_runs.c.pk)
        .where(
            digest_runs.c.finished_at.is_(None),
        )
        .order_by(digest_runs.c.pk)
    )
    return [int(row.pk) for row in rows]
