"""``paperroute digest``, ``paperroute subscribers`` and ``paperroute bounces``: email
digests from the command line. Each command calls the use cases of digest/service.py."""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..digest import FREQUENCIES, Report, Subscriber
from ..errors import ConfigError, PaperrouteError
from ._common import Format, err, fail, open_hub_or_fail, out

digest_app = typer.Typer(help="Email digests: send, schedule, preview.", no_args_is_help=True)
subscribers_app = typer.Typer(help="Digest subscribers and suppressions.", no_args_is_help=True)
bounces_app = typer.Typer(help="Bounced digest mail.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(digest_app, name="digest")
    app.add_typer(subscribers_app, name="subscribers")
    app.add_typer(bounces_app, name="bounces")


Email = Annotated[str, typer.Argument(help="The subscriber's email address.")]


def _instant(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--at must be a date and time like 2026-08-21T07:00+02:00, not {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _print_report(report: Report) -> None:
    out.print(
        f"sent {report.sent:,} · retried {report.retried:,} · suppressed {report.suppressed:,}"
        f" · failed {report.failed:,} · deferred {report.deferred:,}"
        + (f" · cancelled {report.cancelled:,}" if report.cancelled else "")
        + (f" · re-sent in doubt {report.resent_in_doubt:,}" if report.resent_in_doubt else ""),
        markup=False,
    )
    for line in report.errors[:20]:
        err.print(line, markup=False)
    if report.stopped:
        err.print(f"error: the run stopped, nothing more was sent: {report.stopped}", markup=False)


@digest_app.command("send")
def digest_send(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show who would get what; send nothing.")
    ] = False,
    now: Annotated[
        bool, typer.Option("--now", help="Do not wait for each subscriber's hour.")
    ] = False,
    at: Annotated[
        str | None, typer.Option("--at", help="Plan as if it were this time (ISO 8601).")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only this subscriber (repeatable).")
    ] = None,
) -> None:
    """Finish any interrupted run, then send every digest that is due."""
    with open_hub_or_fail(ctx) as hub:
        try:
            result = hub.digests.send(
                as_of=_instant(at), ignore_hour=now, dry_run=dry_run, only=only
            )
        except ConfigError as exc:
            fail(str(exc), 2)
        except PaperrouteError as exc:
            fail(str(exc), 1)
    if result.resumed_runs:
        out.print(f"resumed run(s) {', '.join(map(str, result.resumed_runs))}", markup=False)
    newest = result.ref_day.isoformat() if result.ref_day else "none"
    out.print(
        f"due {result.due:,} · planned {result.planned:,}"
        f" · nothing new {result.nothing_new:,} · newest listing day {newest}",
        markup=False,
    )
    if dry_run:
        for email, count in result.dry_run[:200]:
            out.print(f"{email}  {count} papers", markup=False)
        if len(result.dry_run) > 200:
            out.print(f"... and {len(result.dry_run) - 200:,} more", markup=False)
        return
    if result.run_pk is not None:
        out.print(f"run {result.run_pk}", markup=False)
    _print_report(result.report)
    if result.report.deferred or result.report.errors or result.report.stopped:
        raise typer.Exit(1)


@digest_app.command("run-scheduler")
def digest_run_scheduler(
    ctx: typer.Context,
    interval: Annotated[
        float | None,
        typer.Option("--interval", min=1.0, help="Seconds between passes (default: config)."),
    ] = None,
) -> None:
    """Send due digests every few minutes until interrupted (Ctrl-C or SIGTERM)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_hub_or_fail(ctx) as hub:
        out.print("digest scheduler running; Ctrl-C stops it", markup=False)
        try:
            hub.digests.run_scheduler(stop, interval=interval)
        except KeyboardInterrupt:
            stop.set()


@digest_app.command("preview")
def digest_preview(
    ctx: typer.Context,
    email: Email,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print the whole message.")] = False,
    at: Annotated[str | None, typer.Option("--at", help="As if it were this time.")] = None,
) -> None:
    """The digest EMAIL would get next (nothing is sent or stored)."""
    with open_hub_or_fail(ctx) as hub:
        try:
            rendered = hub.digests.preview(email, as_of=_instant(at))
        except PaperrouteError as exc:
            fail(str(exc), 1)
    if not rendered.links_work:
        err.print(
            "note: no secret key, so the preview's manage and unsubscribe links are signed "
            "with a throwaway key and do not work (set PAPERROUTE_SECRET_KEY, or "
            "PAPERROUTE_DEMO=1 for a demo database)",
            markup=False,
        )
    if rendered.for_you_note:
        err.print(f"note: {rendered.for_you_note}", markup=False)
    if raw:
        out.print(rendered.raw.decode("utf-8", "replace"), markup=False, highlight=False)
    elif html:
        out.print(rendered.html, markup=False, highlight=False)
    else:
        message = message_from_bytes(rendered.raw, policy=default)
        body = message.get_body(("plain",))
        out.print(f"Subject: {rendered.subject}\n", markup=False)
        out.print(body.get_content() if body is not None else "", markup=False)


def _subscriber_json(subscriber: Subscriber, suppressed: str | None) -> dict[str, Any]:
    prefs = subscriber.prefs
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "suppressed": suppressed,
        "frequency": prefs.frequency,
        "weekday": prefs.weekday,
        "send_hour": prefs.send_hour,
        "timezone": prefs.timezone,
        "trending": prefs.trending,
        "categories": list(prefs.categories),
        "keywords": list(prefs.keywords),
        "authors": list(prefs.authors),
        "max_papers": prefs.max_papers,
        "for_you": prefs.for_you,
        "seeds": list(prefs.seeds),
        "created_at": subscriber.created_at.isoformat(),
    }


@subscribers_app.command("list")
def subscribers_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, confirmed or unsubscribed.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Subscribers, newest first, with their choices and any suppression."""
    with open_hub_or_fail(ctx) as hub:
        try:
            rows = hub.digests.listing(status, limit)
            counts = hub.digests.counts()
        except PaperrouteError as exc:
            fail(str(exc))
    if format is Format.json:
        out.print_json(json.dumps([_subscriber_json(s, why) for s, why in rows]))
        return
    table = Table("email", "status", "schedule", "choices", "suppressed")
    for subscriber, why in rows:
        prefs = subscriber.prefs
        choices = ", ".join(
            [*(["trending"] if prefs.trending else []), *(["for you"] if prefs.for_you else [])]
            + [*prefs.categories, *prefs.keywords]
            + [f"author:{a}" for a in prefs.authors]
        )
        table.add_row(
            subscriber.email,
            subscriber.status,
            f"{prefs.frequency} {prefs.send_hour:02d}:00 {prefs.timezone}",
            choices[:80],
            why or "",
        )
    out.print(table)
    out.print(" · ".join(f"{k} {v:,}" for k, v in sorted(counts.items())), markup=False)


@subscribers_app.command("add")
def subscribers_add(
    ctx: typer.Context,
    email: Email,
    categories: Annotated[str, typer.Option("--categories", help="e.g. cs.CL,cs.LG")] = "",
    keywords: Annotated[
        list[str] | None, typer.Option("--keyword", help="A search query (repeatable).")
    ] = None,
    authors: Annotated[
        list[str] | None, typer.Option("--author", help="An author (repeatable).")
    ] = None,
    trending: Annotated[bool, typer.Option("--trending/--no-trending")] = True,
    frequency: Annotated[
        str, typer.Option("--frequency", help=", ".join(FREQUENCIES))
    ] = "weekdays",
    weekday: Annotated[int, typer.Option("--weekday", min=0, max=6)] = 0,
    hour: Annotated[int, typer.Option("--hour", min=0, max=23)] = 7,
    timezone: Annotated[str, typer.Option("--timezone")] = "UTC",
    max_papers: Annotated[int, typer.Option("--max-papers", min=1, max=50)] = 10,
    for_you: Annotated[
        bool,
        typer.Option(
            "--for-you/--no-for-you",
            help="A For-you section (from the reader account at this address and --seed).",
        ),
    ] = False,
    seeds: Annotated[
        list[str] | None,
        typer.Option(
            "--seed", help="An arXiv id of a paper this hub holds, for For you (repeatable)."
        ),
    ] = None,
    confirmed: Annotated[
        bool,
        typer.Option(
            "--confirmed", help="The address already opted in elsewhere: skip the confirmation."
        ),
    ] = False,
) -> None:
    """Add a subscriber: mails the confirmation link, or adds it confirmed with --confirmed."""
    fields: dict[str, object] = {
        "categories": categories,
        "keywords": keywords or [],
        "authors": authors or [],
        "trending": trending,
        "frequency": frequency,
        "weekday": weekday,
        "send_hour": hour,
        "timezone": timezone,
        "max_papers": max_papers,
        "for_you": for_you,
        "seeds": seeds or [],
    }
    with open_hub_or_fail(ctx) as hub:
        digests = hub.digests
        try:
            if confirmed:
                subscriber = digests.add_confirmed(email, fields)
                out.print(f"{subscriber.email} subscribed (confirmed)", markup=False)
            else:
                outcome = digests.subscribe(email, fields)
                subscriber = outcome.subscriber
                out.print(outcome.message, markup=False)
            unknown = digests.unknown_seeds(subscriber) if seeds else []
        except PaperrouteError as exc:
            fail(str(exc), 1)
    if unknown:
        err.print(
            f"note: not on this hub yet (they count once it holds them): {', '.join(unknown)}",
            markup=False,
        )


@subscribers_app.command("remove")
def subscribers_remove(ctx: typer.Context, email: Email) -> None:
    """Delete a subscriber and its send log (a suppression of the address stays)."""
    with open_hub_or_fail(ctx) as hub:
        try:
            found = hub.digests.remove(email)
        except PaperrouteError as exc:
            fail(str(exc), 1)
    if not found:
        fail(f"no subscriber {email.strip()[:100]!r}", 1)
    out.print("removed", markup=False)


@subscribers_app.command("suppress")
def subscribers_suppress(
    ctx: typer.Context,
    email: Email,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the entry).")] = "",
    lift: Annotated[bool, typer.Option("--lift", help="Take the address off the list.")] = False,
) -> None:
    """Put an address on the suppression list (nothing is ever mailed to it), or --lift it."""
    with open_hub_or_fail(ctx) as hub:
        try:
            hub.digests.set_suppressed(email, "manual", reason or "by an operator", lift=lift)
        except PaperrouteError as exc:
            fail(str(exc), 1)
    out.print("lifted" if lift else "suppressed", markup=False)


@bounces_app.command("process")
def bounces_process(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An mbox file, a Maildir or one message file.")],
) -> None:
    """Read delivery status notifications (RFC 3464) and mailed unsubscribe requests;
    suppress addresses over the bounce thresholds. A bounce that names no digest sent to
    its address is ignored and counted as unmatched."""
    with open_hub_or_fail(ctx) as hub:
        try:
            report = hub.digests.bounces_from_path(path)
        except PaperrouteError as exc:
            fail(str(exc), 1)
    for bounce in report.bounces:
        out.print(f"{bounce.kind} bounce {bounce.email} {bounce.status}", markup=False)
    for line in report.not_dsn:
        err.print(f"skipped {line}", markup=False)
    for line in report.unmatched:
        err.print(f"ignored {line}", markup=False)
    out.print(
        f"messages {report.messages:,} · bounces {len(report.bounces):,} · suppressed "
        f"{len(set(report.suppressed)):,} · unsubscribed {len(report.unsubscribed):,} · "
        f"unmatched {len(report.unmatched):,} · not a DSN {len(report.not_dsn):,}",
        markup=False,
    )
    if report.not_dsn:
        raise typer.Exit(1)
