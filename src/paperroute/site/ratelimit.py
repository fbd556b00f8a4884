"""Fixed-window rate limits kept in the database (table rate_limits), so that every worker
process counts together."""

from __future__ import annotations

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite

from ..store.schema_community import rate_limits
from .errors import RateLimited

# Windows older than this are deleted now and then; no limit uses a longer window.
_KEEP_SECONDS = 2 * 86400


def hit(
    connection: Connection, key: str, *, limit: int, window: int, now: float, what: str
) -> None:
    """Count one request under ``key`` in the current window of ``window`` seconds; raise
    RateLimited (naming ``what`` and when to retry) when it is over ``limit``."""
    count = _count(connection, key, window=window, now=now)
    if count > limit:
        start = int(now) // window * window
        retry = max(1, start + window - int(now))
        minutes = (retry + 59) // 60
        raise RateLimited(
            f"too many {what}: at most {limit} per {_span(window)}; try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}",
            retry_after=retry,
        )


def within(connection: Connection, key: str, *, limit: int, window: int, now: float) -> bool:
    """Count one request under ``key``, as :func:`hit` does; whether it is within ``limit``
    (for limits the caller keeps quiet about, so that answers stay alike)."""
    return _count(connection, key, window=window, now=now) <= limit


def _count(connection: Connection, key: str, *, window: int, now: float) -> int:
    start = int(now) // window * window
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(rate_limits)
        .values(key=key[:200], window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": rate_limits.c.count + 1},
        )
        .returning(rate_limits.c.count)
    )
    count = int(connection.execute(statement).scalar_one())
    if count == 1 and start % 3600 == 0:
        connection.execute(
            delete(rate_limits).where(rate_limits.c.window_start < now - _KEEP_SECONDS)
        )
    return count


def _span(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{seconds} seconds"


def prune(connection: Connection, now: float) -> int:
    """Delete the windows no limit reads any more (housekeeping); how many rows went."""
    gone = connection.execute(
        delete(rate_limits).where(rate_limits.c.window_start < now - _KEEP_SECONDS)
    )
    return gone.rowcount
