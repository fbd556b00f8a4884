"""The ``paperroute`` Typer app: the main options, then the commands of each command module.

Exit status: 0 when everything went in; 1 when some record, file or response was skipped
(each is named on stderr with its reason); 2 for a usage or configuration error.
"""

from __future__ import annotations

import logging
import os
import sys
from enum import StrEnum
from typing import Annotated

import typer

from ..logs import NOTICE_LOGGER
from . import digest, ingest, mail, ops, papers, recommend, search, sources, upkeep, users, web
from ._common import State, StderrHandler, err, use_log_format


class LogFormat(StrEnum):
    text = "text"
    json = "json"


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
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="Log lines on stderr: text, or json (one object per line). "
            "Default: $PAPERROUTE_LOG_FORMAT, else text.",
        ),
    ] = None,
) -> None:
    chosen = log_format.value if log_format else None
    ctx.obj = State(database_url, verbose, log_format=chosen)
    logger = logging.getLogger("paperroute")
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger(NOTICE_LOGGER).setLevel(logging.INFO)
    if not any(isinstance(h, StderrHandler) for h in logger.handlers):
        logger.addHandler(StderrHandler())
    # Until the configuration is read (it may name the format too): the option, else $env.
    env = os.environ.get("PAPERROUTE_LOG_FORMAT", "").strip().lower()
    use_log_format(chosen or ("json" if env == "json" else "text"))


# `paperroute --help` lists the commands in the order they are registered here, then the
# command groups in theirs: init, show, stats, search, similar, embed, serve, trending, backup,
# restore; ingest, demo, digest, subscribers, bounces, users, mail.
papers.register(app)
ingest.register(app)
search.register(app)
recommend.register(app)
web.register(app)
digest.register(app)
users.register(app)
mail.register(app)
ops.register(app)
upkeep.register(app)
sources.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; every finished batch is stored, run again to resume")
        sys.exit(130)
