"""A recording SMTP server for digest delivery tests, with the faults delivery must survive:
421 in the middle of a run, a connection dropped at the final dot (accepted or not),
permanent (550) and temporary (450) refusals of one recipient, and a slow server.

``transactions`` records every message the server accepted (a 250 after the dot), in
order. ``mailbox()`` is what a recipient's mailbox shows: messages with the same Message-ID
for the same recipient collapsed into one, as Gmail, Cyrus IMAP (duplicate delivery
suppression) and Sieve's ``duplicate`` test (RFC 7352) do.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Accepted:
    recipient: str
    message_id: str
    data: bytes


class _Handler:
    def __init__(self, owner: DigestSmtp) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        owner = self.owner
        with owner.lock:
            owner.mail_commands += 1
            fail = owner._close_after is not None and owner._accepted_total >= owner._close_after
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
        with owner.lock:
            code = owner.refused.get(address.lower())
            left = owner._refuse_times.get(address.lower())
            if code is not None and left is not None:
                if left <= 0:
                    code = None
                else:
                    owner._refuse_times[address.lower()] = left - 1
            if code is not None:
                owner.refusals.append((address.lower(), code))
        if code is not None:
            return f"{code} {'4.2.0' if code < 500 else '5.1.1'} refused for the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        owner = self.owner
        if owner.delay:
            await asyncio.sleep(owner.delay)
        with owner.lock:
            drop = owner._drops > 0
            if drop:
                owner._drops -= 1
                owner.dropped += 1
            accept_then_drop = owner._accept_drops > 0
            if accept_then_drop:
                owner._accept_drops -= 1
        if drop:
            server.transport.close()  # before accepting: the message is discarded
            return "421 4.3.0 dropped for the test"
        data: bytes = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = message_from_bytes(data, policy=policy.default)
        message_id = str(parsed.get("Message-ID", ""))
        with owner.lock:
            for recipient in envelope.rcpt_tos:
                owner.transactions.append(Accepted(recipient.lower(), message_id, data))
            owner._accepted_total += 1
        if accept_then_drop:
            server.transport.close()  # accepted, but the reply never reaches the client
        return "250 OK accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DigestSmtp:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.transactions: list[Accepted] = []
        self.refusals: list[tuple[str, int]] = []
        self.refused: dict[str, int] = {}
        self._refuse_times: dict[str, int] = {}
        self.mail_commands = 0
        self.closed_421 = 0
        self.dropped = 0
        self.delay = 0.0
        self._drops = 0
        self._accept_drops = 0
        self._close_after: int | None = None
        self._accepted_total = 0
        self.port = _free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()

    # -- faults ---------------------------------------------------------------------------

    def refuse(self, recipient: str, code: int = 550, times: int | None = None) -> None:
        """Answer RCPT TO for ``recipient`` with ``code`` (``times``: only that often)."""
        with self.lock:
            self.refused[recipient.lower()] = code
            if times is not None:
                self._refuse_times[recipient.lower()] = times

    def close_with_421_after(self, accepted: int) -> None:
        """Once ``accepted`` messages were taken, answer the next MAIL with 421 and close."""
        with self.lock:
            self._close_after = accepted

    def drop_at_dot(self, count: int = 1) -> None:
        """Close the connection at the next ``count`` final dots without accepting."""
        with self.lock:
            self._drops += count

    def accept_then_drop(self, count: int = 1) -> None:
        """Accept the next ``count`` messages but close before the 250 reaches the client."""
        with self.lock:
            self._accept_drops += count

    # -- reading --------------------------------------------------------------------------

    def recipients(self) -> Counter[str]:
        with self.lock:
            return Counter(t.recipient for t in self.transactions)

    def mailbox(self) -> dict[str, list[Accepted]]:
        """Per recipient, the messages a mailbox shows (same Message-ID collapsed)."""
        shown: dict[str, list[Accepted]] = {}
        seen: set[tuple[str, str]] = set()
        with self.lock:
            for item in self.transactions:
                key = (item.recipient, item.message_id)
                if key in seen:
                    continue
                seen.add(key)
                shown.setdefault(item.recipient, []).append(item)
        return shown
