"""The test SMTP server (tests/support/smtp.py) really speaks SMTP and injects each fault it
offers: what the sign-in mail and the digests are tested against."""

from __future__ import annotations

import socket
import threading
from email.message import EmailMessage

import pytest

from paperroute.mail.transport import MailError, SmtpMailer, connect, parse_smtp_url
from support.smtp import SmtpServer


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "hub@example.org"
    message["To"] = to
    message["Subject"] = "Hello"
    message.set_content("Hi there, https://example.org/x")
    return message


def test_records_and_injects_faults(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer(parse_smtp_url(smtp_server.url, timeout=2.0))
    mailer.send(_message("one@example.org"))
    received = smtp_server.wait_for(1)[0]
    assert received.recipients == ("one@example.org",)
    assert received.message["Subject"] == "Hello" and "https://example.org/x" in received.text()

    smtp_server.refuse("gone@example.org", 550)
    with pytest.raises(MailError) as permanent:
        mailer.send(_message("gone@example.org"))
    assert permanent.value.permanent and permanent.value.code == 550
    smtp_server.refuse("later@example.org", 421)
    with pytest.raises(MailError) as temporary:
        mailer.send(_message("later@example.org"))
    assert not temporary.value.permanent and temporary.value.code == 421
    assert smtp_server.refusals == [("gone@example.org", 550), ("later@example.org", 421)]

    smtp_server.drop_at_dot()
    with pytest.raises(MailError) as dropped:
        mailer.send(_message("two@example.org"))
    assert not dropped.value.permanent
    mailer.send(_message("three@example.org"))  # only the next one was dropped

    smtp_server.slow(3.0)
    with pytest.raises(MailError):
        mailer.send(_message("slow@example.org"))  # the client gives up after 2 s
    smtp_server.reset()
    assert smtp_server.messages == []
    mailer.send(_message("four@example.org"))
    assert [m.recipients for m in smtp_server.wait_for(1)] == [("four@example.org",)]


def test_a_failed_login_closes_the_connection() -> None:
    """A server without AUTH: connect() fails on login and must not leave the socket open
    (the caller never gets the client to close)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5.0)
    port = listener.getsockname()[1]
    closed = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5.0)
            conn.sendall(b"220 test ESMTP\r\n")
            conn.recv(1024)  # EHLO
            conn.sendall(b"250 test\r\n")  # no AUTH offered
            try:
                if conn.recv(1024) == b"":
                    closed.set()
            except TimeoutError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"smtp://user:secret@127.0.0.1:{port}"
        with pytest.raises(MailError, match="offers no AUTH PLAIN or LOGIN") as failed:
            connect(parse_smtp_url(url, timeout=5.0, auth_without_tls=True))
        thread.join(10.0)
        assert closed.is_set(), "the client socket was left open after the failed login"
        assert failed.value is not None  # keeps the traceback (and its frames) alive
    finally:
        listener.close()
