"""Shared fixtures: real databases (SQLite files and a real PostgreSQL server).

PostgreSQL: ``PAPERROUTE_TEST_POSTGRES_URL`` names a server where the tests may create
databases (``postgresql+psycopg://user@host:port/postgres``); without it, a throwaway
cluster is started with the local ``initdb`` when PostgreSQL is installed. When neither
works the PostgreSQL variants are skipped, or fail under ``PAPERROUTE_REQUIRE_ALL=1``
(which CI sets, so that a missing service can never pass silently).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from paperroute import Config, Hub, open_hub

if TYPE_CHECKING:
    from support.smtp import SmtpServer

REQUIRE_ALL = os.environ.get("PAPERROUTE_REQUIRE_ALL") == "1"
DATA = Path(__file__).parent / "data"


def unavailable(reason: str) -> None:
    """Skip, or fail when every service is required."""
    if REQUIRE_ALL:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def _pg_bindir() -> Path | None:
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _throwaway_cluster() -> Iterator[str | None]:
    bindir = _pg_bindir()
    if bindir is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="paperroute-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    try:
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "log"),
                "-w",
                "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off",
                "start",
            ],
            check=True,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, OSError):
        shutil.rmtree(root, ignore_errors=True)
        yield None
        return
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str | None]:
    url = os.environ.get("PAPERROUTE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with _throwaway_cluster() as started:
        yield started


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def postgres_url(postgres_admin_url: str | None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    if postgres_admin_url is None:
        unavailable("no PostgreSQL server (set PAPERROUTE_TEST_POSTGRES_URL or install it)")
    assert postgres_admin_url is not None
    name = f"paperroute_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_libpq(postgres_admin_url), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        unavailable(f"cannot create a PostgreSQL database: {exc}")
    base = postgres_admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(_libpq(postgres_admin_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses it runs on a fresh SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'paperroute.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    with open_hub(Config(database_url=database_url, arxiv_min_interval=0.0)) as opened:
        yield opened


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 recording messages, with fault injection (see
    tests/support/smtp.py); point ``Config(smtp_url=smtp_server.url)`` at it."""
    try:
        from support.smtp import SmtpServer as Server
    except ImportError as exc:  # aiosmtpd is a dev dependency
        unavailable(f"aiosmtpd is not installed: {exc}")
    with Server() as server:
        yield server
