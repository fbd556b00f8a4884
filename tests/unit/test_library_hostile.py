"""Hostile library files (recommend/library.py): RIS values wrapped over endless lines or
entries of endless tags are skipped with a reason, the rest of the file still comes
through; nothing grows with the square of the file."""

from __future__ import annotations

import pytest

from paperroute.recommend.library import (
    MAX_RIS_LINES,
    MAX_RIS_VALUE,
    LibraryError,
    parse_library,
)

GOOD = b"TY  - JOUR\nTI  - A wrapped\n   title of a paper\nDO  - 10.1000/good\nER  - \n"


def test_a_wrapped_ris_value_is_joined() -> None:
    parsed = parse_library(GOOD, "mine.ris")
    assert parsed.format == "ris"
    assert [e.title for e in parsed.entries] == ["A wrapped title of a paper"]


def test_a_ris_value_wrapped_past_the_cap_skips_its_entry_only() -> None:
    lines = b"\n".join([b"  some more words of the abstract"] * (MAX_RIS_VALUE // 30 + 10))
    hostile = b"TY  - JOUR\nTI  - Hostile\nAB  - start\n" + lines + b"\nER  - \n"
    parsed = parse_library(GOOD + hostile + GOOD, "mine.ris")
    assert len(parsed.entries) == 2
    assert [s.where for s in parsed.skipped] == ["entry at line 6"]
    assert f"longer than {MAX_RIS_VALUE:,} characters" in parsed.skipped[0].reason


def test_a_ris_value_on_one_huge_line_is_skipped() -> None:
    hostile = b"TY  - JOUR\nTI  - " + b"x" * (MAX_RIS_VALUE + 1) + b"\nER  - \n"
    parsed = parse_library(hostile + GOOD, "mine.ris")
    assert len(parsed.entries) == 1 and "longer than" in parsed.skipped[0].reason


def test_an_ris_entry_of_endless_tags_is_skipped() -> None:
    hostile = b"TY  - JOUR\nTI  - Many authors\n" + b"AU  - Doe, J\n" * (MAX_RIS_LINES + 1)
    parsed = parse_library(GOOD + hostile + b"ER  - \n", "mine.ris")
    assert len(parsed.entries) == 1
    assert f"more than {MAX_RIS_LINES:,} lines" in parsed.skipped[0].reason


def test_a_file_of_only_hostile_ris_entries_is_refused_naming_the_first_problem() -> None:
    hostile = b"TY  - JOUR\nTI  - " + b"x" * (MAX_RIS_VALUE + 1) + b"\nER  - \n"
    with pytest.raises(LibraryError, match=r"no usable entry.*longer than"):
        parse_library(hostile, "mine.ris")


def test_a_bibtex_file_whose_macros_expand_past_its_size_is_refused() -> None:
    # 1.7 MB naming one 19,000-character abstract in 49,000 entries: a gigabyte to store.
    macros = b"@string{m = {" + b"a" * 19_000 + b"}}\n@string{t = {" + b"T" * 1_900 + b"}}\n"
    data = macros + b"".join(b"@misc{k%d, title=t, abstract=m}\n" % n for n in range(49_000))
    with pytest.raises(LibraryError, match=r"expands to more than [\d,]+ characters"):
        parse_library(data, "big.bib")
    # The same macros in a few entries are fine.
    few = macros + b"".join(b"@misc{k%d, title=t, abstract=m}\n" % n for n in range(20))
    assert len(parse_library(few, "few.bib").entries) == 20


def test_a_macro_too_long_for_any_entry_named_in_every_entry_stops_the_parse() -> None:
    # Each entry is refused (abstract too long) but would first be decoded from LaTeX: a
    # second or more each, for hours over 49,000 entries of a 2 MB file.
    macro = b"@string{m = {" + b"{\\'e}" * 180_000 + b"}}\n"
    data = macro + b"".join(b"@misc{k%d, title={T}, abstract=m}\n" % n for n in range(49_000))
    with pytest.raises(LibraryError, match=r"big\.bib expands to more than [\d,]+ characters"):
        parse_library(data, "big.bib")


def test_control_characters_never_reach_an_entry_or_a_skip_reason() -> None:
    ris = b"TY  - JOUR\nTI  - a\x01b\x1b[31m\nAU  - Doe\x07\nID  - k\x1b\nER  - \n"
    (entry,) = parse_library(ris, "f.ris").entries
    assert (entry.title, entry.authors, entry.key) == (
        "a\ufffdb\ufffd[31m",
        ("Doe\ufffd",),
        "k\ufffd",
    )
    data = b'[{"type": "article", "title": "T"}, {"type": "article", "id": "k\\u0000\\u001b"}]'
    parsed = parse_library(data, "f.json")
    assert [s.where for s in parsed.skipped] == ["k\ufffd\ufffd"]
