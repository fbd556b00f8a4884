"""SQLite: does the phrase tier's ranking from the papers' text (``_fts.phrase_scores``) give
FTS5's ``bm25()`` values for rare phrases, and what does each cost? Phrases of two or three
words drawn from the corpus's titles (as the benchmark's title fragments are), those with
1-299 matches; for each, every match is scored both ways:

    python benchmarks/phrase_scores.py CORPUS sqlite:////tmp/s1m.db [--phrases 400]

Reads the database only. Prints the phrases whose scores differ (the first three papers of
each), the slowest of each way, then one JSON object: phrases alike / differing, and the
seconds each way took in all (``bm25()``: the ranking statement alone, its walk and its
idf's; the text: reading the matches and scoring them)."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from paperroute.search._fts import fts5_term, phrase_scores
from paperroute.search.query import Term, parse_query


def _phrases(corpus: Path, count: int, rng: random.Random) -> list[list[str]]:
    titles: list[str] = []
    with gzip.open(corpus, "rb") as lines:
        for i, line in enumerate(lines):
            if i % 20 == 0:
                titles.append(json.loads(line)["title"])
    phrases: list[list[str]] = []
    for title in rng.sample(titles, min(count, len(titles))):
        words = [t.text for t in parse_query(title).terms if not t.negated]
        if len(words) >= 2:
            start = rng.randrange(max(1, len(words) - 2))
            phrases.append(words[start : start + rng.choice([2, 3])])
    return phrases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("database_url")
    parser.add_argument("--phrases", type=int, default=400)
    args = parser.parse_args()
    engine = create_engine(args.database_url)
    alike = differing = skipped = 0
    bm25_s = text_s = 0.0
    timings: list[tuple[float, float, int, str]] = []
    with engine.connect() as connection:
        for words in _phrases(args.corpus, args.phrases, random.Random(11)):
            expression = fts5_term(Term(" ".join(words), phrase=True))
            if expression.startswith("NEAR("):
                skipped += 1
                continue
            kept = expression.strip('"').split(" ")  # (plain_phrase's words)
            pks = [
                int(row[0])
                for row in connection.execute(
                    text("SELECT rowid FROM papers_fts WHERE papers_fts MATCH :m LIMIT 300"),
                    {"m": expression},
                )
            ]
            if not pks or len(pks) >= 300:
                skipped += 1
                continue
            start = time.perf_counter()
            rows = connection.execute(
                text(
                    "SELECT rowid, -bm25(papers_fts, 10, 4, 1) FROM papers_fts "
                    "WHERE papers_fts MATCH :m"
                ),
                {"m": expression},
            ).all()
            middle = time.perf_counter()
            scores = phrase_scores(connection, kept, pks, len(pks))
            end = time.perf_counter()
            bm25_s += middle - start
            text_s += end - middle
            timings.append(
                ((middle - start) * 1000, (end - middle) * 1000, len(pks), " ".join(kept))
            )
            expected = {int(pk): float(score) for pk, score in rows}
            wrong = [
                pk
                for pk, score in expected.items()
                if abs(score - scores.get(pk, -1.0)) > 1e-9 * max(1.0, abs(score))
            ]
            if wrong:
                differing += 1
                for pk in wrong[:3]:
                    print(f"differs: {kept} paper {pk}: {expected[pk]:.4f} {scores.get(pk)}")
            else:
                alike += 1
    for name, key in (("bm25()", 0), ("text", 1)):
        slowest = sorted(timings, key=lambda row: -row[key])[:5]
        print(
            f"slowest by {name}: "
            + "; ".join(f"{p!r} ({n}) {b:.1f} / {t:.1f} ms" for b, t, n, p in slowest)
        )
    print(
        json.dumps(
            {
                "alike": alike,
                "differing": differing,
                "skipped": skipped,
                "bm25_s": round(bm25_s, 2),
                "text_s": round(text_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
