"""One SMTP connection of the delivery pool, speaking the transaction step by step so that
the send log can be written between the message's content and its final dot.

Why step by step: a server takes responsibility for a message only when it receives the
final ``CRLF.CRLF`` of DATA (RFC 5321 4.1.1.4); a connection lost before it discards the
message. smtplib's ``sendmail`` sends content and dot in one write, which would leave
no moment at which "everything but the dot has gone" is known. Here the caller's
``before_dot`` hook runs at exactly that moment (the send log records 'committing'), so
after a crash only a message whose dot was written can be in doubt (see docs/digests.md).
"""

from __future__ import annotations

import re
import smtplib
import socket
from collections.abc import Callable

from ..mail.transport import MailError, SmtpSettings, connect

_LEADING_DOT = re.compile(rb"(?m)^\.")


class Rejected(Exception):
    """The server answered with an error code. ``stage``: mail, rcpt, data or dot."""

    def __init__(self, stage: str, code: int, text: str) -> None:
        super().__init__(f"{stage}: {code} {text}")
        self.stage = stage
        self.code = code
        self.text = text

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


class Dropped(Exception):
    """The connection failed. ``after_dot``: the final dot was written and no reply came,
    so the server may have accepted the message (RFC 1047)."""

    def __init__(self, message: str, *, after_dot: bool) -> None:
        super().__init__(message)
        self.after_dot = after_dot


class SmtpSession:
    """Not thread-safe: one per worker thread."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()

    def _abandon(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.close()

    def _reply(self, stage: str, code: int, text: bytes | str, ok: tuple[int, ...]) -> None:
        if code in ok:
            return
        message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        if code == 421 or code < 0:  # the server is closing the channel
            self._abandon()
        elif self.client is not None:
            try:
                self.client.rset()
            except (OSError, smtplib.SMTPException):
                self._abandon()
        raise Rejected(stage, code, message[:300])

    def send(self, sender: str, recipient: str, raw: bytes, before_dot: Callable[[], None]) -> None:
        """Deliver ``raw`` to ``recipient``. Raises MailError (cannot connect), Rejected,
        Dropped; whatever ``before_dot`` raises propagates with the transaction aborted."""
        if self.client is None:
            self.client = connect(self.settings)
            if self.client.sock is not None:
                # The content and the dot go out as two writes with no reply between them:
                # with Nagle's algorithm the dot would wait for the server's delayed ACK
                # (40 ms on Linux), capping a connection at ~25 messages a second.
                self.client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = self.client
        stage = "mail"
        try:
            client.ehlo_or_helo_if_needed()
            code, text = client.mail(sender)
            self._reply("mail", code, text, (250,))
            stage = "rcpt"
            code, text = client.rcpt(recipient)
            self._reply("rcpt", code, text, (250, 251))
            stage = "data"
            client.putcmd("data")
            code, text = client.getreply()
            self._reply("data", code, text, (354,))
            body = _LEADING_DOT.sub(b"..", raw)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            client.send(body)
            try:
                before_dot()
            except BaseException:
                self._abandon()  # closing before the dot: the server discards the message
                raise
            stage = "dot"
            client.send(b".\r\n")
            code, text = client.getreply()
            self._reply("dot", code, text, (250,))
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._abandon()
            raise Dropped(f"connection lost at {stage}: {exc}", after_dot=stage == "dot") from exc
        except smtplib.SMTPException as exc:
            self._abandon()
            raise Dropped(f"SMTP error at {stage}: {exc}", after_dot=stage == "dot") from exc


__all__ = ["Dropped", "MailError", "Rejected", "SmtpSession"]
