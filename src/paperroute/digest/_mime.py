"""Assembling a digest's MIME bytes directly: multipart/alternative, text then HTML.

The email package takes ~2 ms per digest (header objects, folding, a line-by-line
generator); a run renders 100,000 of them, so this module writes the few headers a digest
has and the bodies itself (~0.1 ms). It is deliberately small: every header value must be
ASCII without CR or LF (checked here, so a bug elsewhere fails loudly instead of injecting a
header), long values are folded at spaces, and the result is parsed back by the email
package in the tests. Anything with user-chosen header text (the From display name) is
encoded once with the email package (see :func:`encoded_header`).
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP

MAX_LINE = 998
FOLD_AT = 78


class HeaderError(ValueError):
    """A header value that would break the message (CR, LF, NUL or non-ASCII)."""


def encoded_header(name: str, value: str) -> str:
    """``value`` as the email package encodes it for header ``name`` (RFC 2047 words for
    non-ASCII), without the name: for values from configuration, computed once."""
    message = EmailMessage(policy=SMTP)
    message[name] = value
    line = message.as_bytes().decode("ascii").split("\r\n\r\n", 1)[0]
    return line.split(":", 1)[1].strip().replace("\r\n", "")


def _header(name: str, value: str) -> str:
    if not value.isascii() or any(ch in value for ch in "\r\n\0"):
        raise HeaderError(f"header {name} holds a character that cannot go into a header")
    line = f"{name}: {value}"
    if len(line) <= FOLD_AT:
        return line + "\r\n"
    # Fold at spaces (whitespace before the break is kept, RFC 5322 3.2.2); a single token
    # longer than a line (a URL) stays whole up to the 998-octet limit.
    words = line.split(" ")
    lines: list[str] = []
    # The value's first word stays on the name's line (no empty first line).
    current = " ".join(words[:2])
    for word in words[2:]:
        if len(current) + 1 + len(word) > FOLD_AT:
            lines.append(current)
            current = " " + word
        else:
            current += " " + word
    lines.append(current)
    if any(len(part) > MAX_LINE for part in lines):
        raise HeaderError(f"header {name} is longer than {MAX_LINE} characters unfolded")
    return "\r\n".join(lines) + "\r\n"


def _text_part(subtype: str, text: str, *, wire_ready: bool = False) -> bytes:
    """A text part. ``wire_ready``: the caller guarantees ASCII, CRLF line ends and lines
    of at most 998 characters (the digest's HTML is built that way), so it goes as is."""
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
    if wire_ready:
        data = text.encode("ascii")
        head += "Content-Transfer-Encoding: 7bit\r\n\r\n"
        return head.encode() + data + (b"" if data.endswith(b"\r\n") else b"\r\n")
    plain = text.replace("\r\n", "\n").replace("\r", "\n")
    if plain.isascii() and all(len(line) <= MAX_LINE for line in plain.split("\n")):
        data = plain.replace("\n", "\r\n").encode("ascii")
        head += "Content-Transfer-Encoding: 7bit\r\n\r\n"
    else:
        # Quoted-printable, encoded in C (binascii): mostly-ASCII text stays small and
        # readable (base64 would add a third, and the email package's encoder is Python).
        data = binascii.b2a_qp(plain.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
        head += "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    return head.encode() + data + (b"" if data.endswith(b"\r\n") else b"\r\n")


def assemble(
    headers: Sequence[tuple[str, str]], text: str, html: str, *, html_wire_ready: bool = False
) -> bytes:
    """The message: ``headers`` (name, ASCII value) then a text and an HTML alternative.
    The boundary derives from the headers, so equal input gives equal bytes.
    ``html_wire_ready``: see _text_part."""
    head = "".join(_header(name, value) for name, value in headers)
    seed = hashlib.sha256(head.encode()).hexdigest()[:24]
    boundary = f"==paperroute-{seed}=="
    return (
        head.encode()
        + b"MIME-Version: 1.0\r\n"
        + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
        + f"--{boundary}\r\n".encode()
        + _text_part("plain", text)
        + f"--{boundary}\r\n".encode()
        + _text_part("html", html, wire_ready=html_wire_ready)
        + f"--{boundary}--\r\n".encode()
    )
