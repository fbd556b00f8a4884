"""Fixtures of the digest tests: a hub holding real papers of three listing days (tests/data/
digest/papers.jsonl), its configuration, and the Digests use cases over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from paperroute import Hub, open_hub
from paperroute.digest import Digests
from support.digest_data import make_config, paper_records


@pytest.fixture
def papers_hub(database_url: str) -> Iterator[Hub]:
    with open_hub(make_config(database_url)) as hub:
        report = hub.papers.ingest(paper_records())
        assert not report.skipped
        yield hub


@pytest.fixture
def digests_for(papers_hub: Hub) -> Callable[..., Digests]:
    """Digests over the papers hub with some settings changed (smtp_url=..., ...)."""

    def make(**overrides: Any) -> Digests:
        return Digests(papers_hub.engine, replace(papers_hub.config, **overrides))

    return make


@pytest.fixture
def digests(digests_for: Callable[..., Digests]) -> Digests:
    return digests_for()
