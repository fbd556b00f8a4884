"""Semantic search over the vector index, and what hybrid search shares with it.

Filters of the query language apply to both sides: the semantic side over-fetches nearest
neighbours and keeps those that pass the filters (SQL over the candidates' pks); when too few
pass, it searches again restricted to the set of papers the filters allow. Excluded words
(``-word``) remove papers that contain them from every mode. Papers hidden by moderators
(``hidden_papers``) never appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, bindparam, text

from ._fts import fts5_term as _fts5_term
from ._index import VectorIndex
from ._keyword_sql import COLUMNS, filters, hit_of
from ._newest import NewestTerms
from .keyword import (
    MARK_END,
    MARK_START,
    Counted,
    KeywordHit,
    keyword_search,
)
from .query import Query

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

OVERFETCH = 10
SNIPPET_CHARS = 240
# The cosine (all-MiniLM-L6-v2) a paper must reach to be shown beside keyword matches
# without the query's words, or at all when no paper has them. On the demo data
# (benchmarks/semantic_floor.py) 0.5% of random letter strings' nearest papers reach 0.40;
# real two-word title queries' reach 0.47 at the median, and the quarter under 0.40 find
# their papers by their words. Under it a search says "no close matches", not noise.
SEMANTIC_FLOOR = 0.40
# Neighbours over which the papers close in meaning are counted (the semantic part of a
# total): a fixed window, so that the total does not move from page to page.
SEMANTIC_WINDOW = 200


def semantic_text(query: Query) -> str:
    """What the semantic side embeds: the query's positive words and phrases."""
    return " ".join(term.text for term in query.positive)


def has_filters(query: Query) -> bool:
    return bool(
        query.categories
        or query.authors
        or query.after
        or query.before
        or query.has_code
        or any(t.negated for t in query.terms)
    )


def _exclusion(connection: Connection, query: Query, params: dict[str, Any]) -> str | None:
    """SQL condition on p.pk removing papers that contain an excluded word."""
    negated = [t for t in query.terms if t.negated]
    if not negated:
        return None
    if connection.dialect.name == "sqlite":
        params["neg"] = " OR ".join(_fts5_term(t) for t in negated)
        return "p.pk NOT IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH :neg)"
    parts = []
    for index, term in enumerate(negated):
        name = f"neg{index}"
        params[name] = term.text + (":*" if term.prefix else "")
        function = (
            "phraseto_tsquery"
            if term.phrase
            else "to_tsquery"
            if term.prefix
            else "plainto_tsquery"
        )
        parts.append(f"({function}('english', :{name}) || {function}('simple', :{name}))")
    return f"NOT (p.search_vector @@ ({' || '.join(parts)}))"


NOT_HIDDEN = "p.pk NOT IN (SELECT paper_pk FROM hidden_papers)"


def _conditions(connection: Connection, query: Query, params: dict[str, Any]) -> list[str]:
    where = filters(query, params, connection.dialect.name, key="p.pk")
    exclusion = _exclusion(connection, query, params)
    if exclusion:
        where.append(exclusion)
    where.append(NOT_HIDDEN)
    return where


def _execute(connection: Connection, sql: str, params: dict[str, Any]) -> Any:
    statement = text(sql)
    for name in ("categories", "pks"):
        if name in params:
            statement = statement.bindparams(bindparam(name, expanding=True))
    return connection.execute(statement, params)


def passing(connection: Connection, query: Query, pks: Sequence[int]) -> set[int]:
    """The pks among ``pks`` that pass the query's filters and exclusions and are not hidden."""
    if not pks:
        return set()
    params: dict[str, Any] = {"pks": list(pks)}
    where = ["p.pk IN :pks", *_conditions(connection, query, params)]
    rows = _execute(connection, f"SELECT p.pk FROM papers p WHERE {' AND '.join(where)}", params)
    return {int(row[0]) for row in rows}


def allowed(connection: Connection, query: Query) -> I64:
    """Every pk that passes the query's filters and exclusions."""
    params: dict[str, Any] = {}
    where = _conditions(connection, query, params)
    rows = _execute(connection, f"SELECT p.pk FROM papers p WHERE {' AND '.join(where)}", params)
    return np.fromiter((row[0] for row in rows), dtype=np.int64)


def search_size(query: Query, k: int) -> int:
    """How many nearest papers semantic_ranking reads from the index for ``k`` that pass."""
    # Without filters only hidden papers drop out (rare): a small margin is enough.
    return max(k * OVERFETCH, 200) if has_filters(query) else k + 20


def semantic_ranking(
    connection: Connection,
    index: VectorIndex,
    vector: F32,
    query: Query,
    k: int,
    first: list[tuple[int, float]] | None = None,
) -> list[tuple[int, float]]:
    """The ``k`` nearest papers to ``vector`` that pass the query's filters (``first``: the
    index's search_size(query, k) nearest, when searched already)."""
    wanted = search_size(query, k)
    if first is None or (len(first) < wanted and len(first) < len(index)):
        first = index.search(vector, wanted)
    if has_filters(query):
        keep = passing(connection, query, [pk for pk, _ in first])
    else:
        hidden = hidden_among(connection, [pk for pk, _ in first])
        keep = {pk for pk, _ in first if pk not in hidden}
    found = [(pk, score) for pk, score in first if pk in keep][:k]
    if len(found) >= k or len(first) >= len(index):
        return found
    return index.search(vector, k, allowed(connection, query))


def keyword_ranking(
    connection: Connection,
    query: Query,
    k: int,
    *,
    snippets: bool = True,
    counted: Counted | None = None,
    newest: NewestTerms | None = None,
) -> list[KeywordHit]:
    """Keyword hits that are not hidden (``counted``: the query's matches, if counted;
    ``newest``: keyword_search's)."""
    hits = keyword_search(
        connection,
        query,
        limit=k,
        snippets=snippets,
        total=None if counted is None else counted.total,
        matches=None if counted is None else counted.matches,
        with_words=None if counted is None else counted.with_words,
        newest=newest,
    )
    hidden = hidden_among(connection, [hit.pk for hit in hits])
    return [hit for hit in hits if hit.pk not in hidden]


def hidden_among(connection: Connection, pks: Sequence[int]) -> set[int]:
    """The pks among ``pks`` that moderators have hidden."""
    if not pks:
        return set()
    rows = _execute(
        connection, "SELECT paper_pk FROM hidden_papers WHERE paper_pk IN :pks", {"pks": list(pks)}
    )
    return {int(row[0]) for row in rows}


def load_hits(
    connection: Connection,
    ranked: Sequence[tuple[int, float]],
    known: dict[int, KeywordHit] | None = None,
) -> list[KeywordHit]:
    """Hits for ranked pks, in order, with the given scores; keyword hits keep their
    snippets, the others show the abstract's beginning."""
    if not ranked:
        return []
    known = known or {}
    rows = _execute(
        connection,
        f"SELECT {COLUMNS}, substr(p.abstract, 1, {SNIPPET_CHARS + 40}) AS snippet FROM papers p "
        "WHERE p.pk IN :pks",
        {"pks": [pk for pk, _ in ranked]},
    )
    by_pk = {int(row.pk): row for row in rows}
    hits: list[KeywordHit] = []
    for pk, score in ranked:
        row = by_pk.get(pk)
        if row is None:
            continue
        snippet = known[pk].snippet if pk in known and known[pk].snippet else _clip(row.snippet)
        hits.append(hit_of(row, float(score), snippet))
    return hits


def _clip(abstract: str | None) -> str:
    """The abstract's beginning, cut at a word, without mark characters."""
    value = " ".join((abstract or "").replace(MARK_START, "").replace(MARK_END, "").split())
    if len(value) <= SNIPPET_CHARS:
        return value
    return value[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
