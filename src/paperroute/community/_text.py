"""Checks every text a reader types goes through before it is stored or mailed."""

from __future__ import annotations

from ..errors import InvalidInput


def clean_text(value: str, what: str) -> str:
    """``value`` unchanged, or InvalidInput when it holds a NUL or a lone surrogate (neither
    can be stored in PostgreSQL nor encoded as UTF-8)."""
    if "\x00" in value:
        raise InvalidInput(f"{what} cannot contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid text (it holds a lone surrogate)") from None
    return value
