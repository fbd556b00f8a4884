"""Preferences, schedules and signed links: pure functions."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from paperroute.digest._links import BadLink, make_token, read_token
from paperroute.digest._schedule import current_slot, slot_start
from paperroute.digest.model import Preferences, preferences
from paperroute.errors import InvalidInput


def test_preferences_from_form_fields() -> None:
    prefs = preferences(
        {
            "frequency": "Weekly",
            "weekday": "Friday",
            "send_hour": "18",
            "timezone": "America/New_York",
            "trending": "off",
            "categories": "cs.CL, cs.lg\ncs.CL",
            "keywords": ['"language model" -survey', "diffus*"],
            "authors": "Yann LeCun, Vaswani",
            "max_papers": "7",
        }
    )
    assert prefs == Preferences(
        frequency="weekly",
        weekday=4,
        send_hour=18,
        timezone="America/New_York",
        trending=False,
        categories=("cs.CL", "cs.LG"),  # arXiv's spelling
        keywords=('"language model" -survey', "diffus*"),
        authors=("Yann LeCun", "Vaswani"),
        max_papers=7,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"frequency": "hourly"}, "frequency must be one of"),
        ({"weekday": "8"}, "weekday"),
        ({"weekday": "Caturday"}, "weekday"),
        ({"send_hour": "24"}, "send hour"),
        ({"send_hour": "seven"}, "send hour"),
        ({"timezone": "Mars/Olympus"}, "not a time zone"),
        ({"timezone": "../../etc/passwd"}, "not a time zone"),
        ({"timezone": "/etc/localtime"}, "not a time zone"),
        ({"timezone": "Europe/Berlin\r\nX: y"}, "not a time zone"),
        ({"max_papers": "0"}, "max papers"),
        ({"max_papers": "51"}, "max papers"),
        ({"max_papers": "1e9"}, "max papers"),
        ({"categories": "cs.CL; DROP TABLE"}, "not an arXiv category"),
        ({"categories": "cs.FOO"}, "not an arXiv category"),
        ({"categories": {"cs.CL": 1}}, "categories must be a list"),
        ({"keywords": {"a": 1}}, "keywords must be a list"),
        ({"trending": None}, "trending must be true or false"),
        ({"keywords": ["a\x00b"]}, "control characters"),
        ({"keywords": ["x" * 201]}, "longer than 200"),
        ({"keywords": ["x" * 100_000]}, "longer than"),
        ({"authors": [f"Author {n}" for n in range(21)]}, "at most 20"),
        ({"keywords": [1, 2]}, "must be text"),
        ({"trending": "no"}, "choose at least one thing"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        preferences(fields)


def test_line_breaks_inside_a_keyword_split_it_rather_than_reaching_a_header() -> None:
    prefs = preferences({"keywords": "agents\r\nBcc: x@example.org"})
    assert prefs.keywords == ("agents", "Bcc: x@example.org")


def _prefs(**values: object) -> Preferences:
    return preferences({"trending": "on", **values})


def test_daily_slot_before_and_after_the_hour() -> None:
    prefs = _prefs(frequency="daily", send_hour="7", timezone="Europe/Berlin")
    # 05:30 UTC = 07:30 in Berlin (summer): today's slot has come.
    assert current_slot(prefs, dt.datetime(2026, 8, 20, 5, 30, tzinfo=dt.UTC)) == dt.date(
        2026, 8, 20
    )
    # 04:30 UTC = 06:30: still yesterday's slot.
    assert current_slot(prefs, dt.datetime(2026, 8, 20, 4, 30, tzinfo=dt.UTC)) == dt.date(
        2026, 8, 19
    )


def test_time_zone_decides_the_local_day() -> None:
    prefs = _prefs(frequency="daily", send_hour="8", timezone="Pacific/Auckland")
    # 21:00 UTC on the 19th is 09:00 on the 20th in Auckland.
    now = dt.datetime(2026, 8, 19, 21, 0, tzinfo=dt.UTC)
    assert current_slot(prefs, now) == dt.date(2026, 8, 20)
    assert slot_start(prefs, dt.date(2026, 8, 20)) == dt.datetime(2026, 8, 19, 20, 0, tzinfo=dt.UTC)


def test_weekdays_skip_the_weekend_and_weekly_its_other_days() -> None:
    saturday = dt.datetime(2026, 8, 22, 12, 0, tzinfo=dt.UTC)
    assert current_slot(_prefs(frequency="weekdays"), saturday) == dt.date(2026, 8, 21)
    weekly = _prefs(frequency="weekly", weekday="2", send_hour="9")  # Wednesdays
    assert current_slot(weekly, saturday) == dt.date(2026, 8, 19)
    assert current_slot(weekly, dt.datetime(2026, 8, 19, 8, 0, tzinfo=dt.UTC)) == dt.date(
        2026, 8, 12
    )
    assert current_slot(
        weekly, dt.datetime(2026, 8, 19, 8, 0, tzinfo=dt.UTC), ignore_hour=True
    ) == dt.date(2026, 8, 19)


def test_a_dst_gap_hour_still_has_a_slot() -> None:
    # 2026-03-29 02:00 does not exist in Berlin (clocks jump to 03:00).
    prefs = _prefs(frequency="daily", send_hour="2", timezone="Europe/Berlin")
    assert current_slot(prefs, dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)) == dt.date(
        2026, 3, 29
    )


SECRET = "links-test-secret-0123456789"


def test_signed_links_round_trip_and_name_their_subscriber() -> None:
    token = make_token(SECRET, "manage", 42, "reader@example.org")
    target = read_token(SECRET, "manage", token)
    assert target.subscriber_pk == 42
    confirm = make_token(SECRET, "confirm", 42, "reader@example.org", 3)
    assert read_token(SECRET, "confirm", confirm).version == 3


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "x" + t,
        lambda t: t.replace(".", ""),
        lambda t: "",
        lambda t: "." * 600,
        lambda t: t + "\r\nX-Injected: 1",
        lambda t: "\x00" + t,
    ],
)
def test_forged_links_are_refused(mangle: object) -> None:
    token = make_token(SECRET, "unsubscribe", 7, "reader@example.org")
    with pytest.raises(BadLink):
        read_token(SECRET, "unsubscribe", mangle(token))  # type: ignore[operator]


def test_a_link_for_one_purpose_or_key_is_worthless_for_another() -> None:
    token = make_token(SECRET, "manage", 7, "reader@example.org")
    with pytest.raises(BadLink):
        read_token(SECRET, "unsubscribe", token)
    with pytest.raises(BadLink):
        read_token("another-secret-0123456789", "manage", token)


def test_confirmation_links_expire_after_a_week() -> None:
    issued = time.time() - 8 * 86400
    token = make_token(SECRET, "confirm", 7, "reader@example.org", 1, now=issued)
    with pytest.raises(BadLink, match="expired"):
        read_token(SECRET, "confirm", token)
    fresh = make_token(SECRET, "confirm", 7, "reader@example.org", 1, now=time.time() - 6 * 86400)
    assert read_token(SECRET, "confirm", fresh).subscriber_pk == 7
