"""The demo data's precomputed vectors (``paperroute/data/demo-vectors.npz``).

Written by ``scripts/build_demo_vectors.py`` from a demo database embedded with
``paperroute embed``; read by ``paperroute demo load`` so that the demo needs no long
embedding step. Each vector is keyed by the paper's public id and the hash of the text it
was made from: a paper whose text differs (or is missing) is left for ``paperroute embed``.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, delete, insert, select

from ..store.schema import papers
from ..store.schema_vectors import embedding_models, embeddings
from ._vectors import (
    VECTOR_DTYPE,
    decode_vectors,
    model_info,
    paper_text,
    text_hash,
)

DEMO_VECTORS = "demo-vectors.npz"


def export_vectors(engine: Engine, model: str, path: Path) -> int:
    """Write every stored vector of ``model`` with its paper id and text hash to ``path``."""
    with engine.connect() as connection:
        info = model_info(connection, model)
        if info is None:
            raise ValueError(f"no vectors of {model} in this database")
        rows = connection.execute(
            select(papers.c.id, embeddings.c.text_hash, embeddings.c.vector)
            .join(papers, papers.c.pk == embeddings.c.paper_pk)
            .where(embeddings.c.model == model)
            .order_by(papers.c.id)
        ).all()
    vectors = decode_vectors([bytes(row[2]) for row in rows], info.dimension)
    np.savez_compressed(
        path,
        ids=np.array([row[0] for row in rows], dtype=str),
        hashes=np.array([row[1] for row in rows], dtype=str),
        vectors=vectors.astype(VECTOR_DTYPE),
        model=np.array(info.model),
        version=np.array(info.version),
        max_length=np.array(info.max_length),
    )
    return len(rows)


def import_vectors(engine: Engine, path: Path, *, model: str, max_length: int) -> int:
    """Store the vectors of ``path`` for the papers whose text still matches, when they were
    made by ``model`` at ``max_length`` (else nothing). Returns how many were stored."""
    with np.load(path, allow_pickle=False) as data:
        if str(data["model"]) != model or int(data["max_length"]) != max_length:
            return 0
        ids = [str(x) for x in data["ids"]]
        hashes = [str(x) for x in data["hashes"]]
        vectors = np.asarray(data["vectors"], dtype=VECTOR_DTYPE)
        version = str(data["version"])
    now = dt.datetime.now(dt.UTC)
    wanted = dict(zip(ids, range(len(ids)), strict=True))
    with engine.begin() as connection:
        info = model_info(connection, model)
        if info is not None and info.version != version:
            return 0  # the database holds vectors of another version: leave them
        if info is None:
            connection.execute(
                insert(embedding_models).values(
                    model=model,
                    version=version,
                    dimension=int(vectors.shape[1]),
                    max_length=max_length,
                    updated_at=now,
                )
            )
        rows = []
        for pk, paper_id, title, abstract in connection.execute(
            select(papers.c.pk, papers.c.id, papers.c.title, papers.c.abstract)
        ):
            position = wanted.get(paper_id)
            if position is None or hashes[position] != text_hash(paper_text(title, abstract)):
                continue
            rows.append(
                {
                    "paper_pk": pk,
                    "model": model,
                    "vector": vectors[position].tobytes(),
                    "text_hash": hashes[position],
                    "created_at": now,
                }
            )
        if rows:
            connection.execute(
                delete(embeddings).where(
                    embeddings.c.model == model,
                    embeddings.c.paper_pk.in_([row["paper_pk"] for row in rows]),
                )
            )
            connection.execute(insert(embeddings), rows)
    return len(rows)


def import_demo_vectors(engine: Engine, *, model: str, max_length: int) -> int:
    """The bundled demo vectors (see :func:`import_vectors`); 0 when none ship."""
    data = resources.files("paperroute") / "data" / DEMO_VECTORS
    if not data.is_file():
        return 0
    with resources.as_file(data) as path:
        return import_vectors(engine, path, model=model, max_length=max_length)
