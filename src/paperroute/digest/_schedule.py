"""When a subscriber's digest is due: the slot (local day and hour) and the period key.

A subscriber's *slot* is the most recent moment, in their own time zone, that their
frequency names (every day / Monday to Friday / one weekday, at their hour). The period key
is the slot's local date: the send log allows one digest per (subscriber, period), so a
scheduler pass that runs late, twice, or after a crash never sends a slot twice, and a
scheduler that was down for days sends only the latest slot.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .model import Preferences


def _allowed(prefs: Preferences, day: dt.date) -> bool:
    if prefs.frequency == "weekdays":
        return day.weekday() < 5
    if prefs.frequency == "weekly":
        return day.weekday() == prefs.weekday
    return True


def current_slot(
    prefs: Preferences,
    now: dt.datetime,
    *,
    ignore_hour: bool = False,
    zones: dict[str, ZoneInfo] | None = None,
) -> dt.date:
    """The local date of the subscriber's latest slot at ``now`` (UTC-aware).

    ``ignore_hour`` (``digest send --now``): today counts as soon as it is an allowed day,
    whatever the hour. ``zones``: a cache of time zones for a caller with many subscribers
    (ZoneInfo keeps only a few strongly and rereads tzdata for the rest)."""
    zone = zones.get(prefs.timezone) if zones is not None else None
    if zone is None:
        zone = ZoneInfo(prefs.timezone)
        if zones is not None:
            zones[prefs.timezone] = zone
    local = now.astimezone(zone)
    for back in range(8):
        day = local.date() - dt.timedelta(days=back)
        if not _allowed(prefs, day):
            continue
        if ignore_hour or back > 0:
            return day
        # Built from the wall clock: a DST gap hour still exists as a comparable instant.
        slot = dt.datetime.combine(day, dt.time(prefs.send_hour), tzinfo=zone)
        if slot <= local:
            return day
    raise AssertionError("every frequency allows a day each week")


def slot_start(prefs: Preferences, day: dt.date) -> dt.datetime:
    """The UTC instant of the slot on local ``day``."""
    zone = ZoneInfo(prefs.timezone)
    return dt.datetime.combine(day, dt.time(prefs.send_hour), tzinfo=zone).astimezone(dt.UTC)
