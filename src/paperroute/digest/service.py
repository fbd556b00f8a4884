"""The digest use cases, called alike by the CLI, the web routes and the scheduler.

``Digests(db, config, clock=..., recommender=..., foryou=...)`` holds nothing but what it was
given and the signing key; the Hub builds one (``hub.digests``), which the web app and the
CLI use. The recommender and For-you use cases (``recommend/``) feed the "For you" section."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import NotFound
from ..recommend import Recommender
from ..recommend.foryou import ForYou
from ..site.addresses import normalise_email
from ..site.signing import resolve_secret_key
from ..store.session import Database
from . import _plan as planning
from . import _subscriptions as subs
from ._bounces import BounceProcessor, BounceReport
from ._delivery import Delivery, Report
from ._foryou import ForYouPicker
from ._lease import SendLease
from ._links import make_token
from ._render import Rendered, Renderer
from ._schedule import current_slot
from .model import Pick, Preferences, SubscribeOutcome, Subscriber, preferences

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SendResult:
    """One `digest send`: what was planned and what delivery did."""

    resumed_runs: list[int] = field(default_factory=list)
    run_pk: int | None = None
    due: int = 0
    planned: int = 0
    nothing_new: int = 0
    ref_day: dt.date | None = None
    report: Report = field(default_factory=Report)
    dry_run: list[tuple[str, int]] = field(default_factory=list)  # (email, papers)


class Digests:
    """The digest use cases over one database. ``clock`` is the one source of "now" (tests
    run a digest at a fixed time by passing their own)."""

    def __init__(
        self,
        db: Database,
        config: Config,
        *,
        clock: Clock = utcnow,
        recommender: Recommender | None = None,
        foryou: ForYou | None = None,
    ) -> None:
        self._db = db
        self.config = config
        self.clock = clock
        self._secret: str | None = None
        # The For-you section needs both; without them digests have none.
        self._picker = (
            ForYouPicker(recommender, foryou)
            if recommender is not None and foryou is not None
            else None
        )

    @property
    def secret(self) -> str:
        if self._secret is None:
            self._secret = resolve_secret_key(self.config, self._db, self.clock)
        return self._secret

    # -- subscribers -----------------------------------------------------------------------

    def subscribe(
        self, email: str, fields: Mapping[str, object], *, client: str | None = None
    ) -> SubscribeOutcome:
        prefs = preferences(fields)
        return subs.subscribe(
            self._db, self.config, self.secret, email, prefs, client=client, clock=self.clock
        )

    def subscribe_signed_in(self, email: str, fields: Mapping[str, object]) -> SubscribeOutcome:
        """A signed-in reader subscribing their own account's address: it was proven by the
        sign-in link, so it is confirmed at once, unless it is suppressed (then the usual
        confirmation round trip applies)."""
        prefs = preferences(fields)
        subscriber = subs.subscribe_verified(self._db, email, prefs, clock=self.clock)
        if subscriber is None:
            return subs.subscribe(
                self._db, self.config, self.secret, email, prefs, clock=self.clock
            )
        return SubscribeOutcome(
            subscriber, False, f"{subscriber.email} is subscribed: no confirmation needed."
        )

    def check_confirmation(self, token: str) -> tuple[Subscriber, bool]:
        return subs.check_confirmation(self._db, self.secret, token)

    def confirm(self, token: str) -> Subscriber:
        return subs.confirm(self._db, self.secret, token, clock=self.clock)

    def by_manage_link(self, token: str) -> Subscriber:
        return subs.from_manage_link(self._db, self.secret, token)

    def by_unsubscribe_link(self, token: str) -> Subscriber:
        return subs.from_unsubscribe_link(self._db, self.secret, token)

    def update(self, token: str, fields: Mapping[str, object]) -> Subscriber:
        subscriber = self.by_manage_link(token)
        prefs = preferences(fields, subscriber.prefs)
        return subs.update_preferences(self._db, subscriber.pk, prefs, clock=self.clock)

    def unsubscribe(self, token: str, *, how: str = "unsubscribe link") -> Subscriber:
        subscriber = self.by_unsubscribe_link(token)
        return subs.unsubscribe(self._db, subscriber.pk, how, clock=self.clock)

    def unsubscribe_by_manage_link(self, token: str) -> Subscriber:
        subscriber = self.by_manage_link(token)
        return subs.unsubscribe(self._db, subscriber.pk, "manage page", clock=self.clock)

    def find(self, email: str) -> Subscriber | None:
        address = normalise_email(email)
        with self._db.read() as connection:
            return subs.find(connection, address)

    def for_you_source(self, subscriber: Subscriber) -> str:
        """Where this subscriber's For-you section comes from, for their manage page:
        ``account`` (a reader account at the same address), ``seeds`` (only the seed
        papers they gave), ``none`` (nothing to pick with) or ``unavailable`` (this hub
        has no recommender)."""
        if self._picker is None:
            return "unavailable"
        if self._picker.account(subscriber) is not None:
            return "account"
        return "seeds" if subscriber.prefs.seeds else "none"

    def unknown_seeds(self, subscriber: Subscriber) -> list[str]:
        """The subscriber's seed papers this hub does not hold yet (they count once it
        does): the manage page and the CLI name them."""
        with self._db.read() as connection:
            return subs.unknown_seeds(connection, subscriber.prefs.seeds)

    def seed_titles(self, subscriber: Subscriber) -> dict[str, str]:
        """The titles of the subscriber's seed papers this hub holds, by id (the manage
        page lists them under the ids)."""
        with self._db.read() as connection:
            return subs.seed_titles(connection, subscriber.prefs.seeds)

    def manage_token(self, subscriber: Subscriber) -> str:
        return make_token(self.secret, "manage", subscriber.pk, subscriber.email)

    # -- operators (the CLI) -------------------------------------------------------------

    def listing(
        self, status: str | None = None, limit: int = 1000
    ) -> list[tuple[Subscriber, str | None]]:
        """Subscribers (newest first) with their suppression reason, if any."""
        return subs.listing(self._db, status, limit)

    def counts(self) -> dict[str, int]:
        """Subscribers per status, and the number of suppressed addresses."""
        return subs.counts(self._db)

    def send_counts(self) -> dict[str, int]:
        """Digests in the send log per status (``sent``, ``failed``, ``deferred``, ...)."""
        return subs.send_counts(self._db)

    def add_confirmed(self, email: str, fields: Mapping[str, object]) -> Subscriber:
        """Add a subscriber who opted in elsewhere, confirmed. Refuses a suppressed address."""
        return subs.add_confirmed(self._db, email, preferences(fields), clock=self.clock)

    def remove(self, email: str) -> bool:
        """Delete a subscriber and its send log (a suppression stays). True if found."""
        return subs.remove(self._db, email)

    def set_suppressed(self, email: str, reason: str, detail: str, *, lift: bool) -> None:
        """Put an address on the suppression list, or lift it (``lift``)."""
        subs.set_suppressed(self._db, email, reason, detail, lift=lift, clock=self.clock)

    # -- sending ---------------------------------------------------------------------------

    def send(
        self,
        *,
        as_of: dt.datetime | None = None,
        ignore_hour: bool = False,
        dry_run: bool = False,
        only: Collection[str] | None = None,
        delivery: Delivery | None = None,
    ) -> SendResult:
        """Finish every unfinished run, then plan and send the digests due at ``as_of``.
        ``dry_run``: plan only, write and send nothing."""
        moment = as_of or self.clock()
        if dry_run:
            return self._send(moment, ignore_hour, True, only, None)
        sender = delivery or Delivery(self._db, self.config, self.secret, clock=self.clock)
        with SendLease(self._db, clock=self.clock, lease_s=self.config.digest_lease_s):
            return self._send(moment, ignore_hour, False, only, sender)

    def _send(
        self,
        moment: dt.datetime,
        ignore_hour: bool,
        dry_run: bool,
        only: Collection[str] | None,
        sender: Delivery | None,
    ) -> SendResult:
        result = SendResult()
        if sender is not None:
            with self._db.read() as connection:
                open_runs = planning.open_runs(connection)
            for run_pk in open_runs:
                result.resumed_runs.append(run_pk)
                result.report.merge(sender.run(run_pk))
                if result.report.stopped:  # a new run would stop at the same step
                    return result
        addresses = [normalise_email(e) for e in only] if only is not None else None
        plan = planning.compute(
            self._db,
            self.config,
            moment,
            ignore_hour=ignore_hour,
            only=addresses,
            picker=self._picker,
        )
        result.due, result.nothing_new, result.ref_day = plan.due, plan.nothing_new, plan.ref_day
        result.planned = len(plan.digests)
        if dry_run:
            result.dry_run = [(d.subscriber.email, len(d.picks)) for d in plan.digests]
            return result
        assert sender is not None
        result.run_pk = planning.store(self._db, self.config, self.secret, plan, clock=self.clock)
        if result.run_pk is not None:
            result.report.merge(sender.run(result.run_pk))
        return result

    def preview(
        self, email: str, *, as_of: dt.datetime | None = None, private: bool = True
    ) -> Rendered:
        """The digest ``email`` would get next, whatever the hour (nothing is stored or
        sent). Without a secret key (outside demo mode) it still renders, its links signed
        with a throwaway key (``Rendered.links_work`` is False): a preview sends nothing.
        ``private=False`` (someone else looks: an admin's preview) leaves the linked
        reader's signals out of the For-you section, and the preview says so."""
        address = normalise_email(email)
        moment = as_of or self.clock()
        with self._db.read() as connection:
            subscriber = subs.find(connection, address)
        if subscriber is None:
            raise NotFound(f"no subscriber {address}")
        plan = planning.compute(
            self._db,
            self.config,
            moment,
            ignore_hour=True,
            only=[address],
            send_empty=True,
            preview=True,
            picker=self._picker,
            with_account=private,
        )
        picks = plan.digests[0].picks if plan.digests else []
        cards = {c.pk: c for c in plan.candidates.cards} if plan.candidates else {}
        day = current_slot(subscriber.prefs, moment, ignore_hour=True)
        keyless = not self.config.secret_key and not self.config.demo
        secret = secrets.token_urlsafe(32) if keyless else self.secret
        rendered = Renderer(self.config, secret).message(
            subscriber,
            picks,
            cards,
            day=day,
            message_id="<preview@paperroute>",
            sent_at=moment,
        )
        note = self._for_you_note(subscriber, picks, plan.ref_day is not None, private)
        return dataclasses.replace(rendered, links_work=not keyless, for_you_note=note)

    def _for_you_note(
        self, subscriber: Subscriber, picks: list[Pick], has_papers: bool, private: bool
    ) -> str | None:
        """Why a preview shows no For-you section, or what it leaves out (None: nothing
        to say)."""
        if not subscriber.prefs.for_you:
            return None
        shown = sum(1 for p in picks if p.section == "for_you")
        linked = self._picker is not None and self._picker.account(subscriber) is not None
        if shown:
            if linked and not private:
                return "For you: the linked reader's private signals are left out of this preview."
            return None
        if self._picker is None:
            return "No For-you section: this hub has no recommender."
        if not has_papers:
            return "No For-you section: the hub has no new papers for this digest."
        if linked and not private:
            return (
                "No For-you section in this preview: the linked reader's signals are private, "
                "and the subscriber gave no seed paper that picks one."
            )
        if self._picker.profile(subscriber, with_account=private).empty:
            return (
                "No For-you section: the reader account at this address has no signal yet "
                "(upvotes, saved papers, a library) and no seed papers were given."
                if linked
                else "No For-you section: no reader account has this address and no seed "
                "papers were given."
            )
        return (
            "No For-you section: no paper of this digest's days is close to the reader's "
            "interests (or the hub's newest papers are still being processed)."
        )

    # -- bounces ---------------------------------------------------------------------------

    def bounces_from_path(self, path: Path) -> BounceReport:
        return self._bounces().process_path(path)

    def bounce_message(self, raw: bytes, source: str = "webhook") -> BounceReport:
        return self._bounces().process("message", raw, source)

    def _bounces(self) -> BounceProcessor:
        return BounceProcessor(self._db, self.config, self.secret, self.clock)

    # -- the scheduler -----------------------------------------------------------------------

    def run_scheduler(self, stop: threading.Event, *, interval: float | None = None) -> None:
        """Send due digests every ``interval`` seconds until ``stop`` is set. A failing pass
        is logged and retried at the next one."""
        wait = self.config.digest_scheduler_interval_s if interval is None else interval
        while not stop.is_set():
            try:
                result = self.send()
                if result.planned or result.resumed_runs:
                    log.warning(
                        "digests: %d sent, %d deferred, %d suppressed",
                        result.report.sent,
                        result.report.deferred,
                        result.report.suppressed,
                    )
                if result.report.stopped:
                    log.error("digest run stopped: %s", result.report.stopped)
            except Exception:
                log.exception("digest scheduler pass failed; retrying at the next one")
            stop.wait(max(1.0, wait))


__all__ = ["Digests", "Preferences", "SendResult"]
