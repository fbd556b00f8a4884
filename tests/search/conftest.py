"""Fixtures for the search tests: a hub over 300 real corpus papers with a small deterministic
embedder (the real MiniLM is tested in test_minilm_search.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperroute import Config, Hub, open_hub
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return Config(
        database_url=database_url,
        vector_index_dir=str(tmp_path / "index"),
        embed_batch_size=50,
    )


@pytest.fixture
def shub(config: Config, embedder: HashEmbedder) -> Iterator[Hub]:
    """A hub over the 300-paper corpus, not embedded yet."""
    with open_hub(config, embedder=embedder) as opened:
        assert opened.papers.ingest(corpus_records()).inserted == 300
        yield opened


@pytest.fixture
def embedded(shub: Hub) -> Hub:
    assert shub.search.embed() == 300
    return shub
