"""The SQLite stemmer is FTS5's own: every word of 600 real abstracts (tests/data,
tokenized by FTS5 itself) stems as a real FTS5 ``porter`` table stores it. Snowball's
Porter, used before, stems "methodology" "methodologi", a term no paper holds, where FTS5
stores "methodolog" (4,883 papers at 200k): the word looked unique to similar papers."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import snowballstemmer  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from paperroute.search._porter import fts5_porter
from paperroute.search.keyword import stems

DATA = Path(__file__).parent.parent / "data" / "jsonl"


def _texts() -> list[str]:
    with gzip.open(DATA / "corpus-300.jsonl.gz", "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    for name in ("kaggle-200.jsonl", "../digest/papers.jsonl"):
        with (DATA / name).open(encoding="utf-8") as lines:
            records += [json.loads(line) for line in lines]
    return [f"{r['title']} {r.get('abstract') or r.get('summary') or ''}" for r in records]


def _fts5_terms(texts: list[str]) -> dict[str, str]:
    """Each token of ``texts`` (as FTS5's unicode61 makes them) -> the term FTS5's porter
    stores for it, both read from real FTS5 tables."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE raw USING fts5(t, tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE raw_v USING fts5vocab(raw, row)")
    db.executemany("INSERT INTO raw(t) VALUES (?)", [(t,) for t in texts])
    words = [str(row[0]) for row in db.execute("SELECT term FROM raw_v")]
    db.execute(
        "CREATE VIRTUAL TABLE st USING fts5(t, tokenize='porter unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE VIRTUAL TABLE st_v USING fts5vocab(st, instance)")
    db.executemany("INSERT INTO st(rowid, t) VALUES (?, ?)", list(enumerate(words, 1)))
    by_row = {int(doc): str(term) for term, doc in db.execute("SELECT term, doc FROM st_v")}
    return {word: by_row[i] for i, word in enumerate(words, 1)}


def test_every_word_of_real_abstracts_stems_as_fts5_stores_it() -> None:
    terms = _fts5_terms(_texts())
    assert len(terms) > 8000
    words = sorted(terms)
    assert stems(words) == [terms[w] for w in words]
    # The old stemmer (snowball's Porter) differs on some of these words: the test can fail.
    porter = snowballstemmer.stemmer("porter")
    departures = [w for w in words if 3 <= len(w) <= 64 and porter.stemWord(w) != terms[w]]
    assert len(departures) >= 5, departures
    assert terms["methodology"] == fts5_porter("methodology") == "methodolog"


def test_words_the_abstracts_lack_stem_as_fts5_stores_them() -> None:
    words = [
        "methodology", "technologies", "assembly", "ably", "feed", "agreed", "hopping",
        "filing", "conflated", "sized", "happy", "sky", "relational", "conditional",
        "digitizer", "sensibility", "electrical", "hopefulness", "irritant", "adoption",
        "schrodinger", "naive", "caffe", "zzzing", "yyyed", "éclair", "naïveté", "ü" * 40,
        "at", "bed", "x" * 64, "x" * 65, "ies", "sss", "eed",
    ]  # fmt: skip
    terms = _fts5_terms(words)
    assert [fts5_porter(w) for w in terms] == list(terms.values())
    assert set(terms) >= {"methodology", "at", "x" * 64, "x" * 65, "ies"}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdeiloprstuyz0123456789", min_size=1, max_size=70),
        min_size=1,
        max_size=40,
    )
)
def test_any_ascii_token_stems_as_fts5_stores_it(tokens: list[str]) -> None:
    terms = _fts5_terms([" ".join(tokens)])
    assert {w: fts5_porter(w) for w in terms} == terms


def test_a_stem_that_cuts_a_character_apart_is_the_token() -> None:
    # FTS5 drops the last of two equal bytes before "ed": the third byte of U+1000 (e1 80
    # 80). The term it stores is not UTF-8; the token stands for it (any str can be bound).
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE st USING fts5(t, tokenize='porter unicode61')")
    db.execute("CREATE VIRTUAL TABLE st_v USING fts5vocab(st, row)")
    db.execute("INSERT INTO st(t) VALUES ('a\u1000ed')")
    db.text_factory = bytes
    assert [row[0] for row in db.execute("SELECT term FROM st_v")] == [b"a\xe1\x80"]
    assert fts5_porter("a\u1000ed") == "a\u1000ed"
    assert stems(["a\u1000ed", "\u4e38\u4e38ing"]) == ["a\u1000ed", "\u4e38\u4e38ing"]
