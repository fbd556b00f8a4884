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

``messages`` records every message the server accepted (a 250 after the dot), in order.
``mailbox()`` is what a recipient's mailbox shows: messages with the same Message-ID for the
same recipient collapsed into one, as Gmail, Cyrus IMAP (duplicate delivery suppression) and
Sieve's ``duplicate`` test (RFC 7352) do.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller

__all__ = ["Received", "SmtpServer"]


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipients: tuple[str, ...]  # lower-cased
    data: bytes
    message: EmailMessage = field(repr=False)

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
        with owner._lock:
            owner.messages.append(Received(str(envelope.mail_from), recipients, data, parsed))
        if accept_then_drop:
            server.transport.close()  # accepted, but the reply never reaches the client
        return "250 OK message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """Plain SMTP (no TLS, no auth) on a free 127.0.0.1 port, in a background thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[Received] = []
        self.refusals: list[tuple[str, int]] = []
        self.closed_421 = 0
        self.dropped = 0
        self._reset_faults()
        self.port = _free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

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
