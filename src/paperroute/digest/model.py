"""Plain types of the digests domain and the validation of a subscriber's preferences."""

from __future__ import annotations

import datetime as dt
import functools
import json
import unicodedata
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..errors import InvalidInput
from ..ids import try_arxiv_id
from ..reading.taxonomy import known_category

Frequency = Literal["weekdays", "daily", "weekly"]
FREQUENCIES: tuple[Frequency, ...] = ("weekdays", "daily", "weekly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
Status = Literal["pending", "confirmed", "unsubscribed"]
Section = Literal["main", "for_you"]

MAX_PAPERS_LIMIT = 50
MAX_LIST = 20  # categories, keyword queries or authors per subscriber
MAX_KEYWORD_CHARS = 200
MAX_AUTHOR_CHARS = 120
MAX_SEEDS = 50  # seed papers of a subscriber without a reader account
_MAX_SEED_INPUT = 20_000  # characters of seed text looked at before refusing the field


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a subscriber wants, and when. Build with :func:`preferences` to validate."""

    frequency: Frequency = "weekdays"
    weekday: int = 0  # weekly only; 0 = Monday
    send_hour: int = 7
    timezone: str = "UTC"
    trending: bool = True
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    max_papers: int = 10
    # The "For you" section: picks from the reader account at the same address (its
    # upvotes, collections, library, feedback, follows) and from ``seeds``, arXiv ids the
    # subscriber gave (the way in for a subscriber without an account).
    for_you: bool = False
    seeds: tuple[str, ...] = ()

    @property
    def chooses_something(self) -> bool:
        return (
            self.trending or self.for_you or bool(self.categories or self.keywords or self.authors)
        )


@dataclass(frozen=True, slots=True)
class Subscriber:
    pk: int
    email: str
    status: Status
    prefs: Preferences
    token_version: int
    through_day: dt.date | None
    created_at: dt.datetime
    confirmed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Pick:
    """A paper chosen for a digest and why ("new in cs.CL", "matches 'diffusion'").
    ``section`` is where the digest shows it: the main list, or "For you"."""

    paper_pk: int
    reason: str
    section: Section = "main"


def picks_json(picks: list[Pick]) -> str:
    """The send log's form of a digest's picks (``digest_sends.papers``): ``[pk, reason]``
    for the main list, as before the For-you section, ``[pk, reason, "for_you"]`` for it."""
    return json.dumps(
        [
            [p.paper_pk, p.reason] if p.section == "main" else [p.paper_pk, p.reason, p.section]
            for p in picks
        ]
    )


def picks_from_json(text: str) -> list[Pick]:
    picks: list[Pick] = []
    for item in json.loads(text):
        section: Section = "for_you" if len(item) > 2 and item[2] == "for_you" else "main"
        picks.append(Pick(int(item[0]), str(item[1]), section))
    return picks


@dataclass(slots=True)
class SubscribeOutcome:
    """What subscribing did: whom it concerns and what to tell the person."""

    subscriber: Subscriber
    confirmation_sent: bool
    message: str
    notices: list[str] = field(default_factory=list)


def _clean_text(value: str, limit: int, what: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in value):
        raise InvalidInput(f"{what} cannot contain line breaks or control characters")
    text = " ".join(value.split())
    if len(text) > limit:
        raise InvalidInput(f"{what} {text[:30]!r}… is longer than {limit} characters")
    return text


def _list(values: object, limit: int, what: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [part for line in values.splitlines() for part in line.split(",")]
    if not isinstance(values, list | tuple):  # an object's keys or a number are no list
        raise InvalidInput(f"{what} must be a list of text")
    items: list[str] = []
    seen: set[str] = set()
    for raw in values:
        if not isinstance(raw, str):
            raise InvalidInput(f"each of {what} must be text")
        if len(raw) > 4 * limit:
            raise InvalidInput(f"one of {what} is longer than {limit} characters")
        text = _clean_text(raw.replace("\r", " ").replace("\n", " "), limit, what)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            items.append(text)
    if len(items) > MAX_LIST:
        raise InvalidInput(f"at most {MAX_LIST} {what}, not {len(items)}")
    return tuple(items)


def _flag(value: object, what: str) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(value, bool):
        return value
    raise InvalidInput(f"{what} must be true or false")


def seed_ids(values: object) -> tuple[str, ...]:
    """Validated seed papers: arXiv ids (``2401.01234``, ``arXiv:2401.01234v2``, an abs or
    PDF URL), as a list or as text separated by commas, spaces or lines; each once, without
    its version, at most ``MAX_SEEDS``. Raises InvalidInput naming the entries refused."""
    if values is None:
        return ()
    if isinstance(values, str):
        if len(values) > _MAX_SEED_INPUT:
            raise InvalidInput(f"seed papers: at most {MAX_SEEDS} arXiv ids (the text is too long)")
        values = values.replace(",", " ").split()
    if not isinstance(values, list | tuple):
        raise InvalidInput("seed papers must be a list of arXiv ids")
    if len(values) > 4 * MAX_SEEDS:  # refused before looking at each entry
        raise InvalidInput(f"seed papers: at most {MAX_SEEDS} arXiv ids, not {len(values)}")
    found: list[str] = []
    bad: list[str] = []
    for raw in values:
        if not isinstance(raw, str):
            raise InvalidInput("each seed paper must be an arXiv id (text)")
        text = raw.strip()
        if not text:
            continue
        # ASCII only: \d would take other scripts' digits for an arXiv id's.
        parsed = try_arxiv_id(text) if text.isascii() and len(text) <= 100 else None
        if parsed is None:
            shown = "".join(ch if ch.isprintable() else "?" for ch in text[:40])
            bad.append(repr(shown))
        elif parsed.id not in found:
            found.append(parsed.id)
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise InvalidInput(
            f"seed papers must be arXiv ids like 2401.01234; not one: {', '.join(bad[:5])}{more}"
        )
    if len(found) > MAX_SEEDS:
        raise InvalidInput(f"seed papers: at most {MAX_SEEDS} arXiv ids, not {len(found)}")
    return tuple(found)


def _int(value: object, low: int, high: int, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON's 6.0 is the number 6
    if not isinstance(value, int | str) or isinstance(value, bool):
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}") from None
    if not low <= number <= high:
        raise InvalidInput(f"{what} must be from {low} to {high}, not {number}")
    return number


_LEGACY_ZONE_PREFIXES = (
    "Etc/", "SystemV/", "US/", "posix", "right/", "Canada/", "Brazil/", "Chile/", "Mexico/",
)  # fmt: skip


@functools.cache
def time_zones() -> tuple[str, ...]:
    """The IANA time zones a reader picks from (``zoneinfo.available_timezones()``, sorted):
    the Area/Location names and UTC, without the legacy aliases (US/Eastern, Etc/GMT+5),
    which still validate when typed."""
    names = zoneinfo.available_timezones()
    chosen = {name for name in names if "/" in name and not name.startswith(_LEGACY_ZONE_PREFIXES)}
    return ("UTC", *sorted(chosen))


def valid_timezone(name: str) -> str:
    """An IANA time zone name, or InvalidInput."""
    text = str(name).strip()
    if not text or len(text) > 64 or ".." in text or text.startswith("/"):
        raise InvalidInput(f"{text[:40]!r} is not a time zone (use a name like Europe/Berlin)")
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"{text[:40]!r} is not a time zone (use a name like Europe/Berlin)"
        ) from None
    return text


def _category(name: str) -> str:
    known = known_category(name)
    if known is None:
        raise InvalidInput(
            f"{name[:41]!r} is not an arXiv category (like cs.CL, or an archive like cs)"
        )
    return known


def preferences(data: Mapping[str, object], base: Preferences | None = None) -> Preferences:
    """Validated preferences from form or JSON fields (missing ones keep ``base``'s).

    Lists may be given as lists or as comma/line separated text. Raises InvalidInput with a
    message that names the field."""
    current = base or Preferences()
    for name in ("frequency", "timezone"):
        if not isinstance(data.get(name, ""), str):
            raise InvalidInput(f"{name} must be text")
    frequency = str(data.get("frequency", current.frequency)).strip().lower()
    if frequency not in FREQUENCIES:
        raise InvalidInput(f"frequency must be one of {', '.join(FREQUENCIES)}")
    weekday_raw = data.get("weekday", current.weekday)
    if isinstance(weekday_raw, str) and weekday_raw.strip().title() in WEEKDAYS:
        weekday = WEEKDAYS.index(weekday_raw.strip().title())
    else:
        weekday = _int(weekday_raw, 0, 6, "weekday (0 = Monday)")
    trending = _flag(data.get("trending", current.trending), "trending")
    for_you = _flag(data.get("for_you", current.for_you), "for_you")
    categories = tuple(
        dict.fromkeys(
            _category(name)
            for name in _list(data.get("categories", current.categories), 41, "categories")
        )
    )
    prefs = Preferences(
        frequency=frequency,
        weekday=weekday,
        send_hour=_int(data.get("send_hour", current.send_hour), 0, 23, "send hour"),
        timezone=valid_timezone(str(data.get("timezone", current.timezone))),
        trending=trending,
        categories=categories,
        keywords=_list(data.get("keywords", current.keywords), MAX_KEYWORD_CHARS, "keywords"),
        authors=_list(data.get("authors", current.authors), MAX_AUTHOR_CHARS, "authors"),
        max_papers=_int(
            data.get("max_papers", current.max_papers), 1, MAX_PAPERS_LIMIT, "max papers"
        ),
        for_you=for_you,
        seeds=seed_ids(data.get("seeds", current.seeds)),
    )
    if not prefs.chooses_something:
        raise InvalidInput(
            "choose at least one thing to receive: trending, categories, keywords, authors "
            "or For you"
        )
    return prefs
