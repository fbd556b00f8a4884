"""``paperroute backup`` and ``restore``: copies of the database that can be trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import PaperrouteError
from ..hub import backup_database, restore_database
from ._common import config_or_fail, err, fail, out


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)


def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The backup file to write.")],
) -> None:
    """Back up the database while the hub runs (SQLite), or print the pg_dump to run."""
    config = config_or_fail(ctx)
    try:
        done = backup_database(config, path)
    except PaperrouteError as exc:
        fail(str(exc), 1)
    if done.command is not None:
        err.print("PostgreSQL: run this (the password from PGPASSWORD or ~/.pgpass):", markup=False)
        out.print(done.command, markup=False)
        return
    index = f", vector index in {done.index}" if done.index else ""
    out.print(
        f"backed up {done.papers:,} papers to {done.path} "
        f"(schema revision {done.revision}, integrity ok{index})",
        markup=False,
    )


def restore(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A file `paperroute backup` made.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the database that is there (stop the hub).")
    ] = False,
) -> None:
    """Restore a backup where the database lives: checked first, never over data without --force."""
    config = config_or_fail(ctx)
    try:
        done = restore_database(config, path, force=force)
    except PaperrouteError as exc:
        fail(str(exc), 1)
    if done.command is not None:
        err.print(
            "PostgreSQL: create an empty database, run this, then `paperroute init`:",
            markup=False,
        )
        out.print(done.command, markup=False)
        return
    index = f", vector index in {done.index}" if done.index else ""
    then = "; the next start migrates it to this version's schema" if done.migrate_needed else ""
    out.print(
        f"restored {done.papers:,} papers to {done.path} "
        f"(schema revision {done.revision}, integrity ok{index}){then}",
        markup=False,
    )
