"""``paperroute recommend``: the best papers for a library file or a reader's signals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import PaperrouteError
from ..recommend import (
    MAX_LIBRARY_BYTES,
    MAX_RECOMMEND_LIMIT,
    LibraryEntry,
    LibraryError,
    Pick,
    Profile,
    Recommender,
    Seed,
    Skipped,
    parse_library,
)
from ._common import Format, err, fail, open_hub_or_fail, out

MAX_SKIPPED_SHOWN = 100  # lines naming skipped entries; the rest is counted


def register(app: typer.Typer) -> None:
    app.command()(recommend)


def recommend(
    ctx: typer.Context,
    library: Annotated[
        Path | None,
        typer.Option(
            "--library",
            help="A library file: one arXiv id / DOI / URL a line, BibTeX, Zotero or CSL "
            "JSON, RIS.",
            dir_okay=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            metavar="EMAIL",
            help="A reader: their upvotes, collections, library and feedback.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help=f"Picks to show, 1 to {MAX_RECOMMEND_LIMIT:,}.")
    ] = 20,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            help="Only papers announced on or after DATE (YYYY-MM-DD); default: every paper.",
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Rank stored papers for a library file or a reader, best first, each with its reason.
    JSON: a list of {"id", "title", "score", "reason"}."""
    if (library is None) == (user is None):
        fail("give exactly one of --library FILE and --user EMAIL")
    if not 1 <= limit <= MAX_RECOMMEND_LIMIT:
        fail(f"--limit must be between 1 and {MAX_RECOMMEND_LIMIT:,}, not {limit:,}")
    day = _day(since) if since is not None else None
    entries = _read_library(library) if library is not None else None
    with open_hub_or_fail(ctx) as hub:
        if entries is not None:
            profile = _library_profile(hub.recommend, entries, str(library))
        else:
            try:
                account = hub.recommend.account_for_email(str(user))
            except PaperrouteError as exc:
                fail(str(exc), 1)
            profile = hub.foryou.profile(account)
            if profile.empty:
                fail(
                    f"{user} has no signals yet (upvotes, collections, library, "
                    '"more like this", follows): nothing to rank for',
                    1,
                )
        hub.recommend.count_terms()  # the store's term counts, before ranking by them
        picks = hub.recommend.rank(profile, since=day, limit=limit)
    _print(picks, format)
    if not picks:
        err.print(
            "no paper to recommend (every stored paper is in the library, or none is "
            "newer than --since)",
            markup=False,
        )


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--since must be a date YYYY-MM-DD, not {text[:40]!r}")


def _read_library(path: Path) -> list[LibraryEntry]:
    """The file's usable entries; its skipped ones are named on stderr. Exits 1 when the
    file cannot be read or holds no usable entry."""
    try:
        size = path.stat().st_size
        if size > MAX_LIBRARY_BYTES:
            fail(f"{path} is {size:,} bytes; a library may be at most {MAX_LIBRARY_BYTES:,}", 1)
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}", 1)
    try:
        parsed = parse_library(data, path.name)
    except LibraryError as exc:
        fail(str(exc), 1)
    _name_skipped(list(parsed.skipped))
    if not parsed.entries:
        fail(f"{path} holds no usable entry ({len(parsed.skipped):,} skipped)", 1)
    return list(parsed.entries)


def _name_skipped(skipped: list[Skipped]) -> None:
    for item in skipped[:MAX_SKIPPED_SHOWN]:
        err.print(f"skipped {item}", markup=False)
    if len(skipped) > MAX_SKIPPED_SHOWN:
        err.print(f"... and {len(skipped) - MAX_SKIPPED_SHOWN:,} more skipped", markup=False)


def _library_profile(recommender: Recommender, entries: list[LibraryEntry], name: str) -> Profile:
    """Seeds of the entries the hub holds, newest first by the day the file says each was
    added (Zotero's dateAdded, RIS Y2), else by the paper's own day; the others are named
    on stderr. Exits 1 when the hub holds none of them."""
    matched, unmatched = recommender.match_library(entries)
    _name_skipped([Skipped(e.key, _unknown(e)) for e in unmatched])
    if not matched:
        fail(
            f"no entry of {name} is a paper of this hub ({len(entries):,} looked up); "
            "nothing to rank for",
            1,
        )
    return Profile(
        seeds=tuple(Seed(paper_id, "library", 1.0, entry.added) for paper_id, entry in matched)
    )


def _unknown(entry: LibraryEntry) -> str:
    named = (
        f"arXiv id {entry.arxiv_id}"
        if entry.arxiv_id
        else f"DOI {entry.doi}"
        if entry.doi
        else f"title {entry.title[:80]!r}"
        if entry.title
        else "its identifier"
    )
    return f"not a paper of this hub (no stored paper with {named})"


def _print(picks: list[Pick], format: Format) -> None:
    if format is Format.json:
        body = [
            {"id": p.paper_id, "title": p.title, "score": p.score, "reason": p.reason}
            for p in picks
        ]
        out.print_json(json.dumps(body))
        return
    if not picks:
        return
    table = Table("#", "id", "score", "title", "reason", box=None)
    for n, pick in enumerate(picks, 1):
        table.add_row(str(n), pick.paper_id, f"{pick.score:.3f}", pick.title, pick.reason)
    out.print(table)
