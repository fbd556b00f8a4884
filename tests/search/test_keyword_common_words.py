"""Words in nearly every paper ("a", "of", "on"): ranked without them, still required; the
title tier from the titles' own index; a quoted phrase from its newest matches, titles
first. Both databases."""

from __future__ import annotations

from typing import Any

import pytest

from paperroute import Hub
from paperroute.search.keyword import KeywordHit
from paperroute.search.service import Mode
from support.search_corpus import rec


def ids(hub: Hub, text: str, limit: int = 10) -> list[str]:
    return [hit.id for hit in hub.search.query(text, mode=Mode.keyword, limit=limit).hits]


def test_words_in_nearly_every_paper_are_not_required_beside_others(hub: Hub) -> None:
    """ "a", "of", "in" (in nearly every paper) are not required when another word is, on
    SQLite as PostgreSQL's stop words are not; a title with every word as typed still comes
    first; inside a quoted phrase they keep their distance."""
    hub.papers.ingest(
        [
            rec("title", arxiv_id="2601.00041", title="Motion of a river", abstract="Water."),
            # "motion" in the title, neither "of" nor "a" anywhere.
            rec("none", arxiv_id="2601.00042", title="Motion planning", abstract="Robots move."),
            # "motion" in the abstract only.
            rec(
                "rest",
                arxiv_id="2601.00043",
                title="Robots",
                abstract="We study motion in a lab full of robots.",
            ),
        ]
    )
    found = ids(hub, "motion of a")
    assert set(found) == {"2601.00041", "2601.00042", "2601.00043"}
    if hub._db.dialect == "sqlite":  # (PostgreSQL's phrase tier: "motion" anywhere)
        assert found == ["2601.00041", "2601.00042", "2601.00043"]
    assert ids(hub, "lab of a") == ["2601.00043"]
    assert set(ids(hub, "motion of a -river")) == {"2601.00042", "2601.00043"}
    assert ids(hub, '"motion in a lab"') == ["2601.00043"]
    assert ids(hub, '"motion of a river"') == ["2601.00041"]
    assert ids(hub, '"motion of river"') == []  # one word between, not two
    result = hub.search.query("motion of a", mode=Mode.keyword)
    assert result.total == 3 and result.total_exact
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert ids(hub, "motion of a after:2100-01-01") == []
    if hub._db.dialect == "sqlite":  # (PostgreSQL's stop words alone match nothing)
        assert set(ids(hub, "of a")) == {"2601.00041", "2601.00043"}  # only those: required


def test_the_title_tier_follows_changed_and_deleted_titles(hub: Hub) -> None:
    hub.papers.ingest(
        [
            rec("q", arxiv_id="2601.00051", title="Quantum walks on a graph", abstract="Kernels."),
            rec("k", arxiv_id="2601.00052", title="Kernels", abstract="Quantum walks, briefly."),
        ]
    )
    assert ids(hub, "quantum walks") == ["2601.00051", "2601.00052"]
    hub.papers.ingest(
        [rec("q", arxiv_id="2601.00051", title="Spectral kernels", abstract="Kernels.")]
    )
    assert ids(hub, "quantum walks") == ["2601.00052"]
    assert ids(hub, "spectral kernels")[0] == "2601.00051"
    with hub._db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM papers WHERE id = '2601.00051'")
    assert ids(hub, "spectral") == []


def test_a_quoted_phrase_ranks_titles_first_and_counts_every_match(hub: Hub) -> None:
    hub.papers.ingest(
        [
            rec(
                "title",
                arxiv_id="2601.00061",
                title="A large language model for chemistry",
                abstract="Molecules.",
            ),
            *(
                rec(
                    str(i),
                    arxiv_id=f"2601.{61 + i:05d}",
                    title=f"Study {i}",
                    abstract="We prompt a large language model." * (1 + i % 3),
                )
                for i in range(1, 6)
            ),
            rec("apart", arxiv_id="2601.00070", title="Large models", abstract="Language."),
        ]
    )
    found = ids(hub, '"large language model"')
    assert found[0] == "2601.00061" and len(found) == 6 and "2601.00070" not in found
    assert hub.search.query('"large language model"', mode=Mode.keyword).total == 6
    assert ids(hub, '"large language model" -chemistry')[0] != "2601.00061"
    assert ids(hub, '"large language model" after:2100-01-01') == []


# Abstracts with the phrase "video generation" once, thrice, once in a long text, twice.
VIDEO = [
    "We study video generation.",
    "Video generation, video generation and video generation.",
    "Notes on video generation at scale in long clips, " + "and other things " * 30,
    "Video generation and video generation.",
]


def fts5_bm25(connection: Any, match: str) -> list[Any]:
    """FTS5's own ranking of a match (pk, bm25 with the index's column weights), best first."""
    from sqlalchemy import text

    return connection.execute(
        text(
            "SELECT rowid, bm25(papers_fts, 10.0, 4.0, 1.0) FROM papers_fts "
            "WHERE papers_fts MATCH :m ORDER BY 2"
        ),
        {"m": match},
    ).all()


def test_a_common_phrase_is_ranked_as_fts5_ranks_it(hub: Hub) -> None:
    """SQLite: the scores of a phrase's newest matches computed from their text order them
    as FTS5's bm25(papers_fts, 10, 4, 1) does (the phrase in the title, more often, in a
    shorter paper first)."""
    if hub._db.dialect != "sqlite":
        return

    from paperroute.search._fts import phrase_scores

    abstracts = [*VIDEO[:3], "A survey of video-generation methods.", VIDEO[3]]
    hub.papers.ingest(
        [
            rec(str(i), arxiv_id=f"2601.{70 + i:05d}", title=f"Study {i}", abstract=abstract)
            for i, abstract in enumerate(abstracts)
        ]
        + [rec("t", arxiv_id="2601.00080", title="Video generation", abstract="Clips.")]
    )
    with hub._db.engine.connect() as connection:
        rows = fts5_bm25(connection, '"video generation"')
        expected = [int(pk) for pk, _ in rows]
        scores = phrase_scores(connection, ["video", "generation"], expected)
    assert len(expected) == 6
    assert sorted(expected, key=lambda pk: -scores[pk]) == expected


def test_a_rare_phrase_is_scored_with_fts5s_own_idf(hub: Hub) -> None:
    """SQLite: given every paper with the phrase (a phrase rarer than the bound: the phrase
    tier's walk finds them all), the scores from the papers' text are FTS5's bm25 values,
    not only in its order; the keyword search ranks a rare quoted phrase so."""
    if hub._db.dialect != "sqlite":
        return
    from sqlalchemy import text

    from paperroute.search._fts import phrase_scores

    abstracts = VIDEO
    records = [
        rec(str(i), arxiv_id=f"2601.{90 + i:05d}", title=f"Study {i}", abstract=abstract)
        for i, abstract in enumerate(abstracts)
    ]
    records += [
        rec(f"o{i}", arxiv_id=f"2601.{100 + i:05d}", title=f"Other {i}", abstract="Clips.")
        for i in range(20)
    ]
    hub.papers.ingest([*records, rec("t", arxiv_id="2601.00095", title="Video generation")])
    with hub._db.engine.connect() as connection:
        rows = fts5_bm25(connection, '"video generation"')
        expected = {int(pk): -float(score) for pk, score in rows}
        scores = phrase_scores(connection, ["video", "generation"], list(expected), len(rows))
        paper_ids = dict(connection.execute(text("SELECT pk, id FROM papers")).all())
    assert len(expected) == 5 and min(expected.values()) > 0.01
    assert scores == pytest.approx(expected, rel=1e-9)
    found = hub.search.query('"video generation"', mode=Mode.keyword)
    assert found.total == 5
    assert [hit.id for hit in found.hits] == [paper_ids[pk] for pk, _ in rows]
    assert found.hits[0].id == "2601.00095"  # the phrase in the title


def test_a_counted_total_changes_no_ranking(hub: Hub) -> None:
    """The total the search counted first (and a rare quoted phrase's matches), handed to
    the ranking (which then skips walks it made again, or walks them in FTS5's own order),
    gives the same hits and scores as a
    ranking that counts nothing (equal scores may come in another order: the ranking from
    the papers' text puts the newer first). Both databases."""
    from paperroute.search.keyword import count_matches, keyword_search
    from paperroute.search.query import parse_query

    abstracts = [
        "We study video generation.",
        "Video generation, video generation and video generation.",
        "Generation of video at scale, a video model for generation.",
        "A video generation model.",
        "Models of the video generation of the rooms.",
    ]
    hub.papers.ingest(
        [
            rec(str(i), arxiv_id=f"2601.{130 + i:05d}", title=f"Study {i}", abstract=abstract)
            for i, abstract in enumerate(abstracts)
        ]
        + [rec("t", arxiv_id="2601.00140", title="Video generation model", abstract="Clips.")]
        + [
            rec(f"o{i}", arxiv_id=f"2601.{150 + i:05d}", title=f"Other {i}", abstract="Clips.")
            for i in range(20)
        ]
    )
    texts = ["video generation", '"video generation"', "video generation model", "the video"]
    with hub._db.engine.connect() as connection:
        for text in texts:
            query = parse_query(text)
            found = count_matches(connection, query)
            if text.startswith('"') and hub._db.dialect == "sqlite":
                assert found.matches is not None and len(found.matches) == found.total == 5
            for limit in (2, 10):
                counted = keyword_search(
                    connection, query, limit=limit, total=found.total, matches=found.matches
                )
                uncounted = keyword_search(connection, query, limit=limit)
                assert tied(counted) == tied(uncounted), (text, limit)


def tied(hits: list[KeywordHit]) -> list[tuple[float, str]]:
    """The scores in order, each with its paper (equal scores' papers by id)."""
    return sorted((-round(hit.score, 9), hit.id) for hit in hits)


def test_a_rare_phrase_scores_as_fts5_where_porter_changes_the_ending(hub: Hub) -> None:
    """SQLite: the scores from the papers' text equal FTS5's bm25 values where Porter's stem
    is not a prefix of the word ("scoring" -> "score", "probing" -> "probe"), a stem ends in
    "i" ("policy"), diacritics are removed ("Schrödinger"), and a two-letter word is not
    stemmed; the phrase tier of typed words (all matches found by its walk) ranks so."""
    if hub._db.dialect != "sqlite":
        return
    from paperroute.search._fts import phrase_scores, plain_phrase
    from paperroute.search.query import parse_query

    abstracts = [
        "A scoring rule and a score rule; scoring rules again.",
        "We score rules by probing analysis, then probe analyses.",
        "Policy safety matters: policies' safety, policy-safety.",
        "The Schrödinger equation and the Schrodinger equations.",
        "Schrödinger Equation, no diacritics elsewhere; as us go.",
        "Us go home: us goes, us going.",
    ]
    titles = ["Scoring Rules", "Probing Analysis", "Policy Safety", "On Schrödinger", "X", "Y"]
    hub.papers.ingest(
        [
            rec(str(i), arxiv_id=f"2601.{200 + i:05d}", title=title, abstract=abstract)
            for i, (title, abstract) in enumerate(zip(titles, abstracts, strict=True))
        ]
        + [
            rec(f"o{i}", arxiv_id=f"2601.{220 + i:05d}", title=f"Other {i}", abstract="Clips.")
            for i in range(20)
        ]
    )
    phrases = ["scoring rule", "probing analysis", "policy safety", "schrödinger equation"]
    with hub._db.engine.connect() as connection:
        for phrase in [*phrases, "us go"]:
            words = plain_phrase(parse_query(f'"{phrase}"'))
            assert words is not None
            rows = fts5_bm25(connection, '"' + " ".join(words) + '"')
            expected = {int(pk): -float(score) for pk, score in rows}
            assert expected, phrase
            scores = phrase_scores(connection, words, list(expected), len(rows))
            assert scores == pytest.approx(expected, rel=1e-9), phrase
            # The phrase tier of the typed words: bm25()'s order, its best first.
            hits = hub.search.query(phrase, mode=Mode.keyword, limit=len(rows)).hits
            assert [hit.pk for hit in hits[: len(rows)]] == [int(pk) for pk, _ in rows], phrase
