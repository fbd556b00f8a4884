"""Sending one message through SMTP (``smtp://``, ``smtps://``, STARTTLS, auth). Digests build
their pooled, rate-limited delivery on top of ``SmtpSettings`` and :func:`connect`; sign-in
links and confirmations use ``site.outbox.open_mailer(config, db).send``, which also knows
the database outbox of demo mode (``smtp_url = "outbox"``).

The rules of a connection (docs/mail.md): the server's certificate and host name are always
verified (against ``smtp_ca_file`` when set, else the system's authorities); STARTTLS asked
for and not offered is an error, never a silent fall back to plain text; AUTH (PLAIN or
LOGIN) goes over TLS only, unless ``smtp_auth_without_tls`` says the relay is local.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from ..config import Config
from ..errors import ConfigError, PaperrouteError

OUTBOX = "outbox"
CA_HINT = (
    "if the server's certificate comes from a private certificate authority, name its PEM "
    "bundle in smtp_ca_file (PAPERROUTE_SMTP_CA_FILE)"
)
PLAIN_AUTH_REFUSED = (
    "smtp_url has a user name but no TLS: the password would cross the network in clear "
    "text. Use smtps:// or ?starttls=1, or set smtp_auth_without_tls = true for a relay on "
    "this machine"
)


class MailError(PaperrouteError):
    """A message could not be handed over. ``permanent`` for a 5xx reply (do not retry).
    ``kind``: ``connect`` (server unreachable), ``tls`` (TLS refused, certificate invalid,
    STARTTLS not offered), ``auth`` (login refused or impossible) or ``send`` (the
    transaction failed). A ``tls`` or ``auth`` error fails every message alike, so a digest
    run stops at it (:attr:`stops_run`)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        code: int | None = None,
        kind: str = "send",
    ):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.kind = kind

    @property
    def stops_run(self) -> bool:
        return self.kind in {"tls", "auth"}


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
    ca_file: str = ""  # PEM bundle of the authorities to trust; "" = the system's
    auth_without_tls: bool = False

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp_url(
    url: str, *, timeout: float = 30.0, ca_file: str = "", auth_without_tls: bool = False
) -> SmtpSettings:
    """``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://...``. Raises
    ConfigError naming what is wrong (never echoing the password), and for credentials
    over plain text unless ``auth_without_tls``."""
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
    username = unquote(parts.username) if parts.username else None
    if username and security == "plain" and not auth_without_tls:
        raise ConfigError(PLAIN_AUTH_REFUSED)
    return SmtpSettings(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=username,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
        ca_file=ca_file,
        auth_without_tls=auth_without_tls,
    )


def smtp_settings(config: Config) -> SmtpSettings:
    """The settings ``config`` names (``smtp_url`` must be an SMTP URL, not the outbox).
    Raises ConfigError, also when ``smtp_ca_file`` cannot be read."""
    settings = parse_smtp_url(
        config.smtp_url,
        timeout=config.http_timeout,
        ca_file=config.smtp_ca_file,
        auth_without_tls=config.smtp_auth_without_tls,
    )
    if settings.ca_file:
        try:
            tls_context(settings)
        except MailError as exc:
            raise ConfigError(str(exc)) from None
    return settings


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """Certificate and host name verified; TLS 1.2 at least. Raises MailError (``tls``)
    when ``ca_file`` is not a readable PEM bundle."""
    try:
        context = ssl.create_default_context(cafile=settings.ca_file or None)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise MailError(
            f"smtp_ca_file {settings.ca_file!r} is not a readable PEM bundle of certificates: "
            f"{getattr(exc, 'strerror', None) or exc}",
            permanent=True,
            kind="tls",
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


Step = Callable[[str, str], None]  # (name, what happened), called after each step succeeds


def _ignore(_name: str, _detail: str) -> None:
    return None


def _reply_text(text: bytes | str) -> str:
    return (text.decode("utf-8", "replace") if isinstance(text, bytes) else text)[:200]


def _tls_detail(client: smtplib.SMTP, settings: SmtpSettings) -> str:
    sock = client.sock
    version = sock.version() if isinstance(sock, ssl.SSLSocket) else None
    trusted = settings.ca_file or "the system's certificate authorities"
    return f"{version or 'TLS'}; certificate of {settings.host} verified against {trusted}"


def _tls_error(exc: ssl.SSLError, settings: SmtpSettings) -> MailError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailError(
            f"the TLS certificate of SMTP server {settings.where} was refused "
            f"({exc.verify_message or exc.reason}): {CA_HINT}",
            permanent=True,
            kind="tls",
        )
    return MailError(
        f"TLS with SMTP server {settings.where} failed ({exc.reason or exc}); check that "
        "smtps:// is for a port speaking TLS at once (465) and ?starttls=1 for one that "
        "upgrades (587)",
        permanent=True,
        kind="tls",
    )


def connect(settings: SmtpSettings, on_step: Step = _ignore) -> smtplib.SMTP:
    """An open, authenticated SMTP connection; ``on_step(name, detail)`` hears of each step
    done (connect, tls, auth). Raises MailError, having closed the socket."""
    client: smtplib.SMTP | None = None
    try:
        if settings.security == "ssl":
            context = tls_context(settings)
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
            on_step("connect", f"connected to {settings.where} (implicit TLS)")
            on_step("tls", _tls_detail(client, settings))
            client.ehlo()
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            on_step("connect", f"connected to {settings.where}")
            client.ehlo()
            if settings.security == "starttls":
                _starttls(client, settings)
                on_step("tls", "STARTTLS: " + _tls_detail(client, settings))
        if settings.username:
            on_step("auth", _login(client, settings))
    except MailError:
        _close(client)
        raise
    except ssl.SSLError as exc:  # before OSError: SSLError is one
        _close(client)
        raise _tls_error(exc, settings) from exc
    except smtplib.SMTPResponseException as exc:
        _close(client)
        raise _refused(exc, f"SMTP server {settings.where} refused us") from exc
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        raise MailError(
            f"cannot reach SMTP server {settings.where}: {exc}", kind="connect"
        ) from exc
    return client


def _starttls(client: smtplib.SMTP, settings: SmtpSettings) -> None:
    if not client.has_extn("starttls"):
        raise MailError(
            f"SMTP server {settings.where} does not offer STARTTLS, which smtp_url asks for "
            "(?starttls=1): refusing to go on in plain text",
            permanent=True,
            kind="tls",
        )
    code, text = client.starttls(context=tls_context(settings))
    if code != 220:
        raise MailError(
            f"SMTP server {settings.where} refused STARTTLS ({code} {_reply_text(text)}): "
            "refusing to go on in plain text",
            permanent=500 <= code < 600,
            code=code,
            kind="tls",
        )
    client.ehlo()  # the capabilities before TLS are void (RFC 3207 4.2)


def _login(client: smtplib.SMTP, settings: SmtpSettings) -> str:
    """AUTH PLAIN or LOGIN; returns what was done. Raises MailError (``auth``)."""
    if settings.security == "plain" and not settings.auth_without_tls:
        raise MailError(PLAIN_AUTH_REFUSED, permanent=True, kind="auth")
    offered = (client.esmtp_features.get("auth") or "").upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise MailError(
            f"SMTP server {settings.where} offers no AUTH PLAIN or LOGIN (it offers "
            f"{' '.join(offered) or 'no AUTH at all'}), but smtp_url names a user",
            permanent=True,
            kind="auth",
        )
    client.user, client.password = settings.username or "", settings.password or ""
    authobject = client.auth_plain if mechanism == "PLAIN" else client.auth_login
    try:
        client.auth(mechanism, authobject, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"SMTP server {settings.where} refused the login of {settings.username!r} "
            f"({exc.smtp_code} {_reply_text(exc.smtp_error)}): check the user name and "
            "password in smtp_url",
            permanent=500 <= exc.smtp_code < 600,
            code=exc.smtp_code,
            kind="auth",
        ) from exc
    return f"AUTH {mechanism} as {settings.username}"


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        client.close()


def _refused(exc: smtplib.SMTPResponseException, what: str) -> MailError:
    """The MailError for an SMTP reply code: 5xx is permanent, anything else worth a retry."""
    code = exc.smtp_code
    return MailError(f"{what}: {code}", permanent=500 <= code < 600, code=code)


class SmtpMailer:
    """One connection per message: right for sign-in links; digests use a pool.
    ``envelope_from(recipient)`` gives MAIL FROM (default: from the message's headers)."""

    def __init__(
        self, settings: SmtpSettings, envelope_from: Callable[[str], str] | None = None
    ) -> None:
        self.settings = settings
        self.envelope_from = envelope_from

    def send(self, message: EmailMessage) -> None:
        client = connect(self.settings)
        sender = None
        if self.envelope_from is not None:
            sender = self.envelope_from(str(message.get("To", "")))
        try:
            client.send_message(message, from_addr=sender)
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
