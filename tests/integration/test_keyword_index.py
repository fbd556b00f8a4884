"""The keyword index follows every write: FTS5 (external content, triggers) on SQLite, a
generated tsvector column with a GIN index on PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from paperroute import Hub, PaperRecord
from paperroute.sources.common import build_record
from paperroute.sources.jsonl import parse_jsonl
from paperroute.store.schema import papers

CORPUS = Path(__file__).parents[1] / "data" / "jsonl" / "corpus-300.jsonl.gz"


def rec(source: str = "arxiv-api", key: str = "k", **fields: Any) -> PaperRecord:
    fields.setdefault("title", "A Paper")
    made = build_record(source=source, source_key=key, **fields)
    assert isinstance(made, PaperRecord), made
    return made


def search(hub: Hub, words: str) -> set[int]:
    """Primary keys of the papers the keyword index finds for ``words``."""
    with hub._db.engine.connect() as connection:
        if hub._db.engine.dialect.name == "sqlite":
            query = " ".join(f'"{w}"' for w in words.split())
            sql = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH :q"
        else:
            query = words
            sql = "SELECT pk FROM papers WHERE search_vector @@ plainto_tsquery('english', :q)"
        return set(connection.scalars(text(sql), {"q": query}))


def pk_of(hub: Hub, paper_id: str) -> int:
    with hub._db.engine.connect() as connection:
        pk = connection.scalar(select(papers.c.pk).where(papers.c.id == paper_id))
    assert pk is not None
    return int(pk)


def check_sqlite_index(hub: Hub) -> None:
    """FTS5's own check that the indexes (every column's, the titles') agree with the
    papers table (SQLite only)."""
    if hub._db.engine.dialect.name == "sqlite":
        with hub._db.engine.begin() as connection:
            for table in ("papers_fts", "paper_titles_fts"):
                connection.execute(text(f"INSERT INTO {table}({table}) VALUES ('integrity-check')"))


def test_a_new_paper_is_found_by_title_abstract_and_author_words(hub: Hub) -> None:
    hub.papers.ingest(
        [
            rec(
                title="Quixotic lattices of hyperbolic tilings",
                abstract="We enumerate pentagrammic configurations.",
                authors=["Agnieszka Wojciechowska", "Bo Li"],
                arxiv_id="2401.00001",
            ),
            rec(key="2", title="Unrelated", abstract="Nothing here.", arxiv_id="2401.00002"),
        ]
    )
    pk = pk_of(hub, "2401.00001")
    for words in ("quixotic", "lattices", "pentagrammic", "Wojciechowska", "agnieszka"):
        assert search(hub, words) == {pk}, words
    assert search(hub, "quixotic pentagrammic") == {pk}
    assert search(hub, "zzyzx") == set()
    assert search(hub, "unrelated") == {pk_of(hub, "2401.00002")}
    check_sqlite_index(hub)


def test_every_paper_of_a_dump_is_found_by_a_word_of_its_title(hub: Hub) -> None:
    records = [r for r in parse_jsonl(CORPUS.read_bytes()) if isinstance(r, PaperRecord)]
    hub.papers.ingest(records, batch_size=128)
    with hub._db.engine.connect() as connection:
        pks = {r.id: r.pk for r in connection.execute(select(papers.c.id, papers.c.pk))}
    for record in records:
        words = re.findall(r"(?<![\w\\$^_{-])[A-Za-z]{7,}(?![\w}$^_-])", record.title)
        assert words, record.title
        word = max(words, key=len)
        assert pks[record.arxiv_id] in search(hub, word), (record.arxiv_id, word)
    check_sqlite_index(hub)


def test_a_newer_version_reindexes_title_and_authors(hub: Hub) -> None:
    v1 = rec(title="Quixotic lattices", authors=["Wojciechowska"], arxiv_id="2401.00001v1")
    v2 = rec(title="Sesquilinear manifolds", authors=["Okonkwo"], arxiv_id="2401.00001v2")
    hub.papers.ingest([v1])
    pk = pk_of(hub, "2401.00001")
    assert search(hub, "quixotic") == search(hub, "wojciechowska") == {pk}
    assert hub.papers.ingest([v2]).updated == 1
    assert search(hub, "quixotic") == search(hub, "wojciechowska") == set()
    assert search(hub, "sesquilinear") == search(hub, "okonkwo") == {pk}
    check_sqlite_index(hub)


def test_an_abstract_filled_later_is_indexed(hub: Hub) -> None:
    hub.papers.ingest([rec("page", "p", title="Bare title", authors=["A"])])
    filled = rec("bibtex", "b", title="Bare title", abstract="Ornithopter aerodynamics.")
    assert hub.papers.ingest([filled]).updated == 1
    with hub._db.engine.connect() as connection:
        pk = connection.scalar(select(papers.c.pk))
    assert search(hub, "ornithopter") == {pk}
    check_sqlite_index(hub)


def test_a_deleted_paper_leaves_the_index(hub: Hub) -> None:
    hub.papers.ingest(
        [
            rec(title="Quixotic lattices", authors=["Wojciechowska"], arxiv_id="2401.00001"),
            rec(key="2", title="Quixotic groups", arxiv_id="2401.00002"),
        ]
    )
    keep = pk_of(hub, "2401.00002")
    with hub._db.engine.begin() as connection:
        connection.execute(text("DELETE FROM papers WHERE id = '2401.00001'"))
    assert search(hub, "quixotic") == {keep}
    assert search(hub, "lattices") == search(hub, "wojciechowska") == set()
    check_sqlite_index(hub)


def test_the_index_is_kept_by_the_database(hub: Hub) -> None:
    if hub._db.engine.dialect.name != "sqlite":
        with hub._db.engine.connect() as connection:
            generated = connection.scalar(
                text(
                    "SELECT is_generated FROM information_schema.columns "
                    "WHERE table_name = 'papers' AND column_name = 'search_vector'"
                )
            )
            index = connection.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_papers_search_vector'")
            )
        assert generated == "ALWAYS"
        assert index is not None and "USING gin (search_vector)" in index
        return
    with hub._db.engine.connect() as connection:
        query = text("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {r.name: r.tbl_name for r in connection.execute(query)}
    assert triggers == {
        "papers_fts_insert": "papers",
        "papers_fts_delete": "papers",
        "papers_fts_update": "papers",
        # The titles' own index (migration 0016), for the keyword search's title tier.
        "paper_titles_fts_insert": "papers",
        "paper_titles_fts_delete": "papers",
        "paper_titles_fts_update": "papers",
    }


def _index_state(hub: Hub) -> list[tuple[Any, ...]]:
    """SQLite: the FTS5 segments, which every reindex appends to; PostgreSQL: the vectors."""
    if hub._db.engine.dialect.name == "sqlite":
        sql = "SELECT * FROM papers_fts_data ORDER BY id"
    else:
        sql = "SELECT pk, search_vector::text FROM papers ORDER BY pk"
    with hub._db.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def test_a_star_count_update_does_not_reindex(hub: Hub) -> None:
    # On PostgreSQL a stored generated column is recomputed on every update of its row;
    # only the result (the same vector) is observable there.
    base = rec("jsonl", "j", title="Quixotic lattices", arxiv_id="2401.00001", authors=["W"])
    hub.papers.ingest([base])
    hf = rec("hf-daily", "h1", title="Other", code_stars=3)
    hf = dataclasses.replace(hf, arxiv_id=base.arxiv_id)
    hub.papers.ingest([hf])
    before = _index_state(hub)
    assert hub.papers.ingest([dataclasses.replace(hf, source_key="h2", code_stars=50)]).updated == 1
    assert hub.papers.show("2401.00001").code_stars == 50
    assert _index_state(hub) == before
    check_sqlite_index(hub)
