"""Keyword search on SQLite (FTS5) and PostgreSQL (tsquery): the same query language, the
same answers."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from paperroute import Hub, PaperRecord
from paperroute.search._semantic import load_hits
from paperroute.search.keyword import MARK_END, MARK_START, add_snippets
from paperroute.search.query import parse_query
from paperroute.search.service import Mode
from paperroute.sources.common import build_record
from paperroute.sources.jsonl import parse_jsonl
from support.cli import cli

DATA = Path(__file__).parents[1] / "data"


def rec(key: str, **fields: Any) -> PaperRecord:
    made = build_record(source="arxiv-api", source_key=key, **fields)
    assert isinstance(made, PaperRecord), made
    return made


@pytest.fixture
def corpus(hub: Hub) -> list[PaperRecord]:
    records = [r for r in parse_jsonl((DATA / "jsonl" / "corpus-300.jsonl.gz").read_bytes())]
    papers = [r for r in records if isinstance(r, PaperRecord)]
    assert hub.papers.ingest(papers).inserted == 300
    return papers


def _words(record: PaperRecord) -> set[str]:
    text = f"{record.title} {record.abstract} {' '.join(record.authors)}".casefold()
    return set(re.findall(r"\w+", text))


def ids(hub: Hub, query: str, limit: int = 200) -> list[str]:
    return [hit.id for hit in hub.search.query(query, limit=limit).hits]


@pytest.mark.parametrize("word", ["holomorphic", "soliton", "viscous", "wave"])
def test_a_word_finds_every_paper_that_has_it(
    hub: Hub, corpus: list[PaperRecord], word: str
) -> None:
    exact = {r.arxiv_id for r in corpus if word in _words(r)}
    stem = word[:-2] if len(word) > 6 else word
    near = {r.arxiv_id for r in corpus if any(w.startswith(stem) for w in _words(r))}
    found = set(ids(hub, word))
    assert exact  # the word is in the corpus
    assert exact <= found <= near


def test_title_outranks_authors_outranks_abstract(hub: Hub) -> None:
    hub.papers.ingest(
        [
            rec("a", arxiv_id="2401.00001", title="Other things", abstract="About quasicrystals."),
            rec("t", arxiv_id="2401.00002", title="Quasicrystals", abstract="About things."),
            rec("n", arxiv_id="2401.00003", title="More", authors=["Ann Quasicrystals"]),
        ]
    )
    assert ids(hub, "quasicrystals") == ["2401.00002", "2401.00003", "2401.00001"]


def test_phrases_prefixes_and_exclusions(hub: Hub) -> None:
    hub.papers.ingest(
        [
            rec("1", arxiv_id="2401.00011", title="Graph neural networks for molecules"),
            rec("2", arxiv_id="2401.00012", title="Neural graph networks"),
            rec("3", arxiv_id="2401.00013", title="Transformers on graphs"),
        ]
    )
    assert ids(hub, '"graph neural"') == ["2401.00011"]
    assert set(ids(hub, "graph neural")) == {"2401.00011", "2401.00012"}
    assert set(ids(hub, "transform*")) == {"2401.00013"}
    assert set(ids(hub, "graph -molecules")) == {"2401.00012", "2401.00013"}
    assert ids(hub, "-graph") == []
    assert hub.search.query("-graph").notices == (
        "a search needs at least one word that is not excluded",
    )


def test_filters(hub: Hub) -> None:
    day = dt.date(2025, 3, 1)
    hub.papers.ingest(
        [
            rec(
                "1",
                arxiv_id="2503.00001",
                title="Diffusion models",
                categories=["cs.LG", "cs.CV"],
                authors=["Ashish Vaswani"],
                announced_on=day,
                code_url="https://github.com/a/b",
            ),
            rec(
                "2",
                arxiv_id="2503.00002",
                title="Diffusion in porous media",
                categories=["physics.flu-dyn"],
                authors=["Jane Doe"],
                announced_on=day + dt.timedelta(days=10),
            ),
        ]
    )
    assert ids(hub, "diffusion cat:cs.CV") == ["2503.00001"]
    assert ids(hub, "diffusion cat:CS.cv") == ["2503.00001"]  # arXiv's case is restored
    assert ids(hub, "diffusion cat:cs.CV author:vaswani") == ["2503.00001"]
    assert set(ids(hub, "diffusion cat:cs.CV cat:physics.flu-dyn")) == {
        "2503.00001",
        "2503.00002",
    }
    assert ids(hub, 'diffusion author:"ashish  VASWANI"') == ["2503.00001"]
    assert ids(hub, "diffusion author:doe") == ["2503.00002"]
    assert ids(hub, "diffusion after:2025-03-05") == ["2503.00002"]
    assert ids(hub, "diffusion before:2025-03-05") == ["2503.00001"]
    assert ids(hub, "diffusion has:code") == ["2503.00001"]
    assert ids(hub, "cat:physics.flu-dyn") == ["2503.00002"]  # filters alone list papers
    for mode in Mode:  # and count them (it said 0 results above the list)
        listed = hub.search.query("cat:physics.flu-dyn", mode=mode)
        assert (listed.total, listed.total_exact) == (1, True), mode
    result = hub.search.query("diffusion after:2025-02-30")
    assert {h.id for h in result.hits} == {"2503.00001", "2503.00002"}
    assert any("2025-02-30" in notice for notice in result.notices)


def test_snippets_mark_the_match(hub: Hub) -> None:
    abstract = "We study the thermal conductivity of graphene ribbons at low temperature."
    hub.papers.ingest([rec("s", arxiv_id="2401.00021", title="Ribbons", abstract=abstract)])
    [hit] = hub.search.query("graphene").hits
    assert f"{MARK_START}graphene{MARK_END}" in hit.snippet


def test_a_snippet_says_where_it_cuts_the_abstract_short(hub: Hub) -> None:
    # Both backends: "…" where the snippet leaves words out, none where it shows them all.
    filler = " ".join(f"word{i}" for i in range(60))
    long = f"{filler} thermal conductivity of graphene ribbons. {filler} ends here."
    # The fragment's last word ends the abstract too: still cut short.
    echo = f"{filler} graphene ribbons conduct heat {filler} and heat"
    short = "Graphene ribbons conduct heat well at low temperature."
    hub.papers.ingest(
        [
            rec("l", arxiv_id="2401.00031", title="Long", abstract=long),
            rec("s", arxiv_id="2401.00032", title="Short", abstract=short),
            rec("e", arxiv_id="2401.00033", title="Echo", abstract=echo),
        ]
    )
    snippets = {hit.id: hit.snippet for hit in hub.search.query("graphene").hits}
    for cut in ("2401.00031", "2401.00033"):
        assert snippets[cut].startswith("…") and snippets[cut].endswith("…"), snippets
    plain = snippets["2401.00032"].replace(MARK_START, "").replace(MARK_END, "")
    assert plain == short, snippets  # the whole abstract, its full stop too


def test_a_snippet_marks_the_words_a_hit_holds_when_it_lacks_others(hub: Hub) -> None:
    # A close paper in hybrid search may hold some of the words only: those are marked.
    abstract = "We study the thermal conductivity of graphene ribbons at low temperature."
    hub.papers.ingest([rec("s", arxiv_id="2401.00021", title="Ribbons", abstract=abstract)])
    with hub._db.engine.connect() as connection:
        [pk] = connection.execute(text("SELECT pk FROM papers")).scalars()
        [hit] = add_snippets(
            connection, parse_query("graphene superconductors"), load_hits(connection, [(pk, 1.0)])
        )
    assert f"{MARK_START}graphene{MARK_END}" in hit.snippet


HOSTILE = [
    "",
    "   ",
    "x" * 10_000,
    'AND OR NOT NEAR( "unbalanced',
    "title:foo ^bar {a b}: * -",
    "a\x00b",
    "😀 🚀 نموذج لغوي",
    "'; DROP TABLE papers; --",
    '" OR 1=1 --',
    "cat:../../etc author: after:9999-99-99 before:2025-02-30 has:nothing",
    "((((((((((a))))))))))",
    "a:b:c:d",
    "!!!&&&|||<->",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_give_a_result_not_an_error(
    hub: Hub, corpus: list[PaperRecord], text: str
) -> None:
    result = hub.search.query(text)
    assert isinstance(result.hits, tuple)
    assert hub.papers.stats().papers == 300  # and nothing was harmed


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200))
def test_any_text_is_a_valid_query(hub: Hub, text: str) -> None:
    hub.search.query(text)


def test_search_from_the_command_line(database_url: str, hub: Hub) -> None:
    hub.papers.ingest(
        [rec("c", arxiv_id="2401.00031", title="Graphene ribbons", abstract="Graphene.")]
    )
    hub.papers.ingest(
        [
            rec(f"g{n}", arxiv_id=f"2401.001{n:02}", title=f"Graphene sheets {n}", abstract="x.")
            for n in range(5)
        ]
    )
    listed = cli(database_url, "search", "ribbons", "--format", "json")
    assert listed.exit_code == 0
    body = json.loads(listed.stdout)
    assert (body["total"], body["total_exact"], body["offset"], body["suggestion"]) == (
        1,
        True,
        0,
        None,
    )
    [row] = body["results"]
    assert (row["id"], row["title"]) == ("2401.00031", "Graphene ribbons")
    assert row["snippet"] == "Graphene."  # the abstract lacks the word: its beginning
    table = cli(database_url, "search", "graphene ribbons")
    assert table.stdout.splitlines()[0] == "2401.00031  Graphene ribbons"
    # Paging: six matches, two at a time, all of them once.
    pages = [
        json.loads(
            cli(
                database_url,
                "search",
                "graphene",
                "--mode",
                "keyword",
                "--limit",
                "2",
                "--offset",
                str(offset),
                "--format",
                "json",
            ).stdout
        )
        for offset in (0, 2, 4, 6)
    ]
    assert [page["total"] for page in pages] == [6, 6, 6, 6]
    seen = [row["id"] for page in pages for row in page["results"]]
    assert len(seen) == 6 and len(set(seen)) == 6 and pages[-1]["results"] == []
    assert (
        "6 results; showing 3-4"
        in cli(database_url, "search", "graphene", "--limit", "2", "--offset", "2").stderr
    )
    # A typo: the index's own word is searched instead, and said so.
    typo = json.loads(cli(database_url, "search", "Grapheme sheetz", "--format", "json").stdout)
    assert typo["suggestion"] == "Graphene sheets" and typo["total"] == 5  # case as typed
    assert {row["title"] for row in typo["results"]} == {f"Graphene sheets {n}" for n in range(5)}
    as_typed = cli(database_url, "search", "Grapheme sheetz", "--no-spell", "--format", "json")
    assert json.loads(as_typed.stdout) == {
        "total": 0,
        "total_exact": True,
        "offset": 0,
        "suggestion": None,
        "did_you_mean": "Graphene sheets",  # (offered, not searched)
        "results": [],
    }
    told = cli(database_url, "search", "Grapheme sheetz", "--no-spell").stderr
    assert "did you mean: Graphene sheets" in told
    nothing = cli(database_url, "search", "--", '-graphene "')
    assert nothing.exit_code == 0
    assert nothing.stdout.strip() == "no papers found"
    assert "not excluded" in nothing.stderr


def test_totals_are_counted_up_to_a_cap(hub: Hub) -> None:
    """A common word's matches are counted no further than the deepest page (one more
    means "more than"): the count would read its whole posting list."""
    from paperroute.search import parse_query
    from paperroute.search.keyword import keyword_total

    hub.papers.ingest(
        [
            rec(f"t{n}", arxiv_id=f"2401.002{n:02}", title=f"Tokamak {n}", abstract="x.")
            for n in range(7)
        ]
    )
    with hub._db.engine.connect() as connection:
        query = parse_query("tokamak")
        assert keyword_total(connection, query) == 7
        assert keyword_total(connection, query, cap=3) == 4
        assert keyword_total(connection, parse_query("tokamak -x")) == 0  # every abstract
        assert keyword_total(connection, parse_query("stellarator")) == 0
