"""PostgreSQL's estimated totals: the term sample's reading of the server's tsvectors and
tsqueries (against brute force, and against the server's own counts on the real corpus),
and the estimate where counting would read too much: marked as one in the service, the API
and the page, and paged past when it falls short."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from paperroute import Config, Hub
from paperroute.clock import utcnow
from paperroute.search import _newest, keyword
from paperroute.search import _pg_keyword as pg
from paperroute.search._newest import NewestTerms
from paperroute.search._sample import TermSample, Unsupported, parse_tsquery
from paperroute.search.keyword import FrequencyCache, count_matches
from paperroute.search.query import parse_query
from paperroute.search.service import Mode
from paperroute.web.app import create_app
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records, rec

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon"]

# ---------------------------------------------------------------- brute force

Doc = dict[str, set[int]]


def vector_text(doc: Doc) -> str:
    return " ".join(
        f"'{word}':" + ",".join(f"{p}{'A' if p % 3 == 0 else ''}" for p in sorted(positions))
        for word, positions in sorted(doc.items())
    )


def positions(node: tuple[Any, ...], docs: list[Doc]) -> set[tuple[int, int]]:
    if node[0] == "lexeme":
        return {
            (i, p)
            for i, doc in enumerate(docs)
            for word, found in doc.items()
            if word == node[1] or (node[2] and word.startswith(node[1]))
            for p in found
        }
    left, right = positions(node[1], docs), positions(node[2], docs)
    return {(i, p) for i, p in right if (i, p - node[3]) in left}


def matching(node: tuple[Any, ...], docs: list[Doc]) -> set[int]:
    kind = node[0]
    if kind in ("lexeme", "phrase"):
        return {i for i, _ in positions(node, docs)}
    if kind == "not":
        return set(range(len(docs))) - matching(node[1], docs)
    left, right = matching(node[1], docs), matching(node[2], docs)
    return left | right if kind == "or" else left & right


def written(node: tuple[Any, ...]) -> str:
    kind = node[0]
    if kind == "lexeme":
        return f"'{node[1]}'" + (":*" if node[2] else "")
    if kind == "not":
        return f"!( {written(node[1])} )"
    if kind == "phrase":
        op = "<->" if node[3] == 1 else f"<{node[3]}>"
        return f"( {written(node[1])} {op} {written(node[2])} )"
    return f"( {written(node[1])} {'&' if kind == 'and' else '|'} {written(node[2])} )"


lexemes = st.builds(
    lambda word, prefix: ("lexeme", word[: 2 if prefix else None], prefix),
    st.sampled_from(WORDS),
    st.booleans(),
)
phrases = st.recursive(
    lexemes,
    lambda inner: st.tuples(st.just("phrase"), inner, inner, st.integers(1, 3)),
    max_leaves=3,
)
queries = st.recursive(
    phrases,
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), inner, inner),
    ),
    max_leaves=5,
)
docs_strategy = st.lists(
    st.dictionaries(
        st.sampled_from(WORDS), st.sets(st.integers(1, 12), min_size=1, max_size=4), max_size=5
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(docs_strategy, queries)
def test_a_whole_sample_counts_what_brute_force_counts(
    docs: list[Doc], query: tuple[Any, ...]
) -> None:
    sample = TermSample.of([vector_text(doc) for doc in docs], 1.0)
    estimate = sample.estimate(written(query))
    assert estimate.total == len(matching(query, docs))
    assert estimate.low <= estimate.total <= estimate.high


def words_matching(node: tuple[Any, ...], docs: list[Doc]) -> set[int]:
    """Brute force with each phrase read as its words (the newest papers' lexemes)."""
    kind = node[0]
    if kind == "lexeme":
        return {i for i, doc in enumerate(docs) if node[1] in doc}
    if kind == "not":
        return set(range(len(docs))) - words_matching(node[1], docs)
    left, right = words_matching(node[1], docs), words_matching(node[2], docs)
    return left | right if kind == "or" else left & right


def unsupported(node: tuple[Any, ...], in_phrase: bool = False) -> bool:
    if node[0] == "lexeme":
        return bool(node[2])
    if node[0] == "not":
        return in_phrase or unsupported(node[1])
    inside = in_phrase or node[0] == "phrase"
    return unsupported(node[1], inside) or unsupported(node[2], inside)


@settings(max_examples=300, deadline=None)
@given(docs_strategy, queries)
def test_the_newest_papers_lexemes_match_what_brute_force_matches(
    docs: list[Doc], query: tuple[Any, ...]
) -> None:
    chunk = _newest.chunk_of([(10 + 3 * i, vector_text(doc)) for i, doc in enumerate(docs)], 0)
    tree = parse_tsquery(written(query))
    if unsupported(query):
        with pytest.raises(Unsupported):  # a prefix, or an exclusion inside a phrase
            chunk.matching(tree)
        return
    expected = sorted(10 + 3 * i for i in words_matching(query, docs))
    assert chunk.pks[chunk.matching(tree)].tolist() == expected


def test_an_exclusion_inside_a_phrase_is_not_read_as_words() -> None:
    chunk = _newest.chunk_of([(1, "'alpha':1 'beta':5"), (2, "'beta':2")], 2)
    assert chunk.pks[chunk.matching(parse_tsquery("'alpha' <-> 'beta'"))].tolist() == [1]
    with pytest.raises(Unsupported):  # (b not after a: paper 1 matches, its words say no)
        chunk.matching(parse_tsquery("!'alpha' <-> 'beta'"))


def test_operators_bind_as_postgresql_writes_them() -> None:
    docs: list[Doc] = [{"alpha": {1}, "beta": {2}}, {"gamma": {1}}, {"beta": {1}}]
    sample = TermSample.of([vector_text(doc) for doc in docs], 1.0)
    assert sample.estimate("'alpha' & 'beta' | 'gamma'").total == 2  # (a & b) | c
    assert sample.estimate("!'alpha' & 'beta'").total == 1  # (!a) & b
    assert sample.estimate("'alpha' <-> 'beta' & 'gamma'").total == 0  # (a <-> b) & c
    assert sample.estimate("'alpha' <-> 'beta'").total == 1
    assert sample.estimate("'beta' <-> 'alpha'").total == 0
    # A word that reads like an operator is a word.
    odd = TermSample.of(["'|':1 '<->':2", "'&':1"], 1.0)
    assert odd.estimate("'|' <-> '<->'").total == 1 and odd.estimate("'&' | '|'").total == 2
    for broken in ("", "'alpha' &", "( 'alpha'", "'alpha' <-> ( 'beta' & 'gamma' )", "&&"):
        with pytest.raises(Unsupported):
            sample.estimate(broken)


def test_quoted_lexemes_and_a_scaled_estimate() -> None:
    sample = TermSample.of(["'it''s':1 'back\\\\slash':2 'x':3"] * 10, 0.01)
    assert sample.estimate("'it''s' <-> 'back\\\\slash'").total == 1000
    frequencies = sample.document_frequencies()
    assert frequencies["it's"] == 1000 and frequencies["back\\slash"] == 1000
    estimate = sample.estimate("'x'")
    assert estimate.low < 1000 < estimate.high and estimate.candidates > 1000


# ------------------------------------------------------------ the server's own


QUERIES = [
    '"differential equations"',
    '"partial differential equations"',
    '"second order"',
    "differential equations",
    "equations -partial",
    "differ*",
    '"second order" equations',
    '"in this paper"',
    '"models for long"',
    "the model",
    "Pfister",
]


@pytest.fixture
def corpus_hub(hub: Hub) -> Hub:
    hub.papers.ingest(corpus_records())
    return hub


def test_the_sample_agrees_with_postgresql_counts(corpus_hub: Hub) -> None:
    if corpus_hub._db.engine.dialect.name == "sqlite":
        with corpus_hub._db.engine.connect() as connection:  # SQLite: nothing estimated
            found = count_matches(connection, parse_query("model"), frequencies=FrequencyCache())
        assert found.exact
        return
    with corpus_hub._db.engine.connect() as connection:
        sample = TermSample.read(connection, 10_000)  # every paper
        assert sample.fraction == 1.0 and sample.papers == 300
        for raw in QUERIES:
            params: dict[str, Any] = {}
            expression = pg.tsquery(parse_query(raw), params)
            assert expression is not None
            tsquery = connection.execute(text(f"SELECT CAST({expression} AS text)"), params)
            exact = connection.execute(
                text(f"SELECT count(*) FROM papers p WHERE p.search_vector @@ ({expression})"),
                params,
            ).scalar_one()
            estimate = sample.estimate(str(tsquery.scalar_one()))
            assert estimate.total == exact, raw  # (a sample of every paper: not rounded)


def test_a_count_that_would_read_too_much_is_estimated(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    if corpus_hub._db.engine.dialect.name == "sqlite":
        return  # SQLite: the previous test
    monkeypatch.setattr(keyword, "EXACT_VISITS", 0)
    frequencies = FrequencyCache()
    with corpus_hub._db.engine.connect() as connection:
        exact = keyword.keyword_total(connection, parse_query('"differential equations"'))
        found = count_matches(
            connection, parse_query('"differential equations"'), frequencies=frequencies
        )
        assert exact > 0 and not found.exact and found.total == exact  # (a whole sample)
        assert found.with_words is not None and found.with_words >= exact
        surely = count_matches(connection, parse_query("model"), cap=1, frequencies=frequencies)
        assert surely == keyword.Counted(2, exact=False, with_words=surely.with_words)
        # Filters are counted, not estimated.
        filtered = count_matches(
            connection, parse_query("model cat:cs.CL"), frequencies=frequencies
        )
        assert filtered.exact
    monkeypatch.setattr(keyword, "EXACT_VISITS", 10**9)
    with corpus_hub._db.engine.connect() as connection:
        assert count_matches(
            connection, parse_query('"language model"'), frequencies=frequencies
        ).exact


@pytest.mark.parametrize("scan", [500, 4])
def test_plain_words_counted_exactly_are_listed_and_ranked_from_the_list(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch, scan: int
) -> None:
    """PostgreSQL: the GIN index reads every word's whole posting list; plain words counted
    exactly are listed by the count, and the tiers rank from that list (the same hits as
    finding them again, and the newest papers with the words not looked for again)."""
    if corpus_hub._db.engine.dialect.name == "sqlite":
        return
    monkeypatch.setattr(keyword, "EXACT_VISITS", 10**9)
    monkeypatch.setattr(pg, "RANK_ALL_MAX", scan)
    monkeypatch.setattr(pg, "PHRASE_TIER_SCAN", scan)
    frequencies = FrequencyCache()
    with corpus_hub._db.engine.connect() as connection:
        for raw in ("equations", "differential equations", "equations -linear"):
            query = parse_query(raw)
            counted = count_matches(connection, query, frequencies=frequencies)
            assert counted.exact and counted.matches is not None, raw
            assert counted.total == keyword.keyword_total(connection, query) > 0
            assert len(set(counted.matches)) == counted.total
            for limit in (5, 1000):
                again = keyword.keyword_search(
                    connection, query, limit=limit, with_words=counted.with_words
                )
                with monkeypatch.context() as patched:
                    patched.setattr(pg, "_newest_with_words", None)  # (not called)
                    listed = keyword.keyword_search(
                        connection,
                        query,
                        limit=limit,
                        total=counted.total,
                        matches=counted.matches,
                        with_words=counted.with_words,
                    )
                assert [(h.pk, h.score) for h in listed] == [(h.pk, h.score) for h in again]
        # More than the cap: counted no further, nothing listed.
        beyond = count_matches(connection, parse_query("equations"), cap=3, frequencies=frequencies)
        assert beyond == keyword.Counted(4, with_words=beyond.with_words)


@pytest.fixture
def estimating(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(keyword, "EXACT_VISITS", 0)
    app = create_app(
        Config(
            database_url=database_url, demo=True, secret_key="s" * 32, allowed_hosts="testserver"
        ),
        embedder=HashEmbedder(),
    )
    app.state.hub.papers.ingest(corpus_records())
    with TestClient(app) as client:
        app.state.hub.search.warm_keywords()  # (started with the app: waited for here)
        yield client


def test_an_estimate_is_shown_as_one_and_paged_past(estimating: TestClient) -> None:
    hub = estimating.app.state.hub  # type: ignore[attr-defined]
    postgresql = hub._db.engine.dialect.name != "sqlite"
    result = hub.search.query("model", mode=Mode.keyword, limit=5)
    assert result.total_exact is not postgresql and result.total >= 5
    page = estimating.get("/search", params={"q": "model", "mode": "keyword"})
    assert page.status_code == 200
    shown = re.search(r"(About |More than )?[\d,]+ results", page.text)
    assert shown is not None and (shown.group(1) is not None) is postgresql
    # An estimate that falls short of what is shown is raised to it, and the next page is
    # offered while pages are full.
    size = 3
    api = estimating.get(
        "/api/v1/search", params={"q": "model", "mode": "keyword", "limit": size}
    ).json()
    assert api["total_exact"] is not postgresql
    assert api["total"] >= len(api["items"]) == size
    assert api["next_offset"] == size


# ------------------------------------------ the newest papers with the words


def pks(connection: Any, sql: str, params: dict[str, Any]) -> list[int]:
    return [int(pk) for pk in connection.execute(text(sql), params).scalars()]


def test_walking_back_and_the_gin_index_find_the_same_newest_papers(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    if corpus_hub._db.engine.dialect.name == "sqlite":
        return  # PostgreSQL's ways only
    monkeypatch.setattr(pg, "TITLE_TIER_WINDOW", 50)  # windows widen in a 300-paper store
    monkeypatch.setattr(_newest, "CHUNK", 25)
    every, newest = NewestTerms(), NewestTerms(papers=60)
    with corpus_hub._db.engine.begin() as connection:
        every.refresh(connection)
        newest.refresh(connection)
        assert len(newest._held.chunks) == 3 and newest._held.low > 0  # type: ignore[union-attr]
        for words in ("differential equations", "second order", "equations", "nowhere"):
            params: dict[str, Any] = {}
            expression = pg.tsquery(parse_query(words), params)  # (plain words: each one's)
            truth = pks(
                connection,
                f"SELECT pk FROM papers p WHERE p.search_vector @@ ({expression}) "
                "ORDER BY pk DESC LIMIT 7",
                params,
            )
            walked = pg.newest_with_words(connection, words, 7, with_words=1e9)
            windows = pg.newest_with_words(connection, words, 7)
            sized = pg.newest_with_words(connection, words, 7, with_words=20)
            assert walked == windows == sized == truth, words
            # From the newest papers' terms held in memory: all of them, or the newest 60
            # (read 25 at a time; the older ones from the database).
            for held in every, newest:
                scans = pg.Scans(held)
                assert pg.newest_with_words(connection, words, 7, scans=scans) == truth, words
        scans = pg.Scans()
        first = pg.newest_with_words(connection, "equations", 7, scans=scans)
        assert scans.found == {("equations", 7): first}
        scans.found[("equations", 7)] = [1]  # read from the scans, not the database
        assert pg.newest_with_words(connection, "equations", 7, scans=scans) == [1]


def test_the_newest_papers_terms_are_read_anew_for_newer_papers(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paper added after the newest papers' terms were read is found all the same (from
    the database, which the search then has read into memory: from there after that)."""
    if corpus_hub._db.engine.dialect.name == "sqlite":
        return
    monkeypatch.setattr(keyword, "EXACT_VISITS", 0)  # (estimated: the tiers look for it)
    search = corpus_hub.search
    search.warm_keywords()
    held = search.newest._held
    assert held is not None and held.low == 0 and held.high > 0  # every paper, in memory
    corpus_hub.papers.ingest(
        [
            rec(
                "new",
                arxiv_id="2612.00001",
                title="Zymurgical fermentation kinetics",
                abstract="We model zymurgical fermentation kinetics of lager yeasts.",
            )
        ]
    )
    first = search.query("zymurgical fermentation", mode=Mode.keyword)
    assert [hit.id for hit in first.hits] == ["2612.00001"]
    assert search.newest.due()  # behind: read when the pool gets to it
    search.warm_keywords()
    assert not search.newest.behind
    assert search.newest._held is not None and search.newest._held.high > held.high
    assert len(search.newest._held.chunks) == 1  # (the partial chunk read again with it)
    monkeypatch.setattr(pg, "_from_index", None)  # (from memory now: not called)
    again = search.query("zymurgical fermentation", mode=Mode.keyword)
    assert [hit.id for hit in again.hits] == ["2612.00001"]
    quoted = search.query('"zymurgical fermentation"', mode=Mode.keyword)  # (a phrase too)
    assert [hit.id for hit in quoted.hits] == ["2612.00001"]


def test_papers_written_since_are_read_again(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paper reworded in place (a new arXiv version) is searched as it reads now, from
    memory, after the next look; so is one whose write time is before the last look (it
    committed after it): each look goes back MARGIN before the previous one."""
    if corpus_hub._db.engine.dialect.name == "sqlite":
        return
    monkeypatch.setattr(keyword, "EXACT_VISITS", 0)
    monkeypatch.setattr(_newest, "CHECK_EVERY", 0.0)  # (a look at every warm_keywords)
    search = corpus_hub.search
    search.warm_keywords()
    first, second = corpus_records()[7], corpus_records()[8]

    def first_pk(arxiv_id: str) -> int:
        with corpus_hub._db.engine.connect() as connection:
            sql = "SELECT pk FROM papers WHERE id = :id"
            return int(connection.execute(text(sql), {"id": arxiv_id}).scalar_one())

    def reword(record: Any, abstract: str) -> None:
        corpus_hub.papers.ingest(
            [rec("v2", arxiv_id=record.arxiv_id, title=record.title, abstract=abstract, version=9)]
        )

    reword(first, "We model zymurgical fermentation kinetics of lager yeasts.")
    search.warm_keywords()
    held = search.newest._held
    assert held is not None and held.stale.tolist() == [first_pk(first.arxiv_id)]  # (alone)
    with monkeypatch.context() as patched:
        patched.setattr(pg, "_from_index", None)  # (from memory: not called)
        found = search.query('"zymurgical fermentation"', mode=Mode.keyword)
        assert [hit.id for hit in found.hits] == [first.arxiv_id]
    reword(second, "Quokka habitats on small islands, counted from the air.")
    # As if the last look came after its write time, but before it committed.
    search.newest._looked = utcnow() + dt.timedelta(minutes=1)
    search.warm_keywords()
    with monkeypatch.context() as patched:
        patched.setattr(pg, "_from_index", None)
        found = search.query('"quokka habitats"', mode=Mode.keyword)
        assert [hit.id for hit in found.hits] == [second.arxiv_id]
        again = search.query('"zymurgical fermentation"', mode=Mode.keyword)
        assert [hit.id for hit in again.hits] == [first.arxiv_id]  # (still, held apart)


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Each statement run meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []
    execute = Connection.execute

    def recording(self: Connection, statement: Any, params: Any = None) -> Any:
        seen.append((str(statement), dict(params) if isinstance(params, dict) else params))
        return execute(self, statement, params)

    monkeypatch.setattr(Connection, "execute", recording)
    return seen


def test_the_title_phrase_is_found_in_the_newest_titles_then_in_all(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch, executed: list[tuple[str, Any]]
) -> None:
    if corpus_hub._db.engine.dialect.name == "sqlite":
        return
    monkeypatch.setattr(pg, "TITLE_WALK", 30)

    def walks() -> list[int]:
        return [p["window"] for s, p in executed if "paper_titles t" in s and ":window" in s]

    with corpus_hub._db.engine.begin() as connection:
        for phrase, bound in itertools.product(
            ("differential equations", "second order", "part i", "nowhere at all", "nonlinear"),
            (2, 10),
        ):
            for longest in (0, 10**6):  # (a second, wider walk: never, or up to every title)
                monkeypatch.setattr(pg, "TITLE_WALK_MAX", longest)
                executed.clear()
                params: dict[str, Any] = {"p": phrase, "bound": bound}
                title_q = "phraseto_tsquery('english', :p)"
                truth = pks(
                    connection,
                    f"SELECT paper_pk FROM paper_titles WHERE numnode({title_q}) > 0 AND "
                    f"title_vector @@ {title_q} ORDER BY paper_pk DESC LIMIT :bound",
                    params,
                )
                assert pg._newest_titled(connection, title_q, params) == truth, phrase
                assert walks()[0] == 30 and (len(walks()) == 1 or longest), walks()
        # "nonlinear": in some of the newest 30 titles, not 10: a wider walk found them.
        newest = connection.execute(text("SELECT max(paper_pk) FROM paper_titles")).scalar_one()
        some = pks(
            connection,
            "SELECT paper_pk FROM paper_titles WHERE paper_pk > :after AND "
            "title_vector @@ phraseto_tsquery('english', 'nonlinear')",
            {"after": newest - 30},
        )
        assert 0 < len(some) < 10 and len(walks()) == 2 and walks()[1] > 30
        # A phrase in TITLED_ENOUGH of the newest titles is common: those are enough.
        monkeypatch.setattr(pg, "TITLED_ENOUGH", 1)
        params = {"p": "equations", "bound": 50}
        newest = connection.execute(text("SELECT max(paper_pk) FROM paper_titles")).scalar_one()
        window = pks(
            connection,
            "SELECT paper_pk FROM paper_titles WHERE paper_pk > :after AND "
            "title_vector @@ phraseto_tsquery('english', :p) ORDER BY paper_pk DESC",
            {"after": newest - 30, "p": "equations"},
        )
        assert (
            window
            and pg._newest_titled(connection, "phraseto_tsquery('english', :p)", params) == window
        )


def test_the_title_tier_skips_the_newest_window_for_words_in_few_papers(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch, executed: list[tuple[str, Any]]
) -> None:
    """Words estimated in fewer papers than the bound are looked for in every title at
    once: the same hits, one statement instead of two."""
    if corpus_hub._db.engine.dialect.name == "sqlite":
        return
    monkeypatch.setattr(pg, "TITLE_TIER_WINDOW", 30)
    with corpus_hub._db.engine.begin() as connection:
        for raw in ("equations", "nonlinear equations", "differential"):
            found = []
            for with_words in (None, 40.0):
                executed.clear()
                hits = pg.title_tier(connection, parse_query(raw), {"limit": 20}, 50, with_words)
                found.append([(hit.pk, hit.score) for hit in hits])
                tiers = [s for s, _ in executed if "paper_titles t" in s]
                assert len(tiers) == (1 if with_words else 2), raw  # (few in the window)
            assert found[0] == found[1] and found[0], raw


def test_many_matches_of_plain_words_rank_their_newest(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    if corpus_hub._db.engine.dialect.name == "sqlite":
        return
    monkeypatch.setattr(pg, "RANK_ALL_MAX", 4)
    query = parse_query("equations")
    with corpus_hub._db.engine.begin() as connection:
        newest = set(pg.newest_with_words(connection, "equations", 4))
        every = pg.rank_all(connection, query, {"limit": 1000}, [])
        bounded = pg.rank_all(connection, query, {"limit": 50}, [], with_words=1e6)
        phrase = pg.rank_all(connection, parse_query('"second order"'), {"limit": 50}, [], 1e6)
    assert every is not None and bounded is not None and phrase is not None
    # The newest 4 first, in score order, then the older ones in score order.
    first = [h.pk for h in every if h.pk in newest]
    older = [h.pk for h in every if h.pk not in newest]
    assert len(every) > 50 and [h.pk for h in bounded] == (first + older)[:50]
    scores = [h.score for h in bounded]
    assert scores == sorted(scores, reverse=True)
    assert len(phrase) > 0  # a phrase is never bounded this way


# ------------------------------------------------ read again off the requests


def test_frequencies_and_vocabulary_are_read_again_off_the_requests(corpus_hub: Hub) -> None:
    search = corpus_hub.search
    reads: list[str] = []
    scan, load = search.frequencies._scan, search.vocabulary._load

    def counted_scan(connection: Any) -> None:
        reads.append("frequencies")
        scan(connection)

    def counted_load(connection: Any) -> None:
        reads.append("vocabulary")
        load(connection)

    search.frequencies._scan = counted_scan  # type: ignore[method-assign]
    search.vocabulary._load = counted_load  # type: ignore[method-assign]
    search.warm_keywords()  # as a server does at start
    search.warm_keywords()  # not due: nothing read again
    assert sorted(reads) == ["frequencies", "vocabulary"]
    search.query("qwertyuiopz", mode=Mode.keyword)
    assert len(reads) == 2
    search.frequencies.max_age = search.vocabulary.max_age = 0.0  # due at once
    requests: list[str] = []
    search.frequencies._scan = lambda connection: (  # type: ignore[method-assign]
        requests.append(threading.current_thread().name) or counted_scan(connection)
    )
    reads.clear()
    search.query("qwertyuiopz", mode=Mode.keyword)
    deadline = time.monotonic() + 10
    while len(reads) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(reads) == ["frequencies", "vocabulary"]  # read again,
    assert requests and all(name.startswith("paperroute-vectors") for name in requests)  # apart


def test_pages_of_plain_words_reach_every_match_once(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest RANK_ALL_MAX matches ranked first, the older ones after them: a deep
    page reaches them, and no page repeats another's (both databases)."""
    monkeypatch.setattr(pg, "RANK_ALL_MAX", 7)
    with corpus_hub._db.engine.connect() as connection:
        total = keyword.keyword_total(connection, parse_query("equations"))
    seen: list[str] = []
    for offset in range(0, total + 10, 6):
        result = corpus_hub.search.query("equations", mode=Mode.keyword, limit=6, offset=offset)
        assert result.total == total and result.total_exact
        seen += [hit.id for hit in result.hits]
    assert len(seen) == len(set(seen)) == total > 20


def test_one_thread_reads_the_sample_and_the_others_count_meanwhile(corpus_hub: Hub) -> None:
    cache = FrequencyCache()
    reading, release, reads = threading.Event(), threading.Event(), []
    scan = cache._scan

    def slow_scan(connection: Any) -> None:
        reads.append(1)
        reading.set()
        release.wait(10)
        scan(connection)

    cache._scan = slow_scan  # type: ignore[method-assign]
    engine = corpus_hub._db.engine

    def first_get() -> None:
        with engine.connect() as connection:
            cache.get(connection, ["equations"])

    reader = threading.Thread(target=first_get)
    reader.start()
    assert reading.wait(10)
    with engine.connect() as connection:
        started = time.monotonic()
        assert cache.estimate(connection, "'equat'") is None  # not held yet: count instead
        assert time.monotonic() - started < 5
        waiter = threading.Thread(target=first_get)  # a second get() waits, reads nothing
        waiter.start()
        release.set()
        reader.join(10)
        waiter.join(10)
        assert reads == [1]
        held = cache.estimate(connection, "'equat'")
        assert (held is not None) is (engine.dialect.name != "sqlite")


def test_a_long_phrase_and_a_page_past_the_end(
    corpus_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyword, "EXACT_VISITS", 0)
    long_phrase = '"' + " ".join(["equations"] * 1500) + '"'
    assert corpus_hub.search.query(long_phrase, mode=Mode.keyword).hits == ()
    sample = TermSample.of(["'x':1,2,3"], 1.0)
    assert sample.estimate(" <-> ".join(["'x'"] * 3000)).total == 0
    with pytest.raises(Unsupported):
        sample.estimate("(" * 5000 + "'x'" + ")" * 5000)
    corpus_hub.search.warm_keywords()
    first = corpus_hub.search.query("equations", mode=Mode.keyword, limit=5)
    beyond = corpus_hub.search.query("equations", mode=Mode.keyword, limit=5, offset=5000)
    assert beyond.hits == () and beyond.total == first.total  # the estimate left alone


def test_hybrid_asks_once_which_close_papers_hold_the_words(
    embedded: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It asked once a close paper (up to 200 queries: 0.9 s a search of the demo data).
    PostgreSQL lists the matches of plain words it counts exactly: then it asks nothing,
    and asks once where the count was an estimate. (The frequency sample is read first: a
    search also has it read on the pool, and whether that was done decided the path.)"""
    from paperroute.search import _hybrid

    calls: list[int] = []
    matching = _hybrid.matching

    def counted(connection: Any, query: Any, pks: list[int]) -> set[int]:
        calls.append(len(pks))
        return matching(connection, query, pks)

    monkeypatch.setattr(_hybrid, "matching", counted)
    embedded.search.warm_keywords()
    first = embedded.search.query("equations", mode=Mode.hybrid, limit=5)
    assert first.hits
    if embedded._db.engine.dialect.name == "sqlite":
        assert len(calls) == 1 and calls[0] > 1
        return
    assert calls == []  # (the count listed the matches)
    monkeypatch.setattr(keyword, "EXACT_VISITS", 0)  # estimated: not listed
    again = embedded.search.query("equations", mode=Mode.hybrid, limit=5)
    assert len(calls) == 1 and calls[0] > 1
    assert [hit.pk for hit in again.hits] == [hit.pk for hit in first.hits]
