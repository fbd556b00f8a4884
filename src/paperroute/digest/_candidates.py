"""The papers a digest run chooses from, loaded once and indexed in memory.

Selecting with one SQL query per subscriber does not scale (100,000 subscribers, a few
thousand new papers a day): the run loads the window's papers once, indexes them by
category, author and word, and answers each distinct keyword query, category and author
once for all subscribers who chose it (memoised).

Keyword queries use the search query language (search/query.py) and its word splitting, so
a digest keyword means what it means in the search box: words (all must match), "phrases",
prefix*, -excluded, and the filters cat:, author:, has:code. Matching is on the words of
the title, abstract and author names, stemmed as the search index stems them (search/
keyword.py ``stems``: Porter on SQLite, Snowball English on PostgreSQL), so "model"
matches "models" and "modeling" in a digest as in the search box, and a "phrase" matches
the same words in any of their forms, in order. A prefix* matches the words as written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from ..config import Config
from ..reading import Card
from ..reading import sql as trending
from ..reading.sql import load_cards, visible
from ..search.keyword import stems
from ..search.query import Query, Term, parse_query, split_words
from ..store.merge import fold_name
from ..store.schema import daily_entries
from ..store.types import as_date

MAX_WINDOW_DAYS = 14


def canonical_category(category: str) -> str:
    """arXiv's case: archive lower case, a two-letter subject class upper case (cs.CL)."""
    archive, _, subject = category.strip().partition(".")
    if not subject:
        return archive.lower()
    return f"{archive.lower()}.{subject.upper() if len(subject) == 2 else subject.lower()}"


@dataclass(slots=True)
class _Text:
    sequence: list[str]  # every word, in order: phrases are checked against it
    stemmed: list[str] | None = None  # their stems, made the first time a phrase asks


@dataclass(slots=True)
class Candidates:
    """The papers first listed in [start, end], with their trending scores and indexes."""

    start: dt.date
    end: dt.date
    cards: list[Card]
    trend: list[float]  # per card
    trending_order: list[int]  # card indexes with a positive upvote count, best first
    by_category: dict[str, list[int]] = field(default_factory=dict)
    by_author: dict[str, list[int]] = field(default_factory=dict)
    by_surname: dict[str, list[int]] = field(default_factory=dict)
    by_word: dict[str, set[int]] = field(default_factory=dict)
    texts: list[_Text] = field(default_factory=list)
    dialect: str = "sqlite"  # which stemmer: the search index's on this database
    by_stem: dict[str, set[int]] = field(default_factory=dict)
    stem_of: dict[str, str] = field(default_factory=dict)  # every indexed word's stem
    _queries: dict[str, list[int]] = field(default_factory=dict)
    _prefixes: dict[str, set[int]] = field(default_factory=dict)

    def category(self, name: str) -> list[int]:
        return self.by_category.get(canonical_category(name), [])

    def author(self, name: str) -> list[int]:
        """Papers by ``name``: the full name, or one word matching a surname."""
        folded = fold_name(name)
        if " " in folded:
            return self.by_author.get(folded, [])
        return sorted(set(self.by_author.get(folded, [])) | set(self.by_surname.get(folded, [])))

    def keyword(self, text: str) -> list[int]:
        """Papers matching a keyword query (memoised: most subscribers share queries)."""
        found = self._queries.get(text)
        if found is None:
            found = self._match(parse_query(text))
            self._queries[text] = found
        return found

    def _stem(self, word: str) -> str:
        found = self.stem_of.get(word)
        if found is None:
            found = stems([word], self.dialect)[0]
            self.stem_of[word] = found
        return found

    def _stemmed(self, i: int) -> list[str]:
        text = self.texts[i]
        if text.stemmed is None:
            stem_of = self.stem_of
            text.stemmed = [stem_of[w] for w in text.sequence]
        return text.stemmed

    def _term(self, term: Term) -> set[int]:
        if term.phrase:
            words = [self._stem(w) for w in term.text.split(" ")]
            hits = set.intersection(*(self.by_stem.get(w, set()) for w in words))
            return {i for i in hits if _has_sequence(self._stemmed(i), words)}
        if term.prefix:
            cached = self._prefixes.get(term.text)
            if cached is None:
                cached = set()
                for word, ids in self.by_word.items():
                    if word.startswith(term.text):
                        cached |= ids
                self._prefixes[term.text] = cached
            return cached
        return self.by_stem.get(self._stem(term.text), set())

    def _match(self, query: Query) -> list[int]:
        if query.empty:
            return []
        positive = [t for t in query.terms if not t.negated]
        if positive:
            matched = set.intersection(*(self._term(t) for t in positive))
        else:
            matched = set(range(len(self.cards)))
        for term in query.terms:
            if term.negated:
                matched -= self._term(term)
        if query.categories:
            allowed = {i for c in query.categories for i in self.category(c)}
            matched &= allowed
        for name in query.authors:
            matched &= set(self.author(name))
        if query.has_code:
            matched = {i for i in matched if self.cards[i].code_url}
        if query.after or query.before:
            matched = {
                i
                for i in matched
                if (day := self.cards[i].day) is not None
                and (query.after is None or day >= query.after)
                and (query.before is None or day < query.before)
            }
        return sorted(matched)


def _has_sequence(sequence: list[str], words: list[str]) -> bool:
    n = len(words)
    first = words[0]
    return any(
        sequence[i] == first and sequence[i : i + n] == words for i in range(len(sequence) - n + 1)
    )


_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


def _split(text: str) -> list[str]:
    """split_words(text), with a fast path for ASCII text: there the query parser's rule
    (runs of str.isalnum characters, case-folded) is exactly [A-Za-z0-9]+ lower-cased."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    return split_words(text)


def first_listed(connection: Connection, start: dt.date, end: dt.date) -> list[int]:
    """Visible papers whose first listing day lies in [start, end], newest first."""
    first = func.min(daily_entries.c.day)
    rows = connection.execute(
        select(daily_entries.c.paper_pk, first.label("first"))
        .where(visible(daily_entries.c.paper_pk))
        .group_by(daily_entries.c.paper_pk)
        .having(first >= start, first <= end)
        .order_by(first.desc(), daily_entries.c.paper_pk.desc())
    )
    return [int(row.paper_pk) for row in rows]


def reference_day(connection: Connection, as_of: dt.datetime) -> dt.date | None:
    """The newest listing day on or before ``as_of``'s UTC date: digests cover up to it, so
    a late feed delays the digest's content, never empties it by accident."""
    value = connection.scalar(
        select(func.max(daily_entries.c.day)).where(daily_entries.c.day <= as_of.date())
    )
    return as_date(value)


def load(connection: Connection, config: Config, start: dt.date, end: dt.date) -> Candidates:
    """Load and index the papers first listed in [start, end]."""
    pks = first_listed(connection, start, end)
    cards = load_cards(connection, pks) if pks else []
    weights = trending.Weights.from_config(config)
    reference = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    by_pk = {c.pk: c for c in trending.candidates(connection, pks)} if pks else {}
    trend: list[float] = []
    for card in cards:
        candidate = by_pk.get(card.pk)
        trend.append(
            trending.score(candidate, reference, weights, "week").score if candidate else 0.0
        )
    return index(start, end, cards, trend, connection.dialect.name)


def index(
    start: dt.date,
    end: dt.date,
    cards: Sequence[Card],
    trend: list[float],
    dialect: str = "sqlite",
) -> Candidates:
    """Build the in-memory indexes over ``cards`` (``trend``: their trending scores);
    words are stemmed as the search index of ``dialect`` stems them."""
    found = Candidates(
        start=start,
        end=end,
        cards=list(cards),
        trend=trend,
        dialect=dialect,
        trending_order=sorted(
            (i for i, c in enumerate(cards) if c.upvotes > 0),
            key=lambda i: (-trend[i], -cards[i].upvotes, i),
        ),
    )
    by_category: defaultdict[str, list[int]] = defaultdict(list)
    by_author: defaultdict[str, list[int]] = defaultdict(list)
    by_surname: defaultdict[str, list[int]] = defaultdict(list)
    by_word: defaultdict[str, set[int]] = defaultdict(set)
    for i, card in enumerate(cards):
        archives: set[str] = set()
        # A paper without categories of its own is in those inferred for it (issue 11).
        for category in card.categories or card.inferred_categories:
            canonical = canonical_category(category)
            by_category[canonical].append(i)
            archives.add(canonical.partition(".")[0])
        for archive in archives:
            if archive not in (card.categories or card.inferred_categories):
                by_category[archive].append(i)
        for name in card.authors:
            folded = fold_name(name)
            by_author[folded].append(i)
            surname = folded.rpartition(" ")[2]
            if surname:
                by_surname[surname].append(i)
        sequence = _split(f"{card.title} . {card.abstract} . {' . '.join(card.authors)}")
        for word in set(sequence):
            by_word[word].add(i)
        found.texts.append(_Text(sequence))
    found.by_category = dict(by_category)
    found.by_author = dict(by_author)
    found.by_surname = dict(by_surname)
    found.by_word = dict(by_word)
    # Stemmed once per distinct word, not per occurrence: the stemmer is Python.
    vocabulary = list(by_word)
    found.stem_of = dict(zip(vocabulary, stems(vocabulary, dialect), strict=True))
    by_stem: defaultdict[str, set[int]] = defaultdict(set)
    for word, ids in by_word.items():
        by_stem[found.stem_of[word]] |= ids
    found.by_stem = dict(by_stem)
    return found
