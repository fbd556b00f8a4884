"""Similar papers' keyword neighbours from the term bags held in memory (``Postings``): an
inverted index of the held bags' terms, and BM25 over it.

Why: on PostgreSQL the keyword neighbours came from the GIN index, each matching paper's
row read from the heap (a phrase re-read its whole tsvector): the slowest calls' cost at
200k papers. The bags are held already (``_bag_store.py``); their terms (words and
two-word sequences, ``_terms.py``) inverted take ~100 MB at 200k papers and answer a
paper's query in a millisecond, the same way on both databases, with exact document
frequencies (PostgreSQL's are estimated from a sample) and a pair matched as adjacent
words without a positional check (it is its own term in the bags).

Only the terms that can pick neighbours are kept: those in at least two papers (a term
of one paper finds no other) and at most ``max_df`` (a common word says little and its
postings would be most of the index). The index is built once per full read of the bags
(``build``: the terms sorted a sixteenth of the hash range at a time, so that the sort's
scratch stays small), off the requests; the bags read since (new and rewritten papers)
get a small index of their own (the overlay, ``with_overlay``): a paper in it is scored
from it alone, its old bag's terms no longer counted; and the papers of the last full read
that share a term with none but overlay papers (left out of the base, in one paper there)
are put in it for those terms, so that a new paper finds the one old paper it shares a
rare term with.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ._terms import Bag, term_hash

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]

BM25_K1 = 1.2
BM25_B = 0.75
# Words in more than MAX_DF_SHARE of the papers (at least MIN_DF_CAP) say little about a
# paper, and each costs BM25 over every paper that has it: similar papers' keyword query
# leaves them out, and the postings do not hold them.
MAX_DF_SHARE = 0.0025
MIN_DF_CAP = 500
_BUCKETS = 16  # the hash range is sorted in this many parts (the sort's scratch / 16)


_NO_PKS = np.zeros(0, dtype=np.int64)
_NO_KEYS = np.zeros(0, dtype=np.uint32)
_NO_ROWS = np.zeros(0, dtype=np.int32)
_NO_COUNTS = np.zeros(0, dtype=np.uint8)


def df_cap(papers: int) -> int:
    """The most papers a term of similar papers' keyword query may be in."""
    return max(MIN_DF_CAP, int(papers * MAX_DF_SHARE))


@dataclass(frozen=True, slots=True)
class Postings:
    """Each held term's papers: ``keys`` (sorted term hashes) with their document frequency
    ``dfs`` (every term in ``min_df`` papers or more), paper rows ``rows[starts[i]:starts[i +
    1]]`` of term ``keys[i]`` with its counts ``counts`` (the terms in at most ``max_df``);
    ``pks[row]`` is the paper, ``lengths[row]`` its bag's length (the sum of its counts),
    ``average`` their mean over the papers inverted; ``papers``: how many were. The terms
    of one paper only (below ``min_df`` 2) are kept apart, ``lone_keys`` (sorted) with that
    paper's row and count (``lone_rows``, ``lone_counts``): an overlay paper holding one
    finds that paper through them (``HeldPostings.with_overlay``)."""

    keys: U32
    starts: I64
    dfs: I32
    rows: I32
    counts: U8
    pks: I64
    lengths: F32
    papers: int
    max_df: int
    average: float
    lone_keys: U32 = field(default_factory=lambda: _NO_KEYS)
    lone_rows: I32 = field(default_factory=lambda: _NO_ROWS)
    lone_counts: U8 = field(default_factory=lambda: _NO_COUNTS)

    @property
    def nbytes(self) -> int:
        parts = (self.keys, self.starts, self.dfs, self.rows, self.counts, self.pks, self.lengths)
        lone = (self.lone_keys, self.lone_rows, self.lone_counts)
        return int(sum(a.nbytes for a in (*parts, *lone)))

    @classmethod
    def build(
        cls,
        pks: I64,
        starts: I64,
        ids: U32,
        counts: U8,
        max_df: int,
        min_df: int = 2,
        lengths: F32 | None = None,
    ) -> Postings:
        """The postings of the bags ``ids[starts[i]:starts[i + 1]]`` (paper ``pks[i]``) of
        the terms in ``min_df`` to ``max_df`` of them, and the document frequency of each
        term in ``min_df`` or more. ``lengths``: the papers' lengths when the bags given
        are parts of theirs (else the bags' own)."""
        papers = len(pks)
        sizes = np.diff(starts)
        if lengths is None:
            lengths = np.zeros(papers, dtype=np.float32)
            full = sizes > 0
            if full.any():
                # (Only non-empty bags' starts: reduceat would cut the bag before an
                # empty one at the end.)
                summed = np.add.reduceat(counts, starts[:-1][full], dtype=np.uint32)
                lengths[full] = summed.astype(np.float32)
        keys: list[U32] = []
        dfs: list[I64] = []
        rows: list[I32] = []
        tfs: list[U8] = []
        lone: list[tuple[U32, I32, U8]] = []
        # (Each term's top 4 bits as one byte: a shifted copy of the hashes would take 4.)
        top = np.empty(len(ids), dtype=np.uint8)
        np.right_shift(ids, 32 - 4, out=top, casting="unsafe")
        for bucket in range(_BUCKETS):
            at = np.flatnonzero(top == bucket)
            # Sorted as one 64-bit key, hash then position (twice as fast as an argsort).
            key = np.sort((ids[at].astype(np.uint64) << np.uint64(32)) | at.astype(np.uint64))
            del at
            sorted_ids = (key >> np.uint64(32)).astype(np.uint32)
            order = (key & np.uint64(0xFFFFFFFF)).astype(np.int64)
            del key
            if not len(sorted_ids):
                continue
            first = np.flatnonzero(np.diff(sorted_ids)) + 1
            bounds = np.concatenate(([0], first, [len(sorted_ids)]))
            df = np.diff(bounds)
            keep = df >= min_df
            keys.append(sorted_ids[bounds[:-1][keep]])
            dfs.append(df[keep])
            taken = order[np.repeat(keep & (df <= max_df), df)]
            # (A posting's paper: the bag its position falls in.)
            rows.append((np.searchsorted(starts, taken, side="right") - 1).astype(np.int32))
            tfs.append(counts[taken])
            if min_df > 1:
                single = bounds[:-1][df == 1]
                at = order[single]
                paper = (np.searchsorted(starts, at, side="right") - 1).astype(np.int32)
                lone.append((sorted_ids[single], paper, counts[at]))
        del top
        df_all = np.concatenate(dfs) if dfs else np.zeros(0, np.int64)
        held = np.where(df_all <= max_df, df_all, 0)
        return cls(
            np.concatenate(keys) if keys else np.zeros(0, np.uint32),
            np.concatenate(([0], np.cumsum(held))).astype(np.int64),
            df_all.astype(np.int32),
            np.concatenate(rows) if rows else np.zeros(0, np.int32),
            np.concatenate(tfs) if tfs else np.zeros(0, np.uint8),
            pks,
            lengths,
            papers,
            max_df,
            float(lengths.mean()) if papers else 0.0,
            np.concatenate([k for k, _, _ in lone] + [_NO_KEYS]).astype(np.uint32),
            np.concatenate([r for _, r, _ in lone] + [_NO_ROWS]).astype(np.int32),
            np.concatenate([c for _, _, c in lone] + [_NO_COUNTS]).astype(np.uint8),
        )

    @classmethod
    def of_bags(cls, bags: Mapping[int, Bag], max_df: int) -> Postings:
        """The postings of bags by pk (``build``'s; the tests', a small collection's)."""
        return cls.build(*bag_arrays(bags), max_df)

    def df(self, hashes: U32) -> I64:
        """Each hash's document frequency here (0: not held)."""
        if not len(self.keys) or not len(hashes):
            return np.zeros(len(hashes), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, hashes), len(self.keys) - 1)
        found = self.keys[at] == hashes
        out: I64 = np.where(found, self.dfs[at], 0).astype(np.int64)
        return out

    def scores(self, hashes: U32, idf: F64, average: float) -> tuple[I64, F64]:
        """BM25 (k1 BM25_K1, b BM25_B, ``average`` the mean length) of every paper holding
        any of ``hashes`` (each term weighted by its ``idf``): (pks, scores), unordered."""
        if not len(self.keys) or not len(hashes):
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        at = np.minimum(np.searchsorted(self.keys, hashes), len(self.keys) - 1)
        found = self.keys[at] == hashes
        at, weight = at[found], idf[found]
        if not len(at):
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        lo, hi = self.starts[at], self.starts[at + 1]
        size = hi - lo
        # Every posting of the terms at once: its position, its term's weight.
        offsets = np.repeat(lo - np.concatenate(([0], np.cumsum(size)[:-1])), size)
        where = np.arange(int(size.sum()), dtype=np.int64) + offsets
        rows = self.rows[where]
        tf = self.counts[where].astype(np.float64)
        norm = BM25_K1 * (1.0 - BM25_B + BM25_B * self.lengths[rows] / (average or 1.0))
        value = np.repeat(weight, size) * tf * (BM25_K1 + 1.0) / (tf + norm)
        summed = np.asarray(
            np.bincount(rows, weights=value, minlength=len(self.pks)), dtype=np.float64
        )
        hit = np.flatnonzero(summed)
        return self.pks[hit], summed[hit]


def bag_arrays(bags: Mapping[int, Bag]) -> tuple[I64, I64, U32, U8]:
    """Bags by pk as HeldBags holds them: (pks sorted, starts, ids, counts)."""
    pks = np.array(sorted(bags), dtype=np.int64)
    chosen = [bags[int(pk)] for pk in pks.tolist()]
    starts = np.concatenate(([0], np.cumsum([len(b[0]) for b in chosen], dtype=np.int64)))
    ids = np.concatenate([b[0] for b in chosen] + [np.zeros(0, np.uint32)])
    counts = np.concatenate([b[1] for b in chosen] + [np.zeros(0, np.uint8)])
    return pks, starts.astype(np.int64), ids.astype(np.uint32), counts.astype(np.uint8)


@dataclass(frozen=True, slots=True)
class HeldPostings:
    """The base postings (every bag of the last full read) and the overlay's (the bags read
    since, and the base papers' postings of terms only the overlay shares: see the module
    docstring). ``stale``: the overlay's own papers (sorted), whose base postings no longer
    count; ``gone_keys``/``gone_counts``: the terms of their old bags (sorted) and in how
    many of them each was, taken off the base's counts; ``new_papers``: the overlay's papers
    not in the base."""

    base: Postings
    overlay: Postings | None = None
    stale: I64 = field(default_factory=lambda: _NO_PKS)
    gone_keys: U32 = field(default_factory=lambda: _NO_KEYS)
    gone_counts: I64 = field(default_factory=lambda: _NO_PKS)
    new_papers: int = 0

    @property
    def counted(self) -> int:
        """The papers counted (the idf's N)."""
        return self.base.papers + self.new_papers

    @property
    def nbytes(self) -> int:
        return self.base.nbytes + (self.overlay.nbytes if self.overlay is not None else 0)

    def df(self, hashes: U32) -> I64:
        """Each hash's document frequency over the papers as they are now."""
        found = self.base.df(hashes)
        if len(self.gone_keys) and len(hashes):
            at = np.minimum(np.searchsorted(self.gone_keys, hashes), len(self.gone_keys) - 1)
            gone = np.where(self.gone_keys[at] == hashes, self.gone_counts[at], 0)
            found = np.maximum(found - gone, 0)
        if self.overlay is not None:
            found = found + self.overlay.df(hashes)
        return found

    def with_overlay(self, starts: I64, ids: U32, bags: Mapping[int, Bag]) -> HeldPostings:
        """These postings with ``bags`` (pk -> bag: read since the base's full read) as the
        overlay; ``starts`` and ``ids``: the base's bags as read (paper i's terms are
        ``ids[starts[i]:starts[i + 1]]``, in the order of ``base.pks``)."""
        base = self.base
        if not bags:
            return HeldPostings(base)
        pks = base.pks
        fresh = np.array(sorted(bags), dtype=np.int64)
        chosen = [bags[int(pk)] for pk in fresh.tolist()]
        # The overlay papers' old bags: their terms no longer count.
        at = np.minimum(np.searchsorted(pks, fresh), max(len(pks) - 1, 0))
        known = pks[at] == fresh if len(pks) else np.zeros(len(fresh), dtype=bool)
        old = [ids[starts[i] : starts[i + 1]] for i in at[known].tolist()]
        gone_keys, gone_counts = np.unique(
            np.concatenate([*old, _NO_KEYS]).astype(np.uint32), return_counts=True
        )
        # Base papers holding a term no other base paper holds, which an overlay bag holds.
        terms = np.unique(np.concatenate([b[0] for b in chosen] + [_NO_KEYS])).astype(np.uint32)
        extra_keys, extra_rows, extra_counts = _NO_KEYS, _NO_ROWS, _NO_COUNTS
        if len(base.lone_keys) and len(terms):
            spot = np.minimum(np.searchsorted(base.lone_keys, terms), len(base.lone_keys) - 1)
            hit = spot[base.lone_keys[spot] == terms]
            extra_keys, extra_rows = base.lone_keys[hit], base.lone_rows[hit]
            extra_counts = base.lone_counts[hit]
            mine = np.isin(pks[extra_rows], fresh)  # (an overlay paper's old term)
            extra_keys, extra_rows = extra_keys[~mine], extra_rows[~mine]
            extra_counts = extra_counts[~mine]
            by_row = np.argsort(extra_rows, kind="stable")
            extra_keys, extra_rows = extra_keys[by_row], extra_rows[by_row]
            extra_counts = extra_counts[by_row]
        # One index over the overlay bags and those base papers' terms, each paper once.
        parts_ids = [b[0] for b in chosen]
        parts_counts = [b[1] for b in chosen]
        sizes = [len(b[0]) for b in chosen]
        owners, first = np.unique(extra_rows, return_index=True)
        bounds = np.concatenate((first, [len(extra_rows)])).astype(np.int64)
        for j in range(len(owners)):
            parts_ids.append(extra_keys[bounds[j] : bounds[j + 1]])
            parts_counts.append(extra_counts[bounds[j] : bounds[j + 1]])
            sizes.append(int(bounds[j + 1] - bounds[j]))
        lengths = np.concatenate(
            [
                np.array([float(b[1].sum()) for b in chosen], dtype=np.float32),
                base.lengths[owners] if len(owners) else np.zeros(0, np.float32),
            ]
        ).astype(np.float32)
        overlay = Postings.build(
            np.concatenate([fresh, pks[owners] if len(owners) else _NO_PKS]),
            np.concatenate(([0], np.cumsum(sizes, dtype=np.int64))).astype(np.int64),
            np.concatenate([*parts_ids, _NO_KEYS]).astype(np.uint32),
            np.concatenate([*parts_counts, np.zeros(0, np.uint8)]).astype(np.uint8),
            base.max_df,
            1,
            lengths,
        )
        return HeldPostings(
            base,
            overlay,
            fresh,
            gone_keys.astype(np.uint32),
            gone_counts.astype(np.int64),
            int((~known).sum()),
        )

    def neighbours(self, query: PaperQuery, k: int, exclude: int) -> dict[int, float]:
        """The ``k`` best papers by BM25 of the paper's ``query`` (its ``terms`` most
        distinctive words by count x idf and its ``pairs`` most repeated pairs, each held by
        2 to the base's ``max_df`` papers), ``exclude`` (the paper itself) left out: {pk:
        score}, best first."""
        max_df = self.base.max_df
        words = list(query.words)
        word_hashes = np.fromiter((term_hash(t) for t in words), np.uint32, len(words))
        word_df = self.df(word_hashes)
        total = max(self.counted, 1)
        tf = np.fromiter(query.words.values(), np.float64, len(words))
        usable = (word_df >= 2) & (word_df <= max_df)
        value = np.where(usable, tf * np.log(1.0 + total / np.maximum(word_df, 1)), -1.0)
        best = [i for i in np.argsort(-value, kind="stable")[: query.terms].tolist() if usable[i]]
        pairs = list(query.pairs)
        pair_hashes = np.fromiter((term_hash(t) for t in pairs), np.uint32, len(pairs))
        pair_df = self.df(pair_hashes)
        chosen = [i for i in range(len(pairs)) if 2 <= pair_df[i] <= max_df][: query.pair_limit]
        hashes = np.concatenate([word_hashes[best], pair_hashes[chosen]]).astype(np.uint32)
        df = np.concatenate([word_df[best], pair_df[chosen]]).astype(np.float64)
        if not len(hashes):
            return {}
        idf = np.log(1.0 + (total - df + 0.5) / (df + 0.5))
        # The base's mean length (the overlay's while the base is empty).
        average = self.base.average
        if not self.base.papers and self.overlay is not None:
            average = self.overlay.average
        pks, scores = self.base.scores(hashes, idf, average)
        if self.overlay is not None:
            live = ~np.isin(pks, self.stale)
            more_pks, more = self.overlay.scores(hashes, idf, average)
            # (A base paper may score in both: its lone terms are in the overlay.)
            pks, where = np.unique(np.concatenate([pks[live], more_pks]), return_inverse=True)
            summed = np.bincount(where, weights=np.concatenate([scores[live], more]))
            scores = np.asarray(summed, dtype=np.float64)
        mine = pks == exclude
        pks, scores = pks[~mine], scores[~mine]
        if len(pks) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            pks, scores = pks[top], scores[top]
        order = np.lexsort((pks, -scores))
        return {int(p): float(s) for p, s in zip(pks[order], scores[order], strict=True)}


@dataclass(frozen=True, slots=True)
class PaperQuery:
    """A paper's keyword query over the postings: its useful words with their counts (a
    title word counting three times), its two-word sequences that repeat or are in the
    title (most repeated first); ``terms`` words and ``pair_limit`` pairs are asked."""

    words: Mapping[str, int]
    pairs: Mapping[str, int]
    terms: int
    pair_limit: int

    @classmethod
    def of(
        cls, title_words: list[str], abstract_words: list[str], terms: int, pairs: int
    ) -> PaperQuery:
        counts = Counter(title_words * 3 + abstract_words)
        sequence = [*title_words, "", *abstract_words]
        pair_counts = Counter(f"{a} {b}" for a, b in itertools.pairwise(sequence) if a and b)
        title_pairs = {f"{a} {b}" for a, b in itertools.pairwise(title_words)}
        chosen = {p: c for p, c in pair_counts.most_common() if c >= 2 or p in title_pairs}
        return cls(dict(counts), chosen, terms, pairs)
