"""``paperroute init``, ``show`` and ``stats``: the database and the papers in it."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ..errors import PaperrouteError
from ..model import Paper
from ._common import Format, fail, jsonable, open_hub_or_fail, out


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(show)
    app.command()(stats)


def init(ctx: typer.Context) -> None:
    """Create the database, or bring its schema up to date."""
    with open_hub_or_fail(ctx) as hub:
        out.print(f"database ready: {hub.database()}", markup=False)


def paper_json(paper: Paper) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(dataclasses.asdict(paper))
    return data


def show(
    ctx: typer.Context,
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="arXiv id, doi:..., or URL.")],
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """One paper, with its daily listings and provenance."""
    with open_hub_or_fail(ctx) as hub:
        try:
            paper = hub.papers.show(paper_id)
        except PaperrouteError as exc:
            fail(str(exc), 1)
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


def stats(
    ctx: typer.Context, format: Annotated[Format, typer.Option("--format")] = Format.table
) -> None:
    """How many papers, authors, daily listings; by source and category."""
    with open_hub_or_fail(ctx) as hub:
        result = hub.papers.stats()
    data = jsonable(dataclasses.asdict(result))
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
