"""Similar papers: a pool of candidates (the paper's MiniLM neighbours and the papers that
share its distinctive words), each scored by meaning (the vectors' cosine) and by words (the
tf-idf cosine of their terms with the paper's, with the paper's own idf), both z-scored over
the pool and summed with weights that lean on meaning (SIMILAR_MEANING_WEIGHT).

Why: the earlier ranking (tf-idf cosine + 0.1 x vector cosine) was tuned on labels made from
keywords picked out of abstracts, which reward word overlap; on graded judgments of meaning
and on a held-out expert benchmark it fell to plain BM25's level. Z-scores put the two
cosines on one scale for each paper's own pool (a cosine of 0.5 is close for one paper and
far for another). docs/search.md has the measurements (benchmarks/similar_judged.py).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text

from ._bag_store import HeldBags
from ._index import VectorIndex
from ._postings import HeldPostings, PaperQuery, df_cap
from ._semantic import NOT_HIDDEN, hidden_among
from ._terms import Bag, SourceWeights, load_bags, term_counts, term_hash, useful, useful_words
from .keyword import FrequencyCache
from .query import split_words

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# The paper's most distinctive words (by tf-idf) make its keyword query, those in at most
# df_cap(papers) (_postings.py says why).
SIMILAR_TERMS = 32
SIMILAR_PHRASES = 10
SIMILAR_CANDIDATES = 100
SIMILAR_K = 100  # candidates a side (vector neighbours, word neighbours)
SIMILAR_PHRASE_DF = 5  # x the words' cap (df_cap)
# Keyword neighbours asked of the held postings beyond k: hidden papers are left out after.
_HIDDEN_SLACK = 10
# The weight of the z-scored vector cosine; the z-scored tf-idf cosine gets the rest.
# Chosen on the `tune` half of the graded judgments (benchmarks/similar_judged.py).
SIMILAR_MEANING_WEIGHT = 0.65


@dataclass(frozen=True, slots=True)
class Pool:
    """The candidates of one paper's similar papers with what they are scored by (arrays
    aligned with ``pks``): ``meaning``, the cosine of their vectors with the paper's (the
    pool's lowest for a candidate without a vector; empty when the paper has none);
    ``words``, the tf-idf cosine of their terms with the paper's (words_cosines); ``keyword``,
    their score on the paper's keyword query (0 when not among its hits)."""

    pks: I64
    meaning: F64
    words: F64
    keyword: F64
    bags: tuple[Bag, ...]


def zscores(values: F64) -> F64:
    """(values - mean) / standard deviation; all zeros when they do not vary."""
    if not len(values):
        return values
    spread = float(values.std())
    if spread <= 1e-12:
        return np.zeros_like(values)
    return (values - float(values.mean())) / spread


def fuse_pool(
    pool: Pool, meaning_weight: float = SIMILAR_MEANING_WEIGHT
) -> list[tuple[int, float]]:
    """The pool ranked by ``meaning_weight`` x z(meaning) + the rest x z(words), best first
    (ties: the closer vector, then the smaller pk); by words alone without vectors."""
    if not len(pool.pks):
        return []
    if len(pool.meaning):
        scores = meaning_weight * zscores(pool.meaning) + (1 - meaning_weight) * zscores(pool.words)
        second = pool.meaning
    else:
        scores, second = pool.words, pool.keyword
    order = np.lexsort((pool.pks, -second, -scores))
    return [(int(pool.pks[i]), float(scores[i])) for i in order]


def similar_keyword(
    connection: Connection,
    pk: int,
    title: str,
    abstract: str,
    k: int,
    frequencies: FrequencyCache | None = None,
    total: int | None = None,
) -> dict[int, float]:
    """The paper's BM25 neighbours: its most distinctive words, any of them, ranked by BM25
    (itself and hidden papers excluded). ``total``: the papers' count (max pk) when known."""
    # (Split once: the splitting, a Python loop over every character, is not cheap.)
    title_words, abstract_words = split_words(title), split_words(abstract)
    kept = {w for w in {*title_words, *abstract_words} if useful(w)}
    words = [w for w in title_words if w in kept]
    counts = Counter(words * 3 + [w for w in abstract_words if w in kept])
    if not counts:
        return {}
    # Frequencies of its most repeated words only (each look-up reads a posting list).
    # (Longer words first among equals: they are the rarer ones, more often.)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))
    candidates = [word for word, _ in ordered[:SIMILAR_CANDIDATES]]
    cache = frequencies or FrequencyCache()
    frequency = cache.get(connection, candidates)
    stem_of = dict(zip(candidates, cache.stems(connection, candidates), strict=True))
    if total is None:
        total = papers_count(connection)
    cap = df_cap(total)
    # One term a stem, as the index holds them ("filament" and "filaments" are one term:
    # asked twice, BM25 counted it twice and walked its postings twice): its count the
    # forms' sum, written as its most repeated form.
    by_stem: dict[str, tuple[int, str]] = {}
    for word in candidates:
        tf, form = by_stem.get(stem_of[word], (0, word))
        by_stem[stem_of[word]] = (tf + counts[word], form)
    scored = [
        (tf * math.log(1 + total / df), word)
        for tf, word in by_stem.values()
        if 0 < (df := frequency[word]) <= cap
    ]
    chosen = [word for _score, word in sorted(scored, reverse=True)[:SIMILAR_TERMS]]
    # Its repeated two-word names ("video generation") as phrases: the things it is about.
    sequence = [*title_words, "", *abstract_words]
    pairs = Counter(f"{a} {b}" for a, b in itertools.pairwise(sequence) if a in kept and b in kept)
    title_pairs = set(itertools.pairwise(title_words))
    # (A phrase reads both words' posting lists: both must be looked up and not common;
    # one phrase a pair of stems.)
    phrases: list[str] = []
    stem_pairs: set[tuple[str, str]] = set()
    for pair, count in pairs.most_common():
        first, second = pair.split()
        if (
            (count >= 2 or (first, second) in title_pairs)
            and all(0 < frequency.get(w, 0) <= cap * SIMILAR_PHRASE_DF for w in (first, second))
            and (stems := (stem_of[first], stem_of[second])) not in stem_pairs
        ):
            stem_pairs.add(stems)
            phrases.append(pair)
            if len(phrases) == SIMILAR_PHRASES:
                break
    if not chosen and not phrases:
        return {}
    if connection.dialect.name == "sqlite":
        match = " OR ".join(f'"{term}"' for term in chosen + phrases)
        sql = (
            "SELECT papers_fts.rowid AS pk, bm25(papers_fts, 10.0, 4.0, 1.0) AS rank "
            "FROM papers_fts WHERE papers_fts MATCH :match AND +papers_fts.rowid != :pk "
            "AND +papers_fts.rowid NOT IN (SELECT paper_pk FROM hidden_papers) "
            "ORDER BY rank LIMIT :k"
        )
        rows = connection.execute(text(sql), {"match": match, "pk": pk, "k": k})
        return {int(row.pk): -float(row.rank) for row in rows}
    # PostgreSQL: ranking every match with ts_rank reads its whole tsvector (~40 us a paper:
    # 200 ms for the 5,000 matches of a 6,000-paper database). Instead each term reads its
    # papers from the GIN index and a paper scores the sum of its terms' idf (a pair: its
    # rarer word's). A pair is asked as both words anywhere in the paper, not as a phrase:
    # GIN knows no positions, so a phrase re-reads the tsvector of every paper with both
    # words (~6.5 us each; the slowest calls' cost), while "both words" is answered by the
    # index alone; the top 100 are 96% the same papers (docs/search.md, round 7).
    idf = {w: math.log(1 + total / max(1, frequency.get(w, 1))) for w in candidates}
    terms = chosen + phrases
    weights = [max(idf.get(w, 0.0) for w in term.split()) for term in terms]
    sql = (
        "SELECT p.pk, sum(w.idf) AS score "
        "FROM unnest(CAST(:terms AS text[]), CAST(:weights AS float8[])) AS w(term, idf) "
        "CROSS JOIN LATERAL (SELECT plainto_tsquery('english', w.term) AS q) t "
        f"JOIN papers p ON p.search_vector @@ t.q WHERE numnode(t.q) > 0 AND p.pk != :pk "
        f"AND {NOT_HIDDEN} GROUP BY p.pk ORDER BY score DESC, p.pk LIMIT :k"
    )
    params = {"terms": terms, "weights": weights, "pk": pk, "k": k}
    return {int(row.pk): float(row.score) for row in connection.execute(text(sql), params)}


def papers_count(connection: Connection) -> int:
    """The papers' count as document frequencies are scaled by: the highest pk (an index's
    last entry; a count would read every row)."""
    return int(connection.execute(text("SELECT max(pk) FROM papers")).scalar() or 1)


def similar_pool(
    connection: Connection,
    index: VectorIndex,
    pk: int,
    vector: F32 | None,
    title: str,
    abstract: str,
    frequencies: FrequencyCache | None = None,
    executor: Executor | None = None,
    k: int = SIMILAR_K,
    neighbours: Future[list[tuple[int, float]]] | None = None,
    held: HeldBags | None = None,
) -> Pool:
    """The paper's ``k`` vector neighbours and ``k`` keyword neighbours, scored (see Pool);
    the paper itself and hidden papers left out. The vector search (``k + 1`` of them) is
    ``neighbours`` when the caller started it already, else runs on ``executor`` when given;
    meanwhile the keyword neighbours are found, and their bags read and scored. ``held``:
    the bags held in memory (the others are read from the database)."""
    if neighbours is None and vector is not None and executor is not None:
        neighbours = executor.submit(index.neighbours, vector, k + 1, pk)
    frequencies = frequencies or FrequencyCache()
    postings = held.postings if held is not None else None
    if postings is not None:
        # From the held bags' postings (_postings.py); hidden papers are left out below,
        # with the vector side's.
        total = postings.counted
        query = PaperQuery.of(
            useful_words(title), useful_words(abstract), SIMILAR_TERMS, SIMILAR_PHRASES
        )
        keyword = postings.neighbours(query, k + _HIDDEN_SLACK, pk)
    else:
        total = papers_count(connection)
        keyword = similar_keyword(connection, pk, title, abstract, k, frequencies, total)
    weights = source_weights(connection, title, abstract, frequencies, total, postings)
    empty_bag: Bag = (np.zeros(0, np.uint32), np.zeros(0, np.uint8))
    bags = _bags(connection, held, list(keyword))
    words = _cosines(weights, list(keyword), bags, empty_bag)
    semantic: dict[int, float] = {}
    near: list[tuple[int, float]] = []
    if vector is not None:
        found = neighbours.result() if neighbours else index.neighbours(vector, k + 1, pk)
        near = [(p, s) for p, s in found if p != pk]
    if near or postings is not None:
        asked = [p for p, _ in near] + (list(keyword) if postings is not None else [])
        hidden = hidden_among(connection, asked)
        semantic = {p: s for p, s in near if p not in hidden}
        if postings is not None:
            kept = [p for p in keyword if p not in hidden][:k]
            keyword = {p: keyword[p] for p in kept}
            words = {p: words[p] for p in kept}
    pks = list(semantic) + [p for p in keyword if p not in semantic]
    if not pks:
        empty = np.zeros(0, dtype=np.float64)
        return Pool(np.zeros(0, dtype=np.int64), empty, empty, empty, ())
    meaning = np.zeros(0, dtype=np.float64)
    if vector is not None:
        missing = [p for p in keyword if p not in semantic]
        if missing:
            semantic.update(index.scores(vector, missing))
        lowest = min(semantic.values()) if semantic else 0.0
        meaning = np.array([semantic.get(p, lowest) for p in pks], dtype=np.float64)
    rest = [p for p in pks if p not in keyword]
    bags.update(_bags(connection, held, rest))
    words.update(_cosines(weights, rest, bags, empty_bag))
    return Pool(
        np.array(pks, dtype=np.int64),
        meaning,
        np.array([words[p] for p in pks], dtype=np.float64),
        np.array([keyword.get(p, 0.0) for p in pks], dtype=np.float64),
        tuple(bags.get(p, empty_bag) for p in pks),
    )


def _bags(connection: Connection, held: HeldBags | None, pks: list[int]) -> dict[int, Bag]:
    """The bags of ``pks``: held ones, the rest from the database."""
    if held is None:
        return load_bags(connection, pks)
    found, missing = held.get(pks)
    if missing:
        found.update(load_bags(connection, missing))
    return found


def _cosines(
    weights: SourceWeights | None, pks: list[int], bags: dict[int, Bag], empty_bag: Bag
) -> dict[int, float]:
    """The words' cosine of each of ``pks`` (0 without source weights)."""
    if weights is None:
        return dict.fromkeys(pks, 0.0)
    got = weights.cosines([bags.get(p, empty_bag) for p in pks])
    return {p: float(c) for p, c in zip(pks, got.tolist(), strict=True)}


def source_weights(
    connection: Connection,
    title: str,
    abstract: str,
    frequencies: FrequencyCache,
    total: int | None = None,
    postings: HeldPostings | None = None,
) -> SourceWeights | None:
    """The paper's terms weighted for words_cosines (idf: ``postings``' exact counts when
    held, else ``frequencies``'); None when it has no useful word."""
    source = term_counts(title, abstract)
    words = sorted(t for t in source if " " not in t)
    if not words:
        return None
    if postings is not None:
        # Each word's own count among the held bags (a word in none of them is in one
        # paper: this one). Judged nDCG@10 with them and the postings' neighbours, tune
        # half 0.749 against 0.739 (SQLite: FTS5's stems) and 0.687 (PostgreSQL: stems of a
        # sample); docs/search.md, "Similar papers, round 7".
        hashes = np.fromiter((term_hash(w) for w in words), np.uint32, len(words))
        frequency = dict(zip(words, np.maximum(postings.df(hashes), 1).tolist(), strict=True))
    else:
        # The index's stem counts the word's whole family, and PostgreSQL's Snowball
        # conflates more than FTS5's Porter ("organization" with "organ"). Looked up by the
        # server's stems, judged nDCG@10 fell 0.655 -> 0.637 on PostgreSQL (report half;
        # within the noise), so the words keep snowballstemmer's stems there (a word it
        # stems otherwise counts as rare).
        frequency = frequencies.get(connection, words, snowball=True)
    if total is None:
        total = papers_count(connection)
    idf = {w: math.log((1 + total) / (1 + frequency[w])) + 1.0 for w in words}
    for term in source:
        if " " in term:
            first, second = term.split(" ")
            idf[term] = max(idf[first], idf[second])
    return SourceWeights(source, idf)


def words_cosines(
    connection: Connection,
    title: str,
    abstract: str,
    bags: Sequence[Bag],
    frequencies: FrequencyCache,
    total: int | None = None,
) -> F64:
    """The tf-idf cosine of each bag with the paper's terms (sublinear tf over words and
    two-word sequences, as arxiv-sanity-lite's similar; _terms.tfidf_cosines). The idf is
    the paper's own: document frequencies of its words only, a two-word sequence weighted
    as its rarer word, a candidate's other terms at their mean weight."""
    if not bags:
        return np.zeros(0, dtype=np.float64)
    weights = source_weights(connection, title, abstract, frequencies, total)
    if weights is None:
        return np.zeros(len(bags), dtype=np.float64)
    return weights.cosines(bags)


def similar_neighbours(limit: int) -> int:
    """How many neighbours a side the pool of ``limit`` similar papers takes."""
    return max(limit * 3, SIMILAR_K)


def similar_ranking(
    connection: Connection,
    index: VectorIndex,
    pk: int,
    vector: F32 | None,
    title: str,
    abstract: str,
    limit: int,
    frequencies: FrequencyCache | None = None,
    executor: Executor | None = None,
    neighbours: Future[list[tuple[int, float]]] | None = None,
    held: HeldBags | None = None,
) -> list[tuple[int, float]]:
    """The ``limit`` papers most similar to paper ``pk`` (see the module docstring);
    ``neighbours``: the vector search of similar_neighbours(limit) + 1, when started;
    ``held``: the term bags held in memory."""
    pool = similar_pool(
        connection,
        index,
        pk,
        vector,
        title,
        abstract,
        frequencies,
        executor,
        similar_neighbours(limit),
        neighbours,
        held,
    )
    return fuse_pool(pool)[:limit]
