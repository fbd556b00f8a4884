"""``paperroute sources add|list|remove|run`` (the scheduled sources, docs/jobs.md) and
``paperroute worker`` (a consumer of the background jobs' queue)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import PaperrouteError
from ..jobs import KINDS, Jobs, Source, describe_run, make_schedule, run_source, run_worker
from ._common import Format, config_or_fail, err, fail, open_hub_or_fail, out

sources_app = typer.Typer(
    help="Scheduled sources: what the jobs fetch, and when.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
    app.add_typer(sources_app, name="sources")


def _row(source: Source, now: dt.datetime) -> dict[str, Any]:
    return {
        "name": source.name,
        "kind": source.kind,
        "parameters": source.parameters,
        "schedule": source.schedule.describe(),
        "status": source.status(now),
        "last_run_at": source.last_run_at.isoformat() if source.last_run_at else None,
        "next_run_at": source.next_run_at.isoformat(),
        "last_added": source.last_added,
        "total_added": source.total_added,
        "last_error": source.last_error,
        "offline_until": source.offline_until.isoformat() if source.offline_until else None,
    }


def _when(moment: dt.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "-"


@sources_app.command("add")
def add_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar="KIND", help=" | ".join(KINDS))],
    url: Annotated[str | None, typer.Argument(metavar="[URL]", help="rss: the feed.")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Its name (default: from the kind).")
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", metavar="INTERVAL", help="90s, 15m, 1h, 1d...")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", metavar="HH:MM", help="Daily at this time.")
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", metavar="ZONE", help="--at's time zone (UTC).")
    ] = None,
    set_spec: Annotated[
        str | None, typer.Option("--set", metavar="SET", help="oai: the set (cs, math...).")
    ] = None,
    categories: Annotated[
        str | None,
        typer.Option("--categories", metavar="C,C", help="oai: keep these categories only."),
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", metavar="Q", help="arxiv-api: the search.")
    ] = None,
    max_results: Annotated[
        int | None, typer.Option("--max-results", help="arxiv-api: papers per run (100).")
    ] = None,
    days_back: Annotated[
        int | None, typer.Option("--days-back", help="hf-daily: also re-read N past days (1).")
    ] = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Add a scheduled source; it is due at once, then on its schedule."""
    options = {
        "url": url,
        "set": set_spec,
        "categories": [c for c in (categories or "").split(",") if c.strip()],
        "query": query,
        "max_results": max_results,
        "days_back": days_back,
    }
    with open_hub_or_fail(ctx) as hub:
        try:
            schedule = make_schedule(kind, every, at, tz) if kind in KINDS else None
            if schedule is None:
                fail(f"unknown source kind {kind[:40]!r}: one of {', '.join(KINDS)}")
            source = hub.sources.add(kind, schedule, options, name=name)
        except PaperrouteError as exc:
            fail(str(exc))
        now = hub.sources.clock()
    if format is Format.json:
        out.print_json(json.dumps(_row(source, now)))
        return
    out.print(
        f"added source {source.name} ({source.kind}, {source.schedule.describe()}); "
        "the next job pass runs it",
        markup=False,
    )


@sources_app.command("list")
def list_command(
    ctx: typer.Context, format: Annotated[Format, typer.Option("--format")] = Format.table
) -> None:
    """The scheduled sources: schedule, last and next run, papers added, last error."""
    with open_hub_or_fail(ctx) as hub:
        listed = hub.sources.listed()
        now = hub.sources.clock()
    if format is Format.json:
        out.print_json(json.dumps([_row(s, now) for s in listed]))
        return
    if not listed:
        out.print("no sources yet: `paperroute sources add hf-daily` adds one")
        return
    table = Table(show_lines=False)
    for column in ("name", "kind", "schedule", "status", "last run", "next run", "added"):
        table.add_column(column)
    for source in listed:
        table.add_row(
            escape(source.name),
            source.kind,
            source.schedule.describe(),
            escape(source.status(now)),
            _when(source.last_run_at),
            _when(source.next_run_at),
            f"{source.last_added:,} (total {source.total_added:,})",
        )
    out.print(table)
    for source in listed:
        if source.last_error:
            err.print(f"{source.name}: {source.last_error}", markup=False)


@sources_app.command("remove")
def remove_command(
    ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="NAME")]
) -> None:
    """Remove a scheduled source (the papers it brought stay)."""
    with open_hub_or_fail(ctx) as hub:
        hub.sources.remove(name)
    out.print(f"removed source {name}", markup=False)


@sources_app.command("run")
def run_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Run a source now, whatever its schedule (then embed with `paperroute embed`). Exit
    status 1 when the source failed; 3 when a job is running it already."""
    with open_hub_or_fail(ctx) as hub:
        run = run_source(hub, name, force=True)
    if format is Format.json:
        out.print_json(json.dumps(describe_run(run)))
    elif run.ran and not run.error:
        out.print(
            f"{run.name}: {run.added:,} papers added, {run.updated:,} updated; "
            f"next run {_when(run.next_run_at)}",
            markup=False,
        )
    for notice in run.notices:
        err.print(notice, markup=False)
    if not run.ran:
        fail(f"source {name} is being run by a job right now; try again when it is done", 3)
    if run.error:
        fail(f"{run.name} is offline, next try at {_when(run.next_run_at)}: {run.error}", 1)


def worker_command(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", min=1, max=64, help="Worker threads (default: worker_concurrency)."
        ),
    ] = None,
    no_periodic: Annotated[
        bool, typer.Option("--no-periodic", help="Run queued tasks only, schedule none.")
    ] = False,
) -> None:
    """Consume the background jobs' queue (sources, embedding, enrichment, stars, trending,
    digests, housekeeping) until SIGINT / SIGTERM. Any number may run, on any machine that
    reaches the database and the queue."""
    config = config_or_fail(ctx)
    logging.getLogger("paperroute.jobs").setLevel(logging.INFO)
    try:
        jobs = Jobs(config)
        jobs.hub()  # migrate once, and fail here if the database cannot be opened
    except PaperrouteError as exc:
        fail(str(exc))
    try:
        run_worker(jobs, concurrency or config.worker_concurrency, periodic=not no_periodic)
    finally:
        jobs.close()
