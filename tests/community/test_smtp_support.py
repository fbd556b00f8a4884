"""The test SMTP server (tests/support/smtp.py) really speaks SMTP and injects each fault it
offers: what the sign-in mail and the digests are tested against."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from paperroute.mail.transport import MailError, SmtpMailer, parse_smtp_url
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
