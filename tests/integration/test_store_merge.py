"""How records of the same paper merge in the store, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select

from paperroute import DailyEntry, Hub, NotFound, PaperRecord, RecordError
from paperroute.sources.common import build_record
from paperroute.sources.hf_daily import parse_daily
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

DATA = Path(__file__).parents[1] / "data"
T1 = dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2024, 2, 3, 11, 30, tzinfo=dt.UTC)
T3 = dt.datetime(2024, 3, 4, 12, 45, tzinfo=dt.UTC)


def rec(source: str = "arxiv-api", key: str = "k", **fields: Any) -> PaperRecord:
    fields.setdefault("title", "A Paper")
    made = build_record(source=source, source_key=key, **fields)
    assert isinstance(made, PaperRecord), made
    return made


def rows(hub: Hub, table: Table, *, skip: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    query = select(*[c for c in table.columns if c.name not in skip])
    with hub._db.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(query.order_by(*table.primary_key))]


def snapshot(hub: Hub, **skip: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t.name: rows(hub, t, skip=skip.get(t.name, ()))
        for t in metadata.sorted_tables
        if t.name != "harvest_state"
    }


def count(hub: Hub, table: Table) -> int:
    with hub._db.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def corpus() -> list[PaperRecord]:
    items = list(parse_jsonl((DATA / "jsonl" / "corpus-300.jsonl.gz").read_bytes()))
    assert not [i for i in items if isinstance(i, RecordError)]
    return [i for i in items if isinstance(i, PaperRecord)]


def hf_day(name: str) -> list[PaperRecord]:
    day = dt.date.fromisoformat(name[:10])
    items = parse_daily((DATA / "hf-daily" / name).read_bytes(), day=day, document=name)
    return [i for i in items if isinstance(i, PaperRecord)]


# -- re-imports -------------------------------------------------------------------------------


def test_reimport_of_a_dump_changes_nothing(hub: Hub) -> None:
    records = corpus()
    first = hub.papers.ingest(records, batch_size=64)
    assert (first.inserted, first.updated, first.unchanged, first.skipped) == (300, 0, 0, [])
    assert count(hub, papers) == 300
    assert count(hub, daily_entries) == sum(len(r.daily) for r in records)
    assert count(hub, provenance) == 300
    before = snapshot(hub)

    again = hub.papers.ingest(records, batch_size=64)
    assert (again.inserted, again.updated, again.unchanged, again.skipped) == (0, 0, 300, [])
    assert snapshot(hub) == before


def test_reimport_of_hf_days_changes_nothing(hub: Hub) -> None:
    records = hf_day("2025-06-10.json") + hf_day("2026-08-21.json")
    first = hub.papers.ingest(records)
    assert first.inserted == len({r.arxiv_id for r in records}) == 45
    before = snapshot(hub)
    again = hub.papers.ingest(records)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 45)
    assert snapshot(hub) == before


def test_reimport_without_record_hash_is_unchanged_but_refreshes_provenance(hub: Hub) -> None:
    records = [
        rec(key=f"k{n}", title=f"Paper {n}", arxiv_id=f"2401.0000{n}", authors=["A B"])
        for n in range(1, 4)
    ]
    assert records[0].record_hash is None
    assert hub.papers.ingest(records).inserted == 3
    before = snapshot(hub, provenance=("fetched_at",))
    report = hub.papers.ingest(records)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 3)
    assert snapshot(hub, provenance=("fetched_at",)) == before


# -- versions and sources ---------------------------------------------------------------------


def test_newer_version_replaces_metadata(hub: Hub) -> None:
    v1 = rec(
        key="v1",
        title="Old title",
        abstract="Old abstract.",
        authors=["Ann One", "Bob Two"],
        arxiv_id="2401.00001v1",
        categories=["cs.LG", "stat.ML"],
        comments="10 pages",
        submitted_at=T1,
        updated_at=T1,
    )
    v2 = rec(
        key="v2",
        title="New title",
        abstract="New abstract.",
        authors=["Bob Two", "Cy Three", "Di Four"],
        arxiv_id="2401.00001v2",
        categories=["cs.CL"],
        submitted_at=T2,  # later than v1's: the earliest must stay
        updated_at=T3,
    )
    assert hub.papers.ingest([v1]).inserted == 1
    report = hub.papers.ingest([v2])
    assert (report.inserted, report.updated) == (0, 1)
    paper = hub.papers.show("2401.00001")
    assert (paper.title, paper.abstract, paper.version) == ("New title", "New abstract.", 2)
    assert paper.authors == ("Bob Two", "Cy Three", "Di Four")
    assert paper.categories == ("cs.CL",)
    assert paper.comments == "10 pages"  # v2 has none: v1's stays
    assert (paper.submitted_at, paper.updated_at) == (T1, T3)
    with hub._db.engine.connect() as connection:
        row = connection.execute(select(papers).where(papers.c.id == "2401.00001")).one()
    assert row.authors_text == "Bob Two, Cy Three, Di Four"
    assert (row.categories, row.primary_category) == ("cs.CL", "cs.CL")
    assert [count(hub, t) for t in (papers, paper_authors, paper_categories)] == [1, 3, 1]


def test_older_version_does_not_overwrite(hub: Hub) -> None:
    v2 = rec(key="v2", title="New title", arxiv_id="2401.00001v2", authors=["Bob"], updated_at=T3)
    v1 = rec(
        key="v1",
        title="Old title",
        abstract="Old abstract.",
        arxiv_id="2401.00001v1",
        authors=["Ann"],
        categories=["cs.LG"],
        submitted_at=T1,
        updated_at=T1,
    )
    hub.papers.ingest([v2])
    report = hub.papers.ingest([v1])
    assert report.updated == 1  # it still fills the empty fields and the earliest date
    paper = hub.papers.show("2401.00001")
    assert (paper.title, paper.version, paper.authors) == ("New title", 2, ("Bob",))
    assert paper.abstract == "Old abstract."
    assert paper.categories == ("cs.LG",)
    assert (paper.submitted_at, paper.updated_at) == (T1, T3)

    again = hub.papers.ingest([dataclasses.replace(v1, source_key="v1-again")])
    assert (again.updated, again.unchanged) == (0, 1)


def test_non_authoritative_sources_fill_empty_fields_only(hub: Hub) -> None:
    hub.papers.ingest([rec(title="Arxiv title", arxiv_id="2401.00001v1", authors=["Ann"])])
    bib = rec(
        "bibtex",
        "key2024",
        title="BibTeX title",
        abstract="From BibTeX.",
        authors=["Someone Else"],
        arxiv_id="2401.00001",
        journal_ref="J. Things 1 (2024) 1",
        categories=["hep-th"],
    )
    hf = rec("hf-daily", "2024-01-05/2401.00001", title="HF title", abstract="From HF.")
    hf = dataclasses.replace(hf, arxiv_id="2401.00001")
    report = hub.papers.ingest([bib, hf])
    assert report.updated == 1 and report.unchanged == 1
    paper = hub.papers.show("2401.00001")
    assert (paper.title, paper.authors, paper.version) == ("Arxiv title", ("Ann",), 1)
    assert paper.abstract == "From BibTeX."
    assert paper.journal_ref == "J. Things 1 (2024) 1"
    assert paper.categories == ("hep-th",)
    assert {p.source for p in paper.provenance} == {"arxiv-api", "bibtex", "hf-daily"}


def test_a_strictly_newer_version_from_any_source_replaces(hub: Hub) -> None:
    hub.papers.ingest([rec("jsonl", title="Version one", arxiv_id="2401.00001", authors=["Ann"])])
    hub.papers.ingest(
        [rec("bibtex", title="Version three", arxiv_id="2401.00001v3", authors=["Bo"])]
    )
    paper = hub.papers.show("2401.00001")
    assert (paper.title, paper.version, paper.authors) == ("Version three", 3, ("Bo",))


def test_curated_links_override_extracted_ones_and_stars_update(hub: Hub) -> None:
    text = "We study X. Code: https://github.com/extracted/repo and https://extracted.github.io/"
    hub.papers.ingest([rec("jsonl", title="Linked", arxiv_id="2401.00001", abstract=text)])

    def links() -> tuple[str | None, str | None, int | None]:
        paper = hub.papers.show("2401.00001")
        return paper.code_url, paper.project_url, paper.code_stars

    def hf(day: int, stars: int | None, **links: str) -> PaperRecord:
        made = rec("hf-daily", f"day{day}", title="Linked", code_stars=stars, **links)
        return dataclasses.replace(made, arxiv_id="2401.00001")

    assert links() == ("https://github.com/extracted/repo", "https://extracted.github.io/", None)
    code, page = "https://github.com/real/repo", "https://real.org/p"
    hub.papers.ingest([hf(1, 10, code_url=code, project_url=page)])
    assert links() == (code, page, 10)
    assert hub.papers.ingest([hf(2, 25)]).updated == 1
    assert links() == (code, page, 25)
    assert hub.papers.ingest([hf(3, 20)]).updated == 1  # the latest count wins, even a lower one
    assert links() == (code, page, 20)
    # An authoritative re-import with the extracted link leaves the curated ones in place.
    hub.papers.ingest([rec("jsonl", "other", title="Linked", arxiv_id="2401.00001", abstract=text)])
    assert links() == (code, page, 20)


# -- identity: DOI, content hash, one batch ---------------------------------------------------


@pytest.mark.parametrize("one_batch", [False, True])
def test_arxiv_record_adopts_a_paper_known_by_doi(hub: Hub, one_batch: bool) -> None:
    bib = rec("bibtex", "smith2024", title="Known by DOI", doi="https://doi.org/10.1234/ABC.5")
    arx = rec(title="Known by DOI", arxiv_id="2401.00001v1", doi="10.1234/abc.5")
    if one_batch:
        report = hub.papers.ingest([bib, arx])
        assert (report.inserted, report.updated) == (1, 1)
    else:
        assert hub.papers.ingest([bib]).inserted == 1
        assert hub.papers.show("doi:10.1234/abc.5").id == "doi:10.1234/abc.5"
        assert hub.papers.ingest([arx]).updated == 1
    assert count(hub, papers) == 1
    paper = hub.papers.show("10.1234/abc.5")
    assert (paper.id, paper.arxiv_id, paper.doi) == ("2401.00001", "2401.00001", "10.1234/abc.5")
    assert hub.papers.show("2401.00001v1").id == "2401.00001"
    assert sorted(p.source for p in paper.provenance) == ["arxiv-api", "bibtex"]


def test_a_doi_only_record_merges_into_the_arxiv_paper(hub: Hub) -> None:
    hub.papers.ingest([rec(title="T", arxiv_id="2401.00001", doi="10.1234/x")])
    bib = rec("bibtex", "b", title="Other title", doi="10.1234/X", journal_ref="J. 1")
    assert hub.papers.ingest([bib]).updated == 1
    assert count(hub, papers) == 1
    paper = hub.papers.show("10.1234/x")
    assert (paper.id, paper.title, paper.journal_ref) == ("2401.00001", "T", "J. 1")


def test_an_arxiv_doi_names_the_arxiv_paper(hub: Hub) -> None:
    hub.papers.ingest([rec(title="T", arxiv_id="2401.00001")])
    hub.papers.ingest([rec("bibtex", "b", title="T", doi="10.48550/arXiv.2401.00001")])
    assert count(hub, papers) == 1
    assert hub.papers.show("2401.00001").doi == "10.48550/arxiv.2401.00001"


def test_arxiv_record_adopts_a_paper_known_by_title_only(hub: Hub) -> None:
    page = rec("page", "https://example.org/p", title="A Study of Things", authors=["Ann Lee"])
    assert hub.papers.ingest([page]).inserted == 1
    with hub._db.engine.connect() as connection:
        seed_id = connection.scalar(select(papers.c.id))
    assert seed_id is not None and seed_id.startswith("hash:")

    arx = rec(title="A study of things.", arxiv_id="2402.00002v1", authors=["Ann Lee", "Bo"])
    assert hub.papers.ingest([arx]).updated == 1
    assert count(hub, papers) == 1
    paper = hub.papers.show("2402.00002")
    assert (paper.id, paper.title) == ("2402.00002", "A study of things.")
    assert sorted(p.source for p in paper.provenance) == ["arxiv-api", "page"]
    with pytest.raises(NotFound):
        hub.papers.show(seed_id)
    # The seed page again: it merges into the adopted paper instead of coming back.
    again = rec("page", "https://example.org/p2", title="A Study of Things", authors=["Ann Lee"])
    assert hub.papers.ingest([again]).inserted == 0
    assert count(hub, papers) == 1


def test_a_title_shared_by_several_papers_is_not_guessed(hub: Hub) -> None:
    hub.papers.ingest(
        [
            rec(key="a1", title="Deep Learning", arxiv_id="2401.00001", authors=["Ann"]),
            rec(key="a2", title="Deep Learning", arxiv_id="2401.00002", authors=["Bob"]),
        ]
    )
    page = rec("page", "p", title="Deep learning!", authors=["Cy"], abstract="Mine.")
    assert hub.papers.ingest([page]).inserted == 1
    assert hub.papers.ingest([dataclasses.replace(page, source_key="p2")]).unchanged == 1
    assert count(hub, papers) == 3
    assert [hub.papers.show(i).abstract for i in ("2401.00001", "2401.00002")] == ["", ""]


def test_a_record_without_ids_merges_into_the_one_paper_of_that_title(hub: Hub) -> None:
    hub.papers.ingest([rec("page", "p1", title="Deep Learning", authors=["Ann Lee"])])
    page = rec("page", "p2", title="Deep Learning", authors=["A. Lee"], abstract="Filled.")
    assert hub.papers.ingest([page]).updated == 1
    assert count(hub, papers) == 1
    with hub._db.engine.connect() as connection:
        assert connection.scalar(select(papers.c.abstract)) == "Filled."
    # Another first author: another paper that happens to share the title.
    other = rec("page", "p3", title="Deep Learning", authors=["Bob Moss"], abstract="Other.")
    assert hub.papers.ingest([other]).inserted == 1
    assert count(hub, papers) == 2


def test_the_same_paper_twice_in_one_batch(hub: Hub) -> None:
    a = rec("jsonl", "l1", title="T", abstract="First.", arxiv_id="2401.00001", authors=["A"])
    b = rec("jsonl", "l2", title="T", abstract="Second.", arxiv_id="2401.00001", authors=["A"])
    c = rec("jsonl", "l3", title="T", abstract="Second.", arxiv_id="2401.00001", authors=["A"])
    report = hub.papers.ingest([a, b, c])
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)
    assert count(hub, papers) == 1
    assert hub.papers.show("2401.00001").abstract == "Second."
    assert rows(hub, provenance, skip=("paper_pk", "first_seen_at", "fetched_at")) == [
        ("jsonl", "l3", None)
    ]


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("math.AG/0601001", "math.AG/0601001"),
        ("0704.0001v1", "0704.0001"),
        ("arXiv:2401.12345v3", "2401.12345"),
    ],
)
def test_old_and_new_style_ids(hub: Hub, given: str, canonical: str) -> None:
    hub.papers.ingest([rec(title=f"Paper {given}", arxiv_id=given)])
    paper = hub.papers.show(f"https://arxiv.org/abs/{canonical}v9")
    assert (paper.id, paper.arxiv_id) == (canonical, canonical)
    assert paper.abs_url == f"https://arxiv.org/abs/{canonical}"
    newer = rec(title="Newer", arxiv_id=f"{canonical}v7")
    assert hub.papers.ingest([newer]).updated == 1
    assert (hub.papers.show(canonical).title, hub.papers.show(canonical).version) == ("Newer", 7)
    assert count(hub, papers) == 1


# -- daily entries and authors ----------------------------------------------------------------


def _hf(day: dt.date, upvotes: int) -> PaperRecord:
    entry = DailyEntry(day=day, source="hf", kind="submitted", upvotes=upvotes, ai_keywords=("x",))
    return rec("hf-daily", f"{day}/2401.00001", title="T", arxiv_id="2401.00001", daily=[entry])


def test_daily_entries_per_day_and_updated_on_reimport(hub: Hub) -> None:
    d1, d2 = dt.date(2024, 5, 1), dt.date(2024, 5, 2)
    arxiv = DailyEntry(day=d1, source="arxiv", kind="new")
    hub.papers.ingest([rec("arxiv-rss", "r", title="T", arxiv_id="2401.00001", daily=[arxiv])])
    hub.papers.ingest([_hf(d1, 5), _hf(d2, 7)])
    paper = hub.papers.show("2401.00001")
    got = [(e.day, e.source, e.upvotes) for e in paper.daily]
    assert got == [(d1, "arxiv", None), (d1, "hf", 5), (d2, "hf", 7)]
    assert paper.daily[1].ai_keywords == ("x",)
    assert hub.papers.ingest([_hf(d1, 12)]).updated == 1
    assert [e.upvotes for e in hub.papers.show("2401.00001").daily] == [None, 12, 7]
    assert count(hub, daily_entries) == 3


def test_an_author_shares_one_row_across_papers_and_order_is_kept(hub: Hub) -> None:
    many = [f"Author {n:02d}" for n in range(30, 0, -1)]
    two = rec(key="2", title="Two", arxiv_id="2401.00002")
    two = dataclasses.replace(two, authors=("Zed Zee", " JANE \t  doe "))  # unsquashed
    hub.papers.ingest(
        [
            rec(key="1", title="One", arxiv_id="2401.00001", authors=["Jane Doe", "John Smith"]),
            two,
            rec(key="3", title="Three", arxiv_id="2401.00003", authors=many),
        ]
    )
    assert count(hub, authors) == 3 + 30
    query = select(authors.c.name, authors.c.name_key).where(authors.c.name.ilike("%doe%"))
    with hub._db.engine.connect() as connection:
        assert [tuple(k) for k in connection.execute(query)] == [("Jane Doe", "jane doe")]
    assert hub.papers.show("2401.00001").authors == ("Jane Doe", "John Smith")
    # One row per name up to case and spacing: it shows the first spelling stored.
    assert hub.papers.show("2401.00002").authors == ("Zed Zee", "Jane Doe")
    assert hub.papers.show("2401.00003").authors == tuple(many)
    assert hub.papers.stats().authors == 33


def test_reimport_with_a_differently_cased_author_is_unchanged(hub: Hub) -> None:
    hub.papers.ingest([rec(key="1", title="One", arxiv_id="2401.00001", authors=["Jane Doe"])])
    second = rec(key="2", title="Two", arxiv_id="2401.00002", authors=["JANE DOE"])
    hub.papers.ingest([second])
    assert hub.papers.ingest([second]).unchanged == 1
