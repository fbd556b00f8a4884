"""Keyword ranking in tiers (phrase, then title, then the rest) on both databases, and the
document-frequency cache of similar papers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from paperroute import Hub
from paperroute.model import PaperRecord
from paperroute.search.keyword import FrequencyCache, stems
from paperroute.search.service import Mode
from support.search_corpus import rec


def ids(hub: Hub, text: str, limit: int = 10) -> list[str]:
    return [hit.id for hit in hub.search.query(text, mode=Mode.keyword, limit=limit).hits]


def test_adjacent_words_rank_first_then_title_matches(hub: Hub) -> None:
    hub.papers.ingest(
        [
            # Both words many times, never side by side: BM25 alone would put it first.
            rec(
                "a",
                arxiv_id="2601.00001",
                title="Generation of turbulence in a video of a river",
                abstract="generation generation generation video video video video of heat.",
            ),
            rec(
                "b",
                arxiv_id="2601.00002",
                title="Learning from sound",
                abstract="We study video generation with sound.",
            ),
            rec(
                "c",
                arxiv_id="2601.00003",
                title="Streaming video and its generation",
                abstract="A paper about codecs.",
            ),
            rec(
                "d",
                arxiv_id="2601.00004",
                title="Codecs",
                abstract="Video codecs; the generation of keyframes.",
            ),
        ]
    )
    found = ids(hub, "video generation")
    assert found[0] == "2601.00002"  # the phrase
    assert found[1:3] == ["2601.00001", "2601.00003"] or found[1:3] == ["2601.00003", "2601.00001"]
    assert found[3] == "2601.00004"  # words in the abstract only
    result = hub.search.query("video generation", mode=Mode.keyword)
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all("\x02" in hit.snippet for hit in result.hits if "video" in hit.snippet.lower())


def test_a_fragment_of_one_weighty_word_ranks_its_titles_first(hub: Hub) -> None:
    # "solutions to the": the words side by side are "solutions" anywhere once "to" and
    # "the" are dropped (PostgreSQL's stop words, FTS5's idf of nothing): no phrase tier on
    # either database, so a title with the word comes before an abstract that has the
    # fragment as typed.
    hub.papers.ingest(
        [
            rec(
                "a",
                arxiv_id="2601.00011",
                title="Heat flow in rods",
                abstract="We find solutions to the heat equation: solutions in rods, "
                "solutions in rings, solutions everywhere, and solutions to the rest.",
            ),
            rec(
                "b",
                arxiv_id="2601.00012",
                title="Explicit solutions of a wave equation",
                abstract="A wave equation and what it admits.",
            ),
        ]
    )
    assert ids(hub, "solutions to the") == ["2601.00012", "2601.00011"]


def test_exclusions_and_filters_hold_in_every_tier(hub: Hub) -> None:
    hub.papers.ingest(
        [
            rec(
                "a",
                arxiv_id="2601.00011",
                title="Graph neural networks",
                abstract="Survey.",
                categories=["cs.LG"],
            ),
            rec(
                "b",
                arxiv_id="2601.00012",
                title="Graph neural networks again",
                abstract="Method.",
                categories=["cs.CV"],
            ),
        ]
    )
    assert ids(hub, "graph neural -survey") == ["2601.00012"]
    assert ids(hub, "graph neural cat:cs.LG") == ["2601.00011"]


def _numbered(count: int, title: str, odd: str, even: str) -> list[PaperRecord]:
    """Papers 1..count titled ``title`` and their number, the odd ones' abstract ``odd``."""
    return [
        rec(str(i), arxiv_id=f"2601.{i:05d}", title=f"{title} {i}", abstract=odd if i % 2 else even)
        for i in range(1, count + 1)
    ]


def test_frequency_cache_counts_documents_by_stem(hub: Hub) -> None:
    hub.papers.ingest(_numbered(10, "Models of things", "Modeling models.", "Gluons."))
    cache = FrequencyCache(common_docs=5)
    with hub._db.engine.connect() as connection:
        counts = cache.get(connection, ["models", "modeling", "gluons", "absentword"])
        if hub._db.engine.dialect.name == "sqlite":  # counted in the FTS5 vocabulary
            assert counts == {"models": 10, "modeling": 10, "gluons": 5, "absentword": 0}
            assert stems(["models"]) == ["model"]
        else:  # ts_stat over every paper (fewer than sample_docs); an unknown word: 1
            assert counts == {"models": 10, "modeling": 10, "gluons": 5, "absentword": 1}
            assert stems(["modeling"], "postgresql") == ["model"]
        assert cache.get(connection, ["gluons"]) == {"gluons": 5}  # remembered


def test_rare_frequencies_come_from_the_scan_and_new_words_from_the_index(hub: Hub) -> None:
    if hub._db.engine.dialect.name != "sqlite":
        return  # PostgreSQL estimates them from a sample (test below)
    hub.papers.ingest(
        [
            rec(str(i), arxiv_id=f"2601.{i:05d}", title=f"Gluon fields {i}", abstract="Quarks.")
            for i in range(1, 6)
        ]
    )
    cache = FrequencyCache(common_docs=3)
    with hub._db.engine.connect() as connection:
        assert cache.get(connection, ["gluon", "quarks", "fields"]) == {
            "gluon": 5,  # common: the dict
            "quarks": 5,
            "fields": 5,
        }
        rows = connection.exec_driver_sql("SELECT term, doc FROM papers_fts_vocab").all()
        vocabulary = {str(term): int(doc) for term, doc in rows}
        # Every rare term's count, as the scan read it.
        rare = [term for term, doc in vocabulary.items() if doc <= 3]
        assert rare and cache._rare.find(rare) == {t: vocabulary[t] for t in rare}
    # A word written after the scan: not in it, looked up in the index.
    hub.papers.ingest([rec("9", arxiv_id="2601.00009", title="Axion haloscopes", abstract="x")])
    with hub._db.engine.connect() as connection:
        assert cache.get(connection, ["axion", "nowhereword"]) == {"axion": 1, "nowhereword": 0}


def test_frequencies_on_postgresql_are_estimated_from_a_sample(hub: Hub) -> None:
    if hub._db.engine.dialect.name == "sqlite":
        return  # SQLite counts them exactly (test above)
    hub.papers.ingest(
        [
            rec(str(i), arxiv_id=f"2601.{i:05d}", title=f"Lattice gauge fields {i}")
            for i in range(1, 401)
        ]
    )
    cache = FrequencyCache(sample_docs=100)
    with hub._db.engine.connect() as connection:
        counts = cache.get(connection, ["lattice", "gauge", "nowhere"])
    # Every paper holds "lattice": a quarter sampled, scaled back up (sampling varies).
    assert 250 <= counts["lattice"] <= 600 and counts["gauge"] == counts["lattice"]
    assert counts["nowhere"] == 1


def _known_item_papers() -> list[PaperRecord]:
    return [
        # Every query word in the title as typed: the paper someone half remembers.
        rec(
            "exact",
            arxiv_id="2601.00021",
            title="Planning agents with graph search over long horizons in partial worlds",
            abstract="We plan.",
        ),
        # The same stems in a shorter title, and the words again and again in the abstract:
        # BM25 alone puts it first.
        rec(
            "stems",
            arxiv_id="2601.00022",
            title="Graphs for agent planning",
            abstract="Graphs, graphs and agent planning; planning agents on graphs.",
        ),
    ]


def test_titles_with_the_words_as_typed_come_before_stem_matches(hub: Hub) -> None:
    hub.papers.ingest(_known_item_papers())
    assert ids(hub, "graph planning agents") == ["2601.00021", "2601.00022"]
    assert ids(hub, "graphs agent planning") == ["2601.00022", "2601.00021"]
    scores = [
        hit.score for hit in hub.search.query("graph planning agents", mode=Mode.keyword).hits
    ]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[1]


def test_a_bounded_title_tier_ranks_the_newest_title_matches(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both databases rank the newest TITLE_TIER_BOUND title matches (PostgreSQL looks for
    them among the newest TITLE_TIER_WINDOW papers first, then among all); a word twice in
    a title ranks first among them, and excluded words and filters hold."""
    from paperroute.search import _pg_keyword, keyword

    monkeypatch.setattr(keyword, "TITLE_TIER_BOUND", 3)
    monkeypatch.setattr(keyword, "TITLE_TIER_FETCH", 3)
    titles = [
        "Ocean currents",  # 1 (oldest)
        "Ocean ocean waves",  # 2: the word twice
        "Ocean floors",
        "Deserts",
        "Ocean salt",
        "Ocean ice",  # 6 (newest)
    ]
    hub.papers.ingest(
        [
            rec(str(i), arxiv_id=f"2601.{i:05d}", title=title, abstract="A study.")
            for i, title in enumerate(titles, start=1)
        ]
    )
    for window in (2, 4, 100):  # too few in the window, just enough, all of them
        monkeypatch.setattr(_pg_keyword, "TITLE_TIER_WINDOW", window)
        found = ids(hub, "ocean", limit=3)
        assert sorted(found) == ["2601.00003", "2601.00005", "2601.00006"], window
    # A page past the bound: the newest 3 title matches, as the first page has them, then
    # the other matches, the word twice first: pages neither repeat nor skip a paper.
    deep = ids(hub, "ocean", limit=10)
    assert deep[:3] == ids(hub, "ocean", limit=3)
    assert deep[3:] == ["2601.00002", "2601.00001"]
    assert "2601.00006" not in ids(hub, "ocean -ice", limit=10)


def test_the_title_tier_walks_further_back_before_reading_every_title(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: when the newest TITLE_TIER_WINDOW titles hold some of the word's but too
    few, and the word is common, the title tier walks further back (cheaper than the GIN
    index's visit to every title with the word), with the same answer."""
    from paperroute.search import _pg_keyword, keyword

    if hub._db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's title tier")
    monkeypatch.setattr(keyword, "TITLE_TIER_BOUND", 3)
    monkeypatch.setattr(keyword, "TITLE_TIER_FETCH", 3)
    titles = ["Ocean currents", "Deserts", "Ocean floors", "Ocean salt", "Rivers", "Ocean ice"]
    hub.papers.ingest(
        [
            rec(str(i), arxiv_id=f"2601.{i:05d}", title=title, abstract="A study.")
            for i, title in enumerate(titles, start=1)
        ]
    )
    hub.search.warm_keywords()  # (the estimate of the papers with the word)
    statements: list[str] = []
    sa.event.listen(
        hub._db.engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    for walk_max, walks in ((0, 1), (100, 2)):  # the index at once; a longer walk first
        monkeypatch.setattr(_pg_keyword, "TITLE_TIER_WINDOW", 2)
        monkeypatch.setattr(_pg_keyword, "TITLE_TIER_WALK_MAX", walk_max)
        monkeypatch.setattr(_pg_keyword, "TITLE_WALK_SHARE", 100.0)
        monkeypatch.setattr(_pg_keyword, "TITLED_ENOUGH", 2)
        statements.clear()
        found = ids(hub, "ocean", limit=3)
        assert sorted(found) == ["2601.00003", "2601.00004", "2601.00006"], walk_max
        titled = [s for s in statements if "FROM paper_titles t" in s]
        walked = [s for s in titled if "max(paper_pk)" in s]
        assert len(walked) == walks and len(titled) == walks + (walks == 1), titled


def test_a_bounded_phrase_tier_ranks_the_newest_phrase_matches(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phrase tier ranks its newest PHRASE_TIER_BOUND matches (SQLite; more when the
    page needs them): the best of them first; the older ones still match, further down."""
    from paperroute.search import keyword

    monkeypatch.setattr(keyword, "PHRASE_TIER_BOUND", 2)
    abstracts = [
        "Video generation, video generation and video generation.",  # 1: the best, oldest
        "We study video generation.",
        "Notes on video generation at scale in long clips.",
        "A survey of video generation.",  # 4: the newest
    ]
    hub.papers.ingest(
        [
            rec(str(i), arxiv_id=f"2601.{i:05d}", title=f"Study {i}", abstract=abstract)
            for i, abstract in enumerate(abstracts, start=1)
        ]
    )
    # A page of 4 ranks 4 newest: all of them, the best first.
    found = ids(hub, "video generation", limit=4)
    assert found[0] == "2601.00001"
    assert set(found) == {"2601.00001", "2601.00002", "2601.00003", "2601.00004"}
    if hub._db.dialect == "sqlite":  # (PostgreSQL's phrase tier ranks every match)
        assert set(ids(hub, "video generation", limit=2)) == {"2601.00003", "2601.00004"}


def test_a_bounded_phrase_tier_keeps_a_remembered_title_first(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL ranks the phrase among the newest PHRASE_TIER_SCAN papers with its words
    (at most PHRASE_TIER_BOUND of them) and the papers with it in the title, however old;
    SQLite its newest PHRASE_TIER_BOUND matches or a page's worth (here all five). Either
    way the oldest paper, the one with the phrase in its title, comes first, for the words
    typed and for the quoted phrase, and exclusions and filters hold."""
    from paperroute.search import _pg_keyword, keyword

    monkeypatch.setattr(keyword, "PHRASE_TIER_BOUND", 2)
    monkeypatch.setattr(_pg_keyword, "PHRASE_TIER_SCAN", 3)
    monkeypatch.setattr(_pg_keyword, "TITLE_TIER_WINDOW", 2)
    records = [
        rec(
            "title",
            arxiv_id="2601.00031",
            title="Sparse video generation",
            abstract="A study.",
            categories=["cs.CV"],
        )
    ]
    # Newer: the phrase in the abstract (the newest ones), the words apart (the others).
    for i in range(2, 10):
        abstract = (
            "We study video generation in rooms."
            if i >= 6
            else "Video of rooms, and the generation of maps."
        )
        records.append(
            rec(
                str(i),
                arxiv_id=f"2601.{30 + i:05d}",
                title=f"Rooms {i}",
                abstract=abstract,
                categories=["cs.LG"],
            )
        )
    hub.papers.ingest(records)
    for text in ("video generation", '"video generation"'):
        found = ids(hub, text)
        assert found[0] == "2601.00031", text
        assert {"2601.00039", "2601.00038"} <= set(found), text  # the newest with the phrase
    quoted = ids(hub, '"video generation"')
    # A page past PHRASE_TIER_BOUND: PostgreSQL reads further back than the newest
    # PHRASE_TIER_SCAN with the words, so every match is ranked on both.
    assert len(quoted) == 5
    phrase_matches = {"2601.00036", "2601.00037", "2601.00038", "2601.00039"}
    assert set(ids(hub, '"video generation" -sparse')) == phrase_matches
    # A first page within the bound ranks the newest PHRASE_TIER_SCAN's (and the title's).
    assert set(ids(hub, '"video generation"', limit=2)) <= {"2601.00031", *phrase_matches}
    assert ids(hub, '"video generation" cat:cs.CV') == ["2601.00031"]
    total = hub.search.query('"video generation"', mode=Mode.keyword).total
    assert total == 5  # the total counts every match


def test_frequencies_use_the_index_own_stems(hub: Hub) -> None:
    # PostgreSQL 15 stems "emergent" "emerg" and "organizations" "organ"; snowballstemmer 3
    # keeps "emergent" and makes "organiz": looked up by those, both words counted as in
    # one paper, the most distinctive words of any paper that used them. SQLite's FTS5
    # stems "methodology" "methodolog" (snowball's Porter: "methodologi").
    odd = "An emergent methodology for organizations."
    hub.papers.ingest(_numbered(8, "Emergent organization of methodologies", odd, "Gluons."))
    cache = FrequencyCache(common_docs=2)
    words = ["emergent", "organizations", "methodology", "during", "gluons"]
    with hub._db.engine.connect() as connection:
        counts = cache.get(connection, words)
        stemmed = cache.stems(connection, words)
        assert counts == {
            "emergent": 8, "organizations": 8, "methodology": 8, "during": 0, "gluons": 4
        }  # fmt: skip
        if hub._db.engine.dialect.name == "sqlite":
            assert stemmed == ["emerg", "organ", "methodolog", "dure", "gluon"]
        else:  # the server's stems; a stop word is not indexed: in no paper
            server = connection.execute(
                sa.text(
                    "SELECT (ts_lexize('english_stem', w))[1] FROM unnest(CAST(:w AS text[])) w"
                ),
                {"w": words},
            ).scalars()
            assert stemmed == [s or "" for s in server]
            assert stemmed[0] == "emerg" and stemmed[3] == ""
