"""Keyword search: a parsed Query translated to SQLite FTS5 or PostgreSQL tsquery
(PostgreSQL's statements in _pg_keyword.py, SQLite's FTS5 expressions in _fts.py).

Every value reaches the database as a bound parameter; the only text spliced into SQL is
built here from the parser's terms, which hold letters, digits and single spaces only, and
is quoted for FTS5. Ranking: BM25 with field weights (title > authors > abstract) on
SQLite, ts_rank_cd over the weighted tsvector on PostgreSQL. Snippets mark matches with
MARK_START / MARK_END (control characters no abstract contains), for the caller to render.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, CursorResult, bindparam, text

from . import _pg_keyword as pg
from ._frequencies import FrequencyCache, stems
from ._fts import (
    ABSTRACT_WEIGHT,
    AUTHORS_WEIGHT,
    TITLE_WEIGHT,
    common_phrase_top,
    plain_phrase,
    ranked_top,
    required,
    title_top,
    weighty,
)
from ._fts import fts5_term as _fts5_term
from ._keyword_sql import COLUMNS, KeywordHit, filters, run, sql_statement, to_hits
from ._newest import NewestTerms
from ._sample import Estimate
from .query import Query, Term, split_words

__all__ = [
    "MARK_END",
    "MARK_START",
    "Counted",
    "FrequencyCache",
    "KeywordHit",
    "add_snippets",
    "count_matches",
    "keyword_matches",
    "keyword_search",
    "keyword_total",
    "matching",
    "stems",
]

MARK_START = "\x02"
MARK_END = "\x03"
# BM25 weights within the title tier: every query word is in the title already, so the
# title says little more; the fields count alike (best on the evaluation, docs/search.md).
TITLE_TIER_WEIGHTS = (1.0, 1.0, 1.0)


def fts5_match(query: Query) -> str | None:
    """The FTS5 MATCH expression of the query's terms, or None without a positive term
    (words in nearly every paper left out when another term is required: _fts.py)."""
    positive = [_fts5_term(t) for t in required(query)]
    if not positive:
        return None
    expression = "(" + " AND ".join(positive) + ")"
    negative = [_fts5_term(t) for t in query.terms if t.negated]
    if negative:
        expression += " NOT (" + " OR ".join(negative) + ")"
    return expression


# Matches counted at most (keyword_total): as deep as results can be paged.
TOTAL_CAP = 10_000
# PostgreSQL: a query whose exact count would visit more rows than this is estimated
# (count_matches): 1,000 rows are 5-12 ms.
EXACT_VISITS = 1_000
# Queries of up to this many plain words (no phrase, no prefix) are ranked in tiers.
TIERED_MAX_WORDS = 6
# Title-tier papers read to find those with every word in the title as typed.
TITLE_TIER_FETCH = 100
# Title matches ranked at most (the most recently added; more when a page needs them). A
# common word is in tens of thousands of titles, and each one ranked is a row read: one
# word's title matches rank alike anyway (the word once in the title). PostgreSQL looks
# for them among the newest papers first (_pg_keyword.TITLE_TIER_WINDOW).
TITLE_TIER_BOUND = 300
# SQLite: the title tier ranks its newest TITLE_TIER_BOUND matches too, and the phrase tier
# its newest PHRASE_TIER_BOUND (more when a page needs them): FTS5 reads the posting lists
# from the newest paper and stops there, where ranking every match read all of them (at 1M
# papers "model" is in 500,000 papers; "of" in a title fragment, in nearly all).
# PostgreSQL: phrase matches ranked at most (the most recently added; _pg_keyword.py),
# besides as many with the phrase in the title.
PHRASE_TIER_BOUND = 300
# The limit up to which one query's rankings are prefixes of each other: past it the
# bounded tiers rank more of the newest matches, and the order of the first ones can move.
PREFIX_STABLE = min(TITLE_TIER_BOUND, PHRASE_TIER_BOUND)


def paged_ranking(rank: Callable[[int], list[KeywordHit]], wanted: int) -> list[KeywordHit]:
    """The first ``wanted`` papers of one order that every page is a slice of, from
    ``rank`` (a ranking of a given limit). Up to PREFIX_STABLE that is the ranking of limit
    ``wanted``; past it, a longer ranking's first papers move (its bounded tiers rank more
    of the newest matches), and pages 10 and 11 of 30 repeated 27 papers. Past it the
    order goes in blocks: block ``j`` ends at ``PREFIX_STABLE * 2**j`` and is the ranking
    of that limit less the papers placed before it, scores capped to keep descending."""
    if wanted <= PREFIX_STABLE:
        return rank(wanted)
    placed = rank(PREFIX_STABLE)
    seen = {hit.pk for hit in placed}
    end = PREFIX_STABLE
    while len(placed) == end and end < wanted:
        end *= 2
        for hit in rank(end):
            if hit.pk in seen:
                continue
            seen.add(hit.pk)
            placed.append(replace(hit, score=min(hit.score, placed[-1].score)))
            if len(placed) == end:
                break
    return placed[:wanted]


def keyword_search(
    connection: Connection,
    query: Query,
    *,
    limit: int = 20,
    snippets: bool = True,
    total: int | None = None,
    matches: tuple[int, ...] | None = None,
    with_words: float | None = None,
    newest: NewestTerms | None = None,
) -> list[KeywordHit]:
    """The best ``limit`` papers for ``query``. A query without a positive term but with
    filters lists the newest papers that pass them; an empty query finds nothing.

    A query of one to six plain words is ranked in tiers, each by BM25 within itself:
    papers that have the words side by side in that order (two words or more), then papers
    with every word in the title, then every other match. People type the names of things
    ("video generation", a title they half remember); adjacency and the title are the best
    evidence that a paper is about the thing rather than merely using its words. It also
    keeps common words fast: "model" ranks the papers with it in the title, not half the
    corpus. Later tiers are only queried while the earlier ones leave places.

    ``total``: the query's keyword_total when the caller counted it already (SQLite: a
    quoted phrase's tiers are then picked from it, not from a second walk of its matches,
    and a phrase tier with fewer matches than its bound reads them in FTS5's own order);
    ``matches``: a rare quoted phrase's matches, or plain words' counted on PostgreSQL
    (count_matches), ranked without reading them again. ``with_words``: how many papers
    have every positive word (Counted), if known; ``newest``: PostgreSQL, the newest
    papers' terms held in memory, if any (_pg_keyword.newest_with_words)."""
    hits = _tiered(connection, query, limit, total, matches, with_words, newest)
    return add_snippets(connection, query, hits) if snippets else hits


def _tiered(
    connection: Connection,
    query: Query,
    limit: int,
    total: int | None,
    matches: tuple[int, ...] | None = None,
    with_words: float | None = None,
    newest: NewestTerms | None = None,
) -> list[KeywordHit]:
    positive = query.positive
    plain = _plain(query)
    # (query, title only, bounded): the phrase and title tiers rank their newest matches.
    tiers: list[tuple[Query, bool, bool]] = []
    quoted = _one_quoted_phrase(connection, query) and plain_phrase(query) is not None
    bound = max(PHRASE_TIER_BOUND, limit)
    if quoted and (_is_common(connection, query, bound) if total is None else total >= bound):
        # SQLite, a phrase in more than PHRASE_TIER_BOUND papers: the newest papers with it
        # in the title, then the newest with it anywhere; ranking every match read and
        # scored all of them ("large language model (LLM)": 95,000 at 1M papers, 440 ms).
        tiers = [(query, True, True), (query, False, True)]
    elif quoted and total is not None:
        # A rarer one (fewer than the bound, so all of its matches): one tier, ranked from
        # their text as the phrase tier ranks, with FTS5's idf (common_phrase_top).
        tiers = [(query, False, True)]
    elif not plain:
        return _keyword_search(
            connection, query, limit, with_words=with_words, scans=pg.Scans(newest)
        )
    negated = tuple(t for t in query.terms if t.negated)
    sqlite = connection.dialect.name == "sqlite"
    # (A phrase of one word that weighs, "solutions to the", would be that word anywhere,
    # ranked above the papers with it in the title; PostgreSQL's phraseto_tsquery drops
    # the same stop words, and looked for that word in every title: 45 ms at 1M papers.)
    if plain and len(positive) >= 2 and weighty([t.text for t in positive]) >= 2:
        phrase = Term(" ".join(t.text for t in positive), phrase=True)
        tiers.append((replace(query, terms=(phrase, *negated)), False, True))
    if plain:
        tiers.append((query, True, True))  # every word in the title
        tiers.append((query, False, False))
    found: list[list[KeywordHit]] = []
    seen: set[int] = set()
    words = {t.text for t in positive}
    scans = pg.Scans(newest)
    if plain and matches is not None and not sqlite:
        # Every match of the words, listed when counted: the tiers look no further (nor
        # does a deep page's phrase tier, which reads fourfold further back each time).
        listed, scan = sorted(matches, reverse=True), pg.PHRASE_TIER_SCAN
        joined = " ".join(t.text for t in positive)
        while True:
            scans.found[(joined, scan)] = listed[:scan]
            if scan >= len(listed):
                break
            scan *= 4
    for tier_query, title_only, bounded in tiers:
        if plain and title_only:
            # The title tier ahead of every match's gives the same share of hits whatever
            # the page (what it leaves, the last tier ranks): pages repeated and skipped
            # papers where the tiers met. (The phrase tier's bound still grows with a page
            # past it: an old remembered title is ranked with the phrase's matches.)
            wanted = TITLE_TIER_FETCH
        else:
            wanted = max(limit, TITLE_TIER_FETCH) if title_only else limit
        hits = _keyword_search(
            connection,
            tier_query,
            wanted,
            title_only=title_only,
            bounded=bounded,
            few=total is not None and total < bound,
            matches=matches if (quoted and len(tiers) == 1) or not sqlite else None,
            with_words=with_words,
            scans=scans,
        )
        fresh = [hit for hit in hits if hit.pk not in seen]
        if title_only:
            # Titles with every word as typed (not only its stem) first: a remembered title.
            exact = [hit for hit in fresh if words <= set(split_words(hit.title))][:limit]
            found.append(exact)
            seen.update(hit.pk for hit in exact)
            fresh = [hit for hit in fresh if hit.pk not in seen][: limit - len(exact)]
        seen.update(hit.pk for hit in fresh)
        found.append(fresh)
        if len(seen) >= limit:
            break
    bands = sum(2 if title_only else 1 for _, title_only, _ in tiers)
    if bands == 1:  # (one tier: its own scores, as the query untiered has)
        return found[0][:limit]
    return [hit for i, hits in enumerate(found) for hit in _banded(hits, bands - 1 - i)][:limit]


def _banded(hits: list[KeywordHit], band: int) -> list[KeywordHit]:
    """A tier's hits scored in a band of their own, ``band`` to ``band + 1``: each one's
    score as a share of the tier's best. Bands come from the planned tiers, not from those
    a limit reached, so that a paper scores the same on every page (hybrid search fuses
    these scores: a deeper page's would otherwise be scaled by tiers the first never saw)."""
    best = max((hit.score for hit in hits), default=0.0)
    return [
        replace(hit, score=band + (min(1.0, max(0.0, hit.score / best)) if best > 0 else 1.0))
        for hit in hits
    ]


def _plain(query: Query) -> bool:
    """A query of one to TIERED_MAX_WORDS plain words (no phrase, no prefix), ranked in
    tiers."""
    positive = query.positive
    return 0 < len(positive) <= TIERED_MAX_WORDS and not any(t.phrase or t.prefix for t in positive)


def _is_common(connection: Connection, query: Query, bound: int) -> bool:
    """Whether the query's (one) phrase matches at least ``bound`` papers that pass its
    filters: FTS5 stops after that many."""
    params: dict[str, Any] = {"bound": bound}
    match = fts5_match(query)
    if match is None:
        return False
    params["match"] = match
    where = filters(query, params, "sqlite", key="+papers_fts.rowid")
    needs_papers = query.has_code or query.after is not None or query.before is not None
    source = "papers_fts JOIN papers p ON p.pk = papers_fts.rowid" if needs_papers else "papers_fts"
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {source} "
        f"WHERE {' AND '.join(['papers_fts MATCH :match', *where])} LIMIT :bound)"
    )
    return int(connection.execute(sql_statement(sql, params), params).scalar() or 0) >= int(
        params["bound"]
    )


def _one_quoted_phrase(connection: Connection, query: Query) -> bool:
    """SQLite, a query of one quoted phrase (filters allowed, no excluded term)."""
    terms = query.terms
    return (
        connection.dialect.name == "sqlite"
        and len(terms) == 1
        and terms[0].phrase
        and not terms[0].negated
    )


def _keyword_search(
    connection: Connection,
    query: Query,
    limit: int,
    *,
    title_only: bool = False,
    bounded: bool = False,
    few: bool = False,
    matches: tuple[int, ...] | None = None,
    with_words: float | None = None,
    scans: pg.Scans | None = None,
) -> list[KeywordHit]:
    """One tier's hits (``few``: the query's matches, counted, are fewer than the phrase
    tier's bound; its phrase's are no more; ``matches``: the phrase's, when known;
    ``with_words``: keyword_search's; ``scans``: the query's, pg.newest_with_words)."""
    dialect = connection.dialect.name
    params: dict[str, Any] = {"limit": limit}
    match = fts5_match(query) if dialect == "sqlite" else None
    # The titles' own index (SQLite) for a title tier without excluded words.
    titles = match is not None and title_only and all(not t.negated for t in query.terms)
    # "+rowid": a plain rowid constraint would be handed to FTS5, which then runs the MATCH
    # once per candidate (seconds); as an expression SQLite tests it against the set.
    key = "+paper_titles_fts.rowid" if titles else "+papers_fts.rowid"
    where = filters(query, params, dialect, key="p.pk" if match is None else key)
    if match is not None:
        # Rank touching only the index (and papers when a filter needs its columns), then
        # fetch the top rows' columns and, in a second query, their snippets: SQLite
        # computes a SELECT's columns for every match before sorting, and when the index is
        # joined back it scans every match again; a common word matches half the corpus.
        needs_papers = query.has_code or query.after is not None or query.before is not None
        if bounded:
            # The newest matches (TITLE_TIER_BOUND, PHRASE_TIER_BOUND, or as many as the
            # page needs), then ranked (a common word is in half the corpus).
            bound = TITLE_TIER_BOUND if title_only else PHRASE_TIER_BOUND
            params["bound"] = max(bound, limit)
        words = plain_phrase(query) if bounded and not title_only else None
        if words is not None:
            params["match"] = match
            common = common_phrase_top(
                connection, words, where, params, needs_papers=needs_papers, few=few, pks=matches
            )
            if common is not None:
                return _load_ranked(connection, common)
        if titles:
            top = title_top(query, where, params, needs_papers=needs_papers)
        else:
            top = ranked_top(
                title_match(query) if title_only else match,
                where,
                params,
                TITLE_TIER_WEIGHTS
                if title_only
                else (TITLE_WEIGHT, AUTHORS_WEIGHT, ABSTRACT_WEIGHT),
                needs_papers=needs_papers,
                bounded=bounded,
            )
        sql = (
            f"SELECT {COLUMNS}, -top.rank AS score, '' AS snippet "
            f"FROM ({top}) top JOIN papers p ON p.pk = top.pk ORDER BY top.rank"
        )
        return run(connection, sql, params)
    if dialect == "sqlite":
        pass  # no positive term: the filters alone, below
    elif title_only:
        return pg.title_tier(connection, query, params, max(TITLE_TIER_BOUND, limit), with_words)
    elif any(t.phrase and not t.negated for t in query.terms):
        bound = max(PHRASE_TIER_BOUND, limit)
        deep = limit > PHRASE_TIER_BOUND
        return pg.phrase_tier(connection, query, params, where, bound, with_words, scans, deep=deep)
    elif (
        ranked := pg.rank_all(connection, query, params, where, with_words, scans, matches)
    ) is not None:
        return ranked
    if not where:
        return []
    sql = (
        f"SELECT {COLUMNS}, 0.0 AS score, substr(p.abstract, 1, 200) AS snippet FROM papers p "
        f"WHERE {' AND '.join(where)} ORDER BY p.announced_on DESC, p.pk DESC LIMIT :limit"
    )
    return run(connection, sql, params)


def _load_ranked(connection: Connection, ranked: list[tuple[int, float]]) -> list[KeywordHit]:
    """Hits of (pk, score) pairs, in that order."""
    if not ranked:
        return []
    statement = text(
        f"SELECT {COLUMNS}, 0.0 AS score, '' AS snippet FROM papers p WHERE p.pk IN :pks"
    ).bindparams(bindparam("pks", expanding=True))
    hits = {
        hit.pk: hit
        for hit in to_hits(connection.execute(statement, {"pks": [pk for pk, _ in ranked]}))
    }
    return [replace(hits[pk], score=score) for pk, score in ranked if pk in hits]


@dataclass(frozen=True, slots=True)
class Counted:
    """A query's keyword_total and, for a query of one quoted phrase with fewer matches
    than PHRASE_TIER_BOUND (SQLite), or of plain words counted exactly (PostgreSQL), their
    pks (not hidden, past its filters): the ranking reads them from here, not from a second
    walk of the posting lists. ``exact``
    false: an estimate (PostgreSQL, count_matches); ``with_words``: the papers with every
    positive word of it, as estimated there (PostgreSQL picks how to find the newest of
    them by it)."""

    total: int
    matches: tuple[int, ...] | None = None
    exact: bool = True
    with_words: float | None = None


def count_matches(
    connection: Connection,
    query: Query,
    cap: int = TOTAL_CAP,
    frequencies: FrequencyCache | None = None,
) -> Counted:
    """keyword_total, with the matches of a rare quoted phrase (Counted): the newest
    PHRASE_TIER_BOUND are read first, in FTS5's order, and counted further only when there
    are that many. PostgreSQL: estimated (``sampled``) when counting would visit more than
    EXACT_VISITS rows, and the papers with the query's words estimated either way."""
    if _one_quoted_phrase(connection, query) and plain_phrase(query) is not None:
        params: dict[str, Any] = {"bound": PHRASE_TIER_BOUND, "match": fts5_match(query)}
        where = filters(query, params, "sqlite", key="+papers_fts.rowid")
        source = "papers_fts"
        if query.has_code or query.after is not None or query.before is not None:
            source += " JOIN papers p ON p.pk = papers_fts.rowid"
        hidden = "+papers_fts.rowid NOT IN (SELECT paper_pk FROM hidden_papers)"
        sql = (
            f"SELECT papers_fts.rowid FROM {source} "
            f"WHERE {' AND '.join(['papers_fts MATCH :match', *where, hidden])} LIMIT :bound"
        )
        pks = [int(row[0]) for row in connection.execute(sql_statement(sql, params), params)]
        if len(pks) < PHRASE_TIER_BOUND:
            return Counted(len(pks), tuple(pks))
    estimate = None if frequencies is None else sampled(connection, query, frequencies)
    if estimate is None:
        return Counted(keyword_total(connection, query, cap, frequencies))
    phrase = any(t.phrase and not t.negated for t in query.terms)
    visits = estimate.candidates if phrase else min(estimate.high, cap + 1)
    if visits <= EXACT_VISITS:
        if phrase or not _plain(query):
            total = keyword_total(connection, query, cap, frequencies)
            return Counted(total, with_words=estimate.with_words)
        # Plain words: their matches listed, not only counted. The GIN index reads each
        # word's whole posting list (a few papers with "data" and "model" in them: 25 ms at
        # 1M papers), and the tiers would read them twice more (keyword_search).
        pks = keyword_matches(connection, query, cap)
        if len(pks) > cap:
            return Counted(cap + 1, with_words=estimate.with_words)
        return Counted(len(pks), tuple(pks), with_words=float(len(pks)))
    if estimate.low > cap:
        return Counted(cap + 1, exact=False, with_words=estimate.with_words)
    # (Never none: the sample may miss a rare phrase that the ranking then finds.)
    return Counted(max(1, estimate.total), exact=False, with_words=estimate.with_words)


def sampled(connection: Connection, query: Query, frequencies: FrequencyCache) -> Estimate | None:
    """PostgreSQL: the query's matches estimated from the frequency sample
    (TermSample.estimate); None on SQLite, with filters, or for a query the sample does
    not evaluate. count_matches uses it instead of counting when that would visit more
    than EXACT_VISITS rows (beyond doubt): an exact count of a phrase re-checks every
    paper with its words (at 1M papers "consistency models": 133,000 papers for 1,011
    matches, 0.4-1.3 s), and one of plain words visits every match up to the cap."""
    params: dict[str, Any] = {}
    if connection.dialect.name == "sqlite" or filters(query, params, "postgresql"):
        return None
    expression = pg.tsquery(query, params)
    if expression is None:
        return None
    written = connection.execute(text(f"SELECT CAST({expression} AS text)"), params).scalar()
    return frequencies.estimate(connection, str(written or ""))


def keyword_total(
    connection: Connection,
    query: Query,
    cap: int = TOTAL_CAP,
    frequencies: FrequencyCache | None = None,
) -> int:
    """How many papers match ``query`` (every positive term, none excluded, its filters;
    hidden papers left out), counted up to ``cap`` + 1: a count past ``cap`` means "more"
    (a common word's count would read its whole posting list). A query with filters only
    counts the papers that pass them; an empty one, none. On PostgreSQL a single word that
    ``frequencies`` sampled in far more than ``cap`` papers is not counted (reading 10,000
    matching rows took 200 ms at 200k papers): more than ``cap``."""
    dialect = connection.dialect.name
    word = query.terms[0] if len(query.terms) == 1 else None
    if (
        dialect != "sqlite"
        and frequencies is not None
        and word is not None
        and not (word.negated or word.prefix or word.phrase or filters(query, {}, dialect))
        and frequencies.surely_more(connection, word.text, cap)
    ):
        return cap + 1
    found = _matches(connection, query, cap, lambda sql: f"SELECT count(*) FROM ({sql}) counted")
    return 0 if found is None else int(found.scalar() or 0)


def keyword_matches(connection: Connection, query: Query, cap: int = TOTAL_CAP) -> list[int]:
    """The pks of the papers keyword_total counts (up to ``cap`` + 1, in no order)."""
    found = _matches(connection, query, cap, lambda sql: sql)
    return [] if found is None else [int(row[0]) for row in found]


def _matches(
    connection: Connection, query: Query, cap: int, wrapped: Callable[[str], str]
) -> CursorResult[Any] | None:
    """The statement of keyword_total's matches (their pks, up to ``cap`` + 1), as
    ``wrapped`` makes it, run; None for an empty query."""
    dialect = connection.dialect.name
    params: dict[str, Any] = {"cap": cap + 1}
    match = fts5_match(query) if dialect == "sqlite" else None
    key = "p.pk" if match is None else "+papers_fts.rowid"
    where = filters(query, params, dialect, key=key)
    hidden = f"{key} NOT IN (SELECT paper_pk FROM hidden_papers)"
    if match is not None:
        params["match"] = match
        source = "papers_fts"
        if query.has_code or query.after is not None or query.before is not None:
            source += " JOIN papers p ON p.pk = papers_fts.rowid"
        sql = (
            f"SELECT {key} FROM {source} "
            f"WHERE {' AND '.join(['papers_fts MATCH :match', *where, hidden])}"
        )
    elif dialect != "sqlite" and (tsquery := pg.tsquery(query, params)) is not None:
        sql = (
            f"SELECT {key} FROM papers p, (SELECT {tsquery} AS q) q "
            f"WHERE {' AND '.join(['p.search_vector @@ q.q', *where, hidden])}"
        )
    elif where:
        sql = f"SELECT {key} FROM papers p WHERE {' AND '.join([*where, hidden])}"
    else:
        return None
    statement = text(wrapped(f"{sql} LIMIT :cap"))
    if "categories" in params:
        statement = statement.bindparams(bindparam("categories", expanding=True))
    with pg.bitmaps_only(connection) if dialect != "sqlite" and "q.q" in sql else nullcontext():
        return connection.execute(statement, params)


def matching(connection: Connection, query: Query, pks: list[int]) -> set[int]:
    """The pks among ``pks`` whose paper matches the query's words (filters not applied)."""
    if not pks:
        return set()
    params: dict[str, Any] = {"pks": pks}
    if connection.dialect.name == "sqlite":
        match = fts5_match(query)
        if match is None:
            return set()
        params["match"] = match
        # (+rowid: tested against the match set, not handed to FTS5 once per pk.)
        sql = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH :match AND +rowid IN :pks"
    else:
        tsquery = pg.tsquery(query, params)
        if tsquery is None:
            return set()
        sql = (
            f"SELECT p.pk FROM papers p, (SELECT {tsquery} AS q) q "
            "WHERE p.pk IN :pks AND p.search_vector @@ q.q"
        )
    statement = text(sql).bindparams(bindparam("pks", expanding=True))
    return {int(row[0]) for row in connection.execute(statement, params)}


def title_match(query: Query) -> str:
    """The MATCH expression with every positive term required in the title."""
    positive = " AND ".join(_fts5_term(t) for t in required(query))
    expression = f"title : ({positive})"
    negative = [_fts5_term(t) for t in query.terms if t.negated]
    if negative:
        expression += " NOT (" + " OR ".join(negative) + ")"
    return expression


def add_snippets(connection: Connection, query: Query, hits: list[KeywordHit]) -> list[KeywordHit]:
    """The hits with highlighted abstract snippets for ``query``'s words (computed for these
    rows only): any of its words marked; hits holding none of them keep theirs."""
    if not hits:
        return hits
    if connection.dialect.name == "sqlite":
        # Any of the words: a hit that holds some of them (a close paper in hybrid search)
        # shows those marked, as PostgreSQL's ts_headline does.
        words = [_fts5_term(t) for t in required(query)]
        if not words:
            return hits
        return _with_snippets(connection, " OR ".join(words), hits)
    return pg.headlines(connection, query, hits)


def _with_snippets(connection: Connection, match: str, hits: list[KeywordHit]) -> list[KeywordHit]:
    """The hits with FTS5 snippets, computed for these rows only."""
    if not hits:
        return []
    statement = text(
        "SELECT p.id, snippet(papers_fts, 2, char(2), char(3), '…', 24) AS snippet "
        "FROM papers_fts JOIN papers p ON p.pk = papers_fts.rowid "
        "WHERE papers_fts MATCH :match AND papers_fts.rowid IN "
        "(SELECT pk FROM papers WHERE id IN :ids)"
    ).bindparams(bindparam("ids", expanding=True))
    rows = connection.execute(statement, {"match": match, "ids": [hit.id for hit in hits]})
    snippets = {row.id: row.snippet for row in rows}
    return [replace(hit, snippet=snippets.get(hit.id) or hit.snippet) for hit in hits]
