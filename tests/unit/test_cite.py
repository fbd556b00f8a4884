"""A paper's citation: the BibTeX key, escaping that keeps the entry parseable, plain text."""

from __future__ import annotations

import datetime as dt
import re

from paperroute.model import Paper
from paperroute.web.cite import bibtex_value, citation, cite_key


def _paper(**changes: object) -> Paper:
    fields: dict[str, object] = dict(
        id="1706.03762",
        title="Attention Is All You Need",
        abstract="",
        authors=("Ashish Vaswani", "Noam Shazeer"),
        categories=("cs.CL", "cs.LG"),
        arxiv_id="1706.03762",
        version=7,
        doi=None,
        submitted_at=dt.datetime(2017, 6, 12, tzinfo=dt.UTC),
        updated_at=None,
        announced_on=None,
        comments=None,
        journal_ref=None,
        license=None,
        abs_url=None,
        pdf_url=None,
        code_url=None,
        code_stars=None,
        project_url=None,
    )
    fields.update(changes)
    return Paper(**fields)  # type: ignore[arg-type]


def _braces_balance(text: str) -> bool:
    depth = 0
    for char in re.sub(r"\\.", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_the_key_is_family_name_year_and_first_word() -> None:
    assert cite_key(_paper()) == "vaswani2017attention"
    assert cite_key(_paper(authors=("Lüser, Altar",), title="On the Ünique")) == "luser2017unique"
    assert cite_key(_paper(authors=(), title="???")) == "anon2017"


def test_the_bibtex_entry_holds_the_stored_metadata() -> None:
    found = citation(_paper(doi="10.1/x_y"))
    assert found.bibtex.startswith("@misc{vaswani2017attention,\n")
    assert "  title = {{Attention Is All You Need}}," in found.bibtex
    assert "  author = {Ashish Vaswani and Noam Shazeer}," in found.bibtex
    assert "  year = {2017}," in found.bibtex
    assert "  eprint = {1706.03762}," in found.bibtex and "primaryClass = {cs.CL}" in found.bibtex
    assert "  doi = {10.1/x\\_y}," in found.bibtex
    assert found.bibtex.endswith("  url = {https://arxiv.org/abs/1706.03762}\n}")


def test_specials_are_escaped_outside_math_and_braces_always_balance() -> None:
    assert bibtex_value("R&D at 50% #1 a_b") == r"R\&D at 50\% \#1 a\_b"
    assert bibtex_value(r"Already \& escaped") == r"Already \& escaped"
    assert bibtex_value("$O(n_1)$ and n_2") == r"$O(n_1)$ and n\_2"
    for hostile in ["}, author = {Evil", "a } b {", "trailing \\", "{{{", "x}\n@misc{y,"]:
        entry = citation(_paper(title=hostile, authors=(hostile,))).bibtex
        assert _braces_balance(entry), entry
        assert entry.count("\n  ") == entry.count(" = {"), entry  # one field a line
        assert "\n@" not in entry


def test_a_name_with_and_stays_one_author() -> None:
    entry = citation(_paper(authors=("Anderson and Sons", "B. Baker"))).bibtex
    assert "author = {{Anderson and Sons} and B. Baker}" in entry


def test_plain_text() -> None:
    assert citation(_paper()).plain == (
        "Ashish Vaswani and Noam Shazeer (2017). Attention Is All You Need. arXiv:1706.03762."
        " https://arxiv.org/abs/1706.03762"
    )
    many = citation(_paper(authors=tuple(f"A{i} B" for i in range(12)))).plain
    assert many.startswith("A0 B, A1 B,") and "A9 B, et al. (2017)." in many
