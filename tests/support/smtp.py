"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives, with faults on
demand, for testing sign-in mail and digest delivery.

Usage::

    with SmtpServer() as server:          # or the ``smtp_server`` fixture
        config = Config(smtp_url=server.url, ...)
        server.refuse("bounce@example.org", 550)   # permanent refusal of one recipient
        server.refuse("later@example.org", 421)    # temporary refusal
        server.drop_next(1)                         # close the connection at the next DATA
        server.slow(2.0)                            # wait before answering DATA
        ...
        message = server.wait_for(1)[0].message    # email.message.EmailMessage
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
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
    recipients: tuple[str, ...]
    data: bytes
    message: EmailMessage = field(repr=False)

    def text(self) -> str:
        """The plain-text part (or the HTML part when there is none)."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        content = part.get_content() if part is not None else ""
        return content if isinstance(content, str) else ""


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        code = self.owner._refused.get(address.lower())
        if code is not None:
            self.owner.refusals.append((address, code))
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
        if drop:
            server.transport.close()
            return "421 4.3.0 connection dropped for the test"
        data: bytes = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = message_from_bytes(data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        received = Received(
            str(envelope.mail_from), tuple(str(r) for r in envelope.rcpt_tos), data, parsed
        )
        with owner._lock:
            owner.messages.append(received)
        return "250 OK message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """Plain SMTP (no TLS, no auth) on a free 127.0.0.1 port, in a background thread."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refusals: list[tuple[str, int]] = []
        self._refused: dict[str, int] = {}
        self._drops = 0
        self._delay = 0.0
        self._lock = threading.Lock()
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

    def refuse(self, recipient: str, code: int = 550) -> None:
        """Answer RCPT TO for ``recipient`` with ``code`` (4xx temporary, 5xx permanent)."""
        self._refused[recipient.lower()] = code

    def drop_next(self, count: int = 1) -> None:
        """Close the connection instead of answering the next ``count`` DATA commands."""
        with self._lock:
            self._drops += count

    def slow(self, seconds: float) -> None:
        """Wait this long before answering each DATA command."""
        self._delay = seconds

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refusals.clear()
            self._refused.clear()
            self._drops = 0
            self._delay = 0.0

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
        with self._lock:
            return [
                m for m in self.messages if recipient.lower() in (r.lower() for r in m.recipients)
            ]
