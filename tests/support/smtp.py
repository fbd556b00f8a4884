"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it accepts, with the faults
sign-in mail and digest delivery must survive.

Usage::

    with SmtpServer() as server:          # or the ``smtp_server`` fixture
        config = Config(smtp_url=server.url, ...)
        server.refuse("bounce@example.org", 550)           # permanent refusal of one recipient
        server.refuse("later@example.org", 450, times=2)   # temporary, the first two tries
        server.drop_at_dot(1)        # close at the next final dot without accepting
        server.accept_then_drop(1)   # accept the next message, close before the 250 is read
        server.close_with_421_after(3)  # after 3 accepted messages, 421 the next MAIL
        server.slow(2.0)             # wait before answering DATA
        ...
        message = server.wait_for(1)[0].message    # email.message.EmailMessage

TLS and authentication (a certificate made in the test with trustme)::

    ca = trustme.CA()
    with SmtpServer(tls="starttls", certificate=ca.issue_cert("127.0.0.1"),
                    users={"mailer": "s3cret"}) as server:
        config = Config(smtp_url=server.url_for("mailer", "s3cret"), smtp_ca_file=...)
        assert server.messages[0].tls and server.messages[0].login == "mailer"

``tls``: None (plain), ``"starttls"`` (offers STARTTLS, port 587 style) or ``"implicit"``
(TLS from the first byte, port 465 style). With ``users``, AUTH PLAIN/LOGIN is offered
(over TLS only unless ``auth_require_tls=False``) and a login must succeed before MAIL.

``messages`` records every message the server accepted (a 250 after the dot), in order.
``mailbox()`` is what a recipient's mailbox shows: messages with the same Message-ID for the
same recipient collapsed into one, as Gmail, Cyrus IMAP (duplicate delivery suppression) and
Sieve's ``duplicate`` test (RFC 7352) do.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["Received", "SmtpServer"]


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipients: tuple[str, ...]  # lower-cased
    data: bytes
    message: EmailMessage = field(repr=False)
    tls: bool = False  # the message came over an encrypted connection
    login: str | None = None  # the user it was authenticated as

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", ""))

    def text(self) -> str:
        """The plain-text part (or the HTML part when there is none)."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        content = part.get_content() if part is not None else ""
        return content if isinstance(content, str) else ""


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        owner = self.owner
        with owner._lock:
            fail = owner._close_after is not None and len(owner.messages) >= owner._close_after
            if fail:
                owner._close_after = None
                owner.closed_421 += 1
        if fail:
            # 421: the server is going away; it closes the channel after the reply.
            asyncio.get_running_loop().call_later(0.01, server.transport.close)
            return "421 4.3.2 service shutting down for the test"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        owner = self.owner
        key = address.lower()
        with owner._lock:
            code = owner._refused.get(key)
            left = owner._refuse_times.get(key)
            if code is not None and left is not None:
                if left <= 0:
                    code = None
                else:
                    owner._refuse_times[key] = left - 1
            if code is not None:
                owner.refusals.append((key, code))
        if code is not None:
            return f"{code} {'4.2.0' if code < 500 else '5.1.1'} refused for the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        owner = self.owner
        if owner._delay:
            await asyncio.sleep(owner._delay)
        with owner._lock:
            drop = owner._drops > 0
            if drop:
                owner._drops -= 1
                owner.dropped += 1
            accept_then_drop = owner._accept_drops > 0
            if accept_then_drop:
                owner._accept_drops -= 1
        if drop:
            server.transport.close()  # before accepting: the message is discarded
            return "421 4.3.0 connection dropped for the test"
        data: bytes = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = message_from_bytes(data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        recipients = tuple(str(r).lower() for r in envelope.rcpt_tos)
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        received = Received(str(envelope.mail_from), recipients, data, parsed, tls, login)
        with owner._lock:
            owner.messages.append(received)
        if accept_then_drop:
            server.transport.close()  # accepted, but the reply never reaches the client
        return "250 OK message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_context(certificate: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    return context


class SmtpServer:
    """SMTP on a free 127.0.0.1 port, in a background thread: plain by default; STARTTLS or
    implicit TLS with ``tls`` and ``certificate``; AUTH with ``users`` (see the module)."""

    def __init__(
        self,
        *,
        tls: str | None = None,
        certificate: trustme.LeafCert | ssl.SSLContext | None = None,
        users: dict[str, str] | None = None,
        auth_require_tls: bool = True,
    ) -> None:
        self._lock = threading.Lock()
        self.messages: list[Received] = []
        self.refusals: list[tuple[str, int]] = []
        self.logins: list[tuple[str, bool]] = []  # (user, accepted)
        self.closed_421 = 0
        self.dropped = 0
        self.tls = tls
        self._users = users
        self._reset_faults()
        self.port = _free_port()
        options: dict[str, Any] = {}
        if tls is not None:
            assert certificate is not None, "TLS needs a certificate"
            context = (
                certificate
                if isinstance(certificate, ssl.SSLContext)
                else server_context(certificate)
            )
            options["ssl_context" if tls == "implicit" else "tls_context"] = context
        if users is not None:
            options.update(
                authenticator=self._authenticate,
                auth_required=True,
                # aiosmtpd counts only STARTTLS as TLS; an implicit-TLS socket is one too.
                auth_require_tls=auth_require_tls and tls != "implicit",
            )
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **options
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self._users is None:
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        accepted = self._users.get(user) == data.password.decode("utf-8", "replace")
        with self._lock:
            self.logins.append((user, accepted))
        return AuthResult(success=accepted, handled=False, auth_data=data.login)

    @property
    def url(self) -> str:
        return self.url_for()

    def url_for(self, user: str | None = None, password: str | None = None) -> str:
        """The smtp_url of this server (with these credentials)."""
        who = f"{user}:{password}@" if user is not None else ""
        if self.tls == "implicit":
            return f"smtps://{who}127.0.0.1:{self.port}"
        suffix = "?starttls=1" if self.tls == "starttls" else ""
        return f"smtp://{who}127.0.0.1:{self.port}{suffix}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- fault injection ----------------------------------------------------------------

    def _reset_faults(self) -> None:
        self._refused: dict[str, int] = {}
        self._refuse_times: dict[str, int] = {}
        self._drops = 0
        self._accept_drops = 0
        self._close_after: int | None = None
        self._delay = 0.0

    def refuse(self, recipient: str, code: int = 550, times: int | None = None) -> None:
        """Answer RCPT TO for ``recipient`` with ``code`` (4xx temporary, 5xx permanent);
        with ``times``, only that often, then accept."""
        with self._lock:
            self._refused[recipient.lower()] = code
            if times is not None:
                self._refuse_times[recipient.lower()] = times

    def drop_at_dot(self, count: int = 1) -> None:
        """Close the connection at the next ``count`` final dots without accepting."""
        with self._lock:
            self._drops += count

    def accept_then_drop(self, count: int = 1) -> None:
        """Accept the next ``count`` messages but close before the 250 reaches the client."""
        with self._lock:
            self._accept_drops += count

    def close_with_421_after(self, accepted: int) -> None:
        """Once ``accepted`` messages were taken, answer the next MAIL with 421 and close."""
        with self._lock:
            self._close_after = accepted

    def slow(self, seconds: float) -> None:
        """Wait this long before answering each DATA command."""
        self._delay = seconds

    def reset(self) -> None:
        """Forget what was received and every fault set."""
        with self._lock:
            self.messages.clear()
            self.refusals.clear()
            self.logins.clear()
            self.closed_421 = 0
            self.dropped = 0
            self._reset_faults()

    # -- reading --------------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` messages, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} messages within {timeout}s, got {len(self.messages)}"
                )
            time.sleep(0.02)

    def to(self, recipient: str) -> list[Received]:
        """The accepted messages for ``recipient``, repeats included, in order."""
        with self._lock:
            return [m for m in self.messages if recipient.lower() in m.recipients]

    def found_in_last(self, recipient: str, pattern: str) -> str:
        """Group 1 of ``pattern`` in the text of the newest message to ``recipient`` (waiting
        for the first message); fails the test when there is no such mail or match."""
        self.wait_for(1)
        messages = self.to(recipient)
        assert messages, f"no mail to {recipient}"
        match = re.search(pattern, messages[-1].text())
        assert match, messages[-1].text()
        return match.group(1)

    def recipients(self) -> Counter[str]:
        """How many messages each recipient was sent (repeats counted)."""
        with self._lock:
            return Counter(r for m in self.messages for r in m.recipients)

    def mailbox(self) -> dict[str, list[Received]]:
        """Per recipient, the messages a mailbox shows (same Message-ID collapsed)."""
        shown: dict[str, list[Received]] = {}
        seen: set[tuple[str, str]] = set()
        with self._lock:
            for item in self.messages:
                for recipient in item.recipients:
                    if (recipient, item.message_id) not in seen:
                        seen.add((recipient, item.message_id))
                        shown.setdefault(recipient, []).append(item)
        return shown
