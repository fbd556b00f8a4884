"""When a scheduled source runs, and what its parameters may be: pure functions, no database.

A schedule is either an interval (``--every 1h``: the next run comes that long after the last
one started) or a time of day in a time zone (``--at 01:30 --tz America/New_York``: the next
such moment, daylight saving time included). A failed run is tried again after a back-off
that doubles with each failure in a row, from ``RETRY_FIRST`` up to ``RETRY_MAX`` (never later
than the next scheduled run would be, plus the back-off).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InvalidInput

KINDS = ("hf-daily", "oai", "rss", "arxiv-api")
# Each kind's schedule when none is given: Hugging Face's daily list fills during the day;
# arXiv announces once a day (OAI-PMH, feeds), so a few passes a day catch it early.
DEFAULT_EVERY = {"hf-daily": 3600, "oai": 6 * 3600, "rss": 3600, "arxiv-api": 6 * 3600}
MIN_EVERY = 1  # seconds: benchmarks shorten hourly schedules to seconds
MAX_EVERY = 31 * 86400
RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(hours=6)
MAX_QUERY = 1000
MAX_URL = 2000
MAX_DAYS_BACK = 14
MAX_RESULTS = 2000

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_INTERVAL = re.compile(r"^(\d{1,7})\s*(s|sec|m|min|h|d)?$")
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, None: 1}
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")
_SET = re.compile(r"^[a-z][a-z-]*(:[a-z][a-z-]*)*(:[A-Za-z][A-Za-z-]*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Schedule:
    """Every ``every_s`` seconds, or daily at ``at`` ("HH:MM") in ``tz``."""

    every_s: int | None = None
    at: str | None = None
    tz: str | None = None

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first run strictly after ``moment`` (a run that started at ``moment``)."""
        if self.every_s is not None:
            return moment + dt.timedelta(seconds=self.every_s)
        assert self.at is not None
        zone = ZoneInfo(self.tz or "UTC")
        hour, minute = (int(part) for part in self.at.split(":"))
        local = moment.astimezone(zone)
        day = local.date()
        for offset in range(3):
            wall = dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(hour, minute))
            # A wall time skipped by a DST jump resolves (fold=0) to a real instant after it.
            candidate = wall.replace(tzinfo=zone).astimezone(dt.UTC)
            if candidate > moment:
                return candidate
        raise AssertionError("a day always has the time of day")  # pragma: no cover

    def describe(self) -> str:
        if self.every_s is not None:
            return f"every {format_interval(self.every_s)}"
        return f"daily at {self.at} {self.tz or 'UTC'}"


def parse_interval(text: str) -> int:
    """ "90s", "15m", "1h", "2d" (or plain seconds) -> seconds. Raises InvalidInput."""
    match = _INTERVAL.match(text.strip().lower())
    if match is None:
        raise InvalidInput(
            f"--every must be a number with a unit (90s, 15m, 1h, 1d), not {text[:40]!r}"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not MIN_EVERY <= seconds <= MAX_EVERY:
        raise InvalidInput(f"--every must be between 1s and 31d, not {text[:40]!r}")
    return seconds


def format_interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def make_schedule(
    kind: str, every: str | None = None, at: str | None = None, tz: str | None = None
) -> Schedule:
    """The schedule from the command line's ``--every`` / ``--at`` / ``--tz``; the kind's
    default interval when none is given. Raises InvalidInput."""
    if every is not None and at is not None:
        raise InvalidInput("give --every or --at, not both")
    if tz is not None and at is None:
        raise InvalidInput("--tz goes with --at (an interval needs no time zone)")
    if at is not None:
        match = _AT.match(at.strip())
        if match is None:
            raise InvalidInput(f"--at must be a time of day as HH:MM (01:30), not {at[:40]!r}")
        zone = (tz or "UTC").strip()
        check_zone(zone)
        return Schedule(at=f"{int(match.group(1)):02d}:{match.group(2)}", tz=zone)
    if every is not None:
        return Schedule(every_s=parse_interval(every))
    return Schedule(every_s=DEFAULT_EVERY[kind])


def check_zone(zone: str) -> None:
    """Raises InvalidInput unless ``zone`` is an IANA time zone this machine knows."""
    if not zone or len(zone) > 64 or _CONTROL.search(zone) or ".." in zone:
        raise InvalidInput(f"--tz must be a time zone like America/New_York, not {zone[:64]!r}")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"unknown time zone {zone[:64]!r} (an IANA name like America/New_York or UTC)"
        ) from None


def retry_delay(failures: int) -> dt.timedelta:
    """The back-off after ``failures`` failed runs in a row (1 -> RETRY_FIRST, doubling)."""
    exponent = min(max(failures - 1, 0), 20)
    delay: dt.timedelta = RETRY_FIRST * (2**exponent)
    return min(delay, RETRY_MAX)


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(
            f"a source name is 1 to 80 lower-case letters, digits, '.', '_' or '-' "
            f"(starting with a letter or digit), not {name[:80]!r}"
        )
    return name


def check_url(url: str) -> str:
    """An http(s) URL with a host and no credentials. Raises InvalidInput."""
    url = url.strip()
    if not url or len(url) > MAX_URL or _CONTROL.search(url) or " " in url:
        raise InvalidInput(f"not a feed URL: {url[:80]!r}")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise InvalidInput(f"not a feed URL: {url[:80]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"a feed URL must start with http:// or https:// and name a host, not {url[:80]!r}"
        )
    if parts.username or parts.password:
        raise InvalidInput("a feed URL must not hold a user name or password")
    del port
    return url


def check_categories(categories: Sequence[str]) -> list[str]:
    found: list[str] = []
    for category in categories:
        category = category.strip()
        if not category:
            continue
        if len(category) > 40 or not _CATEGORY.match(category):
            raise InvalidInput(f"not an arXiv category: {category[:40]!r} (like cs.CL)")
        if category not in found:
            found.append(category)
    return found


def source_parameters(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The stored parameters of a source of ``kind`` from the command line's options
    (``url``, ``set``, ``categories``, ``query``, ``max_results``, ``days_back``).
    Raises InvalidInput naming what is missing or wrong."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown source kind {kind[:40]!r}: one of {', '.join(KINDS)}")
    given = {k: v for k, v in options.items() if v not in (None, "", [], ())}
    allowed = {
        "hf-daily": {"days_back"},
        "oai": {"set", "categories"},
        "rss": {"url"},
        "arxiv-api": {"query", "max_results"},
    }[kind]
    extra = sorted(set(given) - allowed)
    if extra:
        shown = ", ".join("--" + name.replace("_", "-") for name in extra)
        raise InvalidInput(f"a {kind} source takes no {shown}")
    if kind == "hf-daily":
        days = int(given.get("days_back", 1))
        if not 0 <= days <= MAX_DAYS_BACK:
            raise InvalidInput(f"--days-back must be between 0 and {MAX_DAYS_BACK}")
        return {"days_back": days}
    if kind == "oai":
        set_spec = str(given.get("set", "")).strip()
        if not set_spec:
            raise InvalidInput("an oai source needs --set (cs, math, physics:hep-th...)")
        if len(set_spec) > 60 or not _SET.match(set_spec):
            raise InvalidInput(f"not an OAI-PMH set: {set_spec[:60]!r} (like cs or physics:hep-th)")
        categories = check_categories(list(given.get("categories", [])))
        return {"set": set_spec, "categories": categories}
    if kind == "rss":
        if "url" not in given:
            raise InvalidInput("an rss source needs the feed's URL")
        return {"url": check_url(str(given["url"]))}
    query = str(given.get("query", "")).strip()
    if not query:
        raise InvalidInput("an arxiv-api source needs --query (like cat:cs.CL AND ti:retrieval)")
    if len(query) > MAX_QUERY or _CONTROL.search(query):
        raise InvalidInput(f"--query must be at most {MAX_QUERY} characters on one line")
    max_results = int(given.get("max_results", 100))
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidInput(f"--max-results must be between 1 and {MAX_RESULTS}")
    return {"query": query, "max_results": max_results}


def default_name(kind: str, parameters: Mapping[str, Any]) -> str:
    """A name for a source added without ``--name``: the kind, plus what sets it apart."""
    if kind == "oai":
        return check_name(f"oai-{str(parameters['set']).replace(':', '-')}".lower()[:80])
    if kind == "rss":
        host = urlsplit(str(parameters["url"])).hostname or "feed"
        return check_name(re.sub(r"[^a-z0-9.-]", "-", f"rss-{host}".lower())[:80])
    return kind


def dumps(parameters: Mapping[str, Any]) -> str:
    return json.dumps(dict(parameters), sort_keys=True, separators=(",", ":"))
