"""``paperroute ingest SOURCE`` and ``paperroute demo load``: imports, each with a progress bar
and a report of what went in and what was skipped."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from .. import ingest as use
from ..errors import PaperrouteError
from ..hub import Hub
from ..model import MAX_NOTICES, IngestReport
from ._common import err, fail, open_hub_or_fail, out, progress_bar

ingest_app = typer.Typer(help="Import papers from a source.", no_args_is_help=True)
demo_app = typer.Typer(help="The bundled demo data.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(demo_app, name="demo")


MAX_LISTED = 50
# A skip reason's kind, for the summary: what comes before the details (quoted values,
# counts in parentheses, the URL of a request).
_REASON_END = re.compile(r"[:(';]")
_LINE_NO = re.compile(r"\bline \d+")
_GET_URL = re.compile(r"^GET \S+ ")


def _report(report: IngestReport) -> None:
    for notice in report.notices:
        err.print(notice, markup=False)
    if report.warnings > MAX_NOTICES:
        err.print(f"... and {report.warnings - MAX_NOTICES:,} more warnings", markup=False)
    for error in report.skipped[:MAX_LISTED]:
        err.print(f"skipped {error.source_key}: {error.reason}", markup=False)
    if len(report.skipped) > MAX_LISTED:
        err.print(f"... and {len(report.skipped) - MAX_LISTED:,} more skipped", markup=False)
    reasons: dict[str, int] = {}
    for error in report.skipped:
        reason = _LINE_NO.sub("line N", _GET_URL.sub("GET ", error.reason))
        reason = _REASON_END.split(reason, maxsplit=1)[0].strip()
        reasons[reason] = reasons.get(reason, 0) + 1
    out.print(
        f"inserted {report.inserted:,} · updated {report.updated:,} · "
        f"unchanged {report.unchanged:,} · skipped {len(report.skipped):,}"
        + (f" · repaired {report.warnings:,}" if report.warnings else ""),
        markup=False,
    )
    if reasons:
        summary = ", ".join(f"{count:,} {reason}" for reason, count in sorted(reasons.items()))
        out.print(f"skipped by reason: {summary}", markup=False)
    if report.failed:
        raise typer.Exit(1)


def _import(
    ctx: typer.Context, label: str, run: Callable[[Hub, Callable[[int], None]], IngestReport]
) -> None:
    """Run an import with a progress bar, then print its report (and exit 1 on a skip)."""
    with open_hub_or_fail(ctx) as hub, progress_bar(label) as progress:
        report = run(hub, progress)
    _report(report)


def _parse_day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2026-01-31, not {value!r}")


Paths = Annotated[list[Path], typer.Argument(help="Files to import.")]


@ingest_app.command("jsonl")
def ingest_jsonl(ctx: typer.Context, paths: Paths) -> None:
    """JSON Lines: the Kaggle arXiv snapshot or the listings corpus shape, plain or gzip."""
    _import(ctx, "JSON Lines", lambda hub, progress: use.ingest_jsonl(hub, paths, progress))


@ingest_app.command("hf-daily")
def ingest_hf_daily(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Dumps of /api/daily_papers: .json files, folders or tar archives."),
    ] = None,
    date: Annotated[str | None, typer.Option("--date", help="Fetch this day live.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="...through this day.")] = None,
) -> None:
    """Hugging Face daily papers, from dumps or live from the API."""
    if bool(paths) == bool(date):
        fail("give either dump PATHs or --date D [--until D]")
    if until and not date:
        fail("--until needs --date")
    start = _parse_day(date, "--date") if date else None
    end = _parse_day(until, "--until") if until else None
    with open_hub_or_fail(ctx) as hub, progress_bar("Hugging Face daily papers") as progress:
        if paths:
            report = use.ingest_hf_files(hub, paths, progress)
        else:
            assert start is not None
            with use.hf_client(hub.config) as client:
                report = use.ingest_hf_days(hub, client, start, end, progress)
    _report(report)


@ingest_app.command("oai")
def ingest_oai(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Saved OAI-PMH responses (instead of harvesting).")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="OAI-PMH base URL.")] = None,
    prefix: Annotated[
        str, typer.Option("--prefix", help="arXivRaw, arXiv or oai_dc.")
    ] = "arXivRaw",
    set_spec: Annotated[
        str | None, typer.Option("--set", help="e.g. cs or physics:hep-th.")
    ] = None,
    from_date: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option("--until", help="YYYY-MM-DD")] = None,
) -> None:
    """arXiv OAI-PMH: harvest (resumable, incremental) or import saved responses."""
    if prefix not in {"arXivRaw", "arXiv", "oai_dc"}:
        fail(f"--prefix must be arXivRaw, arXiv or oai_dc, not {prefix!r}")
    for value, option in ((from_date, "--from"), (until, "--until")):
        if value:
            _parse_day(value, option)
    with open_hub_or_fail(ctx) as hub, progress_bar("OAI-PMH") as progress:
        if paths:
            report = use.ingest_oai_files(hub, paths, progress)
        else:
            with use.arxiv_client(hub.config) as client:
                report = use.harvest_oai(
                    hub,
                    client,
                    base_url=url or hub.config.oai_url,
                    prefix=prefix,
                    set_spec=set_spec,
                    from_date=from_date,
                    until=until,
                    progress=progress,
                )
    _report(report)


@ingest_app.command("arxiv-api")
def ingest_arxiv_api(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Option("--query", help="arXiv search query.")] = None,
    ids: Annotated[str | None, typer.Option("--ids", help="Comma-separated arXiv ids.")] = None,
    max_results: Annotated[
        int | None, typer.Option("--max-results", min=1, help="Stop after this many.")
    ] = None,
) -> None:
    """The arXiv API (Atom), by query or by id list, paged."""
    if bool(query) == bool(ids):
        fail("give exactly one of --query or --ids")
    id_list = [part.strip() for part in (ids or "").split(",") if part.strip()]
    with (
        open_hub_or_fail(ctx) as hub,
        progress_bar("arXiv API") as progress,
        use.arxiv_client(hub.config) as c,
    ):
        report = use.ingest_arxiv_api(
            hub, c, query=query, ids=id_list, max_results=max_results, progress=progress
        )
    _report(report)


@ingest_app.command("rss")
def ingest_rss(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Feed URL (rss.arxiv.org/rss/cs.LG) or file.")],
    feed_key: Annotated[
        str | None,
        typer.Option("--feed-key", help="Name to compare batches under (default: the URL)."),
    ] = None,
) -> None:
    """arXiv announcement feed (RSS or Atom, 2024+ format)."""
    with open_hub_or_fail(ctx) as hub, progress_bar("announcement feed") as progress:
        try:
            if source.startswith(("http://", "https://")):
                batch = use.fetch_feed(hub.config, source)
            else:
                batch = use.read_feed(Path(source))
        except PaperrouteError as exc:
            fail(str(exc), 1)
        report = use.ingest_feed(hub, batch, feed_key=feed_key or source, progress=progress)
    _report(report)


@ingest_app.command("bibtex")
def ingest_bibtex(ctx: typer.Context, paths: Paths) -> None:
    """BibTeX / BibLaTeX files."""
    _import(ctx, "BibTeX", lambda hub, progress: use.ingest_bibtex(hub, paths, progress))


@ingest_app.command("zotero")
def ingest_zotero(ctx: typer.Context, paths: Paths) -> None:
    """Zotero / Better BibTeX JSON or CSL JSON exports."""
    _import(ctx, "Zotero", lambda hub, progress: use.ingest_zotero(hub, paths, progress))


@ingest_app.command("page")
def ingest_page(
    ctx: typer.Context,
    paths: Paths,
    year: Annotated[
        int | None, typer.Option("--year", help="Year of the page's date line.")
    ] = None,
) -> None:
    """Plain-text paper pages: a title line, a blank line, an abstract paragraph."""
    _import(ctx, "pages", lambda hub, progress: use.ingest_pages(hub, paths, year, progress))


@demo_app.command("load")
def demo_load(ctx: typer.Context) -> None:
    """Load the bundled real data: recent Hugging Face daily papers and arXiv listings, with
    their precomputed vectors for semantic search, and infer categories for the papers
    without any."""

    def load(hub: Hub, progress: Callable[[int], None]) -> IngestReport:
        report = use.ingest_demo(hub, progress)
        vectors = hub.search.import_demo_vectors()
        report.notices.append(f"{vectors:,} precomputed vectors of {hub.search.model} stored")
        bags = hub.search.store_term_bags()
        report.notices.append(f"term bags of {bags:,} papers stored (for similar papers)")
        inferred = hub.upkeep.infer_categories()
        report.notices.append(
            f"categories inferred for {inferred.inferred:,} of {inferred.considered:,} papers "
            "without any (from their nearest categorised papers)"
        )
        return report

    _import(ctx, "demo data", load)
