"""The ``paperroute`` Typer app: the main options, then the commands of each command module.

Exit status: 0 when everything went in; 1 when some record, file or response was skipped
(each is named on stderr with its reason); 2 for a usage or configuration error.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from . import digest, ingest, papers, search, upkeep, users, web
from ._common import State, StderrHandler, err

app = typer.Typer(
    name="paperroute",
    help="A self-hostable hub for research papers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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
    ctx.obj = State(database_url, verbose)
    logger = logging.getLogger("paperroute")
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    if not any(isinstance(h, StderrHandler) for h in logger.handlers):
        handler = StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


# `paperroute --help` lists the commands in the order they are registered here, then the
# command groups in theirs: init, show, stats, search, similar, embed, serve, trending; ingest,
# demo, digest, subscribers, bounces, users.
papers.register(app)
ingest.register(app)
search.register(app)
web.register(app)
digest.register(app)
users.register(app)
upkeep.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; every finished batch is stored, run again to resume")
        sys.exit(130)
