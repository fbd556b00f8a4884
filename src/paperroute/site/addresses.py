"""Email addresses a reader or subscriber may give: validated and normalised, or refused with
a reason. The one normaliser of the site: sign-in and digests both use it.

What is accepted is deliberately narrower than RFC 5322: a dot-atom local part of ASCII
letters, digits and ``!#$%&'*+/=?^_`{|}~-`` (no quoted strings, no comments, no spaces) and a
domain of at least two labels. Internationalised domains are accepted and stored in their
ASCII (IDNA, ``xn--``) form; a non-ASCII local part is refused because it needs SMTPUTF8,
which the outgoing server may not offer. So no accepted address can carry CR, LF, a comma, a
quote or an angle bracket into a header.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import InvalidInput

MAX_ADDRESS = 254  # RFC 5321's path limit minus the angle brackets
MAX_LOCAL = 64
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})")


# The same rules as one regular expression, for documents that describe the accepted form
# (the OpenAPI document): an ASCII dot-atom of at most two atoms (so that it stays within
# 64 characters without a look-ahead), an @, a domain of two or more labels.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


class InvalidAddress(InvalidInput):
    """An address that cannot be used, with the reason in the message."""


def normalise_email(text: str) -> str:
    """The address in the one form stored and compared: local part lower-cased, domain
    lower-cased and IDNA-encoded. Raises InvalidAddress naming what is wrong."""
    if not isinstance(text, str):
        raise InvalidAddress("an email address is required")
    if len(text) > 4 * MAX_ADDRESS:
        raise InvalidAddress(f"that is not an email address (longer than {MAX_ADDRESS} characters)")
    value = text.strip()
    if not value:
        raise InvalidAddress("an email address is required")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
        raise InvalidAddress("an email address cannot contain line breaks or control characters")
    if any(ch.isspace() for ch in value):
        raise InvalidAddress("an email address cannot contain spaces")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress("an email address needs a name, an @ and a domain (name@example.org)")
    if not local.isascii():
        raise InvalidAddress(
            "addresses with non-ASCII characters before the @ are not supported "
            "(they need SMTPUTF8); please use an ASCII address"
        )
    if len(local) > MAX_LOCAL or not _LOCAL.fullmatch(local):
        raise InvalidAddress(
            "the part before the @ may hold letters, digits, dots (not first, last or twice "
            "in a row) and !#$%&'*+/=?^_`{|}~- only"
        )
    ascii_domain = _ascii_domain(domain.rstrip(".") if domain.endswith(".") else domain)
    address = f"{local.lower()}@{ascii_domain}"
    if len(address) > MAX_ADDRESS:
        raise InvalidAddress(f"an email address has at most {MAX_ADDRESS} characters")
    return address


def _ascii_domain(domain: str) -> str:
    folded = unicodedata.normalize("NFC", domain).lower()
    if not folded.isascii():
        try:
            folded = folded.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidAddress(
                f"{domain[:60]!r} is not a valid internationalised domain"
            ) from None
    labels = folded.split(".")
    if len(labels) < 2:
        raise InvalidAddress("the domain needs a dot (example.org)")
    if any(not _LABEL.fullmatch(label) for label in labels) or not _TLD.fullmatch(labels[-1]):
        raise InvalidAddress(f"{domain[:60]!r} is not a valid domain")
    if len(folded) > 253:
        raise InvalidAddress("the domain is too long")
    return folded


def display_email(address: str) -> str:
    """The stored address with an IDNA domain shown in Unicode (for pages, never headers)."""
    local, _, domain = address.rpartition("@")
    if "xn--" not in domain:
        return address
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return address


def legacy_form(text: str) -> str | None:
    """The form the first sign-in rules stored (trimmed, lower-cased, IDNA domain), for
    finding an account made before :func:`normalise_email` applied to sign-in too; None
    when ``text`` is not even that (docs/community.md, "Addresses")."""
    if not isinstance(text, str):
        return None
    email = text.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or not local.isascii() or len(email) > MAX_ADDRESS:
        return None
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in email):
        return None
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return None
