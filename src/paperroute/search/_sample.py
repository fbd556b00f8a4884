"""A random sample of the papers' keyword-index terms with their positions (PostgreSQL),
for how many papers match a tsquery when counting them would read too many rows.

PostgreSQL's GIN index knows which papers hold a word, not where: a phrase is re-checked in
the tsvector of every paper with its words, and a count of 10,000 plain matches visits
10,000 rows. At 1M papers "consistency models" has its words in 133,000 papers and the
phrase in 1,011: an exact count took 0.4-1.3 s. The sample answers in a millisecond, from
memory, with the server's own parse of the query (its tsquery as text), so stemming and
stop words are the index's."""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text

I64 = npt.NDArray[np.int64]

# A key is paper * POSITIONS + position (tsvector positions are at most 16,383).
POSITIONS = 1 << 14
_LEXEME = re.compile(r"'((?:[^'\\]|''|\\.)*)'(?::([0-9A-D,]+))?")
_WEIGHTS = str.maketrans("", "", "ABCD")
_TOKEN = re.compile(r"\s*(?:'((?:[^'\\]|''|\\.)*)'(:[*A-D]+)?|(<->|<\d+>)|([!&|()]))")


class Unsupported(ValueError):
    """A tsquery the sample does not evaluate (an operator inside a phrase)."""


def unquote(quoted: str) -> str:
    if "'" not in quoted and "\\" not in quoted:
        return quoted
    return re.sub(r"\\(.)", r"\1", quoted.replace("''", "'"))


@dataclass(frozen=True, slots=True)
class Estimate:
    """Papers matching a query, estimated from the sample: ``total`` (rounded to two
    significant digits, unless the sample is every paper), ``low`` and ``high`` (four
    standard deviations of a Poisson count either side, and two papers more), and
    ``candidates``: as many beyond doubt (``high``'s way) of the papers that hold its
    words, phrases read as every word anywhere: the rows an exact count would visit."""

    total: int
    low: float
    high: float
    candidates: float
    with_words: float  # the papers with its words, as estimated (candidates' centre)


class TermSample:
    """The terms and positions of a random sample of the papers (``fraction`` of them).
    ``vocabulary``: the sample's lexemes, sorted; ``starts``: where each lexeme's keys
    begin in ``keys`` (sorted within a lexeme)."""

    def __init__(
        self, vocabulary: list[str], starts: I64, keys: I64, papers: int, fraction: float
    ) -> None:
        self.vocabulary, self.starts, self.keys = vocabulary, starts, keys
        self.papers, self.fraction = papers, fraction

    @classmethod
    def of(cls, vectors: list[str], fraction: float) -> TermSample:
        """From tsvectors as PostgreSQL writes them ('word':1A,5 'other':3)."""
        ids: dict[str, int] = {}
        lexemes: list[int] = []
        counts: list[int] = []
        papers: list[int] = []
        written: list[str] = []  # each lexeme's positions, as written
        for paper, vector in enumerate(vectors):
            for quoted, written_positions in _LEXEME.findall(vector):
                lexemes.append(ids.setdefault(quoted, len(ids)))  # (unquoted below)
                # (A lexeme without positions, from a stripped tsvector, still counts.)
                positions = written_positions or "1"
                counts.append(positions.count(",") + 1)
                papers.append(paper)
                written.append(positions)
        joined = ",".join(written).translate(_WEIGHTS)
        flat = np.array(joined.split(",") if joined else [], dtype=np.int64)
        repeats = np.asarray(counts, dtype=np.int64)
        keys = np.repeat(np.asarray(papers, dtype=np.int64) * POSITIONS, repeats) + flat
        names = {quoted: unquote(quoted) for quoted in ids}
        by_name = sorted(ids, key=names.__getitem__)
        rank = np.zeros(len(ids), dtype=np.int64)
        rank[[ids[name] for name in by_name]] = np.arange(len(ids))
        ranked = np.repeat(rank[np.asarray(lexemes, dtype=np.int64)], repeats)
        order = np.lexsort((keys, ranked))
        starts = np.searchsorted(ranked[order], np.arange(len(ids) + 1)).astype(np.int64)
        vocabulary = [names[quoted] for quoted in by_name]
        return cls(vocabulary, starts, keys[order], len(vectors), fraction)

    @classmethod
    def read(cls, connection: Connection, sample_docs: int) -> TermSample:
        """About ``sample_docs`` papers drawn at random (all of them in a smaller
        collection)."""
        total = int(connection.execute(text("SELECT count(*) FROM papers")).scalar() or 0)
        fraction = min(1.0, sample_docs / max(1, total))
        source = "SELECT search_vector::text FROM papers"
        if fraction < 1.0:
            source += f" TABLESAMPLE BERNOULLI ({100 * fraction:.6f})"  # a float we made
        vectors = [str(row[0] or "") for row in connection.execute(text(source))]
        actual = len(vectors) / total if total else 1.0
        return cls.of(vectors, actual)

    def document_frequencies(self) -> dict[str, int]:
        """Each lexeme's papers in the sample, scaled to the collection."""
        lexeme_of = np.repeat(np.arange(len(self.vocabulary)), np.diff(self.starts))
        pairs = np.unique(lexeme_of * self.papers + self.keys // POSITIONS)  # (lexeme, paper)
        counts = np.bincount(pairs // max(1, self.papers), minlength=len(self.vocabulary))
        return {
            lexeme: max(1, round(int(count) / self.fraction))
            for lexeme, count in zip(self.vocabulary, counts.tolist(), strict=True)
        }

    def estimate(self, tsquery: str) -> Estimate:
        """How many papers of the collection match ``tsquery`` (its text as PostgreSQL
        writes it); Unsupported for an operator inside a phrase."""
        tree = parse_tsquery(tsquery)
        try:
            found = len(self._papers(tree, words_only=False))
            candidates = len(self._papers(tree, words_only=True))
        except RecursionError as exc:  # (parentheses nested hundreds deep)
            raise Unsupported("a tsquery nested too deep") from exc
        # (A sample of every paper, as in a small collection, counts them as they were.)
        return Estimate(
            found if self.fraction >= 1.0 else _two_digits(found / self.fraction),
            max(0.0, found - _spread(found)) / self.fraction,
            (found + _spread(found)) / self.fraction,
            (candidates + _spread(candidates)) / self.fraction,
            candidates / self.fraction,
        )

    def _lexeme(self, word: str, prefix: bool) -> I64:
        at = bisect.bisect_left(self.vocabulary, word)
        if not prefix:
            if at < len(self.vocabulary) and self.vocabulary[at] == word:
                return self.keys[self.starts[at] : self.starts[at + 1]]
            return np.zeros(0, np.int64)
        end = bisect.bisect_left(self.vocabulary, word + "\U0010ffff")
        return np.sort(self.keys[self.starts[at] : self.starts[end]])

    def _positions(self, node: Node) -> I64:
        """Keys of where ``node`` (a lexeme or a phrase of them) ends. (A phrase of many
        words is a long chain nested to the left: walked, not recursed.)"""
        chain: list[tuple[Node, int]] = []
        while node[0] == "phrase":
            chain.append((node[2], int(node[3])))
            node = node[1]
        if node[0] != "lexeme":
            raise Unsupported(f"{node[0]} inside a phrase")
        keys = self._lexeme(node[1], node[2])
        for right_node, distance in reversed(chain):
            right = self._positions(right_node)
            right = right[right % POSITIONS >= distance]
            keys = right[_within(right - distance, keys)]
        return keys

    def _papers(self, node: Node, *, words_only: bool) -> I64:
        kind = node[0]
        if kind == "lexeme" or (kind == "phrase" and not words_only):
            return _distinct(self._positions(node) // POSITIONS)
        if kind == "not":
            return np.setdiff1d(
                np.arange(self.papers), self._papers(node[1], words_only=words_only)
            )
        # A chain of one operator nests to the left: its operands, walked.
        operands: list[Node] = []
        while node[0] == kind:
            operands.append(node[2])
            node = node[1]
        operands.append(node)
        found = self._papers(operands.pop(), words_only=words_only)
        for operand in reversed(operands):
            other = self._papers(operand, words_only=words_only)
            # ("and", or a phrase read as its words: both in)
            found = np.union1d(found, other) if kind == "or" else found[_within(found, other)]
        return found


def _distinct(ordered: I64) -> I64:
    """The distinct values of a sorted array."""
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _within(values: I64, ordered: I64) -> npt.NDArray[np.bool_]:
    """Which of ``values`` are in the sorted array ``ordered``."""
    if not len(ordered):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return np.asarray(ordered[at] == values)


def _spread(count: int) -> float:
    return 4.0 * math.sqrt(count) + 2.0


def _two_digits(value: float) -> int:
    if value < 100:
        return round(value)
    scale = 10 ** (int(math.log10(value)) - 1)
    return int(round(value / scale) * scale)


# ("lexeme", word, prefix) | ("not", node) | ("and"/"or", left, right)
# | ("phrase", left, right, distance)
Node = tuple[Any, ...]


def parse_tsquery(tsquery: str) -> Node:
    """A tsquery's text, as PostgreSQL writes it, parsed; Unsupported when it cannot be."""
    try:
        return _Parser(tsquery).parse()
    except RecursionError as exc:  # (parentheses nested hundreds deep)
        raise Unsupported("a tsquery nested too deep") from exc


class _Parser:
    """PostgreSQL's tsquery text: operands 'word' (:* a prefix, :AB weights, ignored),
    ! binds tightest, then <-> / <N>, then &, then |."""

    def __init__(self, source: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        at = 0
        source = source.rstrip()
        while at < len(source):
            match = _TOKEN.match(source, at)
            if match is None:
                raise Unsupported(f"cannot read the tsquery at {source[at : at + 20]!r}")
            at = match.end()
            if match.group(1) is not None:
                flags = match.group(2) or ""
                self.tokens.append(("*" if "*" in flags else "'", unquote(match.group(1))))
            else:
                self.tokens.append(("op", match.group(3) or match.group(4)))
        self.at = 0

    def parse(self) -> Node:
        if not self.tokens:
            raise Unsupported("an empty tsquery")
        node = self._or()
        if self.at != len(self.tokens):
            raise Unsupported("trailing operators in the tsquery")
        return node

    def _peek(self) -> str | None:
        """The next operator (None at the end or before a word: a word is never one)."""
        if self.at >= len(self.tokens) or self.tokens[self.at][0] != "op":
            return None
        return self.tokens[self.at][1]

    def _or(self) -> Node:
        node = self._and()
        while self._peek() == "|":
            self.at += 1
            node = ("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._phrase()
        while self._peek() == "&":
            self.at += 1
            node = ("and", node, self._phrase())
        return node

    def _phrase(self) -> Node:
        node = self._not()
        while (op := self._peek()) is not None and op.startswith("<"):
            self.at += 1
            distance = 1 if op == "<->" else int(op[1:-1])
            node = ("phrase", node, self._not(), distance)
        return node

    def _not(self) -> Node:
        if self.at >= len(self.tokens):
            raise Unsupported("a tsquery cut short")
        kind, value = self.tokens[self.at]
        self.at += 1
        if kind == "op" and value == "!":
            return ("not", self._not())
        if kind == "op" and value == "(":
            node = self._or()
            if self._peek() != ")":
                raise Unsupported("an unclosed parenthesis in the tsquery")
            self.at += 1
            return node
        if kind == "op":
            raise Unsupported(f"an operator where a word belongs: {value}")
        return ("lexeme", value, kind == "*")
