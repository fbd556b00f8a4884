"""Fixtures of the digest tests: a hub holding real papers of three listing days (tests/data/
digest/papers.jsonl), its configuration, and the Digests use cases over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from paperroute import Hub, open_hub
from paperroute.digest import Digests
from paperroute.store.session import Database
from support.digest_data import make_config, paper_records


@pytest.fixture
def papers_hub(database_url: str) -> Iterator[Hub]:
    with open_hub(make_config(database_url)) as hub:
        report = hub.papers.ingest(paper_records())
        assert not report.skipped
        yield hub


@pytest.fixture
def digests_for(papers_hub: Hub) -> Callable[..., Digests]:
    """Digests over the papers hub with some settings changed (smtp_url=..., ...); with none,
    the hub's own ``hub.digests``."""

    def make(**overrides: Any) -> Digests:
        if not overrides:
            return papers_hub.digests
        config = replace(papers_hub.config, **overrides)
        return Digests(Database(papers_hub._db.engine), config, clock=papers_hub.digests.clock)

    return make


@pytest.fixture
def digests(digests_for: Callable[..., Digests]) -> Digests:
    return digests_for()
