"""Search commands: ``search``, ``similar``, ``embed``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ..errors import ConfigError, PaperrouteError
from ..search import MARK_END, MARK_START, MAX_WINDOW, KeywordHit, Mode
from ..search.results import total_text
from ._common import Format, err, fail, jsonable, open_hub_or_fail, out


def register(app: typer.Typer) -> None:
    app.command()(search)
    app.command()(similar)
    app.command()(embed)


def _hit_json(hit: KeywordHit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "title": hit.title,
        "authors": hit.authors,
        "categories": hit.categories.split(),
        "announced_on": jsonable(hit.announced_on),
        "code_url": hit.code_url,
        "score": round(hit.score, 6),
        "snippet": hit.snippet.replace(MARK_START, "").replace(MARK_END, ""),
    }


def _print_hits(hits: Sequence[KeywordHit], format: Format, empty: str) -> None:
    if format is Format.json:
        out.print_json(json.dumps([_hit_json(hit) for hit in hits]))
        return
    if not hits:
        out.print(empty, markup=False)
        return
    for hit in hits:
        out.print(Text.assemble((hit.id, "cyan"), "  ", (hit.title, "bold")))
        out.print(Text(hit.authors, style="dim"))
        snippet = Text()
        for index, part in enumerate(hit.snippet.replace(MARK_END, MARK_START).split(MARK_START)):
            snippet.append(part, style="reverse" if index % 2 else "")
        out.print(snippet)
        out.print()


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='Words, "phrases", prefix*, -excluded, filters.')],
    mode: Annotated[
        Mode,
        typer.Option("--mode", help="hybrid (keyword + semantic, the default), keyword, semantic."),
    ] = Mode.hybrid,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    offset: Annotated[
        int, typer.Option("--offset", min=0, max=MAX_WINDOW - 1, help="Results to skip (paging).")
    ] = 0,
    spell: Annotated[
        bool,
        typer.Option(
            "--spell/--no-spell", help="Search a corrected query when this one matches nothing."
        ),
    ] = True,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Search papers: BM25 over title > authors > abstract, MiniLM vectors, or both fused;
    filters cat:, author:, after:, before:, has:code. JSON: {"total", "total_exact",
    "offset", "suggestion", "did_you_mean", "results"}."""
    with open_hub_or_fail(ctx) as hub:
        result = hub.search.query(query, mode=mode, limit=limit, offset=offset, correct=spell)
    for notice in result.notices:
        err.print(notice, markup=False)
    if format is Format.json:
        body = {
            "total": result.total,
            "total_exact": result.total_exact,
            "offset": result.offset,
            "suggestion": result.suggestion,
            "did_you_mean": result.did_you_mean,
            "results": [_hit_json(hit) for hit in result.hits],
        }
        out.print_json(json.dumps(body))
        return
    if result.suggestion is not None:
        err.print(f"showing results for: {result.suggestion} (--no-spell: as typed)", markup=False)
    if result.did_you_mean is not None:
        err.print(f"did you mean: {result.did_you_mean}", markup=False)
    shown = f"{result.offset + 1}-{result.offset + len(result.hits)}" if result.hits else "none"
    err.print(f"{total_text(result)}; showing {shown}", markup=False)
    _print_hits(result.hits, format, "no papers found")


def similar(
    ctx: typer.Context,
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="arXiv id, doi:..., or URL.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 10,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Papers similar to one paper: its text's BM25 neighbours fused with its vector
    neighbours."""
    with open_hub_or_fail(ctx) as hub:
        try:
            result = hub.search.similar(paper_id, limit=limit)
        except PaperrouteError as exc:
            fail(str(exc), 1)
    for notice in result.notices:
        err.print(notice, markup=False)
    _print_hits(result.hits, format, "no similar papers found")


def embed(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="all-MiniLM-L6-v2 or a sentence-transformers BERT folder "
            "(default: the embed_model setting).",
        ),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, max=4096, help="Texts per stored batch.")
    ] = None,
) -> None:
    """Compute the vectors of every paper that has none (or a stale one), and the term bags
    similar papers re-rank by: resumable, an interruption keeps every finished batch."""
    if model is not None:
        ctx.obj.embed_model = model
    with open_hub_or_fail(ctx) as hub:
        bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("papers"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        )
        try:
            embedder = hub.search.embedder()
        except ConfigError as exc:
            fail(str(exc))
        err.print(f"model: {embedder.name} ({embedder.version})", markup=False)
        with bar:
            terms = bar.add_task("term bags", total=None)
            bags = hub.search.store_term_bags(
                on_start=lambda total: bar.update(terms, total=total),
                progress=lambda n: bar.advance(terms, n),
            )
            bar.remove_task(terms)
            task = bar.add_task("embedding", total=None)
            done = hub.search.embed(
                batch_size=batch_size,
                on_start=lambda total: bar.update(task, total=total),
                progress=lambda n: bar.advance(task, n),
            )
        status = hub.search.index.status()
    out.print(
        f"term bags of {bags:,} papers stored; embedded {done:,} papers with {hub.search.model}; "
        f"{status.vectors:,} vectors in the index",
        markup=False,
    )
