"""``paperroute mail check``: connect, negotiate TLS, sign in and optionally send a test
message, recording each step, so that a self-hoster sees which one fails and why. The same
check, without a message, is what a readiness probe can call (``Hub.check_mail()``)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from .transport import MailError, SmtpSettings, _refused, connect


@dataclass(frozen=True, slots=True)
class MailStep:
    name: str  # config, outbox, connect, tls, auth, send
    ok: bool
    detail: str


@dataclass(slots=True)
class MailCheck:
    steps: list[MailStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.steps.append(MailStep(name, ok, detail))


def check_smtp(
    settings: SmtpSettings, *, message: EmailMessage | None = None, envelope_from: str = ""
) -> MailCheck:
    """Every step up to the first failure. ``message``: also send it (MAIL FROM
    ``envelope_from``). Never raises MailError: a failure is the last step."""
    result = MailCheck()
    step = "connect"

    def done(name: str, detail: str) -> None:
        nonlocal step
        result.add(name, True, detail)
        step = {"connect": "tls" if settings.security != "plain" else "auth", "tls": "auth"}.get(
            name, "send"
        )

    try:
        client = connect(settings, done)
    except MailError as exc:
        result.add(_failed_step(exc, step), False, str(exc))
        return result
    if not settings.username:
        result.add("auth", True, "no user in smtp_url: not signing in")
    try:
        if message is not None:
            to = str(message.get("To", ""))
            try:
                client.send_message(message, from_addr=envelope_from or None)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = ", ".join(str(code) for code, _ in exc.recipients.values())
                result.add("send", False, f"the server refused the recipient {to} ({codes})")
            except smtplib.SMTPResponseException as exc:
                result.add("send", False, str(_refused(exc, "the server refused the message")))
            except (OSError, smtplib.SMTPException) as exc:
                result.add("send", False, f"the connection failed while sending: {exc}")
            else:
                result.add("send", True, f"test message accepted for {to}")
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return result


def _failed_step(exc: MailError, expected: str) -> str:
    return {"connect": "connect", "tls": "tls", "auth": "auth"}.get(exc.kind, expected)
