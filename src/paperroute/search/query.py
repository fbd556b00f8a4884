"""The search query language: words, "phrases", prefix*, -negation and name:value filters.

``parse_query`` turns what a user typed into a :class:`Query` and never raises: what it
cannot use is dropped or read as plain words, and each thing ignored is explained by one
line in ``Query.notices``. No search-engine syntax survives: a term's text holds only
letters and digits (``str.isalnum``, after NFC and ``casefold``), with single spaces between
the words of a phrase, so the operators of FTS5 and tsquery are separators or plain words.

Tokens are separated by whitespace (control characters, NUL and lone surrogates count as
whitespace); a double quote always starts a phrase, inside a token or not. A token is:

* ``name:value`` with name in cat, category, author, after, before, has (case-insensitive);
  the value is the rest of the token or a quoted string;
* ``"a phrase"`` or ``-"a phrase"``;
* anything else: its words, split on every character that is not a letter or digit; a
  trailing ``*`` makes the last word a prefix; a leading ``-`` negates every word.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY_CHARS = 2000
MAX_TERMS = 32
MAX_CATEGORY_CHARS = 40
MAX_AUTHOR_CHARS = 300
MIN_PREFIX_CHARS = 2
MAX_NOTICES = 10
_SHOW_CHARS = 40

FILTER_NAMES = ("cat", "category", "author", "after", "before", "has")
_FILTER_RE = re.compile(r"(category|cat|author|after|before|has):", re.IGNORECASE | re.ASCII)
_CATEGORY_RE = re.compile(r"[A-Za-z][A-Za-z\-]*(?:\.[A-Za-z\-]+)?")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


@dataclass(frozen=True, slots=True)
class Term:
    """One search term: a word, a phrase (words joined by single spaces) or a word prefix."""

    text: str
    phrase: bool = False
    prefix: bool = False
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: terms (all must match, negated ones must not) and filters.

    ``categories``: any of them (OR); ``authors``: all of them (AND); ``after`` inclusive,
    ``before`` exclusive; ``notices``: what was ignored and why, one line each.
    """

    terms: tuple[Term, ...] = ()
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    after: datetime.date | None = None
    before: datetime.date | None = None
    has_code: bool = False
    notices: tuple[str, ...] = ()

    @property
    def positive(self) -> tuple[Term, ...]:
        """The terms that must match (those not negated)."""
        return tuple(t for t in self.terms if not t.negated)

    @property
    def empty(self) -> bool:
        """True when there is nothing to search for: no positive term and no filter."""
        return not self.positive and not (
            self.categories or self.authors or self.after or self.before or self.has_code
        )


def split_words(text: str) -> list[str]:
    """The search words of ``text``, exactly as ``parse_query`` makes them.

    NFC, split on every character that is not ``str.isalnum``, each word case-folded (and
    NFC again, dropping any non-alphanumeric character that case folding introduced).
    """
    return _words(unicodedata.normalize("NFC", text))


def parse_query(text: str) -> Query:
    """Parse a user's query; never raises (see the module docstring for the language)."""
    return _Parser(text).parse()


def _fold(word: str) -> str:
    folded = unicodedata.normalize("NFC", word.casefold())
    if folded.isalnum():
        return folded
    return "".join(ch for ch in folded if ch.isalnum())


def _words(text: str) -> list[str]:
    words: list[str] = []
    start = -1
    for i, ch in enumerate(text):
        if ch.isalnum():
            if start < 0:
                start = i
        elif start >= 0:
            words.append(text[start:i])
            start = -1
    if start >= 0:
        words.append(text[start:])
    folded = (_fold(w) for w in words)
    return [w for w in folded if w]


# Typographic double quotes, as phones and word processors turn '"' into: phrase quotes.
_QUOTES = str.maketrans(dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\uff02", '"'))


def _clean(text: str) -> str:
    """Control characters (NUL included) and lone surrogates become spaces; typographic
    double quotes ("smart" quotes, guillemets) become '"'; then NFC."""
    chars = [" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text]
    return unicodedata.normalize("NFC", "".join(chars).translate(_QUOTES))


def _show(value: str) -> str:
    """A user's value, shortened and on one line, for a notice."""
    value = " ".join(value.split())
    if len(value) > _SHOW_CHARS:
        value = value[:_SHOW_CHARS] + "…"
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.truncated = len(text) > MAX_QUERY_CHARS
        self.s = _clean(text[:MAX_QUERY_CHARS])
        self.terms: list[Term] = []
        self.seen: set[Term] = set()
        self.dropped: set[Term] = set()
        self.categories: list[str] = []
        self.authors: list[str] = []
        self.author_keys: set[str] = set()
        self.after: datetime.date | None = None
        self.before: datetime.date | None = None
        self.has_code = False
        self.notices: list[str] = []

    def parse(self) -> Query:
        s, n, i = self.s, len(self.s), 0
        while i < n:
            if s[i].isspace():
                i += 1
                continue
            negated = False
            if s[i] == "-":
                if i + 1 >= n or s[i + 1].isspace():
                    i += 1  # a lone "-"
                    continue
                negated = True
                i += 1
            m = _FILTER_RE.match(s, i)
            if m:
                name = m.group(1).lower()
                value, i = self._value(m.end())
                if negated:
                    self.notices.append(f"-{name}: filters cannot be negated; ignored")
                else:
                    self._filter(name, value)
            elif s[i] == '"':
                content, i = self._quoted(i + 1)
                self._phrase(content, negated)
            else:
                j = i
                while j < n and not s[j].isspace() and s[j] != '"':
                    j += 1
                self._bare(s[i:j], negated)
                i = j
        return self._query()

    def _quoted(self, start: int) -> tuple[str, int]:
        """The text from ``start`` to the closing quote, and the index after that quote."""
        end = self.s.find('"', start)
        if end < 0:
            self.notices.append("unbalanced quote: the rest of the query is read as one phrase")
            return self.s[start:], len(self.s)
        return self.s[start:end], end + 1

    def _value(self, start: int) -> tuple[str, int]:
        s, n = self.s, len(self.s)
        if start < n and s[start] == '"':
            value, end = self._quoted(start + 1)
            return value.strip(), end
        j = start
        while j < n and not s[j].isspace() and s[j] != '"':
            j += 1
        return s[start:j], j

    def _add(self, term: Term) -> None:
        if term in self.seen or term in self.dropped:
            return
        if len(self.terms) >= MAX_TERMS:
            self.dropped.add(term)
            return
        self.seen.add(term)
        self.terms.append(term)

    def _phrase(self, content: str, negated: bool) -> None:
        words = _words(content)
        if len(words) > 1:
            self._add(Term(" ".join(words), phrase=True, negated=negated))
        elif words:
            self._add(Term(words[0], negated=negated))

    def _bare(self, token: str, negated: bool) -> None:
        stem = token.rstrip("*")
        prefix = len(stem) < len(token) and stem != "" and stem[-1].isalnum()
        words = _words(stem)
        for k, word in enumerate(words):
            is_prefix = prefix and k == len(words) - 1
            if is_prefix and len(word) < MIN_PREFIX_CHARS:
                self.notices.append(
                    f"{word}*: a prefix needs at least {MIN_PREFIX_CHARS} characters;"
                    f" searching for the word {word}"
                )
                is_prefix = False
            self._add(Term(word, prefix=is_prefix, negated=negated))

    def _filter(self, name: str, value: str) -> None:
        if not value.strip():
            self.notices.append(f"{name}: has no value; ignored")
        elif name in ("cat", "category"):
            self._category(name, value.strip())
        elif name == "author":
            self._author(value)
        elif name in ("after", "before"):
            self._date(name, value.strip())
        elif value.strip().casefold() == "code":
            self.has_code = True
        else:
            self.notices.append(f"has:{_show(value)} is not supported (only has:code); ignored")

    def _category(self, name: str, value: str) -> None:
        if len(value) > MAX_CATEGORY_CHARS or not _CATEGORY_RE.fullmatch(value):
            self.notices.append(
                f"{name}:{_show(value)} is not an arXiv category (like cs.LG); ignored"
            )
        elif value not in self.categories:
            self.categories.append(value)

    def _author(self, value: str) -> None:
        author = " ".join(value.split())
        if len(author) > MAX_AUTHOR_CHARS:
            self.notices.append(
                f"author:{_show(author)} is longer than {MAX_AUTHOR_CHARS} characters; ignored"
            )
            return
        key = author.casefold()
        if key not in self.author_keys:
            self.author_keys.add(key)
            self.authors.append(author)

    def _date(self, name: str, value: str) -> None:
        m = _DATE_RE.fullmatch(value)
        if not m:
            self.notices.append(f"{name}:{_show(value)} is not a date (use YYYY-MM-DD); ignored")
            return
        try:
            day = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            self.notices.append(f"{name}:{value}: no such date; ignored")
            return
        if name == "after":
            self.after = day if self.after is None else max(self.after, day)
        else:
            self.before = day if self.before is None else min(self.before, day)

    def _query(self) -> Query:
        first: list[str] = []
        if self.truncated:
            first.append(
                f"the query is longer than {MAX_QUERY_CHARS} characters;"
                f" only the first {MAX_QUERY_CHARS} are used"
            )
        if self.dropped:
            first.append(
                f"only the first {MAX_TERMS} search terms are used;"
                f" {len(self.dropped)} more ignored"
            )
        if self.after is not None and self.before is not None and self.after >= self.before:
            first.append(
                f"after:{self.after.isoformat()} is not before before:{self.before.isoformat()};"
                " nothing can match"
            )
        notices = list(dict.fromkeys(first + self.notices))
        if len(notices) > MAX_NOTICES:
            more = len(notices) - (MAX_NOTICES - 1)
            notices = [*notices[: MAX_NOTICES - 1], f"and {more} more notices"]
        return Query(
            terms=tuple(self.terms),
            categories=tuple(self.categories),
            authors=tuple(self.authors),
            after=self.after,
            before=self.before,
            has_code=self.has_code,
            notices=tuple(notices),
        )
