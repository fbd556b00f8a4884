"""Alembic environment: always run on a connection handed over by paperroute.store.engine."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from paperroute.store.schema import metadata


def run_migrations_online() -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("paperroute migrations run through paperroute.store.engine.migrate()")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
