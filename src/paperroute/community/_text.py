"""Checks every text a reader types goes through before it is stored or mailed."""

from __future__ import annotations

import unicodedata

from ..errors import InvalidInput


def clean_text(value: str, what: str, *, controls: bool = True) -> str:
    """``value`` unchanged, or InvalidInput when it holds a NUL or a lone surrogate (neither
    can be stored in PostgreSQL nor encoded as UTF-8), or with ``controls=False`` any other
    control character but a line break or a tab (a terminal escape in a title)."""
    if "\x00" in value:
        raise InvalidInput(f"{what} cannot contain NUL characters")
    if not controls and any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in value):
        raise InvalidInput(f"{what} cannot contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid text (it holds a lone surrogate)") from None
    return value
