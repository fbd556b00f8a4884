"""The headers every message carries, from the settings (docs/mail.md): ``From``, ``Date``,
a ``Message-ID`` on the sender's domain, the optional ``Reply-To`` and ``Sender``, and the
envelope sender (MAIL FROM) that bounces go to, fixed or VERP.

Transactional mail (sign-in links, confirmations, the mail check) is built here and has no
list headers; digests add ``List-Id``, ``List-Unsubscribe``, ``Precedence: bulk`` and
``Auto-Submitted: auto-generated`` (digest/_render.py), which filters file as bulk mail.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from ..config import Config
from ..errors import ConfigError

VERP_MARK = "{recipient}"


def address_of(value: str) -> str:
    """The bare address of a header value like ``paperroute <digest@example.org>``."""
    return parseaddr(value)[1] or value.rpartition("<")[2].rstrip(">").strip()


def mail_domain(config: Config) -> str:
    """The domain of ``mail_from``: Message-IDs are made on it."""
    return address_of(config.mail_from).rpartition("@")[2] or "localhost"


MAX_SETTING = 320  # an address is at most 254 characters; a display name takes the rest


def _valid_address(name: str, value: str) -> str:
    if len(value) > MAX_SETTING or any(not ch.isprintable() for ch in value):
        raise ConfigError(
            f"{name} must be one e-mail address (with an optional name), at most "
            f"{MAX_SETTING} characters without control characters"
        )
    address = address_of(value)
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or not address.isascii()
        or any(ch.isspace() or ch in '<>"\\,;' or not ch.isprintable() for ch in address)
    ):
        raise ConfigError(f"{name} is not an e-mail address: {value!r}")
    return address


def envelope_sender(config: Config, recipient: str) -> str:
    """MAIL FROM for a message to ``recipient``: ``mail_return_path`` (``{recipient}`` in it
    becomes ``local=domain`` of the recipient, VERP), else ``mail_from``'s address.
    Raises ConfigError for a return path that is not an address."""
    template = config.mail_return_path
    if not template:
        return address_of(config.mail_from)
    if VERP_MARK in template:
        if template.count(VERP_MARK) > 1 or VERP_MARK in template.rpartition("@")[2]:
            raise ConfigError("mail_return_path holds {recipient} once, before the @")
        _valid_address("mail_return_path", template.replace(VERP_MARK, "x"))
        return template.replace(VERP_MARK, recipient.strip().lower().replace("@", "="))
    return _valid_address("mail_return_path", template)


def check_settings(config: Config) -> None:
    """Raises ConfigError when a header setting is not an address (checked before a run)."""
    _valid_address("mail_from", config.mail_from)
    for name in ("mail_reply_to", "mail_sender"):
        value = getattr(config, name)
        if value:
            _valid_address(name, value)
    envelope_sender(config, "someone@example.org")


def new_message(config: Config, to: str, subject: str, now: dt.datetime) -> EmailMessage:
    """A transactional message with every header but its body. Raises ConfigError for a
    header setting that is not an address."""
    check_settings(config)
    message = EmailMessage()
    try:
        message["From"] = config.mail_from
        if config.mail_sender:
            message["Sender"] = config.mail_sender
        if config.mail_reply_to:
            message["Reply-To"] = config.mail_reply_to
    except (ValueError, IndexError, TypeError) as exc:
        raise ConfigError(f"a mail_* setting is not a valid address: {exc}") from None
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = make_msgid(domain=mail_domain(config))
    return message


__all__ = [
    "address_of",
    "check_settings",
    "envelope_sender",
    "mail_domain",
    "new_message",
]
