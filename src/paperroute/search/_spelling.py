"""'Did you mean': spelling corrections drawn from the keyword index's own vocabulary.

The vocabulary is the index's terms (stems) with their document frequencies: SQLite reads
the FTS5 vocabulary table (``papers_fts_vocab``), PostgreSQL ``ts_stat`` over the search
vectors (a random sample beyond ``sample_docs`` papers). A word whose stem the index lacks
is replaced by the term at the smallest edit distance (insertions, deletions, substitutions
and swaps of neighbours; at most 2, at most 1 for words of four letters or fewer), the most
frequent among equals; then shown as the word the papers spell it with (the nearest of
their words that stems to it). Only asked for when a query matches nothing, so the cost (a
vocabulary scan, hourly; a few milliseconds a word) is paid by no successful search.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict

from sqlalchemy import Connection, bindparam, text

from ._frequencies import index_stems
from .query import Query, split_words

MAX_DISTANCE = 2
MIN_DOCS = 2  # a term in one paper is as likely a typo as the word typed
SURFACE_TEXTS = 8


def distance(a: str, b: str, bound: int = MAX_DISTANCE) -> int:
    """Optimal string alignment distance (a swap of neighbours counts 1), or ``bound + 1``
    as soon as it must exceed ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return previous[-1]


class Vocabulary:
    """The index's terms by length, loaded when first needed and again after ``max_age``
    seconds. Thread-safe; one vocabulary serves one database."""

    def __init__(
        self, max_age: float = 3600.0, sample_docs: int = 50_000, *, refreshed_apart: bool = False
    ) -> None:
        self.max_age = max_age
        self.sample_docs = sample_docs
        # Read again by load() (a worker thread) once read: nearest() goes on with the old.
        self.refreshed_apart = refreshed_apart
        self._by_length: dict[int, list[tuple[str, int]]] = {}
        self._terms: frozenset[str] = frozenset()
        self._loaded = -1e18
        self._lock = threading.Lock()
        self._reading = threading.Lock()

    def load(self, connection: Connection) -> None:
        """Read the vocabulary now when it never was or is due (a server does at start,
        and hourly, off the requests: ts_stat over 50,000 papers took 1.9 s at 1M)."""
        if self._loaded == -1e18 or self.due():
            with self._reading:  # one thread reads it; the others wait for it
                if self._loaded == -1e18 or self.due():
                    self._load(connection)

    def due(self) -> bool:
        """Whether a vocabulary read before is older than ``max_age`` (never read: not
        due, as the first correction reads it)."""
        return self._loaded != -1e18 and time.monotonic() - self._loaded > self.max_age

    def ready(self, connection: Connection) -> None:
        """Read the vocabulary if it never was, or when due unless ``refreshed_apart``."""
        if self._loaded == -1e18 or not self.refreshed_apart:
            self.load(connection)

    def knows(self, term: str) -> bool:
        """Whether ``term`` is among the terms loaded (in MIN_DOCS papers or more)."""
        with self._lock:
            return term in self._terms

    def _load(self, connection: Connection) -> None:
        if connection.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT term, doc FROM papers_fts_vocab WHERE doc >= :n"), {"n": MIN_DOCS}
            ).all()
        else:
            total = int(connection.execute(text("SELECT count(*) FROM papers")).scalar() or 0)
            source = "SELECT search_vector FROM papers"
            if total > self.sample_docs:
                share = 100 * self.sample_docs / total
                source += f" TABLESAMPLE BERNOULLI ({share:.6f})"  # a float we made
            rows = connection.execute(
                text("SELECT word, ndoc FROM ts_stat(:q)"), {"q": source}
            ).all()
        by_length: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for term, doc in rows:
            if doc >= MIN_DOCS and term.isalpha():
                by_length[len(term)].append((str(term), int(doc)))
        with self._lock:
            self._by_length = dict(by_length)
            self._terms = frozenset(term for terms in by_length.values() for term, _ in terms)
            self._loaded = time.monotonic()

    def nearest(self, connection: Connection, stem: str) -> str | None:
        """The nearest term (of those in MIN_DOCS papers or more) within the distance
        allowed, or None."""
        self.ready(connection)
        with self._lock:
            by_length = self._by_length
        bound = 1 if len(stem) <= 4 else MAX_DISTANCE
        letters = set(stem)
        best: tuple[int, int, str] | None = None
        for size in range(len(stem) - bound, len(stem) + bound + 1):
            for term, docs in by_length.get(size, ()):
                # Each edit changes at most two letters of the set: a cheap first test.
                if len(letters ^ set(term)) > 2 * bound:
                    continue
                found = distance(stem, term, bound)
                if found <= bound and (best is None or (found, -docs) < best[:2]):
                    best = (found, -docs, term)
        return best[2] if best else None


def correct(connection: Connection, vocabulary: Vocabulary, query: Query, typed: str) -> str | None:
    """``typed`` with each word the index lacks replaced by its nearest known word, or None
    when nothing was replaced."""
    dialect = connection.dialect.name
    words = sorted(
        {
            word
            for term in query.positive
            if not term.prefix
            for word in split_words(term.text)
            if word.isalpha()
        }
    )
    if not words:
        return None
    ignored = _stop_words(connection, words)
    found = _found(connection, words)
    stemmed = index_stems(connection, words)
    # (PostgreSQL indexes author names unstemmed: a word may be there as typed.)
    unknown = [(w, s) for w, s in zip(words, stemmed, strict=True) if w not in found]
    # (Terms the vocabulary holds are in papers: a common word's lookup in PostgreSQL's
    # GIN index reads its whole posting list, 30 ms at 1M papers.)
    vocabulary.ready(connection)
    asked = sorted({s for _, s in unknown if s} | {w for w, _ in unknown})
    known = {term for term in asked if vocabulary.knows(term)}
    present = known | _present(connection, [term for term in asked if term not in known])
    fixes: dict[str, str] = {}
    for word, stem in zip(words, stemmed, strict=True):
        if word in ignored or word in found or stem in present or word in present:
            continue
        term = vocabulary.nearest(connection, stem)
        if term is not None and term != stem:
            fixes[word] = _surface(connection, word, term, dialect)
    if not fixes:
        return None
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(word) for word in fixes) + r")(?!\w)", re.IGNORECASE
    )

    def replace(match: re.Match[str]) -> str:
        word = match.group(1)
        fix = fixes.get(word.casefold(), word)
        return fix.capitalize() if word[:1].isupper() else fix  # "Pfistr" -> "Pfister"

    fixed = pattern.sub(replace, typed)
    return fixed if fixed != typed else None


def _found(connection: Connection, words: list[str]) -> set[str]:
    """SQLite: the words whose stem the index holds, each found by one step into its
    posting list (FTS5 stems the word as it indexed it). The vocabulary table counts a
    term's whole list first: "to" (in 900,000 of 1M papers) took 100 ms. PostgreSQL: none
    (_present asks)."""
    if connection.dialect.name != "sqlite" or not words:
        return set()
    statement = text("SELECT 1 FROM papers_fts WHERE papers_fts MATCH :m LIMIT 1")
    # (The words are letters only: quoted, a term of FTS5's syntax.)
    return {w for w in words if connection.execute(statement, {"m": f'"{w}"'}).first()}


def _present(connection: Connection, terms: list[str]) -> set[str]:
    """The terms the index holds (looked up one by one: the vocabulary kept in memory
    leaves out the rarest, most of the index's terms)."""
    if not terms:
        return set()
    if connection.dialect.name == "sqlite":
        statement = text("SELECT term FROM papers_fts_vocab WHERE term IN :terms").bindparams(
            bindparam("terms", expanding=True)
        )
        return {str(row[0]) for row in connection.execute(statement, {"terms": terms})}
    rows = connection.execute(
        text(
            "SELECT t FROM unnest(CAST(:terms AS text[])) AS t WHERE EXISTS "
            "(SELECT 1 FROM papers p WHERE p.search_vector @@ to_tsquery('simple', t))"
        ),
        {"terms": terms},
    )
    return {str(row[0]) for row in rows}


def _stop_words(connection: Connection, words: list[str]) -> set[str]:
    """PostgreSQL's English stop words among ``words`` (not in the stemmed index; FTS5
    indexes every word)."""
    if connection.dialect.name == "sqlite":
        return set()
    rows = connection.execute(
        text(
            "SELECT w FROM unnest(CAST(:words AS text[])) AS w "
            "WHERE numnode(plainto_tsquery('english', w)) = 0"
        ),
        {"words": words},
    )
    return {str(row[0]) for row in rows}


def _surface(connection: Connection, typed: str, term: str, dialect: str) -> str:
    """The word the papers use for the stem ``term``: of a few papers' words that stem to
    it, the nearest to what was typed (then the most common)."""
    if dialect == "sqlite":
        # (FTS5 stems the query's words again: a prefix query on the stem finds its papers.)
        statement = text(
            "SELECT p.title, substr(p.abstract, 1, 3000) FROM papers_fts "
            "JOIN papers p ON p.pk = papers_fts.rowid WHERE papers_fts MATCH :m LIMIT :n"
        )
        params: dict[str, object] = {"m": f'"{term}"*', "n": SURFACE_TEXTS}
    else:
        statement = text(
            "SELECT p.title, substr(p.abstract, 1, 3000) FROM papers p "
            "WHERE p.search_vector @@ to_tsquery('simple', :m) LIMIT :n"
        )
        params = {"m": term, "n": SURFACE_TEXTS}
    counts: Counter[str] = Counter()
    for title, abstract in connection.execute(statement.bindparams(bindparam("n")), params):
        counts.update(w for w in split_words(f"{title} {abstract}") if w.isalpha())
    forms = list(counts)
    matching = [w for w, s in zip(forms, index_stems(connection, forms), strict=True) if s == term]
    if not matching:
        return term
    return min(matching, key=lambda w: (distance(typed, w, 99), -counts[w], w))
