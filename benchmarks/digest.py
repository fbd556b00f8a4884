"""Email digests at scale: select and render a digest for 100,000 subscribers over a day of
2,000 new papers, then deliver to a local SMTP server in another process.

    python benchmarks/digest.py ../shared/data/corpus/arxiv-listings-200k.jsonl.gz \
        [--hf ../shared/data/hf-daily/hf-daily-papers-*.tar.gz] [--subscribers 100000] \
        [--papers 2000] [--send 20000] [--pool 8] [--tls starttls|implicit] [--profile] \
        [--for-you N]

The day: the ``--papers`` most recently listed real papers of the corpus, all listed on one
benchmark day (with their real Hugging Face upvotes when ``--hf`` names the dumps), in a
fresh SQLite database in a temporary folder. Subscribers: varied real preferences (trending
or not, 0-3 of the day's categories, 0-2 keyword queries from the day's title words and
phrases, sometimes an author of the day, 5-20 papers, every frequency, 12 time zones).

Phases, each timed: planning (who is due, candidates loaded and indexed, each subscriber's
picks), storing the run (one send-log row each), rendering every message to its bytes, and
delivery of ``--send`` of them through the real pooled sender (send log written around each
message) to an aiosmtpd server running in a subprocess that counts what it accepts.
``render_s`` in the last line is planning + rendering. The last line is one JSON object.

``--for-you N``: the first N subscribers also choose the "For you" section, each with 5
seed papers (random papers of the day, as a subscriber without an account gives them);
the day's papers are embedded first (the configured embedder, MiniLM), and planning ranks
them with ``hub.recommend`` in one batched call per window, as digests do.
``for_you_picks`` in the last line counts the section's picks.

``--tls starttls`` (port 587 style) or ``--tls implicit`` (465 style): the server speaks TLS
with a certificate made for the run (trustme), requires AUTH, and the sender verifies the
certificate against it (``smtp_ca_file``) and signs in on each pooled connection, as with a
real submission server.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import gzip
import heapq
import io
import itertools
import json
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import trustme
from sqlalchemy import insert, update

from _common import free_port, hf_dump_items, peak_rss_mb
from paperroute import Config, open_hub
from paperroute.digest._delivery import Delivery
from paperroute.digest._foryou import ForYouPicker
from paperroute.digest._plan import compute, store
from paperroute.digest._render import Renderer
from paperroute.digest._subscriptions import _prefs_columns
from paperroute.digest.model import preferences
from paperroute.model import DailyEntry, PaperRecord
from paperroute.search.query import split_words
from paperroute.sources.jsonl import parse_jsonl
from paperroute.store.schema_digests import digest_sends, subscribers
from paperroute.store.session import Database

DAY = dt.date(2026, 8, 24)  # a Monday
AS_OF = dt.datetime(2026, 8, 24, 22, 0, tzinfo=dt.UTC)
ZONES = [
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Asia/Kolkata", "Asia/Shanghai",
    "Asia/Tokyo", "Australia/Sydney", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo",
]  # fmt: skip
STOP = set(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "and",
        "in",
        "on",
        "with",
        "to",
        "from",
        "by",
        "via",
        "at",
        "is",
        "are",
        "we",
        "our",
        "using",
        "based",
        "towards",
        "toward",
        "into",
        "its",
        "as",
        "or",
        "new",
        "model",
        "models",
        "learning",
        "data",
        "study",
        "analysis",
        "approach",
        "method",
        "methods",
        "large",
        "language",
    ]
)

SINK = r"""
import asyncio, logging, ssl, sys, warnings
logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's per-login deprecation note
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"
def login(server, session, envelope, mechanism, data):
    ok = data.login == b"bench" and data.password == b"bench-pass"
    return AuthResult(success=ok, auth_data=data.login)
options = {}
if len(sys.argv) > 2:  # TLS: mode, certificate chain, key
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    implicit = sys.argv[2] == "implicit"
    options = {"ssl_context" if implicit else "tls_context": context,
               "authenticator": login, "auth_required": True,
               "auth_require_tls": not implicit}  # aiosmtpd counts only STARTTLS as TLS
    warnings.simplefilter("ignore")
c = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]), **options)
c.start()
print("ready", flush=True)
import time
for line in sys.stdin:
    print(Count.n, time.process_time(), flush=True)
"""


def latest_papers(corpus: Path, count: int) -> list[bytes]:
    """The ``count`` most recently listed records of the corpus (raw JSON lines), keeping
    only those in memory (the peak RSS is then the digest work's, not the corpus')."""

    def dated(stream: Iterable[bytes]) -> Iterator[tuple[str, bytes]]:
        for line in stream:
            dates = json.loads(line).get("listing_dates") or ["0000"]
            yield min(dates), line

    with gzip.open(corpus, "rb") as stream:
        return [line for _, line in heapq.nlargest(count, dated(stream), key=lambda d: d[0])]


def hf_upvotes(paths: list[Path]) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in paths:
        for item in hf_dump_items(path):
            paper = item.get("paper") if isinstance(item, dict) else None
            if isinstance(paper, dict) and isinstance(paper.get("id"), str):
                found[paper["id"]] = max(found.get(paper["id"], 0), paper.get("upvotes") or 0)
    return found


def records(lines: list[bytes], upvotes: dict[str, int]) -> list[PaperRecord]:
    found = []
    for item in parse_jsonl(b"".join(lines), document="corpus"):
        if not isinstance(item, PaperRecord):
            continue
        daily = [DailyEntry(DAY, "arxiv", "new")]
        if item.arxiv_id in upvotes:
            daily.append(DailyEntry(DAY, "hf", "submitted", upvotes=upvotes[item.arxiv_id]))
        found.append(dataclasses.replace(item, daily=tuple(daily), announced_on=DAY))
    return found


def vocabulary(papers: list[PaperRecord]) -> tuple[list[str], list[str], list[str]]:
    """Categories, keyword queries (frequent title words and two-word phrases) and authors
    of the day, most frequent first."""
    categories = Counter(c for p in papers for c in p.categories[:2])
    words: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for paper in papers:
        title = [w for w in split_words(paper.title) if w.isalpha() and len(w) > 3]
        words.update(w for w in title if w not in STOP)
        pairs.update(f'"{a} {b}"' for a, b in itertools.pairwise(title))
    queries = [w for w, _ in words.most_common(400)] + [
        p for p, n in pairs.most_common(100) if n > 2
    ]
    queries += [f"{w}*" for w, _ in words.most_common(50)[:20]]
    authors = [a for p in papers for a in p.authors[:3]]
    return [c for c, _ in categories.most_common(40)], queries, authors


def subscriber_rows(
    count: int, papers: list[PaperRecord], seed: int, for_you: int = 0
) -> list[dict[str, object]]:
    rng = random.Random(seed)
    ids = [p.arxiv_id for p in papers if p.arxiv_id]
    categories, queries, authors = vocabulary(papers)
    now = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    weights = [1 / (i + 1) for i in range(len(categories))]
    rows = []
    for n in range(count):
        fields: dict[str, object] = {
            "trending": "on" if rng.random() < 0.6 else "off",
            "categories": list(
                dict.fromkeys(rng.choices(categories, weights, k=rng.randint(0, 3)))
            ),
            "keywords": rng.sample(queries, rng.choice([0, 0, 1, 1, 2])),
            "authors": [rng.choice(authors)] if rng.random() < 0.15 else [],
            "max_papers": str(rng.choice([5, 10, 10, 15, 20])),
            "frequency": rng.choice(["weekdays", "weekdays", "daily", "weekly"]),
            "weekday": str(rng.randint(0, 6)),
            "send_hour": str(rng.randint(0, 23)),
            "timezone": rng.choice(ZONES),
        }
        if not (fields["categories"] or fields["keywords"] or fields["authors"]):
            fields["trending"] = "on"
        if n < for_you:
            fields["for_you"] = True
            fields["seeds"] = rng.sample(ids, 5)
        rows.append(
            {
                "email": f"reader{n:06d}@example.org",
                "status": "confirmed",
                "token_version": 1,
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
                **_prefs_columns(preferences(fields)),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--hf", type=Path, nargs="*", default=[])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--send", type=int, default=20_000)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tls", choices=["starttls", "implicit"], help="TLS + AUTH server")
    parser.add_argument("--profile", action="store_true", help="cProfile planning + rendering")
    parser.add_argument("--for-you", type=int, default=0, help="subscribers with For you")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="paperroute-digest-bench-"))
    config = Config(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        secret_key="benchmark-secret-key-0123456789",  # noqa: S106 - a throwaway database
        base_url="https://papers.example.org",
        mail_from="paperroute <digest@papers.example.org>",
        digest_rate_per_s=0.0,
        digest_pool_size=args.pool,
        vector_index_dir=str(folder / "index"),
    )
    started = time.perf_counter()
    papers = records(latest_papers(args.corpus, args.papers), hf_upvotes(args.hf))
    with open_hub(config) as hub:
        report = hub.papers.ingest(papers)
        picker = None
        if args.for_you:
            t0 = time.perf_counter()
            embedded = hub.search.embed()
            hub.search.store_term_bags()
            took = time.perf_counter() - t0
            print(f"embed: {embedded:,} papers in {took:.1f} s", file=sys.stderr)
            picker = ForYouPicker(hub.recommend, hub.foryou)
        rows = subscriber_rows(args.subscribers, papers, args.seed, args.for_you)
        with hub._db.engine.begin() as connection:
            for start in range(0, len(rows), 10_000):
                connection.execute(insert(subscribers), rows[start : start + 10_000])
        del rows
        with_upvotes = sum(1 for p in papers if len(p.daily) > 1)
        print(
            f"setup: {report.inserted:,} papers ({with_upvotes:,} with HF upvotes), "
            f"{args.subscribers:,} subscribers in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        t0 = time.perf_counter()
        plan = compute(
            Database(hub._db.engine),
            config,
            AS_OF,
            ignore_hour=True,
            send_empty=False,
            picker=picker,
        )
        plan_s = time.perf_counter() - t0
        pool = plan.candidates
        assert pool is not None
        cards = {card.pk: card for card in pool.cards}
        renderer = Renderer(config, config.secret_key)
        t0 = time.perf_counter()
        size = 0
        for n, item in enumerate(plan.digests):
            rendered = renderer.message(
                item.subscriber,
                item.picks,
                cards,
                day=dt.date.fromisoformat(item.period),
                message_id=f"<bench.{n}@papers.example.org>",
                sent_at=AS_OF,
            )
            size += len(rendered.raw)
        render_only_s = time.perf_counter() - t0
        if profiler:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue(), file=sys.stderr)
        picks = sum(len(d.picks) for d in plan.digests)
        for_you_picks = sum(1 for d in plan.digests for p in d.picks if p.section == "for_you")
        print(
            f"plan: {plan.due:,} due, {len(plan.digests):,} digests ({picks:,} picks, "
            f"{plan.nothing_new:,} with nothing new; {for_you_picks:,} For-you picks for "
            f"{args.for_you:,} subscribers) over {len(pool.cards):,} candidates in "
            f"{plan_s:.1f} s; render: {len(plan.digests):,} messages "
            f"({size / 1e6:,.0f} MB) in {render_only_s:.1f} s "
            f"({render_only_s / max(1, len(plan.digests)) * 1e6:.0f} µs each)",
            file=sys.stderr,
        )

        t0 = time.perf_counter()
        run_pk = store(Database(hub._db.engine), config, config.secret_key, plan)
        store_s = time.perf_counter() - t0
        assert run_pk is not None
        print(f"store: {len(plan.digests):,} send-log rows in {store_s:.1f} s", file=sys.stderr)
        del plan, pool, cards

        # Delivery of the first --send digests; the rest are set aside (cancelled).
        with hub._db.engine.begin() as connection:
            connection.execute(
                update(digest_sends)
                .where(digest_sends.c.run_pk == run_pk, digest_sends.c.subscriber_pk > args.send)
                .values(status="cancelled")
            )
        port = free_port()
        smtp_url, tls_args, ca_file = f"smtp://127.0.0.1:{port}", [], ""
        if args.tls:
            ca = trustme.CA()
            server_pem = folder / "server.pem"  # key and certificate chain, one file
            ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server_pem))
            ca_file = str(folder / "ca.pem")
            ca.cert_pem.write_to_path(ca_file)
            tls_args = [args.tls, str(server_pem), str(server_pem)]
            scheme = "smtps" if args.tls == "implicit" else "smtp"
            query = "?starttls=1" if args.tls == "starttls" else ""
            smtp_url = f"{scheme}://bench:bench-pass@127.0.0.1:{port}{query}"
        sink = subprocess.Popen(
            [sys.executable, "-c", SINK, str(port), *tls_args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert sink.stdout is not None and sink.stdin is not None
            assert sink.stdout.readline().strip() == "ready"
            smtp = dataclasses.replace(config, smtp_url=smtp_url, smtp_ca_file=ca_file)
            delivery = Delivery(Database(hub._db.engine), smtp, config.secret_key)
            sink.stdin.write("count\n")
            sink.stdin.flush()
            server_cpu0 = float(sink.stdout.readline().split()[1])
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            result = delivery.run(run_pk)
            send_s = time.perf_counter() - t0
            client_cpu = time.process_time() - cpu0
            sink.stdin.write("count\n")
            sink.stdin.flush()
            counted, server_cpu = sink.stdout.readline().split()
            accepted = int(counted)
            server_cpu_s = float(server_cpu) - server_cpu0
        finally:
            sink.kill()
        if result.stopped:
            print(f"send stopped: {result.stopped}", file=sys.stderr)
        send_per_s = result.sent / send_s if send_s else 0.0
        print(
            f"send: {result.sent:,} sent ({accepted:,} accepted by the server), "
            f"{result.retried} retried, in {send_s:.1f} s over {args.pool} connections"
            f"{f' ({args.tls} TLS + AUTH)' if args.tls else ''}; "
            f"CPU: this process {client_cpu:.1f} s, the SMTP server {server_cpu_s:.1f} s",
            file=sys.stderr,
        )
    figures = {
        "subscribers": args.subscribers,
        "render_s": round(plan_s + render_only_s, 1),
        "plan_s": round(plan_s, 1),
        "render_only_s": round(render_only_s, 1),
        "store_s": round(store_s, 1),
        "send_per_s": round(send_per_s, 1),
        "tls": args.tls or "none",
        "sent": result.sent,
        "for_you": args.for_you,
        "for_you_picks": for_you_picks,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
