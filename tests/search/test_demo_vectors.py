"""The demo data's precomputed vectors: exported by scripts/build_demo_vectors.py, imported by
`paperroute demo load` for the papers whose text still matches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import select, update

from paperroute import Config, Hub, open_hub
from paperroute.search._demo_vectors import export_vectors, import_vectors
from paperroute.search.service import Mode
from paperroute.store.schema import papers
from paperroute.store.schema_vectors import embeddings
from support.cli import cli
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records


def vectors(hub: Hub) -> dict[str, bytes]:
    with hub._db.engine.connect() as connection:
        rows = connection.execute(
            select(papers.c.id, embeddings.c.vector).join(
                papers, papers.c.pk == embeddings.c.paper_pk
            )
        ).all()
    return {row[0]: bytes(row[1]) for row in rows}


def test_export_then_import_keeps_matching_papers_only(embedded: Hub, tmp_path: Path) -> None:
    path = tmp_path / "vectors.npz"
    assert export_vectors(embedded._db.engine, "test-hash", path) == 300
    records = corpus_records()
    changed = records[5].arxiv_id
    with open_hub(Config(database_url=f"sqlite:///{tmp_path / 'other.db'}")) as other:
        other.papers.ingest(records)
        with other._db.engine.begin() as connection:
            connection.execute(
                update(papers).where(papers.c.id == changed).values(abstract="Rewritten.")
            )
        assert import_vectors(other._db.engine, path, model="another-model", max_length=128) == 0
        assert import_vectors(other._db.engine, path, model="test-hash", max_length=64) == 0
        assert import_vectors(other._db.engine, path, model="test-hash", max_length=128) == 299
        theirs, ours = vectors(other), vectors(embedded)
        assert changed not in theirs and all(theirs[i] == ours[i] for i in theirs)
        # The paper left out is made by `embed`; nothing else is.
    with open_hub(
        Config(database_url=f"sqlite:///{tmp_path / 'other.db'}"), HashEmbedder()
    ) as other:
        assert other.search.embed() == 1


def test_demo_load_ships_vectors_and_semantic_search_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = cli(url, "demo", "load")
    assert result.exit_code == 0
    assert "6,338 precomputed vectors of all-MiniLM-L6-v2 stored" in result.stderr
    assert "term bags of 6,338 papers stored" in result.stderr
    with open_hub(Config(database_url=url)) as hub:
        assert hub.search.embed() == 0  # nothing left to embed
        assert hub.search.store_term_bags() == 0
        hits = hub.search.query("video generation with diffusion models", mode=Mode.semantic).hits
        assert len(hits) == 20
        text = " ".join(h.title.lower() for h in hits)
        assert text.count("video") >= 10
        stored = np.frombuffer(next(iter(vectors(hub).values())), dtype="<f2")
        assert stored.shape == (384,)
        assert abs(float(np.linalg.norm(stored.astype(np.float32))) - 1) < 1e-2
