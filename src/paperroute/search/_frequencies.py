"""Document frequencies of the keyword index's terms, for similar papers' word weights and
for totals not worth counting (keyword.keyword_total); and the stemmers the index uses."""

from __future__ import annotations

import math
import threading
import time
import zlib
from array import array
from collections import OrderedDict

import numpy as np
import numpy.typing as npt
import snowballstemmer  # type: ignore[import-untyped]
from sqlalchemy import Connection, bindparam, text

from ._porter import fts5_porter
from ._sample import Estimate, TermSample, Unsupported

# PostgreSQL's 'english' configuration stems with Snowball's English (Porter2) stemmer
# (stateless once made); SQLite's FTS5 with its own Porter (_porter.py).
_PG_STEMMER = snowballstemmer.stemmer("english")


def stems(words: list[str], dialect: str = "sqlite") -> list[str]:
    """Stems as the keyword index stores its terms, of lower-case words without
    diacritics: FTS5 ``porter``'s on SQLite, Snowball English on PostgreSQL (close to the
    server's, not always equal: index_stems asks the server)."""
    if dialect == "sqlite":
        return [fts5_porter(word) for word in words]
    return [str(w) for w in _PG_STEMMER.stemWords(words)]


def index_stems(connection: Connection, words: list[str]) -> list[str]:
    """The terms the keyword index holds for ``words``: FTS5 ``porter``'s on SQLite; on
    PostgreSQL what ``to_tsvector('english', word)`` makes of each, asked of the server
    (its Snowball release is its own: PostgreSQL 15 stems "emergent" "emerg" where
    snowballstemmer 3 keeps "emergent"), "" for a stop word (not indexed) or a word the
    parser splits into several terms. ``words`` hold no NUL (PostgreSQL refuses it)."""
    if connection.dialect.name == "sqlite" or not words:
        return stems(words)
    rows = connection.execute(
        text(
            "SELECT u.i, coalesce((SELECT string_agg(t.lexeme, ' ' ORDER BY t.lexeme) "
            "FROM unnest(to_tsvector('english', u.w)) t), '') "
            "FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS u(w, i)"
        ),
        {"words": words},
    )
    # (A word the parser splits, "e-mail" -> "e e-mail mail", is no one term: "" too.)
    found = {int(i): "" if " " in stem else str(stem) for i, stem in rows}
    return [found.get(i, word) for i, word in enumerate(words, 1)]


I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]

# How sure a sampled document frequency must be to skip an exact count (FrequencyCache).
SURE_SIGMAS = 4.0


class FrequencyCache:
    """Document frequencies by stem. SQLite: FTS5's vocabulary table counts a term's
    documents by reading its whole posting list: ~1 ms for a common word, so every term's
    count is read in one scan of the vocabulary (0.7-1 s at 200k papers; again after
    ``max_age`` seconds): those in more than ``common_docs`` papers into a dict, the rare
    rest (309,000 terms at 200k papers) as ``_Rare`` arrays (5 MB), since looking a paper's
    rare words up one query at a time was a tenth of a similar-papers call. A stem the scan
    did not see (a word new since) is looked up as needed and remembered (least recently
    used dropped). PostgreSQL has no such table: a random sample of ``sample_docs`` papers'
    terms estimates them (a word outside the sample counts as in one paper), and how many
    papers match a query (estimate). Approximate by design: frequencies drift slowly. One cache
    serves one database."""

    def __init__(
        self,
        size: int = 100_000,
        common_docs: int = 1000,
        max_age: float = 3600.0,
        sample_docs: int = 10_000,
        *,
        refreshed_apart: bool = False,
    ) -> None:
        self.size = size
        self.common_docs = common_docs
        self.max_age = max_age
        self.sample_docs = sample_docs
        # Read again by refresh() (a worker thread) once read: get() goes on with the old.
        self.refreshed_apart = refreshed_apart
        self._dialect = "sqlite"
        self._fraction = 1.0
        self._common: dict[str, int] = {}
        self._rare = _Rare.of(array("q"), array("I"), array("q"))
        self._scanned = -1e18
        self._terms: TermSample | None = None  # PostgreSQL's sample
        self._counts: OrderedDict[str, int] = OrderedDict()
        # word -> stem, by stemmer (the stemmers are slow in Python; PostgreSQL's a query)
        self._stems: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._reading = threading.Lock()  # held while one thread reads them

    def due(self) -> bool:
        """Whether frequencies read before are older than ``max_age`` (never read: not
        due, as the first get() reads them)."""
        return self._scanned != -1e18 and time.monotonic() - self._scanned > self.max_age

    def refresh(self, connection: Connection) -> None:
        """Read the frequencies again when due (a cache ``refreshed_apart`` relies on its
        owner calling this off the requests: 2-3 s at 1M papers on PostgreSQL)."""
        self._read(connection, wait=True, due=True)

    def _read(self, connection: Connection, *, wait: bool, due: bool = False) -> bool:
        """Read the frequencies if never read for this database's dialect, or when due
        (``due``, or unless ``refreshed_apart``); one thread at a time: the others wait
        for it (``wait``) or go on (false returned). True when they are held."""
        dialect = connection.dialect.name

        def needed() -> bool:
            return (
                dialect != self._dialect
                or self._scanned == -1e18  # never
                or ((due or not self.refreshed_apart) and self.due())
            )

        if not needed():
            return True
        if not self._reading.acquire(blocking=wait):
            return self._scanned != -1e18 and dialect == self._dialect
        try:
            if needed():
                if dialect != self._dialect:
                    with self._lock:
                        self._dialect, self._stems, self._scanned = dialect, {}, -1e18
                self._scan(connection)
        finally:
            self._reading.release()
        return True

    def stems(
        self, connection: Connection, words: list[str], *, snowball: bool = False
    ) -> list[str]:
        """The index's stems of ``words`` (index_stems; ``snowball``: stems(words, dialect),
        snowballstemmer's English on PostgreSQL, FTS5's Porter on SQLite as ever),
        remembered (at most ``size``; then forgotten at once)."""
        name = "snowball" if snowball else "index"
        with self._lock:
            known = self._stems.setdefault(name, {})
            missing = [word for word in words if word not in known]
        if missing:
            made = (
                stems(missing, connection.dialect.name)
                if snowball
                else index_stems(connection, missing)
            )
            fresh = dict(zip(missing, made, strict=True))
            with self._lock:  # (get() may have replaced the tables meanwhile)
                table = self._stems.setdefault(name, {})
                if len(table) + len(fresh) > self.size:
                    table = self._stems[name] = {}
                table.update(fresh)
                known = {**table, **fresh}
        return [known[word] for word in words]

    def _scan(self, connection: Connection) -> None:
        if self._dialect == "sqlite":
            rows = connection.exec_driver_sql("SELECT term, doc FROM papers_fts_vocab")
            common: dict[str, int] = {}
            # (Compact arrays as it goes: 309,000 strings held until the end would stay
            # in the process's heap after.)
            keys, checks, docs = array("q"), array("I"), array("q")
            for term, doc in rows:
                if doc > self.common_docs:
                    common[str(term)] = int(doc)
                else:
                    keys.append(hash(term))
                    checks.append(_check(term))
                    docs.append(doc)
            rare = _Rare.of(keys, checks, docs)
        else:
            common, rare = self._sample(connection), _Rare.of(array("q"), array("I"), array("q"))
        with self._lock:
            self._common = common
            self._rare = rare
            self._counts.clear()
            self._scanned = time.monotonic()

    def _sample(self, connection: Connection) -> dict[str, int]:
        """PostgreSQL: estimated document frequencies from a random sample of the papers
        (kept, with the terms' positions, for estimate)."""
        sample = TermSample.read(connection, self.sample_docs)
        with self._lock:
            self._fraction = sample.fraction
            self._terms = sample
        return sample.document_frequencies()

    def estimate(self, connection: Connection, tsquery: str) -> Estimate | None:
        """PostgreSQL: how many papers match ``tsquery`` (its text as the server writes
        it), from the sample (TermSample.estimate); None on SQLite or for a query the
        sample does not evaluate."""
        # (Not held yet while another thread reads them: the caller counts instead.)
        if connection.dialect.name == "sqlite" or not self._read(connection, wait=False):
            return None
        with self._lock:
            sample = self._terms
        if sample is None:
            return None
        try:
            return sample.estimate(tsquery)
        except Unsupported:
            return None

    def surely_more(self, connection: Connection, word: str, n: int) -> bool:
        """PostgreSQL: whether ``word`` (its stem) is beyond doubt in more than ``n`` papers:
        its count in the sample less SURE_SIGMAS standard deviations (Poisson: the square
        root of the count), scaled up to the whole collection, is still over ``n``. Always
        false on SQLite (its exact counts are cheap)."""
        if connection.dialect.name == "sqlite":
            return False
        estimate = self.get(connection, [word])[word]
        with self._lock:
            fraction = self._fraction
        sampled = estimate * fraction
        return (sampled - SURE_SIGMAS * math.sqrt(sampled)) / fraction > n

    def get(
        self, connection: Connection, words: list[str], *, snowball: bool = False
    ) -> dict[str, int]:
        """Each word's document frequency: its stem's in the index. ``snowball`` (PostgreSQL
        only) looks words up by snowballstemmer's English stems instead of the server's:
        see similar papers' word weights (_similar.source_weights)."""
        dialect = connection.dialect.name
        self._read(connection, wait=True)
        stemmed = self.stems(connection, words, snowball=snowball and dialect != "sqlite")
        if dialect != "sqlite":
            # (A stop word is in no paper's index: 0.)
            with self._lock:
                return {
                    w: self._common.get(s, 1) if s else 0
                    for w, s in zip(words, stemmed, strict=True)
                }
        with self._lock:
            known = {stem: self._common[stem] for stem in stemmed if stem in self._common}
            known.update(self._rare.find([stem for stem in stemmed if stem not in known]))
            for stem in stemmed:
                if stem in known:
                    continue
                if stem in self._counts:
                    known[stem] = self._counts[stem]
                    self._counts.move_to_end(stem)
        missing = sorted(set(stemmed) - known.keys())
        if missing:
            statement = text(
                "SELECT term, doc FROM papers_fts_vocab WHERE term IN :terms"
            ).bindparams(bindparam("terms", expanding=True))
            found = {str(t): int(d) for t, d in connection.execute(statement, {"terms": missing})}
            fresh = {stem: found.get(stem, 0) for stem in missing}
            known.update(fresh)
            with self._lock:
                self._counts.update(fresh)
                while len(self._counts) > self.size:
                    self._counts.popitem(last=False)
        return {word: known[stem] for word, stem in zip(words, stemmed, strict=True)}


class _Rare:
    """Document frequencies of many stems in little memory: each stem's ``hash()`` (sorted;
    this process's) with a CRC-32 of it to confirm a hit (two hashes that both collide: one
    chance in 2^96), and its count."""

    def __init__(self, keys: I64, checks: U32, docs: I64) -> None:
        self.keys, self.checks, self.docs = keys, checks, docs

    @classmethod
    def of(cls, keys: array[int], checks: array[int], docs: array[int]) -> _Rare:
        """From each stem's hash(), its _check and its count (any order)."""
        by_key = np.frombuffer(keys, dtype=np.int64) if len(keys) else np.zeros(0, np.int64)
        order = np.argsort(by_key, kind="stable")
        confirm = np.frombuffer(checks, dtype=np.uint32) if len(checks) else np.zeros(0, np.uint32)
        counts = np.frombuffer(docs, dtype=np.int64) if len(docs) else np.zeros(0, np.int64)
        return cls(by_key[order], confirm[order], counts[order])

    def find(self, stems: list[str]) -> dict[str, int]:
        """The counts of those of ``stems`` it holds."""
        if not stems or not len(self.keys):
            return {}
        wanted = np.fromiter((hash(s) for s in stems), dtype=np.int64, count=len(stems))
        checks = np.fromiter((_check(s) for s in stems), dtype=np.uint32, count=len(stems))
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        keyed = self.keys[at] == wanted
        confirmed = keyed & (self.checks[at] == checks)
        found = {
            stems[i]: int(doc)
            for i, doc in zip(
                np.flatnonzero(confirmed).tolist(), self.docs[at[confirmed]].tolist(), strict=True
            )
        }
        # (Equal hashes sit side by side: the others of a hash whose first did not confirm.)
        for i in np.flatnonzero(keyed & ~confirmed).tolist():
            j = int(at[i]) + 1
            while j < len(self.keys) and self.keys[j] == wanted[i]:
                if self.checks[j] == checks[i]:
                    found[stems[i]] = int(self.docs[j])
                    break
                j += 1
        return found


def _check(term: str) -> int:
    return zlib.crc32(term.encode("utf-8", "surrogatepass"))
