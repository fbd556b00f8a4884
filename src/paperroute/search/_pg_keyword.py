"""PostgreSQL's keyword search: a parsed Query as a tsquery, ranked by ts_rank_cd over the
weighted tsvector (``search_vector``), and the bounded title and phrase tiers over the
GIN indexes (keyword.py picks the tiers; docs/search.md, "Keyword", says why each is
bounded as it is)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Row, bindparam, text

from ._keyword_sql import COLUMNS, KeywordHit, filters, run, sql_statement, to_hits
from ._newest import NewestTerms
from ._sample import Unsupported, parse_tsquery
from .query import Query, Term

# ts_rank_cd weights for the tsvector's D, C (abstract), B (authors), A (title) labels.
PG_WEIGHTS = "{0.1, 0.25, 0.4, 1.0}"
# The title tier's newest matches are looked for among this many of the newest papers
# first (title_tier), as are the phrase tier's papers with the phrase's words.
TITLE_TIER_WINDOW = 20_000
# The phrase tier's candidates: the papers with the phrase among this many of the newest
# papers with every word of it (phrase_tier).
PHRASE_TIER_SCAN = 500
# The title phrase in this many of the newest titles is common (_newest_titled).
TITLED_ENOUGH = 100
# The newest papers with some words are found walking back from the newest paper when
# that is cheaper than the GIN index (_newest_with_words): a row walked costs about as much
# (5 us) as this many of the index's matches (31 ms for 133,000 at 1M papers).
GIN_MATCHES_PER_ROW = 20
# The title phrase is looked for among this many of the newest titles first, and among at
# most TITLE_WALK_MAX when those hold some (_newest_titled).
TITLE_WALK = 5_000
TITLE_WALK_MAX = 50_000
# The title tier walks back through at most this many titles when the newest
# TITLE_TIER_WINDOW hold some of its words' but too few (title_tier); and not past
# TITLE_WALK_SHARE of the papers estimated to have the words: the GIN index visits every
# title with them (a fifth of those papers for a common word: "solutions" in 49,585 titles
# of 1M, 236,894 papers), each at about twice a walked title's cost.
TITLE_TIER_WALK_MAX = 100_000
TITLE_WALK_SHARE = 0.4
# PostgreSQL ranks at most this many matches of a query of plain words, the newest (when
# more are estimated: rank_all); ts_rank_cd reads each one's tsvector (5,900 matches of
# "Task-level performance prediction" at 1M papers: 164 ms). As many as the phrase tier
# reads: the same papers, found once (Scans).
RANK_ALL_MAX = PHRASE_TIER_SCAN


@dataclass(slots=True)
class Scans:
    """What one query's tiers share: the newest papers' terms held in memory, if any
    (``terms``), and the newest papers with some words found (newest_with_words), by
    (words, n)."""

    terms: NewestTerms | None = None
    found: dict[tuple[str, int], list[int]] = field(default_factory=dict)


def tsquery(query: Query, params: dict[str, Any]) -> str | None:
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


def title_tier(
    connection: Connection,
    query: Query,
    params: dict[str, Any],
    bound: int,
    with_words: float | None = None,
) -> list[KeywordHit]:
    """PostgreSQL's title tier: every positive word in the title (``paper_titles``, its own
    GIN index; plain words only), the query's filters, none of the excluded terms anywhere;
    the most recently added ``bound`` such papers (keyword.py's TITLE_TIER_BOUND, or as
    many as the page needs)
    ranked by ts_rank_cd over the title, which scores as the A label of ``search_vector``
    did (ties: the newer first).

    The newest matches are looked for among the newest TITLE_TIER_WINDOW papers first,
    walking back from the newest pk: a common word fills the bound within a few thousand
    rows. Only when too few are there are all its matches read from the GIN index and the
    newest kept; walking back instead would cross the whole table for a word that is common
    in old papers' titles only ("results": 120,000 rows for 300 matches, 135 ms). Words in
    fewer than ``bound`` papers anywhere (``with_words``, estimated) are looked for in
    every title at once: the window could not hold enough."""
    words = [t.text for t in query.terms if not t.negated]
    params["title_words"] = " & ".join(words)  # letters and digits (the parser's words)
    params["bound"] = bound
    params["window"] = TITLE_TIER_WINDOW
    conditions = ["t.title_vector @@ q.q", *filters(query, params, "postgresql", "t.paper_pk")]
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
            f"SELECT {COLUMNS}, '' AS snippet, top.score, top.found FROM ({top}) top "
            "JOIN papers p ON p.pk = top.pk ORDER BY top.score DESC, p.pk DESC"
        )

    rows: Sequence[Row[Any]] = ()
    if with_words is None or with_words >= bound:
        walk = sql_statement(ranked([*conditions, recent], "t.paper_pk"), params)
        rows = connection.execute(walk, params).all()
        found = int(rows[0].found) if rows else 0
        # Some, too few: further back, as far as looks likely to hold enough when that
        # walk is cheaper than the index ("solutions to the" at 1M papers: 35 titles in
        # the newest 20,000, 300 in the newest 51,000: 19 ms, the index 45-80 ms).
        wider = int(min(TITLE_TIER_WALK_MAX, TITLE_WALK_SHARE * (with_words or 0)))
        if found and found * wider >= TITLED_ENOUGH * TITLE_TIER_WINDOW and found < bound:
            params["window"] = min(wider, int(1.5 * TITLE_TIER_WINDOW * bound / found))
            rows = connection.execute(walk, params).all()
            if rows and int(rows[0].found) >= min(bound, TITLED_ENOUGH):
                return to_hits(rows)
    if not rows or int(rows[0].found) < int(params["bound"]):
        # ("+ 0": sorted once the GIN index found them all, not walked in pk order.)
        sql = ranked(conditions, "t.paper_pk + 0")
        rows = connection.execute(sql_statement(sql, params), params).all()
    return to_hits(rows)


def phrase_tier(
    connection: Connection,
    query: Query,
    params: dict[str, Any],
    where: list[str],
    bound: int,
    with_words: float | None = None,
    scans: Scans | None = None,
    *,
    deep: bool = False,
) -> list[KeywordHit]:
    """PostgreSQL's ranking of a query with a phrase (the phrase tier, a quoted phrase):
    ts_rank_cd over a bounded candidate set, not over every match. The GIN index knows a
    tsvector's words, not their positions: a phrase is tested on each candidate's whole
    tsvector, and ranking reads it again; three common words ("space model for") are in
    tens of thousands of papers, seconds of reading.

    The candidates: the papers with the phrase among the newest PHRASE_TIER_SCAN papers that
    have its words (the GIN index alone answers that, restricted to the newest
    TITLE_TIER_WINDOW papers first, a window widened fourfold while it holds too few), at
    most ``bound`` of them (keyword.py's PHRASE_TIER_BOUND, or the page's size), the newest;
    and the newest ``bound`` papers with the phrase in the title (``paper_titles``: narrow
    rows, every paper), so that a title someone remembers is ranked however old it is.
    ``deep``: a page past the first ``bound``, which needs as many of the phrase's matches
    as its depth: the newest papers with the words are read further back, fourfold, until
    they hold that many or run out (a quoted phrase's pages stopped at 556 of its 1,557
    matches)."""
    expression = tsquery(query, params)
    if expression is None:
        return []
    params["bound"] = bound
    words = " ".join(t.text for t in query.terms if not t.negated)
    conditions = " AND ".join(["p.search_vector @@ q.q", *where])
    q = f"(SELECT {expression} AS q) q"
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
    scan = PHRASE_TIER_SCAN
    while True:
        params["scanned"] = newest_with_words(connection, words, scan, with_words, scans)
        pks = [int(row[0]) for row in connection.execute(sql_statement(newest, params), params)]
        if not deep or len(pks) >= bound or len(params["scanned"]) < scan:
            break
        scan *= 4
    phrases = [t.text for t in query.terms if t.phrase and not t.negated]
    for index, phrase in enumerate(phrases):
        params[f"title_phrase{index}"] = phrase
    title_q = " && ".join(
        f"phraseto_tsquery('english', :title_phrase{i})" for i in range(len(phrases))
    )
    pks += _newest_titled(connection, title_q, params)
    if not pks:
        return []
    params["candidates"] = sorted(set(pks))
    # (The filters again: the title's candidates have not been through them.)
    top = (
        f"SELECT p.pk, ts_rank_cd('{PG_WEIGHTS}', p.search_vector, q.q) AS score "
        f"FROM p, {q} WHERE {conditions} ORDER BY score DESC, p.pk DESC LIMIT :limit"
    )
    sql = (
        among.format("candidates") + f"SELECT {COLUMNS.replace('p.', 'r.')}, '' AS snippet, "
        f"top.score FROM ({top}) top JOIN papers r ON r.pk = top.pk "
        "ORDER BY top.score DESC, r.pk DESC"
    )
    return run(connection, sql, params)


def _newest_titled(connection: Connection, title_q: str, params: dict[str, Any]) -> list[int]:
    """The pks of the newest ``:bound`` papers whose title matches ``title_q``: walking
    back through the newest TITLE_WALK titles (narrow rows: 1-2 ms; when they hold some,
    but too few, through as many more as look likely to hold enough, up to
    TITLE_WALK_MAX), then, when they hold too few, from the GIN index over every title.
    "Too few": under the bound and under TITLED_ENOUGH: a phrase in that many of the newest
    titles is common in titles, and its GIN lists long ("reinforcement learning" at 1M
    papers: 41 ms), while a title remembered among them could not be told apart by the
    bound anyway. Left to itself the planner walked back through every title for a phrase
    rarer than the bound ("Models for Long" at 1M papers: 136 titles, 295 ms; from the
    index, 15 ms)."""
    params["window"] = TITLE_WALK
    titled = (
        f"SELECT t.paper_pk FROM paper_titles t, (SELECT {title_q} AS q) q "
        "WHERE numnode(q.q) > 0 AND t.title_vector @@ q.q{recent} "
        "ORDER BY t.paper_pk DESC LIMIT :bound"
    )
    recent = " AND t.paper_pk > (SELECT max(paper_pk) FROM paper_titles) - :window"
    bound = int(params["bound"])
    enough = min(bound, TITLED_ENOUGH)
    with walk_only(connection):
        found = [
            int(row[0]) for row in connection.execute(text(titled.format(recent=recent)), params)
        ]
        # Some, too few: as many titles again as look likely to hold enough, when that walk
        # stays short ("large language models" in 87 of the newest 5,000 titles at 1M
        # papers: 300 in the newest 26,000, 5 ms; from the GIN index, 33 ms).
        wider = int(1.5 * TITLE_WALK * bound / len(found)) if found else TITLE_WALK_MAX + 1
        if len(found) < enough and wider <= TITLE_WALK_MAX:
            params["window"] = wider
            found = [
                int(row[0])
                for row in connection.execute(text(titled.format(recent=recent)), params)
            ]
    if len(found) >= enough:
        return found
    with bitmaps_only(connection):
        return [int(row[0]) for row in connection.execute(text(titled.format(recent="")), params)]


def newest_with_words(
    connection: Connection,
    words: str,
    n: int,
    with_words: float | None = None,
    scans: Scans | None = None,
) -> list[int]:
    """PostgreSQL: the pks of the newest ``n`` papers with every one of ``words`` (each
    stemmed or as it is, as tsquery() reads plain words), from the GIN index: looked for
    among the newest TITLE_TIER_WINDOW papers, then a window four times as wide, and so on.
    The GIN index answers this without reading a tsvector, but each paper it finds is a
    visit to its (wide) row: the window keeps a common word's visits to about ``n`` (105 ms
    for "space model" over all 200,000 papers, 31 ms in the newest 20,000).

    Words in many papers (``with_words``, estimated) are found walking back from the
    newest paper instead, testing each one's tsvector, when that is cheaper (by
    GIN_MATCHES_PER_ROW): the GIN index reads a common word's whole posting list whatever
    the window ("consistency models" at 1M papers: 133,000 papers, 31-39 ms of the index
    alone, and the window's matches read; the walk, 2,400 rows, 11 ms). At 200,000 papers
    the same words' index is a fifth as long, and the walk as long as ever: the index.
    ``scans``: what earlier calls for the same query found, by (words, n), read and added
    to (a query's tiers ask for the same papers), and the newest papers' terms held in
    memory (``scans.terms``, NewestTerms), which answer before either way: the database is
    asked only about older papers when those held have too few, or about all when papers
    newer than those held have come (the terms are then read again off the requests)."""
    if scans is not None and (words, n) in scans.found:
        return scans.found[(words, n)]
    found = _newest_with_words(
        connection, words, n, with_words, None if scans is None else scans.terms
    )
    if scans is not None:
        scans.found[(words, n)] = found
    return found


def _newest_with_words(
    connection: Connection,
    words: str,
    n: int,
    with_words: float | None,
    terms: NewestTerms | None,
) -> list[int]:
    params: dict[str, Any] = {"n": n}
    # Each word stemmed or as it is, as a query of plain words matches (tsquery): every
    # match of such a query is among them.
    words_q = tsquery(Query(terms=tuple(Term(word) for word in words.split())), params)
    if words_q is None:
        return []
    words_q = f"({words_q})"
    if terms is None:
        return _from_index(connection, params, words_q, with_words)
    row = connection.execute(
        text(f"SELECT (SELECT max(pk) FROM papers), CAST({words_q} AS text)"), params
    ).one()
    try:
        held = terms.newest(parse_tsquery(str(row[1] or "")), n, int(row[0] or 0))
    except Unsupported:  # (stop words alone: an empty tsquery)
        held = None
    if held is None:
        return _from_index(connection, params, words_q, with_words, int(row[0] or 0))
    found, low = held
    if len(found) >= n or low == 0:
        return found
    # Too few among the papers held: the older ones from the database, in a window sized
    # from how many the held ones had (one GIN read of the words' posting lists, not one a
    # widening window: 16-26 ms each at 1M papers), or all of them when they had none.
    params["n"] = n - len(found)
    older = max(len(found), 0.5) / max(1, int(row[0] or 0) - low) * low
    return found + _from_index(connection, params, words_q, older, low)


def _from_index(
    connection: Connection,
    params: dict[str, Any],
    words_q: str,
    with_words: float | None,
    top: int | None = None,
) -> list[int]:
    """newest_with_words from the database, among the papers up to the pk ``top`` (None:
    the newest)."""
    if top is None:
        top = int(connection.execute(text("SELECT max(pk) FROM papers")).scalar() or 0)
    newest = top
    params["top"] = newest
    n = int(params["n"])
    matches = f"p.search_vector @@ {words_q} AND p.pk <= :top"
    if with_words and n * newest / with_words <= with_words / GIN_MATCHES_PER_ROW + n:
        with walk_only(connection):
            sql = f"SELECT p.pk FROM papers p WHERE {matches} ORDER BY p.pk DESC LIMIT :n"
            return [int(row[0]) for row in connection.execute(text(sql), params)]
    window = TITLE_TIER_WINDOW
    if with_words:  # (wide enough, most likely, to hold n of them at once)
        window = max(window, int(2 * n * newest / with_words))
    while True:
        params["after"] = newest - window
        recent = "" if window >= newest else " AND p.pk > :after"
        # The planner would walk the pk index back and test every row's tsvector (150 ms
        # for 20,000 rows); as bitmaps, the window and the words are intersected first.
        with bitmaps_only(connection):
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


def rank_all(
    connection: Connection,
    query: Query,
    params: dict[str, Any],
    where: list[str],
    with_words: float | None = None,
    scans: Scans | None = None,
    matches: Sequence[int] | None = None,
) -> list[KeywordHit] | None:
    """Every match of the query's terms (and ``where``) ranked by ts_rank_cd, the best
    ``:limit``; None without a positive term. When more than RANK_ALL_MAX papers have the
    query's words and it has neither a phrase nor filters, its newest RANK_ALL_MAX
    matches are ranked first (``with_words``: an estimate of how many, if known), and
    the older ones after them only when a (deep) page needs more: the earlier tiers
    (keyword.py) have ranked the papers with the words side by side and in the title
    already, and each page ranks the same way, so paging neither repeats nor skips.
    ``matches``: every match, when listed already (keyword.count_matches): ranked from
    their rows, not found again through the GIN index."""
    expression = tsquery(query, params)
    if expression is None:
        return None
    positive = [t for t in query.terms if not t.negated]

    def ranked(source: str, limit: int) -> list[KeywordHit]:
        sql = (
            f"SELECT {COLUMNS}, '' AS snippet, "
            f"ts_rank_cd('{PG_WEIGHTS}', p.search_vector, q.q) AS score "
            f"FROM {source}, (SELECT {expression} AS q) q "
            f"WHERE {' AND '.join(['p.search_vector @@ q.q', *where])} "
            "ORDER BY score DESC, p.pk DESC LIMIT :limit"
        )
        return run(connection, sql, {**params, "limit": limit})

    limit = int(params["limit"])
    # (Decided by the matches, never by an estimate: a sample that a process has not read
    # yet, or read otherwise, would rank the same query another way from page to page.)
    newest_first = not any(t.phrase or t.prefix for t in positive) and not filters(
        query, {}, "postgresql"
    )
    words = " ".join(t.text for t in positive)
    if matches is None and newest_first:
        # The newest papers with the words (the phrase tier's, found already for a query
        # of two words or more): fewer than RANK_ALL_MAX are every match, ranked from
        # their rows, not found again through the GIN index (25 ms for a few papers with
        # "data" and "model" at 1M papers).
        newest = newest_with_words(connection, words, RANK_ALL_MAX, with_words, scans)
        if len(newest) < RANK_ALL_MAX:
            matches = newest
    every = "papers p"
    if matches is not None:
        with_words = float(len(matches))
        params["matches"] = list(matches)
        every = "(SELECT * FROM papers WHERE pk = ANY(:matches) OFFSET 0) p"
    if not newest_first or (matches is not None and len(matches) <= RANK_ALL_MAX):
        return ranked(every, limit)
    newest = newest_with_words(connection, words, RANK_ALL_MAX, with_words, scans)
    params["newest"] = newest
    # (Their rows first, as p: left to itself the planner read every match from the GIN
    # index to keep these.)
    found = ranked("(SELECT * FROM papers WHERE pk = ANY(:newest) OFFSET 0) p", limit)
    if len(found) >= limit or len(newest) < RANK_ALL_MAX:
        return found
    params["oldest"] = min(newest)
    with bitmaps_only(connection):
        older = ranked(
            every.replace("WHERE", "WHERE pk < :oldest AND")
            if matches is not None
            else "(SELECT * FROM papers WHERE pk < :oldest) p",
            limit - len(found),
        )
    lift = max((hit.score for hit in older), default=0.0)
    return [replace(hit, score=hit.score + lift) for hit in found] + older


def headlines(connection: Connection, query: Query, found: list[KeywordHit]) -> list[KeywordHit]:
    """The hits with ts_headline snippets of their abstracts for the query's words (these
    rows only); a hit the words do not match keeps its own."""
    params: dict[str, Any] = {"pks": [hit.pk for hit in found]}
    expression = tsquery(query, params)
    if expression is None:
        return found
    compiled = text(
        "SELECT p.pk, ts_headline('english', p.abstract, q.q, "
        "'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=35, "
        "MinWords=20, MaxFragments=1, FragmentDelimiter=…') AS snippet, "
        "left(p.abstract, 80) AS head, right(p.abstract, 80) AS tail "
        f"FROM papers p, (SELECT {expression} AS q) q WHERE p.pk IN :pks"
    ).bindparams(bindparam("pks", expanding=True))
    snippets = {
        row.pk: _elided(row.snippet, row.head, row.tail)
        for row in connection.execute(compiled, params)
    }
    return [replace(hit, snippet=snippets.get(hit.pk) or hit.snippet) for hit in found]


def _elided(snippet: str | None, head: str, tail: str) -> str | None:
    """A headline with "…" where it cuts the abstract short, as FTS5's snippets have
    (ts_headline's fragment starts and ends at words, and says nothing of what it left),
    and the abstract's closing full stop when it reaches the end. ``head`` and ``tail``:
    the abstract's first and last 80 characters (its last word may also end the
    fragment: a fragment ends at the abstract's end when its last 40 characters do)."""
    if not snippet:
        return snippet
    plain = " ".join(snippet.replace(chr(2), "").replace(chr(3), "").split())
    if not plain:
        return snippet
    start = " ".join(head.split())
    if not start.startswith(plain[: min(40, len(plain), len(start))]):
        snippet = "…" + snippet
    end = " ".join(tail.split())
    body, last = end.rstrip(_CLOSING), plain.rstrip(_CLOSING)
    if body.endswith(last[-min(40, len(last), len(body)) :]):
        return snippet.rstrip(_CLOSING) + end[len(body) :]
    return snippet + "…"


_CLOSING = ".,;:!?)]}\"'”’"


@contextmanager
def walk_only(connection: Connection) -> Iterator[None]:
    """PostgreSQL: the statements run meanwhile read the papers walking an index, not
    through bitmaps, in one process (this transaction's settings, restored after): a
    walk that stops early gained nothing from workers but their start."""
    with _settings(connection, enable_bitmapscan="off", max_parallel_workers_per_gather="0"):
        yield


@contextmanager
def bitmaps_only(connection: Connection) -> Iterator[None]:
    """PostgreSQL: the statements run meanwhile read the papers through bitmap index scans
    (this transaction's settings, restored after). A tsquery's matches are estimated from
    its words alone; the planner then walks an index or the table, testing each row's
    tsvector (a seq scan read 138,000 of them to count 10,001 matches of "space model":
    760 ms, the GIN index's bitmap 100 ms)."""
    with _settings(connection, enable_indexscan="off", enable_seqscan="off"):
        yield


@contextmanager
def _settings(connection: Connection, **values: str) -> Iterator[None]:
    """Planner settings for this transaction meanwhile, set and restored one statement
    each (names are ours)."""
    names = list(values)
    params = {f"v{i}": value for i, value in enumerate(values.values())}
    before = connection.execute(
        text(
            "SELECT "
            + ", ".join(f"current_setting('{name}')" for name in names)
            + ", "
            + ", ".join(f"set_config('{name}', :v{i}, true)" for i, name in enumerate(names))
        ),
        params,
    ).one()
    try:
        yield
    finally:
        connection.execute(
            text(
                "SELECT "
                + ", ".join(f"set_config('{name}', :v{i}, true)" for i, name in enumerate(names))
            ),
            {f"v{i}": str(before[i]) for i in range(len(names))},
        )
