"""Sending one message through SMTP (``smtp://``, ``smtps://``, STARTTLS, auth). Digests build
their pooled, rate-limited delivery on top of ``SmtpSettings``; sign-in links and
confirmations use ``site.outbox.open_mailer(config, db).send``, which also knows the
database outbox of demo mode (``smtp_url = "outbox"``)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import ConfigError, PaperrouteError

OUTBOX = "outbox"


class MailError(PaperrouteError):
    """A message could not be handed over. ``permanent`` for a 5xx reply (do not retry)."""

    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "plain" | "starttls" | "ssl"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


def parse_smtp_url(url: str, *, timeout: float = 30.0) -> SmtpSettings:
    """``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://...``. Raises
    ConfigError naming what is wrong (never echoing the password)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"smtp_url is not a valid URL: {exc}") from None
    if parts.scheme not in {"smtp", "smtps"}:
        raise ConfigError("smtp_url must start with smtp:// or smtps:// (or be 'outbox')")
    if not parts.hostname:
        raise ConfigError("smtp_url has no host")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in {"1", "true", "yes"}
    if parts.scheme == "smtps":
        security, default_port = "ssl", 465
    elif starttls:
        security, default_port = "starttls", 587
    else:
        security, default_port = "plain", 25
    return SmtpSettings(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, authenticated SMTP connection. Raises MailError, having closed the socket
    when the server was reached but TLS or the login failed."""
    client: smtplib.SMTP | None = None
    try:
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
        if settings.username:
            client.login(settings.username, settings.password or "")
    except smtplib.SMTPResponseException as exc:
        _close(client)
        raise _refused(exc, f"SMTP server {settings.host}:{settings.port} refused us") from exc
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        raise MailError(f"cannot reach SMTP server {settings.host}:{settings.port}: {exc}") from exc
    return client


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        client.close()


def _refused(exc: smtplib.SMTPResponseException, what: str) -> MailError:
    """The MailError for an SMTP reply code: 5xx is permanent, anything else worth a retry."""
    code = exc.smtp_code
    return MailError(f"{what}: {code}", permanent=500 <= code < 600, code=code)


class SmtpMailer:
    """One connection per message: right for sign-in links; digests use a pool."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        client = connect(self.settings)
        try:
            client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise MailError(
                f"recipient refused ({codes[0] if codes else '?'})",
                permanent=all(500 <= c < 600 for c in codes),
                code=codes[0] if codes else None,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise _refused(exc, "SMTP server refused the message") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"the SMTP connection failed: {exc}") from exc
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
