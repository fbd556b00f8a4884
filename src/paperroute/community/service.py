"""Community use cases: the web pages, the JSON API and the CLI call these (``hub.community``).

Each method is one transaction. Readers are passed in as :class:`User` (None when signed
out); every write checks that the reader is signed in and not banned, and moderation checks
the admin flag, so no edge can forget it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlencode

from sqlalchemy import Connection

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import ConfigError, InvalidInput, NotFound, StorageError
from ..mail.headers import new_message
from ..mail.transport import Mailer, MailError
from ..model import Paper
from ..papers import Papers
from ..reading import Card
from ..reading.sql import load_cards
from ..site import outbox, ratelimit, signing
from ..site.addresses import InvalidAddress, legacy_form, normalise_email
from ..site.outbox import OutboxMessage
from ..sources.http import HttpClient
from ..store import queries
from ..store.session import Database
from . import _accounts as accounts
from . import _collections as lists
from . import _comments as comments
from . import _moderation as moderation
from . import _submit as submit
from . import _votes as votes
from ._collection_cases import CollectionCases
from ._comment_cases import CommentCases
from ._text import clean_text
from .errors import Forbidden, NotSignedIn, Unavailable
from .model import ApiToken, AuditEntry, Collection, Comment, Submission, User, VoteState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PaperPanel:
    votes: VoteState
    comments: list[Comment]
    holding: list[Collection]  # visible to the viewer: public, or theirs
    own: list[Collection]  # the viewer's collections
    in_own: set[int]  # those of them that hold the paper
    hidden: bool  # hidden by a moderator (told to admins only)


HOUR = 3600
# Per reader: far more than a person clicks, and every vote is a write that refreshes the
# cached pages of every worker, so a script toggling one in a loop must not keep them cold.
VOTES_PER_MINUTE = 30
NAME_CHANGES_PER_HOUR = 10
MAX_REF = 400  # characters of a paper reference (ids are at most 320)
DEMO_ADMIN = "demo@paperroute.local"
# Sign-in links one address gets per hour from all client IPs: this many times the per-IP
# login_rate_per_email.
SIGN_IN_ADDRESS_CAP = 4


class Community(CommentCases, CollectionCases):
    """The community's use cases. Thread-safe: every call opens its own transaction."""

    def __init__(
        self,
        db: Database,
        config: Config,
        papers: Papers,
        *,
        mailer: Mailer | None = None,
        clock: Clock = utcnow,
        arxiv_client: Callable[[], HttpClient] | None = None,
    ) -> None:
        self._db = db
        self.config = config
        self._papers = papers
        self._mailer = mailer
        self._clock = clock
        self._arxiv_client = arxiv_client
        self.markdown = comments.MarkdownRenderer()
        self._ingest_lock = threading.Lock()
        self._secret: str | None = None
        self._after_vote: list[Callable[[], object]] = []

    def _tx(self) -> AbstractContextManager[Connection]:
        return self._db.write()

    @property
    def secret(self) -> str:
        """The key that signs cookies (resolved once; see site/signing.py). Raises
        ConfigError outside demo mode without one."""
        if self._secret is None:
            self._secret = signing.resolve_secret_key(self.config, self._db, self._clock)
        return self._secret

    def _address(self, connection: Connection, email: str) -> str:
        """``email`` in its stored form: the site's one normaliser, or, for an account made
        before that rule applied to sign-in, the form it was stored in (docs/community.md)."""
        try:
            return normalise_email(email)
        except InvalidAddress:
            legacy = legacy_form(email)
            if legacy is not None and accounts.user_by_email(connection, legacy) is not None:
                return legacy
            raise

    def _now(self) -> datetime:
        return self._clock()

    @staticmethod
    def _active(user: User | None) -> User:
        if user is None:
            raise NotSignedIn("sign in first")
        if user.banned:
            raise Forbidden("this account is suspended")
        return user

    def _admin(self, user: User | None) -> User:
        actor = self._active(user)
        if not actor.is_admin:
            raise Forbidden("only admins can moderate")
        return actor

    def _paper_pk(self, connection: Connection, ref: str, viewer: User | None) -> int:
        usable = ref.strip() and len(ref) <= MAX_REF and ref.isprintable() and _encodable(ref)
        pk = queries.find_paper_pk(connection, ref) if usable else None
        if pk is None or (
            moderation.is_hidden(connection, pk) and not (viewer and viewer.is_admin)
        ):
            raise NotFound(f"no paper {ref.strip()[:100]!r}")
        return pk

    def paper_pk(self, ref: str, viewer: User | None = None) -> int:
        """The pk of a visible paper (hidden papers only for admins). Raises NotFound."""
        with self._tx() as connection:
            return self._paper_pk(connection, ref, viewer)

    def paper(self, paper_pk: int) -> Paper:
        with self._db.read() as connection:
            return queries.load_paper(connection, paper_pk)

    def cards(self, paper_pks: Sequence[int]) -> list[Card]:
        """The cards of these papers, in that order (hidden and unknown ones left out)."""
        with self._db.read() as connection:
            return load_cards(connection, paper_pks)

    # -- readers and sign-in ----------------------------------------------------------

    def mailer(self) -> Mailer:
        if self._mailer is None:
            try:
                self._mailer = outbox.open_mailer(self.config, self._db, self._clock)
            except ConfigError as exc:
                raise Unavailable(f"this hub cannot send email: {exc}") from exc
        return self._mailer

    def request_sign_in(
        self,
        email: str,
        client_ip: str,
        next_path: str = "",
        *,
        known_browser: Callable[[str], bool] | None = None,
    ) -> str:
        """Mail a single-use sign-in link; returns the normalised address. Raises
        InvalidInput, RateLimited (too many requests from ``client_ip``: flood protection)
        or Unavailable (mail failed).

        The answer is the same whether or not a link goes out: no link goes to a suspended
        account, nor past ``login_rate_per_email`` links per hour to one address from one
        client IP, nor past ``SIGN_IN_ADDRESS_CAP`` times that from all of them (a mail
        bomb). So a stranger asking for links to someone's address spends their own
        network's quota, not the owner's, and learns nothing. The address-wide cap does not
        apply where ``known_browser(address)`` says this browser signed in with the address
        before: strangers spending it from many networks cannot lock its owner out there."""
        with self._db.read() as connection:
            address = self._address(connection, email)
        mailer = self.mailer()
        now = self._now()
        stamp = now.timestamp()
        with self._tx() as connection:
            ratelimit.hit(
                connection,
                f"login-ip:{client_ip}",
                limit=self.config.login_rate_per_ip,
                window=HOUR,
                now=stamp,
                what="sign-in requests from your network",
            )
        per_email = self.config.login_rate_per_email
        with self._tx() as connection:
            from_here = ratelimit.within(
                connection, f"login-ip-email:{client_ip}:{address}",
                limit=per_email, window=HOUR, now=stamp,
            )  # fmt: skip
            trusted = known_browser is not None and known_browser(address)
            to_address = from_here and (
                trusted
                or ratelimit.within(
                    connection, f"login-email:{address}",
                    limit=per_email * SIGN_IN_ADDRESS_CAP, window=HOUR, now=stamp,
                )
            )  # fmt: skip
            existing = accounts.user_by_email(connection, address)
            if not to_address or (existing is not None and existing.banned):
                why = "suspended" if to_address else "over the hourly limit"
                log.warning("no sign-in link for %s from %s: %s", address, client_ip, why)
                return address
            token = accounts.issue_login_token(
                connection, address, now, self.config.login_link_minutes
            )
        try:
            mailer.send(self._sign_in_message(address, token, now, next_path))
        except MailError as exc:
            log.warning("sign-in mail to %s failed: %s", address, exc)
            raise Unavailable(
                "the sign-in email could not be sent"
                + (": the mail server refused the address" if exc.permanent else "")
                + "; try again in a few minutes"
            ) from exc
        return address

    def sign_in_link(self, token: str, next_path: str = "") -> str:
        query = {"token": token, **({"next": next_path} if next_path else {})}
        return f"{self.config.base_url.rstrip('/')}/auth/verify?{urlencode(query)}"

    def _sign_in_message(
        self, address: str, token: str, now: datetime, next_path: str
    ) -> EmailMessage:
        minutes = self.config.login_link_minutes
        message = new_message(self.config, address, "Your paperroute sign-in link", now)
        message.set_content(
            "Open this link to sign in to paperroute:\n\n"
            f"{self.sign_in_link(token, next_path)}\n\n"
            f"It works once, within {minutes} minutes. If you did not ask to sign in, ignore "
            "this message: nothing happens without the link.\n"
        )
        return message

    def check_sign_in(self, token: str) -> str:
        """The address a sign-in link is for, without using it. Raises BadLink."""
        with self._tx() as connection:
            return accounts.check_login_token(connection, token, self._now())

    def sign_in(self, token: str) -> User:
        """Use a sign-in link. Raises BadLink or Forbidden."""
        with self._tx() as connection:
            return accounts.redeem_login_token(connection, token, self._now())

    def open_session(self, user: User) -> str:
        """Start a session for a reader who just signed in; returns the cookie's nonce."""
        with self._tx() as connection:
            return accounts.open_session(connection, user.pk, self._now(), self.config.session_days)

    def session_user(self, user_pk: int, nonce: str) -> User | None:
        """The reader of a live session (None once signed out, expired or banned)."""
        with self._tx() as connection:
            user = accounts.session_user(
                connection, user_pk, nonce, self._now(), self.config.session_days
            )
        return None if user is None or user.banned else user

    def close_session(self, nonce: str) -> None:
        with self._tx() as connection:
            accounts.close_session(connection, nonce)

    def housekeeping(self) -> dict[str, int]:
        """Delete expired sign-in links and sessions and rate-limit windows no limit reads
        any more (the housekeeping job); how many of each went."""
        now = self._now()
        with self._tx() as connection:
            links, sessions = accounts.sweep(connection, now, self.config.session_days)
            limits = ratelimit.prune(connection, now.timestamp())
        return {"sign_in_links": links, "sessions": sessions, "rate_limit_rows": limits}

    def user(self, pk: int) -> User | None:
        with self._tx() as connection:
            return accounts.user_by_pk(connection, pk)

    def user_by_email(self, email: str) -> User | None:
        with self._tx() as connection:
            return accounts.user_by_email(connection, self._address(connection, email))

    def set_display_name(self, user: User | None, name: str) -> User:
        """Choose the public name shown on the reader's comments and collections (rules in
        _names.py). Raises InvalidInput, RateLimited (NAME_CHANGES_PER_HOUR)."""
        reader = self._active(user)
        with self._tx() as connection:
            self._limit(connection, f"name:{reader.pk}", NAME_CHANGES_PER_HOUR, "name changes")
            return accounts.set_display_name(connection, reader.pk, name, self._now())

    def ensure_user(self, email: str, *, admin: bool | None = None) -> User:
        with self._tx() as connection:
            address = self._address(connection, email)
            user = accounts.ensure_user(connection, address, self._now())
            if admin is not None and user.is_admin != admin:
                user = accounts.set_flags(connection, user.pk, is_admin=admin)
            return user

    def retire_demo_admin(self) -> bool:
        """Demote ``DEMO_ADMIN`` if it is an admin (a database made in demo mode, now served
        outside it, where anyone who could receive its sign-in link would be admin). True
        when it was demoted."""
        with self._tx() as connection:
            user = accounts.user_by_email(connection, DEMO_ADMIN)
            if user is None or not user.is_admin:
                return False
            accounts.set_flags(connection, user.pk, is_admin=False)
            moderation.record(
                connection, None, "demote", f"user:{DEMO_ADMIN}", "not in demo mode", self._now()
            )
            return True

    def users(self) -> list[User]:
        with self._tx() as connection:
            return accounts.list_users(connection)

    def set_admin(self, email: str, admin: bool) -> tuple[User, bool]:
        """Promote (creating the account when the reader never signed in) or demote a reader;
        returns the reader and whether the account was created. Raises InvalidInput, or
        NotFound when demoting an unknown address."""
        now = self._now()
        with self._tx() as connection:
            address = self._address(connection, email)
            user = accounts.user_by_email(connection, address)
            created = user is None
            if user is None:
                if not admin:
                    raise NotFound(f"no reader with the address {address}")
                user = accounts.ensure_user(connection, address, now)
            user = accounts.set_flags(connection, user.pk, is_admin=admin)
            action = "promote" if admin else "demote"
            moderation.record(connection, None, action, f"user:{address}", "command line", now)
            return user, created

    # -- API tokens -------------------------------------------------------------------

    def create_api_token(self, user: User | None, name: str) -> str:
        reader = self._active(user)
        with self._tx() as connection:
            return accounts.create_api_token(connection, reader.pk, name, self._now())

    def api_tokens(self, user: User) -> list[ApiToken]:
        with self._tx() as connection:
            return accounts.list_api_tokens(connection, user.pk)

    def revoke_api_token(self, user: User | None, token_pk: int) -> None:
        reader = self._active(user)
        with self._tx() as connection:
            accounts.revoke_api_token(connection, reader.pk, token_pk, self._now())

    def api_user(self, token: str) -> User | None:
        with self._tx() as connection:
            return accounts.user_for_api_token(connection, token, self._now())

    # -- votes ------------------------------------------------------------------------

    def vote_state(self, paper_pk: int, user: User | None) -> VoteState:
        with self._tx() as connection:
            return votes.vote_state(connection, paper_pk, user.pk if user else None)

    def on_vote(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` after each stored vote (the web app asks for trending to be
        precomputed soon: docs/jobs.md). It runs on the voter's thread, so it must not block;
        what it raises is logged, never shown to the voter."""
        self._after_vote.append(callback)

    def vote(self, user: User | None, paper_ref: str, on: bool | None = None) -> VoteState:
        """Upvote (on=True), take it back (False) or toggle (None)."""
        state = self._vote(user, paper_ref, on)
        for callback in self._after_vote:
            try:
                callback()
            except Exception:  # the vote is stored: a hook's failure is not the voter's
                log.exception("an after-vote hook failed")
        return state

    def _vote(self, user: User | None, paper_ref: str, on: bool | None) -> VoteState:
        reader = self._active(user)
        with self._tx() as connection:
            pk = self._paper_pk(connection, paper_ref, reader)
            ratelimit.hit(
                connection,
                f"vote:{reader.pk}",
                limit=VOTES_PER_MINUTE,
                window=60,
                now=self._now().timestamp(),
                what="votes",
            )
            if on is None:
                on = not votes.vote_state(connection, pk, reader.pk).voted
            return votes.set_vote(connection, pk, reader.pk, on, self._now())

    def voted_paper_pks(self, user: User, *, limit: int = 200) -> list[int]:
        """The papers a reader upvoted, the latest first."""
        with self._tx() as connection:
            return votes.voted_paper_pks(connection, user.pk, limit=limit)

    # -- accounts ---------------------------------------------------------------------

    def delete_account(self, user: User | None) -> None:
        """Delete the signed-in reader's account with everything it owns; its sessions end."""
        actor = self._active(user)
        with self._tx() as connection:
            accounts.delete_user(connection, actor.pk)

    def paper_panel(self, paper_pk: int, viewer: User | None) -> PaperPanel:
        """Everything the paper page shows of the community, in one transaction."""
        viewer_pk = viewer.pk if viewer else None
        admin = bool(viewer and viewer.is_admin)
        with self._tx() as connection:
            holding = lists.holding_paper(connection, paper_pk, viewer_pk)
            return PaperPanel(
                votes=votes.vote_state(connection, paper_pk, viewer_pk),
                comments=comments.paper_comments(connection, paper_pk, include_hidden=admin),
                holding=holding,
                own=lists.owned_by(connection, viewer_pk) if viewer_pk else [],
                in_own={c.pk for c in holding if c.owner_pk == viewer_pk},
                hidden=moderation.is_hidden(connection, paper_pk) if admin else False,
            )

    # -- submission -------------------------------------------------------------------

    def submit(self, user: User | None, text: str) -> Submission:
        """Add a paper by arXiv id or URL. Raises InvalidInput, RateLimited, NotFound (arXiv
        has no such paper) or Unavailable (arXiv cannot be reached)."""
        reader = self._active(user)
        arxiv_id = submit.parse_reference(text)
        with self._tx() as connection:
            pk = queries.find_paper_pk(connection, arxiv_id)
            if pk is not None:
                if moderation.is_hidden(connection, pk) and not reader.is_admin:
                    raise Forbidden("this paper was removed by the moderators")
                return Submission(queries.load_paper(connection, pk).id, created=False)
        with self._tx() as connection:
            ratelimit.hit(
                connection,
                f"submit:{reader.pk}",
                limit=self.config.submit_rate_per_reader,
                window=HOUR,
                now=self._now().timestamp(),
                what="paper submissions",
            )
        record = submit.fetch_record(self.config, arxiv_id, self._arxiv_client)
        now = self._now()
        # The hub's writer is for one importer at a time; web requests run in threads.
        with self._ingest_lock:
            report = self._papers.ingest([submit.as_submission(record, reader.display_name, now)])
        if report.skipped:
            raise InvalidInput(f"the paper could not be stored: {report.skipped[0].reason}")
        with self._tx() as connection:
            pk = queries.find_paper_pk(connection, arxiv_id)
            if pk is None:
                raise StorageError(f"{arxiv_id} was fetched but is not in the database")
            paper_id = queries.load_paper(connection, pk).id
            moderation.record(connection, reader.pk, "submit", f"paper:{paper_id}", "", now)
        return Submission(paper_id, created=True)

    # -- moderation -------------------------------------------------------------------

    def set_paper_hidden(
        self, user: User | None, paper_ref: str, hidden: bool, reason: str = ""
    ) -> int:
        actor = self._admin(user)
        reason = clean_text(reason, "a reason").strip()
        with self._tx() as connection:
            pk = self._paper_pk(connection, paper_ref, actor)
            now = self._now()
            moderation.set_paper_hidden(connection, pk, actor.pk, hidden, reason.strip(), now)
            paper_id = queries.load_paper(connection, pk).id
            action = "hide-paper" if hidden else "unhide-paper"
            moderation.record(connection, actor.pk, action, f"paper:{paper_id}", reason, now)
            return pk

    def set_comment_hidden(self, user: User | None, comment_pk: int, hidden: bool) -> Comment:
        actor = self._admin(user)
        with self._tx() as connection:
            now = self._now()
            found = comments.set_comment_hidden(connection, comment_pk, now if hidden else None)
            action = "hide-comment" if hidden else "unhide-comment"
            moderation.record(
                connection, actor.pk, action, f"comment:{comment_pk}",
                f"on {found.paper_id} by {found.author}", now,
            )  # fmt: skip
            return found

    def set_banned(self, user: User | None, target_pk: int, banned: bool, reason: str = "") -> User:
        actor = self._admin(user)
        reason = clean_text(reason, "a reason").strip()
        if actor.pk == target_pk:
            raise InvalidInput("an admin cannot ban themselves")
        with self._tx() as connection:
            now = self._now()
            target = accounts.set_flags(connection, target_pk, banned_at=now if banned else None)
            if banned:
                accounts.close_all_sessions(connection, target_pk)
            action = "ban" if banned else "unban"
            moderation.record(connection, actor.pk, action, f"user:{target.email}", reason, now)
            return target

    def audit_log(self, user: User | None, *, limit: int = 100) -> list[AuditEntry]:
        self._admin(user)
        with self._tx() as connection:
            return moderation.recent(connection, limit=limit)

    # -- outbox (demo mode) -----------------------------------------------------------

    def outbox(self, *, limit: int = 100) -> list[OutboxMessage]:
        return outbox.messages(self._db, limit=limit)

    def outbox_message(self, pk: int) -> OutboxMessage:
        return outbox.message(self._db, pk)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
