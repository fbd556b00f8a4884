"""Column types shared by every table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A point in time, stored as UTC and always read back aware (UTC).

    PostgreSQL keeps the zone (``timestamptz``); SQLite stores text without one and hands
    back naive datetimes, which this type marks as UTC. A naive value written is taken as
    UTC too, so no caller has to repair what it reads."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            return value  # type: ignore[no-any-return]  # let the driver refuse it
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], dt.datetime | None]:
        # One function per value rather than TypeDecorator's two layers: trending reads
        # tens of thousands of these per ranking.
        parse = self.impl_instance.result_processor(dialect, coltype)
        utc = dt.UTC

        def process(value: Any) -> dt.datetime | None:
            if parse is not None:
                value = parse(value)
            if value is None:
                return None
            if value.tzinfo is None:
                return value.replace(tzinfo=utc)  # type: ignore[no-any-return]
            return value.astimezone(utc)  # type: ignore[no-any-return]

        return process


def as_date(value: object) -> dt.date | None:
    """A day from a query that bypasses column types (an aggregate, a UNION, text SQL):
    SQLite hands back text there, PostgreSQL a date; a datetime gives its day."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
