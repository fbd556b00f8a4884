"""Bulk inserts straight to the driver's executemany.

SQLAlchemy's Core executemany spends more time per row building parameters than SQLite
spends storing them; imports write millions of rows, so the hot path binds plain tuples
and runs the column types' own bind processors once per value. The SQL is the same on
SQLite and PostgreSQL (both accept ``ON CONFLICT (...) DO UPDATE SET x = excluded.x``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import DBAPIError

_SQLITE_IN = 900
_PG_ROWS = 1000
_PG_PARAMS = 30_000  # well under PostgreSQL's 65,535 bind parameters


def bulk_insert(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT ``rows`` (tuples of the values of ``columns``) into ``table``; with
    ``conflict`` columns, rows that collide update the ``update`` columns instead (or are
    ignored if there are none). With ``returning`` columns, the inserted rows' values of
    those columns (in no particular order); ``returning`` needs a plain insert."""
    returned: list[tuple[Any, ...]] = []
    if not rows:
        return returned
    dialect = connection.dialect
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(columns):
        # The dialect's own type (SQLite's DATETIME stores "YYYY-MM-DD HH:MM:SS.ffffff" text,
        # as SQLAlchemy reads and compares it), not the generic one, which has none.
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((index, processor))
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    row_sql = f"({', '.join(marker for _ in columns)})"
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in columns)}) VALUES "
    tail = ""
    if conflict:
        target = ", ".join(quote(n) for n in conflict)
        if update:
            sets = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in update)
            tail = f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        else:
            tail = f" ON CONFLICT ({target}) DO NOTHING"
    params: list[tuple[Any, ...]] = []
    for row in rows:
        if processors:
            values = list(row)
            for index, process in processors:
                if values[index] is not None:
                    values[index] = process(values[index])
            params.append(tuple(values))
        else:
            params.append(tuple(row))
    returning_sql = f" RETURNING {', '.join(quote(n) for n in returning)}" if returning else ""
    if dialect.name != "postgresql":
        # SQLite's executemany runs one prepared statement per row in-process: already fast;
        # it cannot return rows, so they are looked up by their first returned column
        # (which must be unique), an index probe each.
        connection.exec_driver_sql(head + row_sql + tail, params)
        if returning:
            key = columns.index(returning[0])
            column = table.c[returning[0]]
            wanted = [row[key] for row in params]
            for start in range(0, len(wanted), _SQLITE_IN):
                chunk = wanted[start : start + _SQLITE_IN]
                query = select(*(table.c[n] for n in returning)).where(column.in_(chunk))
                returned.extend(tuple(row) for row in connection.execute(query))
        return returned
    if not conflict and not returning:
        # COPY streams rows without per-row statement work: several times faster than
        # multi-row INSERTs for plain appends. The raw cursor shares the transaction.
        columns_sql = ", ".join(quote(n) for n in columns)
        statement = f"COPY {quote(table.name)} ({columns_sql}) FROM STDIN"
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(statement) as copy:
                for row in params:
                    copy.write_row(row)
        except dialect.loaded_dbapi.Error as exc:
            # Raised as SQLAlchemy's matching class (IntegrityError, DataError...), like
            # every other statement, so callers handle one hierarchy.
            raise DBAPIError.instance(
                statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
            ) from exc
        return returned
    # On PostgreSQL the rows come back from the INSERT itself: a SELECT right after a bulk
    # insert into a table whose statistics still say "empty" would be planned as scans.
    # PostgreSQL pays a round trip and an executor start per statement: send many rows in
    # each (callers never repeat a conflict key within one call, which PostgreSQL refuses).
    per_statement = max(1, min(_PG_ROWS, _PG_PARAMS // len(columns)))
    for start in range(0, len(params), per_statement):
        part = params[start : start + per_statement]
        sql = head + ", ".join(row_sql for _ in part) + tail + returning_sql
        result = connection.exec_driver_sql(sql, tuple(value for row in part for value in row))
        if returning:
            returned.extend(tuple(row) for row in result)
    return returned
