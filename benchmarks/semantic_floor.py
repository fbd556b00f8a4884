"""The cosine floor of semantic search (search/_semantic.py SEMANTIC_FLOOR): how close the
nearest papers come for real queries and for gibberish, on a database with MiniLM vectors
(the demo data: ``paperroute demo load``):

    python benchmarks/semantic_floor.py sqlite:////tmp/demo-copy.db [--queries 200]

Real queries: two words of random titles (length > 3). Gibberish: random letter strings,
one word and two. For each, the nearest paper's cosine (top 1) and the tenth's, as
percentiles; then, for candidate floors, the share of real queries whose nearest paper is
under it and the share of gibberish whose nearest paper reaches it. Last line: JSON."""

from __future__ import annotations

import argparse
import json
import random
import string

from sqlalchemy import text

from paperroute import Config, open_hub
from paperroute.search import split_words

FLOORS = (0.30, 0.35, 0.38, 0.40, 0.42, 0.45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(3)
    with open_hub(Config(database_url=args.database_url)) as hub:
        search = hub.search
        search.index.refresh(force=True)
        with hub._db.engine.connect() as connection:
            titles = [
                row[0] for row in connection.execute(text("SELECT title FROM papers ORDER BY pk"))
            ]
        real = []
        for title in rng.sample(titles, min(len(titles), args.queries * 2)):
            words = [w for w in split_words(title) if len(w) > 3]
            if len(words) >= 2 and len(real) < args.queries:
                real.append(" ".join(rng.sample(words, 2)))

        def letters(low: int, high: int) -> str:
            return "".join(
                rng.choice(string.ascii_lowercase) for _ in range(rng.randint(low, high))
            )

        gibberish = [letters(5, 12) for _ in range(args.queries // 2)] + [
            f"{letters(4, 8)} {letters(4, 8)}" for _ in range(args.queries // 2)
        ]

        def nearest(query: str) -> list[float]:
            return [score for _, score in search.index.search(search.query_vector(query), 10)]

        figures: dict[str, float] = {}
        tops: dict[str, list[float]] = {}
        for name, queries in (("real", real), ("gibberish", gibberish)):
            found = [nearest(q) for q in queries]
            top = sorted(f[0] for f in found)
            tenth = sorted(f[-1] for f in found)
            tops[name] = top
            cuts = {p: top[int(p * (len(top) - 1))] for p in (0.0, 0.05, 0.5, 0.95, 1.0)}
            print(
                f"{name:>9} ({len(queries)}): top 1 "
                + ", ".join(f"p{int(p * 100)} {v:.3f}" for p, v in cuts.items())
                + f"; tenth p50 {tenth[len(tenth) // 2]:.3f}"
            )
            for p, v in cuts.items():
                figures[f"{name}_top1_p{int(p * 100)}"] = round(v, 4)
        for floor in FLOORS:
            lost = sum(v < floor for v in tops["real"]) / len(tops["real"])
            noise = sum(v >= floor for v in tops["gibberish"]) / len(tops["gibberish"])
            print(
                f"floor {floor:.2f}: real queries under it {lost:.1%}, "
                f"gibberish over it {noise:.1%}"
            )
            figures[f"floor_{floor:.2f}_real_under"] = round(lost, 4)
            figures[f"floor_{floor:.2f}_gibberish_over"] = round(noise, 4)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
