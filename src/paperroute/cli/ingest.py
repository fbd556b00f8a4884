"""The command line: parse arguments, call the use cases, print. Nothing else lives here.

Exit status: 0 when everything went in; 1 when some record, file or response was skipped
(each is named on stderr with its reason); 2 for a usage or configuration error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url

from .. import ingest as use
from ..config import Config, load_config
from ..errors import PaperrouteError
from ..hub import Hub, open_hub
from ..model import MAX_NOTICES, IngestReport, Paper
from ..sources.http import HttpClient
from ..sources.rss import fetch_feed

app = typer.Typer(
    name="paperroute",
    help="A self-hostable hub for research papers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ingest_app = typer.Typer(help="Import papers from a source.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
demo_app = typer.Typer(help="The bundled demo data.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
MAX_LISTED = 50
# A skip reason's kind, for the summary: what comes before the details (quoted values,
# counts in parentheses, the URL of a request).
_REASON_END = re.compile(r"[:(';]")
_LINE_NO = re.compile(r"\bline \d+")
_GET_URL = re.compile(r"^GET \S+ ")


class Format(StrEnum):
    table = "table"
    json = "json"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is emitted (tests swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@dataclasses.dataclass
class _State:
    database_url: str | None = None
    verbose: bool = False
    embed_model: str | None = None  # `paperroute embed --model`


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    raise typer.Exit(code)


@app.callback()
def main_options(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="sqlite:///path or postgresql+psycopg://... "
            "(default: $PAPERROUTE_DATABASE_URL, else sqlite:///paperroute.db)",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each retry.")] = False,
) -> None:
    ctx.obj = _State(database_url, verbose)
    logger = logging.getLogger("paperroute")
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


def _config(ctx: typer.Context) -> Config:
    state: _State = ctx.obj
    try:
        return load_config(database_url=state.database_url, embed_model=state.embed_model)
    except PaperrouteError as exc:
        _fail(str(exc))


@contextmanager
def _hub(ctx: typer.Context) -> Iterator[Hub]:
    config = _config(ctx)
    try:
        hub = open_hub(config)
    except PaperrouteError as exc:
        _fail(str(exc))
    try:
        yield hub
    except PaperrouteError as exc:
        _fail(str(exc), 1)
    finally:
        hub.close()


@contextmanager
def _progress(label: str) -> Iterator[Any]:
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)


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
    with _hub(ctx) as hub, _progress(label) as progress:
        report = run(hub, progress)
    _report(report)


def _arxiv_client(config: Config) -> HttpClient:
    return HttpClient(
        min_interval=config.arxiv_min_interval,
        max_retries=config.http_max_retries,
        timeout=config.http_timeout,
    )


def _parse_day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} must be a date like 2026-01-31, not {value!r}")


Paths = Annotated[list[Path], typer.Argument(help="Files to import.")]


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database, or bring its schema up to date."""
    with _hub(ctx) as hub:
        shown = make_url(hub.config.database_url).render_as_string(hide_password=True)
        out.print(f"database ready: {shown}", markup=False)


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
        _fail("give either dump PATHs or --date D [--until D]")
    if until and not date:
        _fail("--until needs --date")
    start = _parse_day(date, "--date") if date else None
    end = _parse_day(until, "--until") if until else None
    with _hub(ctx) as hub, _progress("Hugging Face daily papers") as progress:
        if paths:
            report = use.ingest_hf_files(hub, paths, progress)
        else:
            assert start is not None
            client = HttpClient(
                min_interval=0.5,
                max_retries=hub.config.http_max_retries,
                timeout=hub.config.http_timeout,
            )
            with client:
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
        _fail(f"--prefix must be arXivRaw, arXiv or oai_dc, not {prefix!r}")
    for value, option in ((from_date, "--from"), (until, "--until")):
        if value:
            _parse_day(value, option)
    with _hub(ctx) as hub, _progress("OAI-PMH") as progress:
        if paths:
            report = use.ingest_oai_files(hub, paths, progress)
        else:
            with _arxiv_client(hub.config) as client:
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
        _fail("give exactly one of --query or --ids")
    id_list = [part.strip() for part in (ids or "").split(",") if part.strip()]
    with _hub(ctx) as hub, _progress("arXiv API") as progress, _arxiv_client(hub.config) as c:
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
    with _hub(ctx) as hub, _progress("announcement feed") as progress:
        try:
            if source.startswith(("http://", "https://")):
                with _arxiv_client(hub.config) as client:
                    batch = fetch_feed(client, source)
            else:
                batch = use.read_feed(Path(source))
        except PaperrouteError as exc:
            _fail(str(exc), 1)
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
    their precomputed vectors for semantic search."""

    def load(hub: Hub, progress: Callable[[int], None]) -> IngestReport:
        report = use.ingest_demo(hub, progress)
        vectors = hub.searcher.import_demo_vectors()
        report.notices.append(f"{vectors:,} precomputed vectors of {hub.searcher.model} stored")
        bags = hub.store_term_bags()
        report.notices.append(f"term bags of {bags:,} papers stored (for similar papers)")
        return report

    _import(ctx, "demo data", load)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def paper_json(paper: Paper) -> dict[str, Any]:
    data: dict[str, Any] = _jsonable(dataclasses.asdict(paper))
    return data


@app.command()
def show(
    ctx: typer.Context,
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="arXiv id, doi:..., or URL.")],
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """One paper, with its daily listings and provenance."""
    with _hub(ctx) as hub:
        try:
            paper = hub.paper(paper_id)
        except PaperrouteError as exc:
            _fail(str(exc), 1)
    if format is Format.json:
        out.print_json(json.dumps(paper_json(paper)))
        return
    out.print(Text(paper.title, style="bold"))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="dim")
    table.add_column(overflow="fold")
    rows: list[tuple[str, object]] = [
        ("id", paper.id + (f" (v{paper.version})" if paper.version else "")),
        ("authors", ", ".join(paper.authors)),
        ("categories", " ".join(paper.categories)),
        ("submitted", paper.submitted_at),
        ("updated", paper.updated_at),
        ("announced", paper.announced_on),
        ("doi", paper.doi),
        ("journal-ref", paper.journal_ref),
        ("comments", paper.comments),
        ("license", paper.license),
        ("abs", paper.abs_url),
        ("pdf", paper.pdf_url),
        (
            "code",
            f"{paper.code_url} (★ {paper.code_stars})"
            if paper.code_stars is not None
            else paper.code_url,
        ),
        ("project", paper.project_url),
    ]
    for label, value in rows:
        if value:
            table.add_row(label, Text(str(value)))
    for entry in paper.daily:
        detail = f"{entry.day} {entry.source} {entry.kind}"
        if entry.upvotes is not None:
            detail += f", {entry.upvotes} upvotes"
        if entry.submitter:
            detail += f", submitted by {entry.submitter}"
        table.add_row("listed", Text(detail))
    for item in paper.provenance:
        table.add_row(
            "source", Text(f"{item.source} {item.source_key} ({item.fetched_at:%Y-%m-%d})")
        )
    out.print(table)
    out.print()
    out.print(paper.abstract, markup=False)


@app.command()
def stats(
    ctx: typer.Context, format: Annotated[Format, typer.Option("--format")] = Format.table
) -> None:
    """How many papers, authors, daily listings; by source and category."""
    with _hub(ctx) as hub:
        result = hub.stats()
    data = _jsonable(dataclasses.asdict(result))
    if format is Format.json:
        out.print_json(json.dumps(data))
        return
    table = Table(title="paperroute", show_header=False)
    table.add_column(style="dim")
    table.add_column(justify="right")
    table.add_row("papers", f"{result.papers:,}")
    table.add_row("  with an arXiv id", f"{result.with_arxiv_id:,}")
    table.add_row("  with code", f"{result.with_code:,}")
    table.add_row("authors", f"{result.authors:,}")
    for source, count in sorted(result.daily_entries.items()):
        table.add_row(f"daily entries ({source})", f"{count:,}")
    if result.first_day:
        table.add_row("days", f"{result.first_day} → {result.last_day}")
    for source, count in sorted(result.by_source.items()):
        table.add_row(f"from {source}", f"{count:,}")
    for category, count in result.top_categories:
        table.add_row(f"primary {category}", f"{count:,}")
    out.print(table)


# Commands of other parts register on ``app`` when their module is imported.
from . import digest, search, users, web  # noqa: E402, F401


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; every finished batch is stored, run again to resume")
        sys.exit(130)
