"""A digest as an email: HTML with inline CSS in a table layout, a plain-text part, and the
headers of RFC 8058 one-click unsubscribe.

Everything a paper or a subscriber contributes goes into the bodies, escaped; the headers
hold only the validated address, our own words, numbers, dates and signed tokens (base64url),
so no field can inject a header. email.policy.SMTP refuses CR/LF in header values anyway.
A message is a pure function of (run, subscriber, papers, picks): a digest re-sent after a
crash is byte-for-byte the same message, Message-ID included.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from dataclasses import dataclass
from email.utils import format_datetime

from ..config import Config
from ..errors import ConfigError
from ..ids import try_arxiv_id
from ..links import http_url, paper_path
from ..mail.headers import address_of, mail_domain
from ..reading import Card
from ..site.addresses import display_email
from . import _links as links
from . import _style as style
from ._mime import assemble, encoded_header
from .model import WEEKDAYS, Pick, Subscriber

SITE = "paperroute"
FOR_YOU = "For you"
FOR_YOU_NOTE = "Picked for you from your upvotes, saved papers, library and seed papers."
ABSTRACT_CHARS = 320
MAX_AUTHORS = 6


def mail_address(config: Config) -> str:
    return address_of(config.mail_from)


def message_id(config: Config, secret: str, run_pk: int, subscriber_pk: int) -> str:
    """Stable per (run, subscriber): a resend after a crash carries the same id, so the
    receiving mailbox can recognise it (see docs/digests.md)."""
    tag = hashlib.sha256(f"{secret}:{run_pk}:{subscriber_pk}".encode()).hexdigest()[:12]
    return f"<digest.{run_pk}.{subscriber_pk}.{tag}@{mail_domain(config)}>"


def _short(text: str, limit: int = ABSTRACT_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "..."


def _authors(card: Card) -> str:
    names = list(card.authors[:MAX_AUTHORS])
    more = len(card.authors) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _pdf(card: Card) -> str | None:
    if card.pdf_url:
        return card.pdf_url
    return f"https://arxiv.org/pdf/{card.id}" if try_arxiv_id(card.id) else None


def _ascii(html_text: str) -> str:
    """Every non-ASCII character as a character reference: the HTML part then travels as
    7bit, with no transfer encoding to compute."""
    if html_text.isascii():
        return html_text
    return html_text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _short_lines(html_text: str) -> bool:
    return all(len(line) <= 990 for line in html_text.split("\r\n"))


@dataclass(frozen=True, slots=True)
class Rendered:
    """One digest, ready for the wire (``raw``: CRLF line ends, headers and both parts)."""

    to: str
    subject: str
    message_id: str
    papers: int
    html: str
    raw: bytes
    # False for a preview made without a secret key: its manage and unsubscribe links are
    # signed with a throwaway key and lead nowhere.
    links_work: bool = True
    # A preview's word on the For-you section: why there is none, or what it leaves out.
    for_you_note: str | None = None


class Renderer:
    """Renders digests of one run; caches each paper's HTML and text (shared by every
    subscriber who gets it). Thread-safe: the cache only ever gains identical values."""

    def __init__(self, config: Config, secret: str) -> None:
        self.config = config
        self.secret = secret
        self.base = config.base_url.rstrip("/")
        self.domain = mail_domain(config)
        self.reply = mail_address(config)
        # Per paper: HTML (ASCII, CRLF after each block) and whether its lines fit SMTP's.
        self._html: dict[int, tuple[str, bool]] = {}
        self._text: dict[int, str] = {}
        try:
            self.from_header = encoded_header("From", config.mail_from)
            # Optional headers from the settings, encoded once: (name, value) pairs.
            optional = (("Sender", config.mail_sender), ("Reply-To", config.mail_reply_to))
            self.extra_headers = [
                (name, encoded_header(name, value)) for name, value in optional if value
            ]
        except (ValueError, TypeError, IndexError) as exc:
            raise ConfigError(
                f"mail_from, mail_sender or mail_reply_to is not a valid address: {exc}"
            ) from None
        if (
            not self.base.startswith(("https://", "http://"))
            or not self.base.isprintable()
            or (any(ch.isspace() or ch in '<>"' for ch in self.base))
        ):
            raise ConfigError("base_url must be an http(s) URL without spaces or quotes")

    def page_url(self, card: Card) -> str:
        return f"{self.base}{paper_path(card.id)}"

    def _paper_html(self, card: Card) -> tuple[str, bool]:
        cached = self._html.get(card.pk)
        if cached is not None:
            return cached
        e = html.escape
        links_html = [f'<a href="{e(self.page_url(card))}" style="{style.LINK}">Paper page</a>']
        pdf = http_url(_pdf(card))
        if pdf:
            links_html.append(f'<a href="{e(pdf)}" style="{style.LINK}">PDF</a>')
        code = http_url(card.code_url)
        if code:
            stars = f" ★ {card.code_stars:,}" if card.code_stars else ""
            links_html.append(f'<a href="{e(code)}" style="{style.LINK}">Code{stars}</a>')
        votes = (
            f' &nbsp;·&nbsp; <span style="{style.AUTHORS}">▲ {card.upvotes}</span>'
            if card.upvotes
            else ""
        )
        body = _ascii(
            f'<a href="{e(self.page_url(card))}" style="{style.TITLE}">{e(card.title)}</a>\r\n'
            f'<p style="{style.AUTHORS}">{e(_authors(card))}</p>\r\n'
            f'<p style="{style.ABSTRACT}">{e(_short(card.abstract))}</p>\r\n'
            f'<p style="margin:6px 0 0 0">{" &nbsp;·&nbsp; ".join(links_html)}{votes}</p>'
            "</td></tr>\r\n"
        )
        found = (body, _short_lines(body))
        self._html[card.pk] = found
        return found

    def _paper_text(self, card: Card) -> str:
        cached = self._text.get(card.pk)
        if cached is not None:
            return cached
        lines = [card.title, f"  {_authors(card)}", f"  {_short(card.abstract)}"]
        lines.append(f"  Page: {self.page_url(card)}")
        pdf = http_url(_pdf(card))
        if pdf:
            lines.append(f"  PDF:  {pdf}")
        code = http_url(card.code_url)
        if code:
            lines.append(f"  Code: {code}")
        text = "\r\n".join(lines)
        self._text[card.pk] = text
        return text

    def subject(self, day: dt.date, count: int) -> str:
        when = f"{WEEKDAYS[day.weekday()][:3]} {day.day} {day:%b %Y}"
        if count == 0:
            return f"{SITE} digest, {when}: nothing new"
        return f"{SITE} digest, {when}: {count} paper{'s' if count != 1 else ''}"

    def message(
        self,
        subscriber: Subscriber,
        picks: list[Pick],
        cards: dict[int, Card],
        *,
        day: dt.date,
        message_id: str,
        sent_at: dt.datetime,
        links_issued: dt.datetime | None = None,
    ) -> Rendered:
        shown = [(pick, cards[pick.paper_pk]) for pick in picks if pick.paper_pk in cards]
        # The main list first, then the For-you section (planning appends it; a row of an
        # older run has none).
        shown.sort(key=lambda item: item[0].section == "for_you")
        # Signed as of the run's start, not the clock: a resent digest has the same bytes.
        issued = (links_issued or sent_at).timestamp()
        unsubscribe = links.make_token(
            self.secret, "unsubscribe", subscriber.pk, subscriber.email, now=issued
        )
        manage = links.make_token(
            self.secret, "manage", subscriber.pk, subscriber.email, now=issued
        )
        unsubscribe_url = links.link(self.base, "/unsubscribe/", unsubscribe)
        manage_url = links.link(self.base, "/subscription/", manage)
        subject = self.subject(day, len(shown))
        headers = [
            ("From", self.from_header),
            *self.extra_headers,
            ("To", subscriber.email),
            ("Subject", subject),
            ("Date", format_datetime(sent_at.astimezone(dt.UTC))),
            ("Message-ID", message_id),
            ("List-Id", f"{SITE} digest <digest.{self.domain}>"),
            (
                "List-Unsubscribe",
                f"<{unsubscribe_url}>, <mailto:{self.reply}?subject=unsubscribe%20{unsubscribe}>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Auto-Submitted", "auto-generated"),
            ("Precedence", "bulk"),
        ]
        text = self._text_body(subscriber, shown, subject, manage_url, unsubscribe_url)
        body, short = self.html(subscriber, shown, subject, manage_url, unsubscribe_url)
        return Rendered(
            to=subscriber.email,
            subject=subject,
            message_id=message_id,
            papers=len(shown),
            html=body,
            raw=assemble(headers, text, body, html_wire_ready=short),
        )

    def _why(self, subscriber: Subscriber) -> str:
        prefs = subscriber.prefs
        when = {
            "weekdays": "every weekday",
            "daily": "every day",
            "weekly": f"every {WEEKDAYS[prefs.weekday]}",
        }[prefs.frequency]
        return f"You get this digest {when} at {prefs.send_hour:02d}:00 ({prefs.timezone})."

    def _text_body(
        self,
        subscriber: Subscriber,
        shown: list[tuple[Pick, Card]],
        subject: str,
        manage_url: str,
        unsubscribe_url: str,
    ) -> str:
        parts = [subject, "-" * min(len(subject), 72), ""]
        if not shown:
            parts += ["No new papers matched your choices since your last digest.", ""]
        heading_done = False
        for number, (pick, card) in enumerate(shown, 1):
            if pick.section == "for_you" and not heading_done:
                heading_done = True
                parts += [FOR_YOU, "=" * len(FOR_YOU), FOR_YOU_NOTE, ""]
            parts.append(f"{number}. [{pick.reason}]")
            parts.append(self._paper_text(card))
            parts.append("")
        parts += [
            "-- ",
            self._why(subscriber),
            f"Change what you get: {manage_url}",
            f"Unsubscribe: {unsubscribe_url}",
        ]
        return "\r\n".join(parts) + "\r\n"

    def html(
        self,
        subscriber: Subscriber,
        shown: list[tuple[Pick, Card]],
        subject: str,
        manage_url: str,
        unsubscribe_url: str,
    ) -> tuple[str, bool]:
        """The HTML part (ASCII, a CRLF after each block) and whether every line is short
        enough to send it without a transfer encoding."""
        e = html.escape
        short = True
        rows: list[str] = []
        heading_done = False
        for pick, card in shown:
            if pick.section == "for_you" and not heading_done:
                heading_done = True
                rows.append(
                    '<tr><td style="padding:18px 0 4px 0;border-top:2px solid #d8dee4">'
                    f'<h2 style="{style.SECTION}">{FOR_YOU}</h2>\r\n'
                    f'<p style="{style.SUBTLE}">{e(FOR_YOU_NOTE)}</p></td></tr>\r\n'
                )
            body, fits = self._paper_html(card)
            short = short and fits
            reason = _ascii(e(pick.reason))
            rows.append(
                '<tr><td style="padding:14px 0;border-top:1px solid #d8dee4">'
                f'<span style="{style.REASON}">{reason}</span><br>\r\n{body}'
            )
        if not rows:
            rows.append(
                f'<tr><td style="{style.ABSTRACT}">No new papers matched your choices since '
                "your last digest.</td></tr>\r\n"
            )
        head = _ascii(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">\r\n'
            '<meta name="viewport" content="width=device-width">\r\n'
            f"<title>{e(subject)}</title></head>\r\n"
            f'<body style="{style.PAGE}">\r\n'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
            'style="background:#f4f5f7;table-layout:fixed"><tr>'
            '<td align="center" style="padding:16px 8px">\r\n'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
            f'style="{style.CARD}"><tr><td>\r\n'
            f'<h1 style="{style.HEADING}">{e(subject)}</h1>\r\n'
            f'<p style="{style.SUBTLE}">For {e(display_email(subscriber.email))}</p>\r\n'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0">\r\n'
        )
        foot = _ascii(
            "</table>\r\n"
            f'<hr style="{style.RULE}">\r\n<p style="{style.FOOTER}">{e(self._why(subscriber))}'
            f'<br>\r\n<a href="{e(manage_url)}" style="{style.LINK}">Change what you get</a>'
            f' &nbsp;&#183;&nbsp; <a href="{e(unsubscribe_url)}" style="{style.LINK}">'
            "Unsubscribe</a></p>\r\n</td></tr></table></td></tr></table></body></html>\r\n"
        )
        short = short and _short_lines(head) and _short_lines(foot)
        short = short and all(len(row.split("\r\n", 1)[0]) <= 990 for row in rows)
        return head + "".join(rows) + foot, short
