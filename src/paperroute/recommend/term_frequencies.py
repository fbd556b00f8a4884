"""How many of the store's papers hold each term: the idf the term side ranks with.

A day's 2,000 papers (or a page's window) are too few to tell a rare term from a common
one: counted over them alone, a term in 2 of the day's papers looks as telling as a name
although the store holds it thousands of times. Counted over every stored term bag, the
term side found more of an author's later papers (``benchmarks/recommend_quality.py``,
tuning half, 250 authors: nDCG@50 0.1733 -> 0.1796 with the same settings, 0.1863 with
settings retuned for it; counting a random third of the papers instead lost most of the
gain, 0.1822 against 0.1876 in one experiment, so the counts are exact).

``TermFrequencies`` are the counts (sorted term hashes, how many bags hold each, how many
bags were counted, the highest paper pk counted); ``FrequencyKeeper`` keeps them in memory
for a process and brings them up to date from the bags stored since (``paper_terms`` rows
of higher pks), counting everything again once a day or when bags were dropped (a paper
reworded or removed). At 200k papers the store's bags hold 7.3 M distinct terms, 2.2 M of
them in more than one paper: those are kept (~30 MB); a full count reads every bag once
(seconds, off the request for the web).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from ..clock import Clock, utcnow
from ..search import bags_after, count_bags
from ..soon import RunSoon
from ._term_index import HashSet

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
_READ = 20_000  # bags read (and counted) at a time
_FULL_EVERY = dt.timedelta(days=1)
_CHECK_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class TermFrequencies:
    """``keys``: distinct term hashes, sorted; ``counts``: how many bags hold each;
    ``papers``: how many bags were counted; ``through``: the highest paper pk counted;
    ``table``: ``keys`` bucketed for lookups."""

    keys: U32
    counts: I64
    papers: int
    through: int
    table: HashSet

    @classmethod
    def of(cls, keys: U32, counts: I64, papers: int, through: int) -> TermFrequencies:
        keys = np.asarray(keys, dtype=np.uint32)
        return cls(keys, np.asarray(counts, dtype=np.int64), papers, through, HashSet.of(keys))

    @classmethod
    def count(cls, bags: Iterable[U32], through: int = 0) -> TermFrequencies:
        """The counts of ``bags`` (each one paper's distinct term hashes)."""
        return cls.of(np.zeros(0, np.uint32), np.zeros(0, np.int64), 0, 0).plus(bags, through)

    def plus(self, bags: Iterable[U32], through: int) -> TermFrequencies:
        """These counts and those of ``bags``, counted through paper pk ``through``."""
        listed = list(bags)
        if not listed:
            return TermFrequencies.of(
                self.keys, self.counts, self.papers, max(self.through, through)
            )
        added, many = np.unique(np.concatenate(listed), return_counts=True)
        keys, counts = self.keys, self.counts.copy()
        at = np.searchsorted(keys, added)
        hit = at < len(keys)
        hit[hit] = keys[at[hit]] == added[hit]
        counts[at[hit]] += many[hit]
        new = ~hit
        keys = np.insert(keys, at[new], added[new])
        counts = np.insert(counts, at[new], many[new])
        return TermFrequencies.of(
            keys, counts, self.papers + len(listed), max(self.through, through)
        )

    def without_single(self) -> TermFrequencies:
        """These counts less the terms of one paper only (most terms: word pairs said once;
        at 200k papers 5.1 of 7.3 M). A term not kept counts as in one paper, or in as many
        as the candidates holding it (``term_index``): the same idf to within a paper."""
        keep = self.counts > 1
        return TermFrequencies.of(self.keys[keep], self.counts[keep], self.papers, self.through)

    def of_terms(self, hashes: U32) -> I64:
        """How many counted bags hold each of ``hashes`` (0 for a term none holds)."""
        found, at = self.table.find(np.asarray(hashes, dtype=np.uint32))
        out: I64 = np.where(found, self.counts[at] if len(self.counts) else 0, 0).astype(np.int64)
        return out

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.counts.nbytes + self.table.buckets.nbytes)


def read_frequencies(
    connection: Connection, since: TermFrequencies | None = None
) -> TermFrequencies:
    """The counts over every stored term bag, or ``since``'s plus the bags of papers above
    its ``through`` (the bags stored since, as pks only grow)."""
    held = since or TermFrequencies.count([])
    while True:
        page = bags_after(connection, held.through, _READ)
        if not page:
            return held
        held = held.plus((bag[0] for _, bag in page), page[-1][0])


class FrequencyKeeper:
    """A process's ``TermFrequencies``, brought up to date at most once a ``_CHECK_EVERY``
    of ``clock`` (the hub's):
    the bags stored since are added; everything is counted again once a ``_FULL_EVERY``
    and when fewer bags are stored than were counted plus the new ones (some were dropped).
    Thread-safe."""

    def __init__(
        self, connect: Callable[[], AbstractContextManager[Connection]], *, clock: Clock = utcnow
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._lock = threading.Lock()
        self._held: TermFrequencies | None = None
        self._counted: dt.datetime | None = None  # when everything was last counted
        self._checked: dt.datetime | None = None
        self._soon = RunSoon("counting the stored terms")

    def current(self) -> TermFrequencies:
        """The counts, brought up to date first when due (a full count reads every bag)."""
        with self._lock:
            held, due = self._held, self._due()
        if held is not None and not due:
            return held
        return self._update()

    def current_soon(self, executor: Executor) -> TermFrequencies | None:
        """The counts as they are (None before the first count) without waiting: a due
        update runs on ``executor``."""
        with self._lock:
            held, due = self._held, self._due()
        if due:
            self._soon.ask(executor, self._update)
        return held

    def _due(self) -> bool:
        now = self._clock()
        return self._checked is None or now - self._checked >= _CHECK_EVERY

    def _update(self) -> TermFrequencies:
        now = self._clock()
        with self._lock:
            held, counted = self._held, self._counted
        with self._connect() as connection:
            full = held is None or counted is None or now - counted >= _FULL_EVERY
            if held is not None and not full:
                newer = count_bags(connection, held.through)
                full = count_bags(connection) != held.papers + newer
            fresh = read_frequencies(connection, None if full else held)
        if full:
            fresh = fresh.without_single()
        with self._lock:
            self._held = fresh
            self._checked = now
            if full:
                self._counted = now
        return fresh
