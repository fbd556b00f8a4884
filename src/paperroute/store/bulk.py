"""Bulk inserts straight to the driver's executemany.

SQLAlchemy's Core executemany spends more time per row building parameters than SQLite
spends storing them; imports write millions of rows, so the hot path binds plain tuples
and runs the column types' own bind processors once per value. The SQL is the same on
SQLite and PostgreSQL (both accept ``ON CONFLICT (...) DO UPDATE SET x = excluded.x``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table


def bulk_insert(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table``; with ``conflict`` columns,
    rows that collide update the ``update`` columns instead (or are ignored if none)."""
    if not rows:
        return
    names = list(rows[0])
    dialect = connection.dialect
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type.bind_processor(dialect) for name in names
    ]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join(marker for _ in names)})"
    )
    if conflict:
        target = ", ".join(quote(n) for n in conflict)
        if update:
            sets = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in update)
            sql += f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT ({target}) DO NOTHING"
    params = [
        tuple(
            value if process is None or value is None else process(value)
            for value, process in zip((row[n] for n in names), processors, strict=True)
        )
        for row in rows
    ]
    connection.exec_driver_sql(sql, params)
