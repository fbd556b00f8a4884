"""Fixtures for the recommendation tests: a hub over 300 real corpus papers (192 math.AP,
35 math.DG, ...: see tests/data/PROVENANCE-jsonl.md) with vectors from a small
deterministic embedder and term bags, as `paperroute embed` leaves them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperroute import Config, Hub, PaperRecord, open_hub
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records


@pytest.fixture(scope="module")
def records() -> list[PaperRecord]:
    return corpus_records()


@pytest.fixture
def rhub(database_url: str, tmp_path: Path, records: list[PaperRecord]) -> Iterator[Hub]:
    config = Config(database_url=database_url, vector_index_dir=str(tmp_path / "index"))
    with open_hub(config, embedder=HashEmbedder()) as opened:
        assert opened.papers.ingest(records).inserted == 300
        assert opened.search.embed() == 300
        opened.search.store_term_bags()
        yield opened
