"""Record what the hub shows on the demo data, to compare renders before and after a refactor.

    python scripts/golden_renders.py DATABASE_URL OUT_DIR

Crawls the anonymous web hub from a few seeds (every same-site GET link it finds, up to
``--pages``), the JSON API and feeds it links to, and a few CLI commands; writes one file
per answer under OUT_DIR. Compare two runs with ``diff -r``. Values that change on every
request (CSRF tokens, cookies) are blanked.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from paperroute import Config
from paperroute.cli import app as cli_app
from paperroute.web.app import create_app

SEEDS = [
    "/",
    "/daily",
    "/trending",
    "/trending?window=week",
    "/trending?window=month",
    "/trending?window=all",
    "/categories",
    "/feeds",
    "/search?q=diffusion",
    "/search?q=diffusion&mode=keyword",
    "/search?q=agents+that+use+tools&mode=semantic",
    "/search/suggest?q=diff",
    "/api/v1/daily",
    "/api/v1/daily?date=2026-08-21",
    "/api/v1/trending",
    "/api/v1/trending?window=month",
    "/api/v1/trending?window=all",
    "/api/v1/authors/Chengsong%20Huang",
    "/authors/Chengsong%20Huang",
    "/authors/Zifeng%20Wang",
    "/api/v1/categories",
    "/api/v1/categories/cs.LG",
    "/api/v1/papers/2608.19880",
    "/api/v1/papers/2608.19880/similar",
    "/api/v1/papers/2608.19880/comments",
    "/api/v1/collections",
    "/trending?explain=2608.19880",
    "/api/v1/search?q=transformer",
    "/api/daily_papers",
    "/api/daily_papers?date=2026-08-21",
    "/login",
    "/subscribe",
    "/api/v1/openapi.json",
]
VOLATILE = [
    (re.compile(rb'(name="csrf_token" value=")[^"]*'), rb"\1X"),
    (re.compile(rb'(name="csrf-token" content=")[^"]*'), rb"\1X"),
    (re.compile(rb'("csrf_token": ")[^"]*'), rb"\1X"),
    (re.compile(rb'("X-CSRF-Token": ")[^"]*'), rb"\1X"),
]
PER_KIND = 120
TOKEN = re.compile(r"[A-Za-z0-9_-]{24,}\.[A-Za-z0-9_-]{16,}|==paperroute-[0-9a-f]+==")
LINK = re.compile(rb'(?:href|hx-get)="([^"#]+)')


def _name(url: str) -> str:
    digest = hashlib.sha256(url.encode()).hexdigest()[:10]
    slug = re.sub(r"[^A-Za-z0-9]+", "_", url)[:80]
    return f"{slug}-{digest}"


def crawl(client: TestClient, out: Path, limit: int) -> int:
    seen: set[str] = set()
    kinds: dict[str, int] = {}  # answers per first path segment: a bit of every page kind
    queue: deque[str] = deque(SEEDS)
    count = 0
    while queue and count < limit:
        url = queue.popleft()
        kind = urlsplit(url).path.split("/")[1]
        if url in seen or kinds.get(kind, 0) >= PER_KIND:
            continue
        seen.add(url)
        kinds[kind] = kinds.get(kind, 0) + 1
        answer = client.get(url, follow_redirects=False)
        body = answer.content
        for pattern, repl in VOLATILE:
            body = pattern.sub(repl, body)
        head = f"{answer.status_code} {answer.headers.get('content-type', '')}\n".encode()
        location = answer.headers.get("location")
        if location:
            head += f"location: {location}\n".encode()
        (out / "web" / _name(url)).write_bytes(head + body)
        count += 1
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        for raw in LINK.findall(body):
            link = urljoin(url, raw.decode("utf-8", "replace").replace("&amp;", "&"))
            parts = urlsplit(link)
            if parts.netloc not in ("", "testserver") or parts.path.startswith("/static"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path not in seen and not any(
                path.startswith(p) for p in ("/logout", "/auth/", "/unsubscribe", "/login?")
            ):
                queue.append(path)
    return count


def cli(database_url: str, out: Path) -> int:
    runner = CliRunner()
    commands = [
        ["stats"],
        ["stats", "--format", "json"],
        ["trending"],
        ["trending", "--format", "json"],
        ["show", "2608.19880"],
        ["show", "2608.19880", "--format", "json"],
        ["search", "diffusion models for video"],
        ["search", "Tomas Pfister", "--mode", "keyword", "--format", "json"],
        ["similar", "2608.19880"],
        ["subscribers", "add", "g@example.org", "--categories", "cs.CL", "--keyword", "agents"],
        ["subscribers", "list"],
        ["digest", "preview", "g@example.org", "--at", "2026-08-22T07:00Z"],
        ["digest", "preview", "g@example.org", "--at", "2026-08-22T07:00Z", "--raw"],
    ]
    env = {
        "PAPERROUTE_SECRET_KEY": "golden-renders-secret-0123456789",
        "PAPERROUTE_SMTP_URL": "outbox",
    }
    for args in commands:
        result = runner.invoke(cli_app, ["--database-url", database_url, *args], env=env)
        text = TOKEN.sub("TOKEN", f"exit {result.exit_code}\n{result.output}")
        (out / "cli" / _name(" ".join(args))).write_text(text)
    return len(commands)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=1500)
    args = parser.parse_args()
    for sub in ("web", "cli"):
        (args.out / sub).mkdir(parents=True, exist_ok=True)
    config = Config(
        database_url=args.database_url,
        demo=True,
        secret_key="golden-renders",  # noqa: S106
        allowed_hosts="testserver",
    )
    with TestClient(create_app(config)) as client:
        pages = crawl(client, args.out, args.pages)
    commands = cli(args.database_url, args.out)
    sys.stderr.write(f"{pages} web answers, {commands} CLI outputs in {args.out}\n")


if __name__ == "__main__":
    main()
