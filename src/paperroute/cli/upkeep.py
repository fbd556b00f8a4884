"""The upkeep jobs by hand (docs/upkeep.md): ``paperroute enrich`` and ``paperroute stars
refresh``, the same use cases the scheduler runs."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from ._common import Format, err, open_hub_or_fail, out

stars_app = typer.Typer(help="Code repositories' stars from GitHub.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich_command)
    app.add_typer(stars_app, name="stars")


def enrich_command(
    ctx: typer.Context,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Ask arXiv for at most N papers.")
    ] = None,
    infer_only: Annotated[
        bool,
        typer.Option("--infer-only", help="Only infer categories from neighbours (offline)."),
    ] = False,
    accuracy: Annotated[
        bool,
        typer.Option(
            "--accuracy", help="Measure the inference on categorised papers, held out in turn."
        ),
    ] = False,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Complete papers that lack arXiv's metadata from the arXiv API, then infer categories
    for papers still without any (docs/upkeep.md). Exit status 1 when a batch failed."""
    if accuracy:
        with open_hub_or_fail(ctx) as hub:
            measured = hub.upkeep.inference_accuracy()
        figures = {
            name: {
                **dataclasses.asdict(found),
                "coverage": round(found.coverage, 4),
                "precision": round(found.precision, 4),
                "primary_precision": round(found.primary_precision, 4),
            }
            for name, found in measured.items()
        }
        if format is Format.json:
            out.print_json(json.dumps(figures))
            return
        for name, found in measured.items():
            who = "categorised papers" if name == "all" else "categorised Hugging Face papers"
            out.print(
                f"held out {found.papers:,} {who}: {found.answered:,} got an inferred "
                f"category ({found.coverage:.1%}); the top one is one of the paper's own for "
                f"{found.precision:.1%} of them, its primary for {found.primary_precision:.1%}"
            )
        return
    with open_hub_or_fail(ctx) as hub:
        report = None if infer_only else hub.upkeep.enrich(limit=limit)
        inference = hub.upkeep.infer_categories() if report is None else report.inference
        status = hub.upkeep.enrich_status()
    if format is Format.json:
        data = {
            "enrich": dataclasses.asdict(report) if report else None,
            "inference": dataclasses.asdict(inference) if inference else None,
            "status": status,
        }
        out.print_json(json.dumps(data))
    else:
        if report is not None:
            out.print(
                f"arXiv: {report.enriched:,} of {report.requested:,} papers enriched in "
                f"{report.requests:,} requests ({report.seconds:.1f} s); {report.unknown:,} "
                f"unknown to arXiv, {report.failed:,} failed (tried again later)"
            )
            if report.stopped:
                out.print(f"stopped early: {report.stopped}")
        if inference is not None:
            out.print(
                f"inferred categories for {inference.inferred:,} of {inference.considered:,} "
                f"papers without categories; {inference.cleared:,} inferred rows dropped "
                "(their papers now have their own)"
            )
        out.print(
            f"still lacking arXiv metadata: {status.get('lacking', 0):,}; with inferred "
            f"categories: {status.get('inferred', 0):,}"
        )
    if report is not None:
        for error in report.errors:
            err.print(f"failed: {error}", markup=False)
        if report.errors or report.stopped:
            raise typer.Exit(1)


@stars_app.command("refresh")
def stars_refresh(
    ctx: typer.Context,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Ask GitHub about at most N repos.")
    ] = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Refresh the stars of papers' GitHub repositories (docs/upkeep.md). Exit status 1
    when a repository failed or GitHub's rate limit stopped the run."""
    with open_hub_or_fail(ctx) as hub:
        report = hub.upkeep.refresh_stars(limit=limit)
    if format is Format.json:
        out.print_json(json.dumps(dataclasses.asdict(report), default=str))
    else:
        out.print(
            f"GitHub: {report.checked:,} repositories checked, {report.changed:,} with new "
            f"stars, {report.unchanged:,} unchanged (304), {report.missing:,} not found, "
            f"{report.failed:,} failed"
        )
        if report.stopped:
            out.print(f"stopped early: {report.stopped}")
    for error in report.errors:
        err.print(f"failed: {error}", markup=False)
    if report.errors or report.stopped:
        raise typer.Exit(1)
