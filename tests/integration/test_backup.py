"""``paperroute backup`` and ``restore``: a consistent copy while papers are being written,
no overwriting, restores that check what they put back and never clobber data unasked."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperroute import Config, open_hub
from paperroute.model import PaperRecord
from paperroute.sources.common import build_record
from support.cli import cli


def record(n: int) -> PaperRecord:
    made = build_record(
        source="jsonl",
        source_key=f"line {n}",
        title=f"A study of backups, part {n}",
        abstract="Copies of a database taken while it is written to. " * 5,
        authors=["Ada Lovelace", f"Writer {n}"],
        arxiv_id=f"2401.{n:05d}",
        categories=["cs.DB"],
    )
    assert isinstance(made, PaperRecord)
    return made


def ids_in(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT arxiv_id FROM papers")}


def checks_of(path: Path) -> tuple[list[str], list[object], str]:
    with sqlite3.connect(path) as connection:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        keys = list(connection.execute("PRAGMA foreign_key_check"))
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return integrity, keys, revision


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "live" / "hub.db"
    path.parent.mkdir()
    with open_hub(Config(database_url=f"sqlite:///{path}")) as hub:
        hub.papers.ingest(record(n) for n in range(50))
    yield path


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_a_backup_taken_while_papers_are_written_holds_every_earlier_paper(
    db: Path, tmp_path: Path
) -> None:
    committed: list[str] = []  # ids whose transaction has committed, in order
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with open_hub(Config(database_url=url(db))) as hub:
                n = 1000
                while not stop.is_set():
                    batch = [record(n + i) for i in range(20)]
                    hub.papers.ingest(batch, batch_size=20)  # one transaction
                    committed.extend(r.arxiv_id or "" for r in batch)
                    n += 20
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(committed) < 100 and thread.is_alive():
            stop.wait(0.01)
        before = {*(f"2401.{n:05d}" for n in range(50)), *committed}
        target = tmp_path / "copy.db"
        done = subprocess.run(
            [sys.executable, "-m", "paperroute", "--database-url", url(db), "backup", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert done.returncode == 0, done.stderr
    assert "integrity ok" in done.stdout
    integrity, foreign_keys, revision = checks_of(target)
    assert (integrity, foreign_keys) == (["ok"], [])
    copied = ids_in(target)
    assert before <= copied  # every paper committed before the backup started
    assert copied <= {*before, *committed}  # and nothing that was never committed
    assert len(copied) % 10 == 0  # whole transactions of 20 (plus the first 50): no torn batch
    assert not target.with_name("copy.db.partial").exists()
    with sqlite3.connect(target) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert revision == checks_of(db)[2]


def test_a_backup_never_overwrites(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "taken.db"
    target.write_bytes(b"something precious")
    result = cli(url(db), "backup", str(target))
    assert result.exit_code == 1
    assert "never overwrites" in result.stderr
    assert target.read_bytes() == b"something precious"


def test_backup_and_restore_into_a_new_place_with_the_vector_index(
    db: Path, tmp_path: Path
) -> None:
    index = db.with_name("hub.db.index")
    index.mkdir()
    (index / "vectors.json").write_text('{"vectors": 50}')
    target = tmp_path / "b.db"
    assert cli(url(db), "backup", str(target)).exit_code == 0
    assert (tmp_path / "b.db.index" / "vectors.json").read_text() == '{"vectors": 50}'
    fresh = tmp_path / "new" / "hub.db"
    fresh.parent.mkdir()
    result = cli(url(fresh), "restore", str(target))
    assert result.exit_code == 0, result.stderr
    assert "restored 50 papers" in result.stdout
    assert ids_in(fresh) == ids_in(db)
    assert checks_of(fresh)[0] == ["ok"]
    assert (fresh.with_name("hub.db.index") / "vectors.json").exists()
    shown = cli(url(fresh), "show", "2401.00007", "--format", "json")
    assert shown.exit_code == 0 and "part 7" in shown.stdout


def test_restore_refuses_to_clobber_a_database_unless_forced(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "b.db"
    assert cli(url(db), "backup", str(target)).exit_code == 0
    with open_hub(Config(database_url=url(db))) as hub:
        hub.papers.ingest([record(777)])  # written after the backup
    refused = cli(url(db), "restore", str(target))
    assert refused.exit_code == 1
    assert "--force" in refused.stderr
    assert "2401.00777" in ids_in(db)  # untouched
    forced = cli(url(db), "restore", str(target), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "2401.00777" not in ids_in(db)
    assert len(ids_in(db)) == 50
    assert checks_of(db)[0] == ["ok"]


def test_restore_refuses_what_is_not_a_sound_backup(db: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\x13" * 5000)
    fresh = tmp_path / "fresh.db"
    result = cli(url(fresh), "restore", str(garbage))
    assert result.exit_code == 1
    assert "garbage.db" in result.stderr
    assert not fresh.exists() or fresh.stat().st_size == 0

    future = tmp_path / "future.db"
    assert cli(url(db), "backup", str(future)).exit_code == 0
    with sqlite3.connect(future) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0999'")
    result = cli(url(fresh), "restore", str(future))
    assert result.exit_code == 1
    assert "0999" in result.stderr and "does not know" in result.stderr

    missing = cli(url(fresh), "restore", str(tmp_path / "nowhere.db"))
    assert missing.exit_code == 1 and "no backup" in missing.stderr


def test_postgresql_backup_prints_pg_dump_without_the_password(tmp_path: Path) -> None:
    dsn = "postgresql+psycopg://paper:hunter2@db.example.org:5433/papers"
    result = cli(dsn, "backup", str(tmp_path / "papers.dump"))
    assert result.exit_code == 0, result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert result.stdout.strip() == (
        f"pg_dump --format=custom --file={tmp_path / 'papers.dump'} "
        "postgresql://paper@db.example.org:5433/papers"
    )
    restore = cli(dsn, "restore", str(tmp_path / "papers.dump"))
    assert restore.exit_code == 1  # no such file yet
    (tmp_path / "papers.dump").write_bytes(b"PGDMP")
    restore = cli(dsn, "restore", str(tmp_path / "papers.dump"))
    assert restore.exit_code == 0
    assert "pg_restore" in restore.stdout and "hunter2" not in restore.stdout + restore.stderr
