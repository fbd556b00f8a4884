"""What every command module shares: the consoles, ``--format``, the state the main options
leave on the context, failing with an exit status, opening the hub, progress bars, JSON.

It imports no command module (they import it), so the package has no import cycle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..config import Config, load_config
from ..errors import PaperrouteError
from ..hub import Hub, open_hub
from ..logs import JsonFormatter, formatter

__all__ = [
    "Format",
    "State",
    "StderrHandler",
    "config_or_fail",
    "err",
    "fail",
    "json_logs",
    "jsonable",
    "open_hub_or_fail",
    "out",
    "progress_bar",
    "use_log_format",
]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    json = "json"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is emitted (tests swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@dataclasses.dataclass
class State:
    database_url: str | None = None
    verbose: bool = False
    embed_model: str | None = None  # `paperroute embed --model`
    log_format: str | None = None  # `paperroute --log-format`


def use_log_format(log_format: str) -> None:
    """Give paperroute's log handler on stderr the formatter of ``log_format``."""
    for handler in logging.getLogger("paperroute").handlers:
        if isinstance(handler, StderrHandler):
            handler.setFormatter(formatter(log_format))


def json_logs() -> bool:
    """Whether the log lines are JSON (``--log-format json``): errors go out as log lines too."""
    handlers = [h for h in logging.getLogger("paperroute").handlers if isinstance(h, StderrHandler)]
    return any(isinstance(h.formatter, JsonFormatter) for h in handlers)


def fail(message: str, code: int = 2) -> NoReturn:
    if json_logs():
        logging.getLogger("paperroute.cli").error(message)
    else:
        err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    raise typer.Exit(code)


def config_or_fail(ctx: typer.Context) -> Config:
    state: State = ctx.obj
    try:
        config = load_config(
            database_url=state.database_url,
            embed_model=state.embed_model,
            log_format=state.log_format,
        )
    except PaperrouteError as exc:
        fail(str(exc))
    use_log_format(config.log_format)  # the configuration file may name it
    return config


@contextmanager
def open_hub_or_fail(ctx: typer.Context) -> Iterator[Hub]:
    config = config_or_fail(ctx)
    try:
        hub = open_hub(config)
    except PaperrouteError as exc:
        fail(str(exc))
    try:
        yield hub
    except PaperrouteError as exc:
        fail(str(exc), 1)
    finally:
        hub.close()


@contextmanager
def progress_bar(label: str) -> Iterator[Any]:
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


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value
