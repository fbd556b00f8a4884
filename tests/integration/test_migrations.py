"""Migrations build the schema that store/schema.py describes, on SQLite and PostgreSQL; engines
get the per-connection settings the store relies on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, UniqueConstraint, inspect, text
from sqlalchemy.exc import IntegrityError

from paperroute import Config, StorageError, open_hub
from paperroute.config import load_config
from paperroute.errors import ConfigError
from paperroute.sources.common import build_record
from paperroute.store.engine import (
    _alembic_config,
    create_db_engine,
    current_revision,
    head_revision,
    migrate,
)
from paperroute.store.schema import metadata

TABLES = {t.name for t in metadata.sorted_tables}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_db_engine(database_url)
    yield made
    made.dispose()


def downgrade(engine: Engine, revision: str) -> None:
    """command.downgrade through the connection hand-over that engine.migrate uses."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _is_keyword_index(name: str | None, column: str | None = None) -> bool:
    """Objects outside schema.py on purpose: the SQLite FTS5 table (and its shadow tables),
    PostgreSQL's search_vector column, the paper_titles table and their GIN indexes."""
    prefixes = ("papers_fts", "paper_titles")
    return (name or "").startswith(prefixes) or "search_vector" in f"{name} {column}"


def tables(engine: Engine) -> set[str]:
    names = set(inspect(engine).get_table_names())
    return {n for n in names if not _is_keyword_index(n)}


def schema_of(engine: Engine) -> dict[str, Any]:
    """Table -> columns (name, nullable), primary key, foreign keys, indexes, unique columns."""
    inspector = inspect(engine)
    found: dict[str, Any] = {}
    for name in sorted(tables(engine) - {"alembic_version"}):
        columns = [
            (c["name"], c["nullable"])
            for c in inspector.get_columns(name)
            if not _is_keyword_index(name, c["name"])
        ]
        found[name] = {
            "columns": columns,
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "fks": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(name)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]))
                for i in inspector.get_indexes(name)
                if not i.get("duplicates_constraint") and not _is_keyword_index(i["name"])
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
            ),
        }
    return found


def expected_schema() -> dict[str, Any]:
    expected: dict[str, Any] = {}
    for table in sorted(metadata.sorted_tables, key=lambda t: t.name):
        expected[table.name] = {
            "columns": [(c.name, c.nullable) for c in table.columns],
            "pk": [c.name for c in table.primary_key.columns],
            "fks": sorted(
                (
                    (fk.parent.name,),
                    fk.column.table.name,
                    (fk.column.name,),
                    fk.ondelete,
                )
                for fk in table.foreign_keys
            ),
            "indexes": sorted((i.name, tuple(c.name for c in i.columns)) for i in table.indexes),
            "unique": sorted(
                {(c.name,) for c in table.columns if c.unique}
                | {
                    tuple(c.name for c in constraint.columns)
                    for constraint in table.constraints
                    if isinstance(constraint, UniqueConstraint)
                }
            ),
        }
    return expected


# -- migrate ----------------------------------------------------------------------------------


def test_migrate_brings_an_empty_database_to_head(engine: Engine) -> None:
    assert tables(engine) == set()
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert tables(engine) == TABLES | {"alembic_version"}


def test_migrate_twice_is_a_no_op(engine: Engine) -> None:
    migrate(engine)
    before = schema_of(engine)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    migrate(engine)
    assert schema_of(engine) == before
    with engine.connect() as connection:
        again = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [tuple(r) for r in again] == [tuple(r) for r in versions] == [(head_revision(),)]


def test_reopening_keeps_the_data(database_url: str) -> None:
    record = build_record(source="page", source_key="p", title="Kept across opens")
    config = Config(database_url=database_url)
    with open_hub(config) as hub:
        assert hub.papers.ingest([record]).inserted == 1
        hub.papers.save_checkpoint("k", {"n": 1})
    with open_hub(config) as hub:
        assert hub.papers.stats().papers == 1
        assert hub.papers.checkpoint("k") == {"n": 1}


def test_downgrade_to_base_drops_everything_and_upgrade_rebuilds_it(engine: Engine) -> None:
    migrate(engine)
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            left = connection.execute(text("SELECT type, name FROM sqlite_master")).all()
        else:
            left = connection.execute(
                text(
                    "SELECT 'index', indexname FROM pg_indexes WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).all()
    assert [tuple(r) for r in left if r[1] != "alembic_version" and "autoindex" not in r[1]] == []
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert schema_of(engine) == expected_schema()


def test_0007_indexes_the_message_ids_of_an_existing_send_log(engine: Engine) -> None:
    """From 0006 (send log rows already there) to 0007: rows kept, the bounce lookup by
    Message-ID uses the new index; and back."""
    migrate(engine)
    downgrade(engine, "0006")
    assert "ix_digest_sends_message_id" not in {
        i["name"] for i in inspect(engine).get_indexes("digest_sends")
    }
    now = "2026-12-01 09:00:00+00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO subscribers (email, status, frequency, weekday, send_hour, "
                "timezone, trending, categories, keywords, authors, max_papers, token_version, "
                "created_at, updated_at) VALUES ('a@example.org', 'confirmed', 'daily', 0, 8, "
                "'UTC', true, '[]', '[]', '[]', 10, 1, :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text("INSERT INTO digest_runs (started_at, as_of) VALUES (:now, :now)"), {"now": now}
        )
        connection.execute(
            text(
                "INSERT INTO digest_sends (run_pk, subscriber_pk, period, status, message_id, "
                "papers, attempts, updated_at) SELECT r.pk, s.pk, '2026-12-01', 'sent', "
                "'<digest.1.1.abc@example.org>', '[]', 1, :now FROM digest_runs r, subscribers s"
            ),
            {"now": now},
        )
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert "ix_digest_sends_message_id" in {
        i["name"] for i in inspect(engine).get_indexes("digest_sends")
    }
    with engine.connect() as connection:
        assert (
            connection.scalar(
                text("SELECT status FROM digest_sends WHERE message_id = :m"),
                {"m": "<digest.1.1.abc@example.org>"},
            )
            == "sent"
        )
    assert schema_of(engine) == expected_schema()


def _insert_paper(connection: Connection, now: str) -> None:
    """One paper row as any revision since 0001 holds it."""
    connection.execute(
        text(
            "INSERT INTO papers (id, title_hash, title, abstract, authors_text, categories, "
            "created_at, modified_at) VALUES ('2601.00001', 1, 'T', '', '', '', :now, :now)"
        ),
        {"now": now},
    )


def test_0008_adds_comment_edits_and_reports_keeping_comments(engine: Engine) -> None:
    """From 0007 (a comment already there) to 0008: the comment kept, not marked edited, a
    report can be stored once per reader; and back."""
    migrate(engine)
    downgrade(engine, "0007")
    assert "comment_reports" not in inspect(engine).get_table_names()
    now = "2026-12-01 09:00:00+00:00"
    with engine.begin() as connection:
        _insert_paper(connection, now)
        connection.execute(
            text(
                "INSERT INTO users (email, display_name, is_admin, created_at) "
                "VALUES ('a@example.org', 'a', false, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO comments (paper_pk, user_pk, body, body_html, created_at) "
                "SELECT p.pk, u.pk, 'hi', '<p>hi</p>', :now FROM papers p, users u"
            ),
            {"now": now},
        )
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with engine.begin() as connection:
        row = connection.execute(text("SELECT pk, body, edited_at FROM comments")).one()
        assert (row.body, row.edited_at) == ("hi", None)
        insert_report = text(
            "INSERT INTO comment_reports (comment_pk, user_pk, reason, created_at) "
            "SELECT :c, pk, 'spam', :now FROM users"
        )
        connection.execute(insert_report, {"c": row.pk, "now": now})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert_report, {"c": row.pk, "now": now})
    assert schema_of(engine) == expected_schema()
    downgrade(engine, "0007")
    assert "comment_reports" not in inspect(engine).get_table_names()
    assert "edited_at" not in {c["name"] for c in inspect(engine).get_columns("comments")}


def test_0009_adds_the_ai_summary_keeping_daily_entries(engine: Engine) -> None:
    """From 0008 (a daily entry already there) to 0009: the entry kept, its summary NULL
    until the next import; and back."""
    migrate(engine)
    downgrade(engine, "0008")
    now = "2026-12-01 09:00:00+00:00"
    with engine.begin() as connection:
        _insert_paper(connection, now)
        connection.execute(
            text(
                "INSERT INTO daily_entries (day, source, paper_pk, kind, upvotes, ai_keywords) "
                "SELECT '2026-08-21', 'hf', pk, 'submitted', 7, '[\"agents\"]' FROM papers"
            )
        )
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT upvotes, ai_keywords, ai_summary FROM daily_entries")
        ).one()
    assert tuple(row) == (7, '["agents"]', None)
    assert schema_of(engine) == expected_schema()
    downgrade(engine, "0008")
    assert "ai_summary" not in {c["name"] for c in inspect(engine).get_columns("daily_entries")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT upvotes FROM daily_entries")).scalar_one() == 7


def test_0010_gives_every_reader_a_neutral_name_keeping_their_comments(engine: Engine) -> None:
    """From 0009 (readers named after their address, with comments, votes and a submission)
    to 0010: each reader is reader-<pk> with a unique key, the submission names no address,
    nothing else changed; and back."""
    migrate(engine)
    downgrade(engine, "0009")
    now = "2026-12-01 09:00:00+00:00"
    with engine.begin() as connection:
        _insert_paper(connection, now)
        # The same old name twice, and one of its own.
        for email in ("ada@example.org", "ada@example.net", "bob.secret@example.org"):
            connection.execute(
                text(
                    "INSERT INTO users (email, display_name, is_admin, created_at) "
                    "VALUES (:email, :name, false, :now)"
                ),
                {"email": email, "name": email.partition("@")[0], "now": now},
            )
        for day, submitter in (("2026-11-01", "ada"), ("2026-11-02", "bob.secret")):
            connection.execute(
                text(
                    "INSERT INTO daily_entries (day, source, paper_pk, kind, upvotes, submitter)"
                    " SELECT :day, 'hub', pk, 'submitted', 0, :who FROM papers"
                ),
                {"day": day, "who": submitter},
            )
        connection.execute(
            text(
                "INSERT INTO daily_entries (day, source, paper_pk, kind, upvotes, submitter) "
                "SELECT '2026-11-03', 'hf', pk, 'submitted', 0, 'ada' FROM papers"
            )
        )
        connection.execute(
            text(
                "INSERT INTO comments (paper_pk, user_pk, body, body_html, created_at) "
                "SELECT p.pk, u.pk, 'hi', '<p>hi</p>', :now FROM papers p, users u"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO votes (paper_pk, user_pk, created_at) "
                "SELECT p.pk, u.pk, :now FROM papers p, users u"
            ),
            {"now": now},
        )
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with engine.begin() as connection:
        rows = connection.execute(
            text("SELECT pk, display_name, display_key, name_chosen_at FROM users ORDER BY pk")
        ).all()
        assert [tuple(r)[1:] for r in rows] == [
            (f"reader-{r.pk}", f"reader{r.pk}", None) for r in rows
        ]
        assert connection.execute(text("SELECT count(*) FROM comments")).scalar_one() == 3
        assert connection.execute(text("SELECT count(*) FROM votes")).scalar_one() == 3
        submitters = connection.execute(
            text("SELECT source, submitter FROM daily_entries ORDER BY day")
        ).all()
        bob = rows[2].pk
        # Ambiguous "ada" becomes neutral; Hugging Face's own user names are not readers'.
        assert [tuple(s) for s in submitters] == [
            ("hub", "a reader"),
            ("hub", f"reader-{bob}"),
            ("hf", "ada"),
        ]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET display_key = 'same' WHERE pk IN (:a, :b)"),
            {"a": rows[0].pk, "b": rows[1].pk},
        )
    assert schema_of(engine) == expected_schema()
    downgrade(engine, "0009")
    assert "display_key" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM comments")).scalar_one() == 3


def test_0013_adds_the_upkeep_tables_keeping_papers(engine: Engine) -> None:
    """From 0009 (a paper already there) to 0013: the paper kept, the upkeep tables empty
    and usable (an inferred category, a trending run), papers.modified_at indexed; and back."""
    migrate(engine)
    downgrade(engine, "0009")
    assert "inferred_categories" not in tables(engine)
    now = "2026-12-01 09:00:00+00:00"
    with engine.begin() as connection:
        _insert_paper(connection, now)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    indexes = {i["name"] for i in inspect(engine).get_indexes("papers")}
    assert "ix_papers_modified_at" in indexes
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM papers")).scalar_one() == 1
        for table in ("inferred_categories", "enrich_state", "code_repos", "trending_scores"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
        connection.execute(
            text(
                "INSERT INTO inferred_categories "
                "(paper_pk, category, position, confidence, model, inferred_at) "
                "SELECT pk, 'cs.CL', 0, 0.8, 'm', modified_at FROM papers"
            )
        )
    assert schema_of(engine) == expected_schema()
    downgrade(engine, "0009")
    assert {"inferred_categories", "trending_runs", "code_repos"}.isdisjoint(tables(engine))
    indexes = {i["name"] for i in inspect(engine).get_indexes("papers")}
    assert "ix_papers_modified_at" not in indexes
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM papers")).scalar_one() == 1


def test_the_migrated_schema_matches_schema_py(engine: Engine) -> None:
    migrate(engine)
    assert tables(engine) - {"alembic_version"} == TABLES
    found, expected = schema_of(engine), expected_schema()
    for name in sorted(TABLES):
        assert found[name] == expected[name], name


def test_alembic_finds_no_difference_with_schema_py(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        diffs = compare_metadata(context, metadata)

    def name_of(diff: Any) -> tuple[str | None, str | None]:
        # ("remove_table", Table) / ("remove_index", Index) / ("remove_column", s, t, Column)
        obj = diff[-1] if isinstance(diff, tuple) else None
        column = getattr(obj, "name", None)
        table = getattr(getattr(obj, "table", None), "name", None) or column
        return table, column

    left = [d for d in diffs if not _is_keyword_index(*name_of(d))]
    assert left == []


# -- engines ----------------------------------------------------------------------------------


def test_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    migrate(engine)
    with engine.connect() as connection:
        pragmas = {
            name: connection.scalar(text(f"PRAGMA {name}"))
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,
        "busy_timeout": 10000,
    }
    engine.dispose()


def test_the_sqlite_synchronous_setting_reaches_every_connection(tmp_path: Path) -> None:
    config = Config(database_url=f"sqlite:///{tmp_path / 'full.db'}", sqlite_synchronous="full")
    with open_hub(config) as hub, hub._db.read() as connection:
        assert connection.scalar(text("PRAGMA synchronous")) == 2  # FULL
    with pytest.raises(ConfigError, match="sqlite_synchronous"):
        load_config({"PAPERROUTE_SQLITE_SYNCHRONOUS": "off"})


@pytest.mark.postgres
def test_a_postgresql_url_without_driver_gets_psycopg(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    made = create_db_engine(plain)
    try:
        assert made.dialect.driver == "psycopg"
        migrate(made)
        assert current_revision(made) == head_revision()
    finally:
        made.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://user@localhost/papers", "unsupported database 'mysql'"),
        ("mysql+pymysql://user@localhost/papers", "unsupported database 'mysql'"),
        ("not a url", "invalid database URL 'not a url'"),
    ],
)
def test_unsupported_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message) as caught:
        create_db_engine(url)
    assert isinstance(caught.value, StorageError)


def test_a_sqlite_path_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(StorageError) as caught:
        create_db_engine(f"sqlite:///{missing / 'papers.db'}")
    assert str(caught.value) == (
        f"cannot create database {str(missing / 'papers.db')!r}: {missing} does not exist"
    )
    assert not missing.exists()


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_a_storage_error(postgres_url: str) -> None:
    base = postgres_url.rsplit("/", 1)[0]
    with pytest.raises(StorageError, match="cannot migrate the database"):
        open_hub(Config(database_url=f"{base}/no_such_database_here"))


def test_an_old_sqlite_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    with pytest.raises(StorageError, match=r"SQLite 3\.34\.1 is too old: paperroute needs 3\.35"):
        create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")


def test_0012_adds_reader_signals_keeping_subscribers(engine: Engine) -> None:
    """From 0009 (a reader, a paper and a subscriber already there) to 0012: the subscriber
    kept with no For-you section and no seeds; feedback is one row per reader and paper and
    goes with the account; and back."""
    migrate(engine)
    downgrade(engine, "0009")
    now = "2026-12-01 09:00:00+00:00"
    with engine.begin() as connection:
        _insert_paper(connection, now)
        connection.execute(
            text(
                "INSERT INTO users (email, display_name, is_admin, created_at) "
                "VALUES ('a@example.org', 'a', false, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO subscribers (email, status, frequency, weekday, send_hour, "
                "timezone, trending, categories, keywords, authors, max_papers, "
                "token_version, created_at, updated_at) VALUES ('s@example.org', 'confirmed', "
                "'daily', 0, 8, 'UTC', true, '[]', '[]', '[]', 10, 1, :now, :now)"
            ),
            {"now": now},
        )
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert schema_of(engine) == expected_schema()
    with engine.begin() as connection:
        row = connection.execute(text("SELECT for_you, seed_ids FROM subscribers")).one()
        assert (bool(row.for_you), row.seed_ids) == (False, "[]")
        insert_feedback = text(
            "INSERT INTO reader_feedback (user_pk, paper_pk, kind, created_at) "
            "SELECT u.pk, p.pk, 'less', :now FROM users u, papers p"
        )
        connection.execute(insert_feedback, {"now": now})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert_feedback, {"now": now})
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM users"))
        assert connection.execute(text("SELECT count(*) FROM reader_feedback")).scalar() == 0
    downgrade(engine, "0009")
    assert "reader_feedback" not in inspect(engine).get_table_names()
    assert "for_you" not in {c["name"] for c in inspect(engine).get_columns("subscribers")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM subscribers")).scalar() == "s@example.org"


def test_0014_adds_the_sources_and_job_runs_keeping_papers(engine: Engine) -> None:
    """From 0013 (a paper already there) to 0014: the paper kept, the two tables empty and
    usable, a source's name unique; and back."""
    migrate(engine)
    downgrade(engine, "0013")
    assert {"sources", "job_runs"}.isdisjoint(tables(engine))
    now = "2026-12-06 09:00:00+00:00"
    with engine.begin() as connection:
        _insert_paper(connection, now)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    insert = text(
        "INSERT INTO sources (name, kind, parameters, every_s, created_at, next_run_at, "
        "last_added, total_added, failures) "
        "VALUES ('hf-daily', 'hf-daily', '{}', 3600, :now, :now, 0, 0, 0)"
    )
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM job_runs")).scalar_one() == 0
        connection.execute(insert, {"now": now})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"now": now})
    assert schema_of(engine) == expected_schema()
    downgrade(engine, "0013")
    assert {"sources", "job_runs"}.isdisjoint(tables(engine))


def _titled_paper_then_head(engine: Engine, revision: str) -> None:
    """One paper, 'Diffusion models' (abstract 'Sampling videos.'), stored at ``revision``,
    then the migrations up to the head."""
    migrate(engine)
    downgrade(engine, revision)
    with engine.begin() as connection:
        _insert_paper(connection, "2026-12-01 09:00:00+00:00")
        connection.execute(
            text("UPDATE papers SET title = 'Diffusion models', abstract = 'Sampling videos.'")
        )
    migrate(engine)
    assert current_revision(engine) == head_revision()


def _retitle(connection: Connection) -> None:
    """A second paper, 'Video models', and the first one's title changed to 'Sampling'
    (the title indexes' triggers at work)."""
    connection.execute(
        text(
            "INSERT INTO papers (id, title_hash, title, abstract, authors_text, categories, "
            "created_at, modified_at) SELECT '2601.00002', 2, 'Video models', '', '', '', "
            "created_at, modified_at FROM papers"
        )
    )
    connection.execute(text("UPDATE papers SET title = 'Sampling' WHERE id = '2601.00001'"))


def test_0015_adds_the_titles_tsvectors_keeping_papers(engine: Engine) -> None:
    """From 0013 (a paper already there) to 0015: on PostgreSQL the paper's title (only its
    title) is in paper_titles, and triggers keep it in step with new papers, changed titles
    and deletions; SQLite is untouched; and back."""
    _titled_paper_then_head(engine, "0013")
    if engine.dialect.name != "postgresql":
        assert "paper_titles" not in inspect(engine).get_table_names()
        return

    def titled(word: str) -> list[str]:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT p.id FROM paper_titles t JOIN papers p ON p.pk = t.paper_pk "
                    "WHERE t.title_vector @@ to_tsquery('english', :w) ORDER BY p.id"
                ),
                {"w": word},
            )
            return [row[0] for row in rows]

    assert titled("model") == ["2601.00001"] and titled("video") == []  # not the abstract's
    with engine.begin() as connection:
        _retitle(connection)
    assert titled("model") == ["2601.00002"] and titled("sampl") == ["2601.00001"]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM papers WHERE id = '2601.00002'"))
    assert titled("video") == []
    downgrade(engine, "0013")
    assert "paper_titles" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM papers")).scalar_one() == 1


def test_0016_indexes_the_titles_for_sqlite_keeping_papers(engine: Engine) -> None:
    """From 0015 (a paper already there) to 0016: on SQLite the paper's title (only its
    title) is in paper_titles_fts, and triggers keep it in step with new papers, changed
    titles and deletions; PostgreSQL is untouched (paper_titles, 0015); and back."""
    _titled_paper_then_head(engine, "0015")
    if engine.dialect.name != "sqlite":
        assert "paper_titles_fts" not in inspect(engine).get_table_names()
        return

    def titled(word: str) -> list[str]:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT p.id FROM paper_titles_fts t JOIN papers p ON p.pk = t.rowid "
                    "WHERE paper_titles_fts MATCH :w ORDER BY p.id"
                ),
                {"w": word},
            )
            return [row[0] for row in rows]

    assert titled("model") == ["2601.00001"] and titled("video") == []  # not the abstract's
    with engine.begin() as connection:
        _retitle(connection)
        connection.execute(text("UPDATE papers SET abstract = 'Other.' WHERE id = '2601.00001'"))
    assert titled("model") == ["2601.00002"] and titled("sampl") == ["2601.00001"]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM papers WHERE id = '2601.00002'"))
    assert titled("video") == [] and titled("model") == []
    downgrade(engine, "0015")
    assert "paper_titles_fts" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM papers")).scalar_one() == 1


def test_0017_checks_old_names_again_keeping_the_first_chooser(engine: Engine) -> None:
    """From 0016 (two readers whose names the old rules told apart, one name the rules now
    refuse) to 0017: the first to choose keeps the name under its current key, the others are
    back to their default; and back (keys as 0017 left them)."""
    migrate(engine)
    downgrade(engine, "0016")
    with engine.begin() as connection:
        for n, (name, key) in enumerate(
            (("Al\u0131ce", "al\u0131ce"), ("Alice", "alice"), ("Bob\u3164", "bob\u3164"))
        ):
            connection.execute(
                text(
                    "INSERT INTO users (email, display_name, display_key, name_chosen_at, "
                    "is_admin, created_at) VALUES (:email, :name, :key, :chosen, false, :now)"
                ),
                {
                    "email": f"r{n}@example.org",
                    "name": name,
                    "key": key,
                    "chosen": f"2026-11-0{n + 1} 09:00:00+00:00",
                    "now": "2026-11-01 09:00:00+00:00",
                },
            )
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT pk, display_name, display_key FROM users ORDER BY pk")
        ).all()
    first, second, blank = rows
    assert tuple(first)[1:] == ("Al\u0131ce", "alice")
    assert tuple(second)[1:] == (f"reader-{second.pk}", f"reader{second.pk}")
    assert tuple(blank)[1:] == (f"reader-{blank.pk}", f"reader{blank.pk}")
    downgrade(engine, "0016")
    assert current_revision(engine) == "0016"
