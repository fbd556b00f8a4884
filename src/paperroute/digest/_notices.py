"""The short transactional mails of subscribing: the confirmation link, and the note that an
address is already subscribed (so that subscribing someone else's address changes nothing)."""

from __future__ import annotations

import html
from datetime import datetime
from email.message import EmailMessage

from ..config import Config
from ..mail.headers import new_message
from ._style import BUTTON, CARD, PAGE

_SITE = "paperroute"


def _message(
    config: Config, to: str, subject: str, text: str, body_html: str, now: datetime
) -> EmailMessage:
    message = new_message(config, to, subject, now)
    message.set_content(text)
    message.add_alternative(_wrap(body_html), subtype="html")
    return message


def _wrap(inner: str) -> str:
    return (
        '<!DOCTYPE html><html><body style="' + PAGE + '">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr>'
        f'<td align="center"><table role="presentation" width="560" style="{CARD}"><tr><td>'
        f"{inner}</td></tr></table></td></tr></table></body></html>"
    )


def confirmation(
    config: Config, to: str, confirm_url: str, now: datetime, *, resubscribe: bool
) -> EmailMessage:
    """The double opt-in mail: nothing is sent to ``to`` until ``confirm_url`` is followed."""
    note = (
        "This address unsubscribed (or was suppressed) earlier: it gets nothing from us again "
        "until this link is followed.\n\n"
        if resubscribe
        else ""
    )
    text = (
        f"Someone (hopefully you) asked to receive {_SITE} paper digests at {to}.\n\n"
        f"{note}Confirm with this link (valid for 7 days):\n{confirm_url}\n\n"
        "If it was not you, ignore this message: nothing will be sent.\n"
    )
    body = (
        f"<p>Someone (hopefully you) asked to receive {_SITE} paper digests at "
        f"<strong>{html.escape(to)}</strong>.</p>"
        + (f"<p>{html.escape(note.strip())}</p>" if note else "")
        + f'<p><a href="{html.escape(confirm_url)}" style="{BUTTON}">'
        "Confirm my subscription</a></p>"
        "<p>The link is valid for 7 days. If it was not you, ignore this message: nothing will "
        "be sent.</p>"
    )
    return _message(config, to, f"Confirm your {_SITE} digest subscription", text, body, now)


def already_subscribed(config: Config, to: str, manage_url: str, now: datetime) -> EmailMessage:
    text = (
        f"Someone asked to subscribe {to} to {_SITE} digests, but this address already "
        f"receives them. Nothing changed.\n\nTo change or stop your digest:\n{manage_url}\n"
    )
    body = (
        f"<p>Someone asked to subscribe <strong>{html.escape(to)}</strong> to {_SITE} "
        "digests, but this address already receives them. Nothing changed.</p>"
        f'<p><a href="{html.escape(manage_url)}" style="{BUTTON}">Manage my digest</a></p>'
    )
    return _message(config, to, f"Your {_SITE} digest subscription", text, body, now)
