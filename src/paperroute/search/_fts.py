"""SQLite FTS5 expressions and ranked statements of the keyword search (keyword.py builds
the rest).

Two costs that grow with the corpus are kept off the path:

- **Words in nearly every paper.** FTS5 finds the papers with every word by stepping each
  word's posting list to the next paper of the others; a step into the longest lists ("a",
  "on", "the") costs about 40 us at 1M papers. "On a multi-species" counted its 910
  matches in 96 ms, "multi species" its 1,217 in 1.5 ms; and ``bm25()`` counts the papers
  of every word of its expression by reading its whole posting list, once a statement,
  to give such a word an idf of 1e-6. UBIQUITOUS words are therefore not required by the
  FTS5 expression when another word is (PostgreSQL's 'english' configuration drops its
  stop words the same way); in a phrase they leave a gap of their length (NEAR).
- **Column filters.** ``title : (...)`` is answered from the position lists of every
  column: the title tier of a fragment read the positions of its words in every abstract.
  The titles' own index (``paper_titles_fts``, migration 0016) holds a word for the papers
  with it in the title only.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from sqlalchemy import Connection, bindparam, text

from ._frequencies import stems
from .query import Query, Term

# Words in more than half of the papers (arXiv abstracts, 200k: "the" 99%, "on" 78%, "as"
# 52%; "this" is indexed as "thi", 72%; "are" as "ar", 47%, so not here). FTS5's BM25
# gives each an idf of 1e-6: they never ranked anything.
UBIQUITOUS = frozenset(
    {"a", "and", "as", "by", "for", "in", "is", "of", "on", "that", "the", "this", "to"}
    | {"we", "with"}
)
# BM25 weights of the FTS5 columns (title, authors_text, abstract).
TITLE_WEIGHT, AUTHORS_WEIGHT, ABSTRACT_WEIGHT = 10.0, 4.0, 1.0
WEIGHTS = (TITLE_WEIGHT, AUTHORS_WEIGHT, ABSTRACT_WEIGHT)


def fts5_term(term: Term) -> str:
    """A term as FTS5 syntax; a phrase without the UBIQUITOUS words at its ends, and with
    those inside it as a NEAR gap ("graph of knowledge": NEAR("graph" "knowledge", 1)), as
    PostgreSQL's phraseto_tsquery drops its stop words and keeps their distance."""
    if term.phrase and not term.negated:
        return _phrase(term.text.split(" "))
    quoted = f'"{term.text}"'  # parser guarantees no quote inside
    return quoted + "*" if term.prefix else quoted


def _phrase(words: list[str]) -> str:
    kept = [i for i, word in enumerate(words) if word not in UBIQUITOUS]
    if not kept or len(kept) == len(words):
        return '"' + " ".join(words) + '"'
    groups: list[list[str]] = []
    previous = -2
    for i in kept:
        if i != previous + 1:
            groups.append([])
        groups[-1].append(words[i])
        previous = i
    quoted = ['"' + " ".join(group) + '"' for group in groups]
    if len(quoted) == 1:
        return quoted[0]
    # Tokens between the end of the first group and the start of the last.
    gap = kept[-1] - kept[0] + 1 - len(groups[0]) - len(groups[-1])
    return f"NEAR({' '.join(quoted)}, {gap})"


def required(query: Query) -> list[Term]:
    """The positive terms FTS5 must find: the query's, less its UBIQUITOUS plain words when
    another term remains."""
    positive = [t for t in query.terms if not t.negated]
    kept = [t for t in positive if t.phrase or t.prefix or t.text not in UBIQUITOUS]
    return kept or positive


def weighty(words: list[str]) -> int:
    """How many of ``words`` are not UBIQUITOUS."""
    return sum(1 for word in words if word not in UBIQUITOUS)


def ranked_top(
    match: str,
    where: list[str],
    params: dict[str, Any],
    weights: tuple[float, float, float] = WEIGHTS,
    *,
    needs_papers: bool,
    bounded: bool,
) -> str:
    """SELECT pk, rank of the best ``:limit`` papers matching ``match`` (with ``where``),
    by BM25 over ``papers_fts``; ``bounded``: among the newest ``:bound`` matches only."""
    rank = "bm25(papers_fts, {}, {}, {})".format(*weights)
    source = "papers_fts"
    if needs_papers:
        source += " JOIN papers p ON p.pk = papers_fts.rowid"
    params["match"] = match
    conditions = " AND ".join(["papers_fts MATCH :match", *where])
    if not bounded:
        return (
            f"SELECT papers_fts.rowid AS pk, {rank} AS rank FROM {source} "
            f"WHERE {conditions} ORDER BY rank LIMIT :limit"
        )
    # The newest matches, then ranked: FTS5 walks the posting lists from the newest rowid
    # and stops there, and computes BM25 for those rows only.
    newest = (
        f"SELECT papers_fts.rowid AS pk, {rank} AS rank FROM {source} "
        f"WHERE {conditions} ORDER BY papers_fts.rowid DESC LIMIT :bound"
    )
    return f"SELECT pk, rank FROM ({newest}) ORDER BY rank, pk DESC LIMIT :limit"


def title_top(query: Query, where: list[str], params: dict[str, Any], *, needs_papers: bool) -> str:
    """SELECT pk, rank of the title tier from the titles' own index: every required term in
    the title, the newest ``:bound`` such papers ranked by BM25 over the titles. ``where``
    tests ``+paper_titles_fts.rowid`` (and ``p``'s columns when ``needs_papers``). No
    excluded term (the caller's path for those tests them anywhere in the paper)."""
    params["title_words"] = " AND ".join(fts5_term(t) for t in required(query))
    source = "paper_titles_fts"
    if needs_papers:
        source += " JOIN papers p ON p.pk = paper_titles_fts.rowid"
    newest = (
        f"SELECT paper_titles_fts.rowid AS pk, bm25(paper_titles_fts) AS rank FROM {source} "
        f"WHERE {' AND '.join(['paper_titles_fts MATCH :title_words', *where])} "
        "ORDER BY paper_titles_fts.rowid DESC LIMIT :bound"
    )
    return f"SELECT pk, rank FROM ({newest}) ORDER BY rank, pk DESC LIMIT :limit"


# BM25's constants in FTS5's bm25().
_K1, _B = 1.2, 0.75


def plain_phrase(query: Query) -> list[str] | None:
    """The words of the query's one positive term when it is a phrase that FTS5 matches
    as words side by side (no NEAR gap), else None."""
    positive = [t for t in query.terms if not t.negated]
    if len(positive) != 1 or not positive[0].phrase:
        return None
    expression = fts5_term(positive[0])
    return None if expression.startswith("NEAR(") else expression.strip('"').split(" ")


def phrase_scores(
    connection: Connection, words: list[str], pks: list[int], found: int | None = None
) -> dict[int, float]:
    """BM25 as FTS5's ``bm25(papers_fts, 10, 4, 1)`` computes it for a phrase that every one
    of ``pks`` holds, from the papers' text: FTS5 would first count every paper with the
    phrase, reading all of them ("large language": 100,000 papers at 1M, 190 ms), for an
    idf that is the same for every candidate. Here the idf is FTS5's own when ``found``
    (every paper with the phrase) is known, else estimated from how densely the candidates
    (the newest matches) lie among the newest papers; a word matches a token with its stem
    (FTS5's Porter stems: "models" for "model"); a candidate whose phrase is not found so
    counts it once (FTS5 found it)."""
    statement = text(
        "SELECT p.pk, p.title, p.authors_text, p.abstract, d.sz FROM papers p "
        "JOIN papers_fts_docsize d ON d.id = p.pk WHERE p.pk IN :pks"
    ).bindparams(bindparam("pks", expanding=True))
    rows = connection.execute(statement, {"pks": pks}).all()
    averages = connection.execute(text("SELECT block FROM papers_fts_data WHERE id = 1")).scalar()
    totals = _varints(bytes(averages or b""))
    papers = max(1, totals[0] if totals else len(rows))
    average = sum(totals[1:]) / papers if len(totals) > 1 else 1.0
    if found is None:
        newest = max(pks)
        density = len(pks) * newest / max(1, newest - min(pks) + 1)
    else:
        density = found
    idf = max(1e-6, math.log((papers - density + 0.5) / (density + 0.5)))
    # Each word a token that stems to its stem, the words apart by anything but a letter or
    # digit (unicode61's separators), diacritics removed as FTS5 removes them: found as
    # tokens starting with the stem less its last letter (Porter's replacements change one:
    # "scoring" -> "score", "policy" -> "polici", "sensibility" -> "sensibl"), then
    # stemmed. (The
    # first leads, no letter before it: a pattern that starts with the lookbehind is tried
    # at every position of an abstract, 20x slower.)
    wanted = stems([_without_diacritics(word.lower()) for word in words])
    prefixes = [re.escape(stem[: max(min(len(stem), 2), len(stem) - 1)]) for stem in wanted]
    behind = rf"(?<![^\W_]{prefixes[0]})"
    pattern = re.compile(
        r"[\W_]+".join(
            "(" + prefix + (behind if i == 0 else "") + r"[^\W_]*)"
            for i, prefix in enumerate(prefixes)
        )
    )
    known: dict[str, str] = {}

    def instances(field: str) -> int:
        found = 0
        for match in pattern.finditer(_without_diacritics(field)):
            tokens = match.groups()
            missing = [token for token in tokens if token not in known]
            if missing:
                known.update(zip(missing, stems(missing), strict=True))
            found += all(known[t] == stem for t, stem in zip(tokens, wanted, strict=True))
        return found

    scores: dict[int, float] = {}
    for pk, title, authors, abstract, sizes in rows:
        frequency = sum(
            weight * instances((field or "").lower())
            for weight, field in zip(WEIGHTS, (title, authors, abstract), strict=True)
        )
        frequency = frequency or 1.0
        length = sum(_varints(bytes(sizes or b""))) or average  # the paper's tokens (FTS5's)
        norm = _K1 * (1 - _B + _B * length / max(average, 1.0))
        scores[int(pk)] = idf * frequency * (_K1 + 1) / (frequency + norm)
    return scores


def _without_diacritics(value: str) -> str:
    """``value`` without combining marks (``remove_diacritics``: "Schrödinger" is indexed
    as "schrodinger")."""
    if value.isascii():
        return value
    decomposed = unicodedata.normalize("NFD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _varints(data: bytes) -> list[int]:
    """SQLite's varints (FTS5's averages record: papers, then each column's tokens)."""
    values: list[int] = []
    i = 0
    while i < len(data):
        value = 0
        for k in range(9):
            byte = data[i]
            i += 1
            if k == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        values.append(value)
    return values


def common_phrase_top(
    connection: Connection,
    words: list[str],
    where: list[str],
    params: dict[str, Any],
    *,
    needs_papers: bool,
    few: bool = False,
    pks: tuple[int, ...] | None = None,
) -> list[tuple[int, float]] | None:
    """The phrase tier of a phrase: its newest ``:bound`` matches (FTS5 stops there), ranked
    by phrase_scores, the best ``:limit`` as (pk, score). A rarer phrase (fewer matches: the
    walk read all of them) is ranked so too, with FTS5's idf, their count: ``bm25()``'s
    values, where ``bm25()`` walked its words' posting lists twice more, for the matches and
    for the idf ("reward model learning", 42 matches at 1M papers: 44 ms against 2 ms from
    the text, load 5); with filters, None (``bm25()`` ranks it: its idf counts the papers
    the filters leave out).

    ``few``: the caller knows the phrase has fewer than ``:bound`` matches (it counted the
    query's): they are looked for oldest first, FTS5's own order (a third less work than
    walking its posting lists back from the newest), and newest first only if that finds
    more.
    ``pks``: every match (fewer than ``:bound``), read already (keyword.count_matches)."""
    if pks is not None and len(pks) < int(params["bound"]):
        return _ranked_phrase(connection, words, list(pks), where, params)
    source = "papers_fts"
    if needs_papers:
        source += " JOIN papers p ON p.pk = papers_fts.rowid"
    found: list[int] = []
    for order in ("", " DESC") if few else (" DESC",):
        newest = (
            f"SELECT papers_fts.rowid FROM {source} "
            f"WHERE {' AND '.join(['papers_fts MATCH :match', *where])} "
            f"ORDER BY papers_fts.rowid{order} LIMIT :bound"
        )
        statement = text(newest)
        if "categories" in params:
            statement = statement.bindparams(bindparam("categories", expanding=True))
        found = [int(row[0]) for row in connection.execute(statement, params)]
        if len(found) < int(params["bound"]):
            # Every match: ranked from their text with FTS5's idf, their count.
            return _ranked_phrase(connection, words, found, where, params)
    return _ranked_phrase(connection, words, found, where, params)


def _ranked_phrase(
    connection: Connection, words: list[str], pks: list[int], where: list[str], params: Any
) -> list[tuple[int, float]] | None:
    """common_phrase_top's ranking of the matches ``pks`` (all of them when fewer than
    ``:bound``: FTS5's idf is their count), or None (fewer, and a filter)."""
    everything = None
    if len(pks) < int(params["bound"]):
        if where:
            return None
        if not pks:
            return []
        everything = len(pks)
    scores = phrase_scores(connection, words, pks, everything)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], -item[0]))
    return ranked[: int(params["limit"])]
