"""Commands of the web hub: ``paperroute serve`` and ``paperroute trending``."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
from typing import Annotated, Any

import typer
from rich.table import Table

from ..config import Config, networks
from ..errors import PaperrouteError
from ..jobs import EmbeddedWorker, Jobs, queue_file
from ..logs import NOTICE_LOGGER
from ..reading import WINDOW_DAYS as WINDOWS
from ..reading import Terms, scoring
from ._common import Format, State, config_or_fail, fail, json_logs, open_hub_or_fail, out


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command("trending")(trending_command)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Worker processes (default: one per core)."),
    ] = None,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers",
            help="Take the client's address and scheme from X-Forwarded-For / -Proto when "
            "the request comes from --forwarded-allow-ips.",
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            metavar="CIDR[,CIDR...]",
            help="The proxies believed by --proxy-headers (addresses or networks).",
        ),
    ] = "127.0.0.1,::1",
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            help="On SQLite, run no embedded job worker (run `paperroute worker` instead).",
        ),
    ] = False,
) -> None:
    """Serve the web hub (pages, JSON API, feeds) with uvicorn; on SQLite, also run the
    background jobs in this process unless --no-worker."""
    config = config_or_fail(ctx)
    if config.demo and not _loopback(host):
        # /dev/outbox shows every sign-in link, the demo admin's too.
        fail(
            f"demo mode lets anyone sign in as its admin through /dev/outbox: serve it on "
            f"127.0.0.1 (or ::1), not {host}, or turn demo mode off (PAPERROUTE_DEMO=0)"
        )
    trusted: str | None = None
    if proxy_headers:
        if config.demo:
            fail("demo mode serves this machine only, never behind a proxy: no --proxy-headers")
        try:
            proxies = networks(forwarded_allow_ips, "--forwarded-allow-ips")
            trusted = ",".join(str(n) for n in proxies)
        except PaperrouteError as exc:
            fail(str(exc))
        if not trusted:
            fail("--forwarded-allow-ips names no proxy")
    # Each worker process builds its own app (and engine) from the environment.
    os.environ["PAPERROUTE_DATABASE_URL"] = config.database_url
    base_url = served_base_url(config, host, port)
    if base_url != config.base_url:
        os.environ["PAPERROUTE_BASE_URL"] = base_url
        config = dataclasses.replace(config, base_url=base_url)
    try:
        from ..web.app import create_app

        create_app(config).state.hub.close()  # migrate once, and fail here if it cannot open
    except PaperrouteError as exc:
        fail(str(exc))
    count = workers or os.cpu_count() or 1
    shown = f"[{host}]" if ":" in host else host
    notice = f"paperroute: serving http://{shown}:{port}/ with {count} worker(s)"
    if json_logs():
        logging.getLogger(NOTICE_LOGGER).info(notice)
    else:
        out.print(notice, markup=False)
    # The worker processes read the configuration from the environment: the option too.
    os.environ["PAPERROUTE_LOG_FORMAT"] = config.log_format
    from ..web import server

    state: State = ctx.obj
    embedded = None if no_worker else _embedded_worker(config)
    try:
        started = server.run(
            config,
            "paperroute.web.app:app_from_env",
            host=host,
            port=port,
            workers=count,
            forwarded_allow_ips=trusted,
            verbose=state.verbose,
        )
    except KeyboardInterrupt:
        return
    finally:
        if embedded is not None:
            embedded.stop()
    if not started:
        fail(f"could not serve on {shown}:{port} (see the message above)", 3)


def _embedded_worker(config: Config) -> EmbeddedWorker | None:
    """On SQLite, the job consumer this process runs beside the web server (docs/jobs.md);
    on PostgreSQL none: workers run as `paperroute worker`, on any machine."""
    try:
        if queue_file(config.database_url) is None:
            return None
        worker = EmbeddedWorker(Jobs(config), config.worker_concurrency)
        worker.start()
    except PaperrouteError as exc:
        fail(str(exc))
    return worker


def served_base_url(config: Config, host: str, port: int) -> str:
    """The hub's own address for the links it makes: ``base_url`` when it was set; when it
    was left at its default and the hub serves this machine, the address it serves (else
    the links in mail would name port 8000 while the hub listens elsewhere)."""
    if config.base_url != Config().base_url or "PAPERROUTE_BASE_URL" in os.environ:
        return config.base_url
    if not _loopback(host):
        return config.base_url
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def trending_command(
    ctx: typer.Context,
    window: Annotated[str, typer.Option("--window", help="week, month or all.")] = "week",
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 20,
    explain: Annotated[
        str | None, typer.Option("--explain", metavar="ID", help="Each term of one paper.")
    ] = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="Precompute every window's ranking (the job after imports, votes)."
        ),
    ] = False,
) -> None:
    """The trending ranking, or each term of one paper's score (docs/trending.md)."""
    if window not in WINDOWS:
        fail(f"--window must be week, month or all, not {window!r}")
    if refresh:
        with open_hub_or_fail(ctx) as hub:
            counts = hub.reading.precompute_trending()
        if format is Format.json:
            out.print_json(json.dumps(counts))
            return
        for name, count in counts.items():
            shown = "not stored: no day has listings" if count < 0 else f"{count} papers ranked"
            out.print(f"trending {name}: {shown}")
        return
    with open_hub_or_fail(ctx) as hub:
        weights = hub.reading.weights
        if explain is not None:
            try:
                paper = hub.papers.show(explain)
            except PaperrouteError as exc:
                fail(str(exc), 1)
            terms = hub.reading.explain(paper.id, window)
            if terms is None:
                fail(f"paper {paper.id} is hidden", 1)
            rows = [_row(terms)]
        else:
            found = hub.reading.trending(window, limit=limit)
            titles = {c.pk: c.title for c in found.page.cards}
            rows = [
                {**_row(t), "rank": i, "title": titles.get(t.pk, "")}
                for i, t in enumerate(found.ranked, 1)
            ]
    if format is Format.json:
        out.print_json(json.dumps(rows[0] if explain is not None else rows))
        return
    if explain is not None:
        row = rows[0]
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="dim")
        table.add_column(justify="right")
        table.add_row("paper", row["id"])
        table.add_row(
            "upvotes",
            f"{row['upvotes']} (Hugging Face {row['hf_upvotes']} + readers {row['votes']})",
        )
        table.add_row("code stars", "unknown" if row["stars"] is None else str(row["stars"]))
        table.add_row("age (days)", f"{row['age_days']:.2f}")
        table.add_row(
            f"upvote term  {weights.upvote_weight}·{scoring.fade(weights, window)}",
            f"{row['upvote_term']:.4f}",
        )
        table.add_row(
            f"star term    {weights.star_weight}·log10(1+stars)", f"{row['star_term']:.4f}"
        )
        if window == "week":
            table.add_row(
                f"recency term {weights.recency_weight}·0.5^(age/{weights.recency_half_life})",
                f"{row['recency_term']:.4f}",
            )
        table.add_row("score", f"{row['score']:.4f}")
        out.print(table)
        return
    table = Table(title=f"trending ({window})")
    for name in ("#", "score", "up", "stars", "age", "id", "title"):
        table.add_column(
            name, justify="right" if name in {"#", "score", "up", "stars", "age"} else "left"
        )
    for row in rows:
        table.add_row(
            str(row["rank"]),
            f"{row['score']:.2f}",
            str(row["upvotes"]),
            "" if row["stars"] is None else str(row["stars"]),
            f"{row['age_days']:.1f}",
            row["id"],
            row["title"][:70],
        )
    out.print(table)


def _row(terms: Terms) -> dict[str, Any]:
    return {
        "id": terms.id,
        "score": round(terms.score, 6),
        "upvotes": terms.upvotes,
        "hf_upvotes": terms.hf_upvotes,
        "votes": terms.votes,
        "stars": terms.stars,
        "age_days": round(terms.age_days, 4),
        "upvote_term": round(terms.upvote_term, 6),
        "star_term": round(terms.star_term, 6),
        "recency_term": round(terms.recency_term, 6),
    }
