"""Hostile and random queries through every mode, and the CLI commands: never an error,
always results or a notice."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperroute import Config, Hub, NotFound
from paperroute.search.service import Mode
from support.cli import cli
from support.search_corpus import corpus_records

MODES = [Mode.keyword, Mode.semantic, Mode.hybrid]
HOSTILE = [
    "",
    "   ",
    "x" * 10_000,
    "elliptic " * 1500,
    "graph\x00neural\x00",
    "🧠🔥 equations 🚀",
    "معادلات equations עולם",
    "'; DROP TABLE papers; --",
    "1' OR '1'='1",
    'NEAR(a b) OR "unbalanced',
    "title:foo AND NOT bar ^ * ( ) : - + ~ @ # |",
    "-",
    "-equations",
    "*",
    "cat:",
    "cat:nonsense.XX",
    "author:",
    'author:"',
    "after:2025-02-30",
    "before:9999-99-99 equations",
    "after:2030-01-01 before:2020-01-01 equations",
    "has:code",
    "has:nothing foo:bar baz:",
    "\ud800 lone surrogate",
    "a\u1000ed \u4e38\u4e38ing",  # FTS5's Porter cuts a character's bytes apart here
    "<script>alert(1)</script>",
    # Words in nearly every paper (ranked without them), alone, quoted, excluded, in filters.
    "a the of and",
    '"on a"',
    '"of the" -the',
    "on a -a",
    '"a" cat:cs.LG',
    "the -graph after:2020-01-01 has:code",
    '"" "a" ""',
    '"the the the the the the the"',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_in_every_mode(embedded: Hub, text: str) -> None:
    for mode in MODES:
        result = embedded.search.query(text, mode=mode, limit=10)
        assert result.hits or result.notices or text.strip(), (mode, text)
        assert len(result.hits) <= 10
        for hit in result.hits:
            assert hit.id and hit.title


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=80), mode=st.sampled_from(MODES), limit=st.integers(-5, 500))
def test_random_text_in_every_mode(embedded: Hub, text: str, mode: Mode, limit: int) -> None:
    result = embedded.search.query(text, mode=mode, limit=limit)
    assert len(result.hits) <= max(1, min(limit, 200))
    ids = [hit.id for hit in result.hits]
    assert len(ids) == len(set(ids))


def test_a_nul_in_a_similar_ref_is_named_in_the_message(embedded: Hub) -> None:
    known = embedded.search.query("model", limit=1).hits[0].id
    with pytest.raises(NotFound, match=r"no paper '.*\\x00'"):  # not the known id alone
        embedded.search.similar(known + "\x00")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ref=st.text(max_size=40))
def test_random_similar_refs(embedded: Hub, ref: str) -> None:
    try:
        result = embedded.search.similar(ref, limit=5)
    except Exception as exc:
        assert type(exc).__name__ == "NotFound", exc
    else:
        assert all(hit.id != result.paper_id for hit in result.hits)


def test_cli_search_similar_embed(config: Config, database_url: str, tmp_path: object) -> None:
    """The CLI end to end, with the real MiniLM on a few papers."""
    from paperroute import open_hub

    with open_hub(Config(database_url=database_url)) as hub:
        hub.papers.ingest(corpus_records()[:12])
    empty = cli(database_url, "search", "elliptic", "--format", "json")
    assert empty.exit_code == 0 and "paperroute embed" in empty.stderr
    embedded = cli(database_url, "embed", "--batch-size", "5")
    assert embedded.exit_code == 0 and "embedded 12 papers" in embedded.stdout
    assert "term bags of 12 papers stored" in embedded.stdout
    again = cli(database_url, "embed")
    assert again.exit_code == 0 and "embedded 0 papers" in again.stdout
    assert "term bags of 0 papers" in again.stdout
    record = corpus_records()[2]
    for mode in ("hybrid", "semantic", "keyword"):
        found = cli(database_url, "search", record.title, "--mode", mode, "--format", "json")
        assert found.exit_code == 0, found.stderr
        rows = json.loads(found.stdout)["results"]
        assert rows[0]["id"] == record.arxiv_id and {"id", "title", "score"} <= set(rows[0])
    similar = cli(
        database_url, "similar", record.arxiv_id or "", "--limit", "3", "--format", "json"
    )
    assert similar.exit_code == 0
    rows = json.loads(similar.stdout)
    assert len(rows) == 3 and record.arxiv_id not in [r["id"] for r in rows]
    table = cli(database_url, "similar", record.arxiv_id or "")
    assert table.exit_code == 0 and table.stdout.strip()
    missing = cli(database_url, "similar", "9999.99999")
    assert missing.exit_code == 1 and "no paper" in missing.stderr
    bad = cli(database_url, "search", "x", "--mode", "fuzzy")
    assert bad.exit_code == 2
    model = cli(database_url, "embed", "--model", "/nonexistent/folder")
    assert model.exit_code == 2 and "embed_model" in model.stderr
