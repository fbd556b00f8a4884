"""Fixtures for the For-you tests: 300 real corpus papers (tests/data/PROVENANCE-jsonl.md)
moved to the last 60 days, so that "the last N days" has papers whatever today is, with
vectors from a small deterministic embedder; the web app over them, mail going to a real
SMTP server so that readers sign in through the real flow."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperroute import Config, Hub, PaperRecord, open_hub
from paperroute.web.app import create_app
from support.community import SECRET
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records
from support.smtp import SmtpServer


@pytest.fixture(scope="module")
def records() -> list[PaperRecord]:
    today = dt.datetime.now(dt.UTC).date()
    return [
        dataclasses.replace(r, announced_on=today - dt.timedelta(days=n % 60), daily=())
        for n, r in enumerate(corpus_records())
    ]


@pytest.fixture
def config(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Config:
    return Config(
        database_url=database_url,
        vector_index_dir=str(tmp_path / "index"),
        secret_key=SECRET,
        smtp_url=smtp_server.url,
        allowed_hosts="testserver",
    )


@pytest.fixture
def fhub(config: Config, records: list[PaperRecord]) -> Iterator[Hub]:
    with open_hub(config, embedder=HashEmbedder()) as opened:
        assert opened.papers.ingest(records).inserted == 300
        assert opened.search.embed() == 300
        opened.search.store_term_bags()
        yield opened


@pytest.fixture
def client(config: Config, fhub: Hub) -> Iterator[TestClient]:
    app = create_app(config, embedder=HashEmbedder())
    with TestClient(app) as made:
        yield made
    app.state.hub.close()
