"""Parsing what readers put in URLs: days, ISO weeks, months, page numbers, windows, and
the API's opaque pagination cursors.

Each parser raises InvalidInput with a message that says what was expected."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re

from ..errors import InvalidInput

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
WINDOWS = ("week", "month", "all")
# Years a reader may ask for: room on both sides for the neighbours of a day, week or month.
MIN_YEAR, MAX_YEAR = 1000, 9998
# What the OpenAPI document says of a day parameter: what parse_day accepts.
DAY_SCHEMA = {"format": "date", "pattern": r"^(?!9999)[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def printable(value: str) -> str:
    """``value`` without control characters (NUL, escapes, C1), tabs and line breaks made
    spaces: what a page may echo of a reader's text in its title, heading or feed (XML
    cannot even carry a NUL)."""
    return _CONTROL.sub("", value.replace("\t", " ").replace("\r", " ").replace("\n", " "))


def _show(value: str) -> str:
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


def parse_day(value: str) -> dt.date:
    match = _DAY.fullmatch(value)
    if match and MIN_YEAR <= int(match[1]) <= MAX_YEAR:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise InvalidInput(
        f"{_show(value)} is not a date from year {MIN_YEAR} to {MAX_YEAR}: use YYYY-MM-DD, "
        "e.g. 2026-08-21"
    )


def parse_week(value: str) -> tuple[dt.date, dt.date]:
    """An ISO week (2026-W34) as its Monday and Sunday."""
    match = _WEEK.fullmatch(value)
    if match and MIN_YEAR <= int(match[1]) <= MAX_YEAR:
        try:
            monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return monday, monday + dt.timedelta(days=6)
        except ValueError:
            pass
    raise InvalidInput(f"{_show(value)} is not an ISO week: use YYYY-Www, e.g. 2026-W34")


def parse_month(value: str) -> tuple[dt.date, dt.date]:
    """A month (2026-08) as its first and last day."""
    match = _MONTH.fullmatch(value)
    if match and 1 <= int(match[2]) <= 12 and MIN_YEAR <= int(match[1]) <= MAX_YEAR:
        first = dt.date(int(match[1]), int(match[2]), 1)
        return first, next_month(first) - dt.timedelta(days=1)
    raise InvalidInput(f"{_show(value)} is not a month: use YYYY-MM, e.g. 2026-08")


def next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def prev_month(first: dt.date) -> dt.date:
    return dt.date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_window(value: str) -> str:
    if value not in WINDOWS:
        raise InvalidInput(f"window must be week, month or all, not {_show(value)}")
    return value


def parse_flag(name: str, value: str | None) -> bool:
    """A yes/no query parameter: 1 or true; 0 or false (None: not given, false)."""
    if value is None or value in ("0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise InvalidInput(f"{name} must be 1 or 0 (true or false), not {_show(value)}")


def view_params(sort: str | None, category: str | None, has_code: bool) -> list[tuple[str, str]]:
    """The query parameters that ask for a list narrowed and sorted this way (only those
    that differ from the default), for links to the same view: pages, feeds, the API."""
    flag = "1" if has_code else ""
    found = [("sort", sort or ""), ("category", category or ""), ("has_code", flag)]
    return [(key, value) for key, value in found if value]


# -- cursors ----------------------------------------------------------------------------

MAX_OFFSET = 10_000_000


def encode_cursor(scope: str, value: int) -> str:
    """An opaque ``next_cursor`` for position ``value`` (an offset, or the last key seen) of
    the list named by ``scope``: every list of the API pages alike."""
    raw = json.dumps({"s": scope, "o": value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, scope: str, *, low: int = 0, high: int = MAX_OFFSET) -> int:
    """The position a cursor stands for; InvalidInput when it is not one of this list's or
    its position is outside ``low..high``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        value = data["o"]
        ok = data["s"] == scope and type(value) is int and low <= value <= high
    except (binascii.Error, ValueError, TypeError, KeyError, RecursionError):
        ok = False
    if not ok:
        raise InvalidInput("invalid cursor: pass back the next_cursor of this same list")
    return int(value)
