"""Fixtures of the web tests: the app over the demo data (loaded once per session and per
database: SQLite and PostgreSQL), and over fresh databases for tests that write."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from paperroute import Config
from paperroute.web.app import create_app
from support.demo import load_demo


def _config(url: str) -> Config:
    return Config(
        database_url=url,
        demo=True,
        secret_key="web-tests-throwaway-secret",
        allowed_hosts="testserver",  # the name the TestClient sends
    )


@pytest.fixture(scope="session")
def sqlite_demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'demo.db'}"
    load_demo(url)
    return url


@pytest.fixture(scope="session")
def postgresql_demo_url(postgres_admin_url: str | None) -> Iterator[str]:
    if postgres_admin_url is None:
        reason = "no PostgreSQL server (set PAPERROUTE_TEST_POSTGRES_URL or install it)"
        if os.environ.get("PAPERROUTE_REQUIRE_ALL") == "1":
            pytest.fail(f"required service unavailable: {reason}")
        pytest.skip(reason)
    assert postgres_admin_url is not None
    name = f"paperroute_webdemo_{uuid.uuid4().hex[:10]}"
    admin = postgres_admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}"
    load_demo(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A client of the app over the demo data, on SQLite and on PostgreSQL. Read-only: tests
    that write use ``fresh``."""
    url = request.getfixturevalue(f"{request.param}_demo_url")
    with TestClient(create_app(_config(url))) as client:
        yield client


@pytest.fixture
def sqlite_demo(sqlite_demo_url: str) -> Iterator[TestClient]:
    """The demo data on SQLite only (for checks the database cannot change)."""
    with TestClient(create_app(_config(sqlite_demo_url))) as client:
        yield client


@pytest.fixture
def fresh(database_url: str) -> Iterator[TestClient]:
    """A client of the app over a fresh, empty database (SQLite and PostgreSQL)."""
    with TestClient(create_app(_config(database_url))) as client:
        yield client
