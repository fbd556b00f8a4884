"""Keyword search: a parsed Query translated to SQLite FTS5 or PostgreSQL tsquery.

Every value reaches the database as a bound parameter; the only text spliced into SQL is
built here from the parser's terms, which hold letters, digits and single spaces only, and
is quoted for FTS5. Ranking: BM25 with field weights (title > authors > abstract) on
SQLite, ts_rank_cd over the weighted tsvector on PostgreSQL. Snippets mark matches with
MARK_START / MARK_END (control characters no abstract contains), for the caller to render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, bindparam, text

from ..store.merge import fold_name
from ..store.types import as_date
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
from .query import Query, Term, split_words

__all__ = [
    "MARK_END",
    "MARK_START",
    "FrequencyCache",
    "KeywordHit",
    "add_snippets",
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
# ts_rank_cd weights for the tsvector's D, C (abstract), B (authors), A (title) labels.
PG_WEIGHTS = "{0.1, 0.25, 0.4, 1.0}"


@dataclass(frozen=True, slots=True)
class KeywordHit:
    id: str
    title: str
    authors: str
    categories: str
    announced_on: dt.date | None
    code_url: str | None
    score: float
    snippet: str
    pk: int = 0


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


def _tsquery(query: Query, params: dict[str, Any]) -> str | None:
    """A tsquery expression over bound parameters, or None without a positive term."""
    if not any(not t.negated for t in query.terms):
        return None
    return " && ".join(_tsquery_parts(query, params))


def _tsquery_parts(query: Query, params: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    for index, term in enumerate(query.terms):
        name = f"t{index}"
        if term.phrase:
            params[name] = term.text
            function = "phraseto_tsquery"
        elif term.prefix:
            params[name] = term.text + ":*"
            function = "to_tsquery"
        else:
            params[name] = term.text
            function = "plainto_tsquery"
        # Titles and abstracts are indexed stemmed ('english'), author names as they are
        # ('simple'): a term matches either form.
        sql = f"({function}('english', :{name}) || {function}('simple', :{name}))"
        if function == "plainto_tsquery" and not term.negated:
            # An English stop word ("and", "the") is not in the stemmed title or abstract:
            # required as a 'simple' word it would only match author names. Drop it.
            english = f"plainto_tsquery('english', :{name})"
            sql = f"(CASE WHEN numnode({english}) = 0 THEN {english} ELSE {sql} END)"
        parts.append(f"!! {sql}" if term.negated else sql)
    return parts


def _pg_title_tier(
    connection: Connection, query: Query, params: dict[str, Any]
) -> list[KeywordHit]:
    """PostgreSQL's title tier: every positive word in the title (``paper_titles``, its own
    GIN index; plain words only), the query's filters, none of the excluded terms anywhere;
    the most recently added TITLE_TIER_BOUND such papers (or as many as the page needs)
    ranked by ts_rank_cd over the title, which scores as the A label of ``search_vector``
    did (ties: the newer first).

    The newest matches are looked for among the newest TITLE_TIER_WINDOW papers first,
    walking back from the newest pk: a common word fills the bound within a few thousand
    rows. Only when too few are there are all its matches read from the GIN index and the
    newest kept; walking back instead would cross the whole table for a word that is common
    in old papers' titles only ("results": 120,000 rows for 300 matches, 135 ms)."""
    words = [t.text for t in query.terms if not t.negated]
    params["title_words"] = " & ".join(words)  # letters and digits (the parser's words)
    params["bound"] = max(TITLE_TIER_BOUND, int(params["limit"]))
    params["window"] = TITLE_TIER_WINDOW
    conditions = ["t.title_vector @@ q.q", *_filters(query, params, "postgresql", "t.paper_pk")]
    excluded = replace(query, terms=tuple(t for t in query.terms if t.negated))
    negative = _tsquery_parts(excluded, params)
    if negative:
        conditions.append(f"p.search_vector @@ ({' && '.join(negative)})")
    # The papers' rows only when a condition needs their columns: each is wide.
    source = "paper_titles t"
    if negative or query.has_code or query.after is not None or query.before is not None:
        source += " JOIN papers p ON p.pk = t.paper_pk"
    recent = "t.paper_pk > (SELECT max(paper_pk) FROM paper_titles) - :window"

    def ranked(where: list[str], order: str) -> str:
        candidates = (
            "SELECT t.paper_pk AS pk, ts_rank_cd('{1, 1, 1, 1}', t.title_vector, q.q) AS score "
            f"FROM {source}, (SELECT to_tsquery('english', :title_words) AS q) q "
            f"WHERE {' AND '.join(where)} ORDER BY {order} DESC LIMIT :bound"
        )
        # Ranked before the papers' (wide) rows are read: only the page's are.
        top = (
            f"SELECT c.pk, c.score, count(*) OVER () AS found FROM ({candidates}) c "
            "ORDER BY c.score DESC, c.pk DESC LIMIT :limit"
        )
        return (
            f"SELECT {_COLUMNS}, '' AS snippet, top.score, top.found FROM ({top}) top "
            "JOIN papers p ON p.pk = top.pk ORDER BY top.score DESC, p.pk DESC"
        )

    rows = connection.execute(
        _statement(ranked([*conditions, recent], "t.paper_pk"), params), params
    ).all()
    if not rows or int(rows[0].found) < int(params["bound"]):
        # ("+ 0": sorted once the GIN index found them all, not walked in pk order.)
        sql = ranked(conditions, "t.paper_pk + 0")
        rows = connection.execute(_statement(sql, params), params).all()
    return _hits(rows)


def _pg_phrase_tier(
    connection: Connection, query: Query, params: dict[str, Any], where: list[str]
) -> list[KeywordHit]:
    """PostgreSQL's ranking of a query with a phrase (the phrase tier, a quoted phrase):
    ts_rank_cd over a bounded candidate set, not over every match. The GIN index knows a
    tsvector's words, not their positions: a phrase is tested on each candidate's whole
    tsvector, and ranking reads it again; three common words ("space model for") are in
    tens of thousands of papers, seconds of reading.

    The candidates: the papers with the phrase among the newest PHRASE_TIER_SCAN papers that
    have its words (the GIN index alone answers that, restricted to the newest
    TITLE_TIER_WINDOW papers first, a window widened fourfold while it holds too few), at
    most PHRASE_TIER_BOUND of them, the newest; and the newest PHRASE_TIER_BOUND papers with
    the phrase in the title (``paper_titles``: narrow rows, every paper), so that a title
    someone remembers is ranked however old it is."""
    tsquery = _tsquery(query, params)
    if tsquery is None:
        return []
    params["bound"] = max(PHRASE_TIER_BOUND, int(params["limit"]))
    words = " ".join(t.text for t in query.terms if not t.negated)
    scanned = _pg_newest_with_words(connection, words, PHRASE_TIER_SCAN)
    conditions = " AND ".join(["p.search_vector @@ q.q", *where])
    q = f"(SELECT {tsquery} AS q) q"
    params["scanned"] = scanned
    # The candidates' rows first, by pk, as p (MATERIALIZED, with the columns the filters
    # read): left to itself the planner tested the phrase on every paper with its words,
    # from the GIN index (2,791 for "large language model llm": 215 ms), to keep those asked
    # for.
    among = (
        "WITH p AS MATERIALIZED (SELECT pk, search_vector, announced_on, submitted_at, "
        "code_url FROM papers WHERE pk = ANY(:{})) "
    )
    newest = (
        among.format("scanned") + f"SELECT p.pk FROM p, {q} "
        f"WHERE {conditions} ORDER BY p.pk DESC LIMIT :bound"
    )
    pks = [int(row[0]) for row in connection.execute(_statement(newest, params), params)]
    phrases = [t.text for t in query.terms if t.phrase and not t.negated]
    for index, phrase in enumerate(phrases):
        params[f"title_phrase{index}"] = phrase
    title_q = " && ".join(
        f"phraseto_tsquery('english', :title_phrase{i})" for i in range(len(phrases))
    )
    titled = (
        f"SELECT t.paper_pk FROM paper_titles t, (SELECT {title_q} AS q) q "
        "WHERE numnode(q.q) > 0 AND t.title_vector @@ q.q "
        "ORDER BY t.paper_pk DESC LIMIT :bound"
    )
    pks += [int(row[0]) for row in connection.execute(text(titled), params)]
    if not pks:
        return []
    params["candidates"] = sorted(set(pks))
    # (The filters again: the title's candidates have not been through them.)
    top = (
        f"SELECT p.pk, ts_rank_cd('{PG_WEIGHTS}', p.search_vector, q.q) AS score "
        f"FROM p, {q} WHERE {conditions} ORDER BY score DESC, p.pk DESC LIMIT :limit"
    )
    sql = (
        among.format("candidates") + f"SELECT {_COLUMNS.replace('p.', 'r.')}, '' AS snippet, "
        f"top.score FROM ({top}) top JOIN papers r ON r.pk = top.pk "
        "ORDER BY top.score DESC, r.pk DESC"
    )
    return _run(connection, sql, params)


def _pg_newest_with_words(connection: Connection, words: str, n: int) -> list[int]:
    """PostgreSQL: the pks of the newest ``n`` papers with every one of ``words`` (stemmed,
    or as they are), from the GIN index: looked for among the newest TITLE_TIER_WINDOW
    papers, then a window four times as wide, and so on. The GIN index answers this without
    reading a tsvector, but each paper it finds is a visit to its (wide) row: the window
    keeps a common word's visits to about ``n`` (105 ms for "space model" over all 200,000
    papers, 31 ms in the newest 20,000)."""
    newest = int(connection.execute(text("SELECT max(pk) FROM papers")).scalar() or 0)
    params: dict[str, Any] = {"words": words, "n": n}
    matches = (
        "p.search_vector @@ "
        "(plainto_tsquery('english', :words) || plainto_tsquery('simple', :words))"
    )
    window = TITLE_TIER_WINDOW
    while True:
        params["after"] = newest - window
        recent = "" if window >= newest else " AND p.pk > :after"
        # The planner would walk the pk index back and test every row's tsvector (150 ms
        # for 20,000 rows); as bitmaps, the window and the words are intersected first.
        with _bitmaps_only(connection):
            found = [
                int(row[0])
                for row in connection.execute(
                    text(
                        f"SELECT p.pk FROM papers p WHERE {matches}{recent} "
                        "ORDER BY p.pk + 0 DESC LIMIT :n"
                    ),
                    params,
                )
            ]
        if len(found) >= n or not recent:
            return found
        window *= 4


@contextmanager
def _bitmaps_only(connection: Connection) -> Iterator[None]:
    """PostgreSQL: the statements run meanwhile read the papers through bitmap index scans
    (this transaction's settings, restored after). A tsquery's matches are estimated from
    its words alone; the planner then walks an index or the table, testing each row's
    tsvector (a seq scan read 138,000 of them to count 10,001 matches of "space model":
    760 ms, the GIN index's bitmap 100 ms)."""
    for setting in ("enable_indexscan", "enable_seqscan"):
        connection.execute(text(f"SET LOCAL {setting} = off"))
    try:
        yield
    finally:
        for setting in ("enable_indexscan", "enable_seqscan"):
            connection.execute(text(f"SET LOCAL {setting} TO DEFAULT"))


def _category_spellings(category: str) -> list[str]:
    """The category as typed and in arXiv's case (archive lower case; a two-letter subject
    class upper case: cs.LG, astro-ph.CO; longer ones lower case: physics.flu-dyn), so that
    the (category, paper) index answers ``cat:cs.lg``."""
    archive, _, subject = category.partition(".")
    canonical = archive.lower()
    if subject:
        canonical += "." + (subject.upper() if len(subject) == 2 else subject.lower())
    return [category] if canonical == category else [category, canonical]


def _filters(query: Query, params: dict[str, Any], dialect: str, key: str = "p.pk") -> list[str]:
    """SQL conditions for the query's filters. Category and author filters test ``key`` (the
    paper's pk, or the FTS5 rowid) against a set drawn from their own indexes, so a search
    restricted by them need not read the papers table for every match."""
    clauses: list[str] = []
    if query.categories:
        params["categories"] = [s for c in query.categories for s in _category_spellings(c)]
        # A paper without categories of its own is in those inferred for it (issue 11).
        clauses.append(
            f"{key} IN (SELECT paper_pk FROM paper_categories WHERE category IN :categories "
            "UNION SELECT i.paper_pk FROM inferred_categories i WHERE i.category IN :categories "
            "AND NOT EXISTS (SELECT 1 FROM paper_categories o WHERE o.paper_pk = i.paper_pk))"
        )
    for index, author in enumerate(query.authors):
        folded = fold_name(author)
        params[f"author{index}"] = folded
        params[f"surname{index}"] = f"% {folded}"
        # A full name matches exactly; one word matches a surname too ("author:vaswani").
        match = f"a.name_key = :author{index}"
        if " " not in folded:
            match = f"({match} OR a.name_key LIKE :surname{index})"
        # Driven from the authors index: an author has few papers, the corpus many.
        clauses.append(
            f"{key} IN (SELECT pa.paper_pk FROM authors a JOIN paper_authors pa "
            f"ON pa.author_pk = a.pk WHERE {match})"
        )
    day = (
        "coalesce(p.announced_on, substr(p.submitted_at, 1, 10))"
        if dialect == "sqlite"
        else "coalesce(p.announced_on, CAST(p.submitted_at AS date))"
    )
    if query.after is not None:
        params["after"] = query.after.isoformat() if dialect == "sqlite" else query.after
        clauses.append(f"{day} >= :after")
    if query.before is not None:
        params["before"] = query.before.isoformat() if dialect == "sqlite" else query.before
        clauses.append(f"{day} < :before")
    if query.has_code:
        clauses.append("p.code_url IS NOT NULL")
    return clauses


_COLUMNS = "p.pk, p.id, p.title, p.authors_text, p.categories, p.announced_on, p.code_url"


# Matches counted at most (keyword_total): as deep as results can be paged.
TOTAL_CAP = 10_000
# Queries of up to this many plain words (no phrase, no prefix) are ranked in tiers.
TIERED_MAX_WORDS = 6
# Title-tier papers read to find those with every word in the title as typed.
TITLE_TIER_FETCH = 100
# Title matches ranked at most (the most recently added; more when a page needs them). A
# common word is in tens of thousands of titles, and each one ranked is a row read: one
# word's title matches rank alike anyway (the word once in the title).
TITLE_TIER_BOUND = 300
# ... looked for among this many of the newest papers first (_pg_title_tier).
TITLE_TIER_WINDOW = 20_000
# SQLite: the title tier ranks its newest TITLE_TIER_BOUND matches too, and the phrase tier
# its newest PHRASE_TIER_BOUND (more when a page needs them): FTS5 reads the posting lists
# from the newest paper and stops there, where ranking every match read all of them (at 1M
# papers "model" is in 500,000 papers; "of" in a title fragment, in nearly all).
# PostgreSQL: phrase matches ranked at most (the most recently added; _pg_phrase_tier),
# besides as many with the phrase in the title ...
PHRASE_TIER_BOUND = 300
# ... found among this many of the newest papers with every word of the phrase.
PHRASE_TIER_SCAN = 500


def keyword_search(
    connection: Connection, query: Query, *, limit: int = 20, snippets: bool = True
) -> list[KeywordHit]:
    """The best ``limit`` papers for ``query``. A query without a positive term but with
    filters lists the newest papers that pass them; an empty query finds nothing.

    A query of one to six plain words is ranked in tiers, each by BM25 within itself:
    papers that have the words side by side in that order (two words or more), then papers
    with every word in the title, then every other match. People type the names of things
    ("video generation", a title they half remember); adjacency and the title are the best
    evidence that a paper is about the thing rather than merely using its words. It also
    keeps common words fast: "model" ranks the papers with it in the title, not half the
    corpus. Later tiers are only queried while the earlier ones leave places."""
    hits = _tiered(connection, query, limit)
    return add_snippets(connection, query, hits) if snippets else hits


def _tiered(connection: Connection, query: Query, limit: int) -> list[KeywordHit]:
    positive = query.positive
    plain = 0 < len(positive) <= TIERED_MAX_WORDS and not any(
        t.phrase or t.prefix for t in positive
    )
    # (query, title only, bounded): the phrase and title tiers rank their newest matches.
    tiers: list[tuple[Query, bool, bool]] = []
    if _one_quoted_phrase(connection, query) and _is_common(connection, query, limit):
        # SQLite, a phrase in more than PHRASE_TIER_BOUND papers: the newest papers with it
        # in the title, then the newest with it anywhere; ranking every match read and
        # scored all of them ("large language model (LLM)": 95,000 at 1M papers, 440 ms).
        tiers = [(query, True, True), (query, False, True)]
    elif not plain:
        return _keyword_search(connection, query, limit)
    negated = tuple(t for t in query.terms if t.negated)
    # (SQLite: a phrase of one word that weighs, "the model", would be that word anywhere.)
    sqlite = connection.dialect.name == "sqlite"
    if plain and len(positive) >= 2 and (not sqlite or weighty([t.text for t in positive]) >= 2):
        phrase = Term(" ".join(t.text for t in positive), phrase=True)
        tiers.append((replace(query, terms=(phrase, *negated)), False, True))
    if plain:
        tiers.append((query, True, True))  # every word in the title
        tiers.append((query, False, False))
    found: list[list[KeywordHit]] = []
    seen: set[int] = set()
    words = {t.text for t in positive}
    for tier_query, title_only, bounded in tiers:
        wanted = max(limit, TITLE_TIER_FETCH) if title_only else limit
        hits = _keyword_search(
            connection, tier_query, wanted, title_only=title_only, bounded=bounded
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
    # One descending score order: each tier above every later one.
    offset = 0.0
    ranked: list[list[KeywordHit]] = []
    for hits in reversed(found):
        lifted = [replace(hit, score=hit.score + offset) for hit in hits]
        offset = max([offset, *(hit.score for hit in lifted)])
        ranked.append(lifted)
    return [hit for hits in reversed(ranked) for hit in hits][:limit]


def _is_common(connection: Connection, query: Query, limit: int) -> bool:
    """Whether the query's (one) phrase matches at least PHRASE_TIER_BOUND papers (or the
    page's size) that pass its filters: FTS5 stops after that many."""
    params: dict[str, Any] = {"bound": max(PHRASE_TIER_BOUND, limit)}
    match = fts5_match(query)
    if match is None or plain_phrase(query) is None:
        return False
    params["match"] = match
    where = _filters(query, params, "sqlite", key="+papers_fts.rowid")
    needs_papers = query.has_code or query.after is not None or query.before is not None
    source = "papers_fts JOIN papers p ON p.pk = papers_fts.rowid" if needs_papers else "papers_fts"
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {source} "
        f"WHERE {' AND '.join(['papers_fts MATCH :match', *where])} LIMIT :bound)"
    )
    return int(connection.execute(_statement(sql, params), params).scalar() or 0) >= int(
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
) -> list[KeywordHit]:
    dialect = connection.dialect.name
    params: dict[str, Any] = {"limit": limit}
    match = fts5_match(query) if dialect == "sqlite" else None
    # The titles' own index (SQLite) for a title tier without excluded words.
    titles = match is not None and title_only and all(not t.negated for t in query.terms)
    # "+rowid": a plain rowid constraint would be handed to FTS5, which then runs the MATCH
    # once per candidate (seconds); as an expression SQLite tests it against the set.
    key = "+paper_titles_fts.rowid" if titles else "+papers_fts.rowid"
    where = _filters(query, params, dialect, key="p.pk" if match is None else key)
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
            common = common_phrase_top(connection, words, where, params, needs_papers=needs_papers)
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
            f"SELECT {_COLUMNS}, -top.rank AS score, '' AS snippet "
            f"FROM ({top}) top JOIN papers p ON p.pk = top.pk ORDER BY top.rank"
        )
        return _run(connection, sql, params)
    if dialect == "sqlite":
        pass  # no positive term: the filters alone, below
    elif title_only:
        return _pg_title_tier(connection, query, params)
    elif any(t.phrase and not t.negated for t in query.terms):
        return _pg_phrase_tier(connection, query, params, where)
    else:
        tsquery = _tsquery(query, params)
        if tsquery is not None:
            sql = (
                f"SELECT {_COLUMNS}, '' AS snippet, "
                f"ts_rank_cd('{PG_WEIGHTS}', p.search_vector, q.q) AS score "
                f"FROM papers p, (SELECT {tsquery} AS q) q "
                f"WHERE {' AND '.join(['p.search_vector @@ q.q', *where])} "
                "ORDER BY score DESC LIMIT :limit"
            )
            return _run(connection, sql, params)
    if not where:
        return []
    sql = (
        f"SELECT {_COLUMNS}, 0.0 AS score, substr(p.abstract, 1, 200) AS snippet FROM papers p "
        f"WHERE {' AND '.join(where)} ORDER BY p.announced_on DESC, p.pk DESC LIMIT :limit"
    )
    return _run(connection, sql, params)


def _load_ranked(connection: Connection, ranked: list[tuple[int, float]]) -> list[KeywordHit]:
    """Hits of (pk, score) pairs, in that order."""
    if not ranked:
        return []
    statement = text(
        f"SELECT {_COLUMNS}, 0.0 AS score, '' AS snippet FROM papers p WHERE p.pk IN :pks"
    ).bindparams(bindparam("pks", expanding=True))
    hits = {
        hit.pk: hit
        for hit in _hits(connection.execute(statement, {"pks": [pk for pk, _ in ranked]}))
    }
    return [replace(hits[pk], score=score) for pk, score in ranked if pk in hits]


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
    params: dict[str, Any] = {"cap": cap + 1}
    match = fts5_match(query) if dialect == "sqlite" else None
    key = "p.pk" if match is None else "+papers_fts.rowid"
    where = _filters(query, params, dialect, key=key)
    word = query.terms[0] if len(query.terms) == 1 else None
    if (
        dialect != "sqlite"
        and frequencies is not None
        and word is not None
        and not (word.negated or word.prefix or word.phrase or where)
        and frequencies.surely_more(connection, word.text, cap)
    ):
        return cap + 1
    hidden = f"{key} NOT IN (SELECT paper_pk FROM hidden_papers)"
    if match is not None:
        params["match"] = match
        source = "papers_fts"
        if query.has_code or query.after is not None or query.before is not None:
            source += " JOIN papers p ON p.pk = papers_fts.rowid"
        sql = (
            f"SELECT 1 FROM {source} "
            f"WHERE {' AND '.join(['papers_fts MATCH :match', *where, hidden])}"
        )
    elif dialect != "sqlite" and (tsquery := _tsquery(query, params)) is not None:
        sql = (
            f"SELECT 1 FROM papers p, (SELECT {tsquery} AS q) q "
            f"WHERE {' AND '.join(['p.search_vector @@ q.q', *where, hidden])}"
        )
    elif where:
        sql = f"SELECT 1 FROM papers p WHERE {' AND '.join([*where, hidden])}"
    else:
        return 0
    statement = text(f"SELECT count(*) FROM ({sql} LIMIT :cap) counted")
    if "categories" in params:
        statement = statement.bindparams(bindparam("categories", expanding=True))
    if dialect != "sqlite" and "q.q" in sql:
        with _bitmaps_only(connection):
            return int(connection.execute(statement, params).scalar() or 0)
    return int(connection.execute(statement, params).scalar() or 0)


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
        tsquery = _tsquery(query, params)
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
    rows only); hits the query's words do not match keep theirs."""
    if not hits:
        return hits
    if connection.dialect.name == "sqlite":
        match = fts5_match(query)
        return hits if match is None else _with_snippets(connection, match, hits)
    params: dict[str, Any] = {"pks": [hit.pk for hit in hits]}
    tsquery = _tsquery(query, params)
    if tsquery is None:
        return hits
    statement = text(
        "SELECT p.pk, ts_headline('english', p.abstract, q.q, "
        "'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=30, "
        "MinWords=12, MaxFragments=1, FragmentDelimiter=…') AS snippet "
        f"FROM papers p, (SELECT {tsquery} AS q) q WHERE p.pk IN :pks"
    ).bindparams(bindparam("pks", expanding=True))
    snippets = {row.pk: row.snippet for row in connection.execute(statement, params)}
    return [replace(hit, snippet=snippets.get(hit.pk) or hit.snippet) for hit in hits]


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


def _statement(sql: str, params: dict[str, Any]) -> Any:
    statement = text(sql)
    if "categories" in params:
        statement = statement.bindparams(bindparam("categories", expanding=True))
    return statement


def _run(connection: Connection, sql: str, params: dict[str, Any]) -> list[KeywordHit]:
    return _hits(connection.execute(_statement(sql, params), params))


def _hits(rows: Iterable[Any]) -> list[KeywordHit]:
    return [
        KeywordHit(
            id=row.id,
            title=row.title,
            authors=row.authors_text,
            categories=row.categories,
            announced_on=as_date(row.announced_on),
            code_url=row.code_url,
            score=float(row.score),
            snippet=row.snippet or "",
            pk=int(row.pk),
        )
        for row in rows
    ]
