"""Nothing already stored is damaged: failed batches roll back whole, bad records are skipped
and reported, and the rest of an import still lands. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from paperroute import DailyEntry, Hub, PaperRecord, RecordError, StorageError
from paperroute.sources.common import build_record
from paperroute.sources.jsonl import parse_jsonl
from paperroute.store.schema import (
    authors,
    daily_entries,
    metadata,
    paper_authors,
    paper_categories,
    papers,
    provenance,
)
from paperroute.store.writer import PaperWriter

DATA = Path(__file__).parents[1] / "data"
CORPUS = DATA / "jsonl" / "corpus-300.jsonl.gz"


def rec(source: str = "arxiv-api", key: str = "k", **fields: Any) -> PaperRecord:
    fields.setdefault("title", "A Paper")
    made = build_record(source=source, source_key=key, **fields)
    assert isinstance(made, PaperRecord), made
    return made


def snapshot(hub: Hub) -> dict[str, list[tuple[Any, ...]]]:
    with hub._db.engine.connect() as connection:
        return {
            t.name: [
                tuple(r) for r in connection.execute(select(t).order_by(*t.primary_key.columns))
            ]
            for t in metadata.sorted_tables
        }


def count(hub: Hub, table: Any) -> int:
    with hub._db.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def corpus(n: int | None = None) -> list[PaperRecord]:
    items = list(parse_jsonl(CORPUS.read_bytes()))
    records = [i for i in items if isinstance(i, PaperRecord)]
    assert len(records) == 300
    return records[:n] if n is not None else records


def broken(key: str, arxiv_id: str, **fields: Any) -> PaperRecord:
    """A record that every database refuses (a daily entry without a day: NOT NULL)."""
    entry = DailyEntry(day=cast(dt.date, None), source="hf")
    return rec("hf-daily", key, title=f"Broken {key}", arxiv_id=arxiv_id, daily=[entry], **fields)


# -- a failed batch ---------------------------------------------------------------------------


def test_a_failed_batch_leaves_the_database_exactly_as_before(hub: Hub) -> None:
    stored = corpus(20)
    hub.papers.ingest(stored)
    hub.papers.save_checkpoint("oai", {"token": "abc"})
    before = snapshot(hub)
    assert len(before["papers"]) == 20 and len(before["daily_entries"]) >= 20

    target = stored[3]
    assert target.arxiv_id is not None
    newer = rec(
        "jsonl",
        "newer",
        title="Replaced title",
        arxiv_id=f"{target.arxiv_id}v9",
        authors=["Brand New Author", *target.authors],
        categories=["q-bio.NC"],
        daily=[DailyEntry(day=dt.date(2030, 1, 1), source="arxiv", kind="replace")],
    )
    fresh = rec("jsonl", "fresh", title="Fresh", arxiv_id="2501.00001", authors=["Another New"])
    writer = PaperWriter(hub._db.engine)
    with pytest.raises(IntegrityError):
        writer.write([newer, fresh, broken("bad", "2501.00002")])
    assert snapshot(hub) == before

    # The writer forgot the author ids of the rolled-back transaction: it can write them now.
    assert writer.write([newer, fresh]) == ["updated", "inserted"]
    assert hub.papers.show(target.arxiv_id).authors[0] == "Brand New Author"
    assert count(hub, authors) == len(before["authors"]) + 2


def test_a_failure_after_every_row_is_written_rolls_all_of_it_back(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.papers.ingest(corpus(10))
    before = snapshot(hub)
    real = PaperWriter._write_provenance

    def fail_at_the_end(self: PaperWriter, connection: Connection, *args: Any) -> None:
        real(self, connection, *args)
        assert connection.scalar(select(func.count()).select_from(papers)) == 300
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(PaperWriter, "_write_provenance", fail_at_the_end)
    with pytest.raises(OperationalError):
        PaperWriter(hub._db.engine).write(corpus())
    assert snapshot(hub) == before


def test_the_hub_writes_a_failed_batch_one_by_one(hub: Hub) -> None:
    hub.papers.ingest(corpus(5))
    before = snapshot(hub)
    good = [
        rec("jsonl", f"good{n}", title=f"Good {n}", arxiv_id=f"2501.0000{n}", authors=["G"])
        for n in range(1, 4)
    ]
    bad = broken("bad", "2501.00009")
    report = hub.papers.ingest([good[0], bad, good[1], good[2]], batch_size=100)

    assert (report.inserted, report.updated, report.unchanged) == (3, 0, 0)
    assert [(e.source, e.source_key) for e in report.skipped] == [("hf-daily", "bad")]
    reason = report.skipped[0].reason
    assert reason.startswith("the database refused it: ")
    assert "IntegrityError" in reason or "NotNullViolation" in reason
    assert count(hub, papers) == 8
    with hub._db.engine.connect() as connection:
        assert connection.scalar(select(papers.c.pk).where(papers.c.id == "2501.00009")) is None
    after = snapshot(hub)
    for name in ("papers", "paper_authors", "paper_categories", "daily_entries", "provenance"):
        kept = [row for row in after[name] if row in before[name]]
        assert kept == before[name], name


def test_a_batch_fails_on_an_update_and_the_stored_paper_stays_intact(hub: Hub) -> None:
    hub.papers.ingest([rec("jsonl", "a", title="Kept", arxiv_id="2501.00001", authors=["K"])])
    before = snapshot(hub)
    bad = broken("bad", "2501.00001", abstract="Would replace.", categories=["cs.AI"])
    report = hub.papers.ingest([bad])
    assert [e.source_key for e in report.skipped] == ["bad"]
    assert report.inserted + report.updated + report.unchanged == 0
    assert snapshot(hub) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("categories", ["a" * 41]), ("doi", "10.1234/" + "x" * 150)],
    ids=["category-41", "doi-158"],
)
def test_values_build_record_accepts_are_stored_on_both_databases(
    hub: Hub, request: pytest.FixtureRequest, field: str, value: Any
) -> None:
    """PostgreSQL enforces String(n) lengths (category 40, id 320); SQLite does not:
    build_record must only let through what both can store."""
    record = rec("bibtex", "long", title="Long values", **{field: value})
    ok = rec("bibtex", "ok", title="Fine")
    report = hub.papers.ingest([record, ok])
    assert report.inserted == 2, report.skipped


# -- bad records among good ones --------------------------------------------------------------


def test_a_one_megabyte_abstract_is_refused_and_the_rest_lands(hub: Hub) -> None:
    huge = build_record(source="page", source_key="huge", title="Huge", abstract="word " * 200_000)
    assert isinstance(huge, RecordError)
    assert huge.reason == "abstract too long (999,999 characters, limit 20,000)"
    report = hub.papers.ingest([rec(key="a", title="A"), huge, rec(key="b", title="B")])
    assert (report.inserted, report.skipped) == (2, [huge])
    assert count(hub, papers) == 2


def test_a_one_megabyte_line_in_a_dump_is_skipped_and_the_rest_lands(hub: Hub) -> None:
    lines = gzip.decompress(CORPUS.read_bytes()).splitlines(keepends=True)
    big = json.dumps(
        {"id": "2501.99999", "title": "Huge", "authors": ["A"], "summary": "word " * 200_000}
    ).encode()
    assert len(big) > 1_000_000
    data = b"".join([*lines[:150], big + b"\n", *lines[150:]])
    report = hub.papers.ingest(parse_jsonl(data, document="dump"), batch_size=50)
    assert report.inserted == 300
    assert [(e.source, e.source_key) for e in report.skipped] == [
        ("jsonl", "dump:151 (2501.99999)")
    ]
    assert report.skipped[0].reason.startswith("abstract too long")
    assert count(hub, papers) == 300


def test_an_interrupted_import_keeps_its_finished_batches(hub: Hub) -> None:
    records = corpus(25)

    def interrupted() -> Iterator[PaperRecord]:
        yield from records
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hub.papers.ingest(interrupted(), batch_size=10)
    assert count(hub, papers) == 20
    report = hub.papers.ingest(records, batch_size=10)
    assert (report.inserted, report.unchanged) == (5, 20)


# -- constraints the writer relies on ---------------------------------------------------------


def test_foreign_keys_are_enforced(hub: Hub) -> None:
    with pytest.raises(IntegrityError), hub._db.engine.begin() as connection:
        connection.execute(
            insert(paper_categories).values(paper_pk=424242, category="x", position=0)
        )
    hub.papers.ingest([rec(title="T", arxiv_id="2501.00001", authors=["A"])])
    with pytest.raises(IntegrityError), hub._db.engine.begin() as connection:
        pk = connection.scalar(select(papers.c.pk))
        connection.execute(insert(paper_authors).values(paper_pk=pk, position=1, author_pk=999))


def test_deleting_a_paper_deletes_its_rows_but_not_shared_authors(hub: Hub) -> None:
    day = DailyEntry(day=dt.date(2024, 5, 1), source="arxiv", kind="new")
    hub.papers.ingest(
        [
            rec(
                key="1",
                title="One",
                arxiv_id="2501.00001",
                authors=["A", "B"],
                categories=["cs.LG", "cs.AI"],
                daily=[day],
            ),
            rec(key="2", title="Two", arxiv_id="2501.00002", authors=["B"], categories=["cs.AI"]),
        ]
    )
    hub.papers.ingest([rec("bibtex", "one", title="One", arxiv_id="2501.00001", journal_ref="J")])
    assert count(hub, provenance) == 3
    with hub._db.engine.begin() as connection:
        connection.execute(text("DELETE FROM papers WHERE id = '2501.00001'"))
    for table, expected in (
        (paper_authors, 1),
        (paper_categories, 1),
        (daily_entries, 0),
        (provenance, 1),
        (authors, 2),
    ):
        assert count(hub, table) == expected, table.name
    assert hub.papers.show("2501.00002").authors == ("B",)


def test_a_failing_database_stops_the_import_with_a_clear_error(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that fails as a whole (gone, locked, full) is not a bad record: the import
    stops with one clear error instead of reporting every record as refused."""
    first = rec(key="1", title="Stored first", arxiv_id="2401.00101")
    assert hub.papers.ingest([first]).inserted == 1

    def broken(self: PaperWriter, records: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(PaperWriter, "write", broken)
    with pytest.raises(StorageError, match=r"database is locked.*run the import again"):
        hub.papers.ingest([rec(key="2", title="Never", arxiv_id="2401.00102")])
    monkeypatch.undo()
    assert hub.papers.show("2401.00101").title == "Stored first"
