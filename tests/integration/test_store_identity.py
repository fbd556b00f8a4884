"""Which stored paper a record is: title matching without ids, and stored value formats."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from paperroute import Hub, NotFound, PaperRecord
from paperroute.sources.common import build_record
from paperroute.sources.hf_daily import parse_daily
from paperroute.store.schema import daily_entries, papers


def rec(source: str, key: str, **fields: Any) -> PaperRecord:
    made = build_record(source=source, source_key=key, **fields)
    assert isinstance(made, PaperRecord), made
    return made


def test_same_title_different_first_author_is_another_paper(hub: Hub) -> None:
    alice = rec("bibtex", "a", title="Introduction", authors=["Alice Smith"], abstract="Dogs.")
    bob = rec("bibtex", "b", title="Introduction.", authors=["Bob Jones"], abstract="Cats.")
    carol = rec(
        "arxiv-api", "c", title="INTRODUCTION", authors=["Carol King"], arxiv_id="2401.00001"
    )
    assert hub.papers.ingest([alice]).inserted == 1
    assert hub.papers.ingest([bob]).inserted == 1
    assert hub.papers.ingest([carol]).inserted == 1
    assert hub.papers.stats().papers == 3
    assert hub.papers.show("2401.00001").authors == ("Carol King",)


def test_same_title_same_first_author_is_the_same_paper(hub: Hub) -> None:
    bare = rec("bibtex", "a", title="Deep Sets", authors=["Manzil Zaheer"])
    known = rec(
        "arxiv-api",
        "b",
        title="Deep sets",
        authors=["M. Zaheer", "S. Kottur"],
        arxiv_id="1703.06114",
        abstract="Permutation invariance.",
    )
    hub.papers.ingest([bare])
    assert hub.papers.ingest([known]).updated == 1
    assert hub.papers.stats().papers == 1
    assert hub.papers.show("1703.06114").abstract == "Permutation invariance."


def test_bulk_written_times_are_stored_as_sqlalchemy_writes_them(hub: Hub) -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    hub.papers.ingest(
        [rec("arxiv-api", "t", title="Timed", arxiv_id="2401.00002", submitted_at=when)]
    )
    with hub._db.engine.connect() as connection:
        found = connection.scalar(select(papers.c.id).where(papers.c.submitted_at == when))
        later = connection.scalar(select(papers.c.id).where(papers.c.submitted_at >= when))
    assert found == later == "2401.00002"
    assert hub.papers.show("2401.00002").submitted_at == when


def test_the_same_hf_item_on_two_days_gives_two_daily_entries(hub: Hub) -> None:
    item = (
        b'[{"paper": {"id": "2405.15738", "title": "ConvLLaVA", "summary": "s", '
        b'"authors": [{"name": "Chunjiang Ge"}], "upvotes": 3}, "numComments": 0}]'
    )
    for day in (dt.date(2024, 1, 2), dt.date(2024, 1, 3)):
        report = hub.papers.ingest(parse_daily(item, day=day))
        assert report.inserted + report.updated == 1
    with hub._db.engine.connect() as connection:
        days = connection.scalars(select(daily_entries.c.day).order_by(daily_entries.c.day))
        assert list(days) == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]


def test_the_same_paper_twice_in_a_batch_is_not_skipped_by_its_stored_hash(hub: Hub) -> None:
    def hf(stars: int) -> PaperRecord:
        return rec(
            "hf-daily",
            f"s{stars}",
            title="Starred",
            arxiv_id="2401.00003",
            code_url="https://github.com/a/b",
            code_stars=stars,
            raw=f"stars={stars}",
        )

    hub.papers.ingest([hf(50)])
    assert [
        hub.papers.ingest([hf(10), hf(50)]).updated,
        hub.papers.show("2401.00003").code_stars,
    ] == [2, 50]
    again = hub.papers.ingest([hf(10), hf(50)])
    assert (again.updated, hub.papers.show("2401.00003").code_stars) == (2, 50)


def test_text_no_database_can_store_is_refused_and_the_rest_lands(hub: Hub) -> None:
    good = rec("bibtex", "g", title="Good")
    bad = rec("bibtex", "b", title="Bad", journal_ref="J. \ud800 Phys.")
    report = hub.papers.ingest([good, bad])
    assert report.inserted == 1
    assert [e.source_key for e in report.skipped] == ["b"]
    assert "UnicodeEncodeError" in report.skipped[0].reason


@pytest.mark.parametrize("ref", ["\x00", "2401.00001\x00", "a\nb", "x" * 5000, "\x1b[31m"])
def test_hostile_refs_are_simply_not_found(hub: Hub, ref: str) -> None:
    """A NUL (which PostgreSQL refuses), control characters or a huge ref: NotFound, never a
    database error."""
    with pytest.raises(NotFound):
        hub.papers.show(ref)
