from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperroute.search.query import (
    MAX_AUTHOR_CHARS,
    MAX_NOTICES,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    Query,
    Term,
    parse_query,
    split_words,
)

D = datetime.date


def w(text: str, *, prefix: bool = False, negated: bool = False) -> Term:
    return Term(text, prefix=prefix, negated=negated)


def ph(text: str, *, negated: bool = False) -> Term:
    return Term(text, phrase=True, negated=negated)


UNBALANCED = "unbalanced quote: the rest of the query is read as one phrase"

GOLDEN: list[tuple[str, Query]] = [
    # words: case-folded, split on anything not alnum (Unicode-aware)
    ("", Query()),
    ("   \t\n ", Query()),
    ("Attention", Query(terms=(w("attention"),))),
    ("GPT-4", Query(terms=(w("gpt"), w("4")))),
    ("état de l'art", Query(terms=(w("état"), w("de"), w("l"), w("art")))),
    ("Straße", Query(terms=(w("strasse"),))),
    ("İstanbul", Query(terms=(w("istanbul"),))),
    ("cafe\u0301", Query(terms=(w("café"),))),  # NFC first: the accent stays in the word
    ("x² h₂o", Query(terms=(w("x²"), w("h₂o")))),
    # phrases
    ('"a b-c"', Query(terms=(ph("a b c"),))),
    ('"Large  Language\tModels"', Query(terms=(ph("large language models"),))),
    ('"single"', Query(terms=(w("single"),))),
    ('"" " - "', Query()),
    ('foo"bar baz"', Query(terms=(w("foo"), ph("bar baz")))),
    # unbalanced quote: the rest is the phrase
    ('foo "bar baz', Query(terms=(w("foo"), ph("bar baz")), notices=(UNBALANCED,))),
    ('"', Query(notices=(UNBALANCED,))),
    ('a "b', Query(terms=(w("a"), w("b")), notices=(UNBALANCED,))),
    # prefixes
    ("trans*", Query(terms=(w("trans", prefix=True),))),
    ("Trans**", Query(terms=(w("trans", prefix=True),))),
    ("self-atten*", Query(terms=(w("self"), w("atten", prefix=True)))),
    (
        "a*",
        Query(
            terms=(w("a"),),
            notices=("a*: a prefix needs at least 2 characters; searching for the word a",),
        ),
    ),
    ("*foo", Query(terms=(w("foo"),))),
    ("foo-*", Query(terms=(w("foo"),))),
    ("foo*bar", Query(terms=(w("foo"), w("bar")))),
    ("*", Query()),
    # negation
    ("-foo", Query(terms=(w("foo", negated=True),))),
    ("-trans*", Query(terms=(w("trans", prefix=True, negated=True),))),
    ('-"a phrase"', Query(terms=(ph("a phrase", negated=True),))),
    ('-"word"', Query(terms=(w("word", negated=True),))),
    ("-GPT-4", Query(terms=(w("gpt", negated=True), w("4", negated=True)))),
    ("--foo", Query(terms=(w("foo", negated=True),))),
    ("foo - bar -", Query(terms=(w("foo"), w("bar")))),
    ("-", Query()),
    ("foo -foo", Query(terms=(w("foo"), w("foo", negated=True)))),
    # categories
    ("cat:cs.LG", Query(categories=("cs.LG",))),
    ("category:hep-th", Query(categories=("hep-th",))),
    ('cat:"physics.acc-ph"', Query(categories=("physics.acc-ph",))),
    ("CAT:cs.AI cat:cs.LG cat:cs.AI", Query(categories=("cs.AI", "cs.LG"))),
    (
        "cat:cs.LG!",
        Query(notices=("cat:cs.LG! is not an arXiv category (like cs.LG); ignored",)),
    ),
    ("cat:1cs", Query(notices=("cat:1cs is not an arXiv category (like cs.LG); ignored",))),
    ("cat:cs.LG.x", Query(notices=("cat:cs.LG.x is not an arXiv category (like cs.LG); ignored",))),
    (
        "cat:" + "a" * 41,
        Query(notices=("cat:" + "a" * 40 + "… is not an arXiv category (like cs.LG); ignored",)),
    ),
    ("cat:" + "a" * 40, Query(categories=("a" * 40,))),
    ("cat:", Query(notices=("cat: has no value; ignored",))),
    ('cat:""', Query(notices=("cat: has no value; ignored",))),
    # authors
    ('author:"Ashish   Vaswani"', Query(authors=("Ashish Vaswani",))),
    ("author:Vaswani", Query(authors=("Vaswani",))),
    ("author:Vaswani author:vaswani", Query(authors=("Vaswani",))),
    (
        'author:"Ashish Vaswani" author:Shazeer attention',
        Query(terms=(w("attention"),), authors=("Ashish Vaswani", "Shazeer")),
    ),
    ("author:Ashish Vaswani", Query(terms=(w("vaswani"),), authors=("Ashish",))),
    ('author:"O\'Brien (MIT)"', Query(authors=("O'Brien (MIT)",))),
    ('author:"a\x00b"', Query(authors=("a b",))),
    ("author:" + "x" * MAX_AUTHOR_CHARS, Query(authors=("x" * MAX_AUTHOR_CHARS,))),
    (
        "author:" + "x" * (MAX_AUTHOR_CHARS + 1),
        Query(notices=("author:" + "x" * 40 + "… is longer than 300 characters; ignored",)),
    ),
    ('author:"   "', Query(notices=("author: has no value; ignored",))),
    # dates
    ("after:2025-01-01", Query(after=D(2025, 1, 1))),
    ("before:2025-02-01", Query(before=D(2025, 2, 1))),
    ('after:"2024-02-29"', Query(after=D(2024, 2, 29))),
    (
        "after:2025-01-01 after:2025-01-10 before:2025-03-01 before:2025-02-01",
        Query(after=D(2025, 1, 10), before=D(2025, 2, 1)),
    ),
    ("after:2025-02-30", Query(notices=("after:2025-02-30: no such date; ignored",))),
    ("before:2025-13-01", Query(notices=("before:2025-13-01: no such date; ignored",))),
    ("after:0000-01-01", Query(notices=("after:0000-01-01: no such date; ignored",))),
    (
        "after:2025-1-1",
        Query(notices=("after:2025-1-1 is not a date (use YYYY-MM-DD); ignored",)),
    ),
    (
        "after:yesterday",
        Query(notices=("after:yesterday is not a date (use YYYY-MM-DD); ignored",)),
    ),
    (
        "after:２０２５-01-01",  # fullwidth digits are not ISO digits
        Query(notices=("after:２０２５-01-01 is not a date (use YYYY-MM-DD); ignored",)),
    ),
    (
        "after:2025-02-01 before:2025-02-01",
        Query(
            after=D(2025, 2, 1),
            before=D(2025, 2, 1),
            notices=("after:2025-02-01 is not before before:2025-02-01; nothing can match",),
        ),
    ),
    # has
    ("has:code", Query(has_code=True)),
    ("HAS:Code", Query(has_code=True)),
    ("has:pdf", Query(notices=("has:pdf is not supported (only has:code); ignored",))),
    # negated filters are not supported
    ("-cat:cs.LG", Query(notices=("-cat: filters cannot be negated; ignored",))),
    # unknown filters and URLs are plain text, without notices
    ("foo:bar", Query(terms=(w("foo"), w("bar")))),
    ("https://x.y", Query(terms=(w("https"), w("x"), w("y")))),
    ("(cat:cs.LG)", Query(terms=(w("cat"), w("cs"), w("lg")))),
    # operators of FTS5 / tsquery never survive as syntax
    ("a AND b OR NOT c", Query(terms=(w("a"), w("and"), w("b"), w("or"), w("not"), w("c")))),
    ("NEAR(a b, 3)", Query(terms=(w("near"), w("a"), w("b"), w("3")))),
    ("^x & y | !z <-> {w} [v] +u", Query(terms=tuple(w(c) for c in "xyzwvu"))),
    ("a:* b:ab", Query(terms=(w("a"), w("b"), w("ab")))),
    # separators: NUL, control characters, emoji; RTL letters are letters
    ("a\x00b\x1bc\x7fd", Query(terms=(w("a"), w("b"), w("c"), w("d")))),
    ("\ud800foo", Query(terms=(w("foo"),))),
    ("🙂rocket🚀ship", Query(terms=(w("rocket"), w("ship")))),
    ("👍🏽", Query()),
    ("تعلم عميق", Query(terms=(w("تعلم"), w("عميق")))),
    ('"למידה עמוקה"', Query(terms=(ph("למידה עמוקה"),))),
    # duplicates are kept once
    ("foo Foo FOO", Query(terms=(w("foo"),))),
    ('"a b" "A  B"', Query(terms=(ph("a b"),))),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden(text: str, expected: Query) -> None:
    assert parse_query(text) == expected


def test_long_input_is_truncated() -> None:
    text = "a " * 999 + "bb c"  # "bb" ends at character 2000; "c" is cut off
    q = parse_query(text)
    assert q.terms == (w("a"), w("bb"))
    assert q.notices == ("the query is longer than 2000 characters; only the first 2000 are used",)
    assert parse_query(text[:MAX_QUERY_CHARS]).notices == ()


def test_at_most_32_terms() -> None:
    words = [f"w{i}" for i in range(40)]
    q = parse_query(" ".join(words + words))
    assert q.terms == tuple(w(x) for x in words[:MAX_TERMS])
    assert q.notices == ("only the first 32 search terms are used; 8 more ignored",)
    assert parse_query(" ".join(words[:MAX_TERMS])).notices == ()


def test_notices_are_capped() -> None:
    q = parse_query(" ".join(f"has:x{i}" for i in range(20)))
    assert len(q.notices) == MAX_NOTICES
    assert q.notices[-1] == "and 11 more notices"


def test_positive_and_empty() -> None:
    q = parse_query('-foo "a b" -bar baz*')
    assert q.positive == (ph("a b"), w("baz", prefix=True))
    assert not q.empty
    assert parse_query("-foo -bar").empty
    assert parse_query("").empty
    assert parse_query("has:pdf after:2025-02-30").empty
    for text in ("cat:cs.LG", "author:x", "after:2025-01-01", "before:2025-01-01", "has:code"):
        assert not parse_query(text).empty, text


def test_split_words_matches_parse() -> None:
    assert split_words("GPT-4: Straße, İstanbul cafe\u0301 🙂") == [
        "gpt",
        "4",
        "strasse",
        "istanbul",
        "café",
    ]


def test_query_is_frozen_and_hashable() -> None:
    q = parse_query('foo "a b" cat:cs.LG')
    assert hash(q) == hash(parse_query('foo "a b" cat:cs.LG'))
    with pytest.raises(AttributeError):
        q.terms = ()  # type: ignore[misc]


def check_invariants(text: str) -> None:
    q = parse_query(text)
    assert len(q.terms) <= MAX_TERMS
    assert len(set(q.terms)) == len(q.terms)
    for t in q.terms:
        assert t.text
        assert t.text == " ".join(t.text.split(" "))
        words = t.text.split(" ")
        assert all(word and word.isalnum() for word in words), t
        assert t.phrase == (len(words) > 1), t
        assert not (t.prefix and t.phrase), t
        assert not t.prefix or len(t.text) >= 2, t
    assert q.positive == tuple(t for t in q.terms if not t.negated)
    for n in q.notices:
        assert n and len(n.splitlines()) == 1, n
    assert len(q.notices) <= MAX_NOTICES
    for a in q.authors:
        assert a and len(a) <= MAX_AUTHOR_CHARS and a == " ".join(a.split())
    for c in q.categories:
        assert 0 < len(c) <= 40 and c.isascii()
    assert parse_query(text) == q


@settings(max_examples=500)
@given(st.text())
def test_any_text(text: str) -> None:
    check_invariants(text)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=3000))
def test_any_long_text(text: str) -> None:
    check_invariants(text)


FRAGMENTS = [
    " ", "  ", "\t", "\n", "\x00", '"', '"', "-", "*", ":", "(", ")", "^", "&", "|", "!",
    "<", ">", "+", "{", "}", "[", "]", ",", "/", "'", "AND", "OR", "NOT", "NEAR", "cat:",
    "category:", "author:", "after:", "before:", "has:", "code", "cs.LG", "2025-01-01",
    "2025-02-30", "https://x.y", "foo", "Bar", "é", "GPT-4", "🙂", "عربي", "a", "İ",
]  # fmt: skip


@settings(max_examples=500)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join))
def test_mixed_syntax(text: str) -> None:
    check_invariants(text)


@given(
    st.from_regex(
        r'(?:[ "\-*:()^&|!<>+{}\[\],\x00]|cat:|author:|after:|before:|has:|AND|OR|NOT|NEAR'
        r"|https://|[a-zA-Zé0-9]{1,5}|20[0-9]{2}-[0-9]{2}-[0-9]{2})*",
        fullmatch=True,
    )
)
def test_regex_syntax(text: str) -> None:
    check_invariants(text)


@given(st.lists(st.text(alphabet="ab ", min_size=1, max_size=3), min_size=33, max_size=80))
def test_many_words(words: list[str]) -> None:
    check_invariants(" ".join(f'"{x}"' for x in words) + " " + " ".join(words))


@pytest.mark.parametrize(
    "typed",
    ["“graph neural nets”", "„graph neural nets“", "«graph neural nets»", "＂graph neural nets＂"],
)
def test_typographic_double_quotes_quote_a_phrase(typed: str) -> None:
    # Phones and word processors type “…” for '"': the reader meant a phrase.
    assert parse_query(typed) == parse_query('"graph neural nets"')
    assert parse_query(f"-{typed} x").terms == parse_query('-"graph neural nets" x').terms
