"""Running the command line in the test process (Typer's CliRunner), as a user would: the
database named by ``PAPERROUTE_DATABASE_URL``, no configuration file, a wide terminal."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from paperroute.cli import app

__all__ = ["cli", "show", "skipped", "stats", "summary"]

_runner = CliRunner()


def cli(database_url: str, *args: str, **env: str) -> Result:
    """``paperroute ARGS`` with PAPERROUTE_DATABASE_URL=database_url plus ``env``. Raises
    whatever exception escaped the CLI, and fails when a traceback reached its output."""
    environ: dict[str, str | None] = {
        "PAPERROUTE_DATABASE_URL": database_url,
        "PAPERROUTE_CONFIG": None,
        "COLUMNS": "200",
        **env,
    }
    result = _runner.invoke(app, list(args), env=environ)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


def show(database_url: str, paper_id: str) -> dict[str, Any]:
    """``show ID --format json``, which must succeed."""
    result = cli(database_url, "show", paper_id, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def stats(database_url: str) -> dict[str, Any]:
    """``stats --format json``, which must succeed."""
    result = cli(database_url, "stats", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def skipped(result: Result) -> list[str]:
    """The ``skipped KEY: REASON`` lines of stderr."""
    return [line for line in result.stderr.splitlines() if line.startswith("skipped ")]


def summary(inserted: int = 0, updated: int = 0, unchanged: int = 0, skipped: int = 0) -> str:
    """The first line an import prints on stdout."""
    return (
        f"inserted {inserted:,} · updated {updated:,} · unchanged {unchanged:,} · "
        f"skipped {skipped:,}"
    )
