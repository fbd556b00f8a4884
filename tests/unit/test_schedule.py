"""Scheduled sources' schedules and parameters (upkeep/schedule.py): pure, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from paperroute.errors import InvalidInput
from paperroute.upkeep.schedule import (
    RETRY_FIRST,
    RETRY_MAX,
    Schedule,
    check_url,
    default_name,
    make_schedule,
    parse_interval,
    retry_delay,
    source_parameters,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), ("45", 45), (" 1H ", 3600)],
)
def test_intervals(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "0s", "-1h", "1w", "h", "1.5h", "99999999d", "32d", "1h30m", "1" * 10_000]
)
def test_bad_intervals_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(InvalidInput, match="--every"):
        parse_interval(text)


def test_an_interval_runs_that_long_after_the_last_start() -> None:
    start = dt.datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert Schedule(every_s=3600).next_after(start) == start + dt.timedelta(hours=1)


def test_a_daily_time_is_the_next_such_moment_in_its_zone_daylight_saving_included() -> None:
    schedule = make_schedule("oai", at="01:30", tz="America/New_York")
    assert schedule.describe() == "daily at 01:30 America/New_York"
    # 06:30 UTC is 01:30 EST: strictly after it, the next one is tomorrow's.
    winter = dt.datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    assert schedule.next_after(winter) == dt.datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    assert schedule.next_after(winter - dt.timedelta(seconds=1)) == winter
    # In July New York is at UTC-4: 01:30 EDT is 05:30 UTC.
    summer = dt.datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert schedule.next_after(summer) == dt.datetime(2026, 7, 2, 5, 30, tzinfo=UTC)


def test_a_time_skipped_by_the_spring_jump_still_runs_that_day() -> None:
    schedule = make_schedule("oai", at="02:30", tz="America/New_York")
    before = dt.datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST on the day of the jump
    found = schedule.next_after(before)
    assert found.date() == dt.date(2026, 3, 8)
    assert found > before


@pytest.mark.parametrize(
    ("every", "at", "tz", "message"),
    [
        ("1h", "01:30", None, "not both"),
        (None, None, "UTC", "--tz goes with --at"),
        (None, "25:00", None, "HH:MM"),
        (None, "1:3", None, "HH:MM"),
        (None, "01:30", "Mars/Olympus_Mons", "unknown time zone"),
        (None, "01:30", "../../etc/passwd", "time zone"),
        (None, "01:30", "UT\x00C", "time zone"),
        (None, "01:30", "A" * 500, "time zone"),
    ],
)
def test_bad_schedules_are_refused(
    every: str | None, at: str | None, tz: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        make_schedule("oai", every, at, tz)


def test_each_kind_has_a_default_schedule() -> None:
    assert make_schedule("hf-daily") == Schedule(every_s=3600)
    assert make_schedule("hf-daily", at="07:05") == Schedule(at="07:05", tz="UTC")


def test_the_back_off_doubles_up_to_its_cap() -> None:
    assert retry_delay(1) == RETRY_FIRST
    assert retry_delay(2) == RETRY_FIRST * 2
    assert retry_delay(3) == RETRY_FIRST * 4
    assert retry_delay(50) == RETRY_MAX
    assert retry_delay(10**9) == RETRY_MAX


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/feed",
        "example.org/feed",
        "http://",
        "http://user:secret@example.org/feed",
        "http://example.org:99999/feed",
        "http://exa mple.org/",
        "http://example.org/\x00",
        "https://example.org/" + "a" * 5000,
        "javascript:alert(1)",
    ],
)
def test_bad_feed_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url)


def test_parameters_of_each_kind() -> None:
    assert source_parameters("hf-daily", {}) == {"days_back": 1}
    assert source_parameters("oai", {"set": "cs", "categories": ["cs.CL", " cs.LG", "cs.CL"]}) == {
        "set": "cs",
        "categories": ["cs.CL", "cs.LG"],
    }
    assert source_parameters("rss", {"url": "https://rss.arxiv.org/rss/cs.CL"}) == {
        "url": "https://rss.arxiv.org/rss/cs.CL"
    }
    assert source_parameters("arxiv-api", {"query": "cat:cs.CL"}) == {
        "query": "cat:cs.CL",
        "max_results": 100,
    }
    assert default_name("oai", {"set": "physics:hep-th"}) == "oai-physics-hep-th"
    assert default_name("rss", {"url": "https://rss.arxiv.org/rss/cs.CL"}) == "rss-rss.arxiv.org"


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("telnet", {}, "unknown source kind"),
        ("oai", {}, "needs --set"),
        ("oai", {"set": "cs; DROP TABLE papers"}, "not an OAI-PMH set"),
        ("oai", {"set": "cs", "categories": ["cs.CL", "<script>"]}, "not an arXiv category"),
        ("rss", {}, "needs the feed's URL"),
        ("arxiv-api", {}, "needs --query"),
        ("arxiv-api", {"query": "x" * 100_000}, "at most 1000"),
        ("arxiv-api", {"query": "a\nb"}, "one line"),
        ("arxiv-api", {"query": "a", "max_results": 0}, "--max-results"),
        ("hf-daily", {"days_back": 999}, "--days-back"),
        ("hf-daily", {"query": "a"}, "takes no --query"),
    ],
)
def test_bad_parameters_are_refused_with_the_reason(
    kind: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        source_parameters(kind, options)
