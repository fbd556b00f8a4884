"""Many machines, on one: two `paperroute serve` web nodes and two `paperroute worker`
processes on one PostgreSQL database and one Redis queue, the source a local server
replaying recorded Hugging Face days (slowly, so that an import takes seconds).

A worker is killed with SIGKILL in the middle of an import; the other takes the source over
once the dead one's lease lapses, and in the end every paper of every day is stored once,
none lost, none twice, and both web nodes serve and find them.

Needs PostgreSQL and Redis (PAPERROUTE_TEST_REDIS_URL; skipped without, failed under
PAPERROUTE_REQUIRE_ALL=1 as in CI).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from paperroute import Config, open_hub
from paperroute.jobs import Jobs, make_schedule
from support.replay import ReplayServer, Reply
from support.served import free_port, stop_all, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DATA = Path(__file__).parents[1] / "data"
DAYS = 8  # today and the 7 before: one request each, each answered after DELAY_S
PER_DAY = 17
DELAY_S = 0.8
LEASE_S = 3
DEADLINE_S = 80.0


def _redis_url() -> str:
    url = os.environ.get("PAPERROUTE_TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("PAPERROUTE_REQUIRE_ALL") == "1":
            pytest.fail("required service unavailable: Redis (PAPERROUTE_TEST_REDIS_URL)")
        pytest.skip("no Redis server (set PAPERROUTE_TEST_REDIS_URL)")
    return url.rsplit("/", 1)[0] + "/13"  # a database of its own: tests may run in parallel


def _day_json(day: dt.date, index: int) -> bytes:
    """The recorded day, its papers given ids and titles of their own for ``day``."""
    items = json.loads((DATA / "hf-daily" / "2026-08-21.json").read_text("utf-8"))
    for number, item in enumerate(items):
        paper = item["paper"]
        paper["id"] = _paper_id(index, number)
        paper["title"] = item["title"] = f"{paper['title']} (cluster day {index})"
    return json.dumps(items).encode()


def _paper_id(index: int, number: int) -> str:
    return f"2601.{(index + 1) * 1000 + number:05d}"


def _wait(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, what, DEADLINE_S)


@pytest.fixture
def cluster_env(postgres_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    redis_url = _redis_url()
    with ReplayServer() as server:
        today = dt.datetime.now(dt.UTC).date()
        for index in range(DAYS + 1):  # one more: the date may turn during the test
            day = today - dt.timedelta(days=DAYS - 1 - index)
            server.add(
                "/api/daily_papers",
                Reply(200, _day_json(day, index), delay=DELAY_S),
                query={"date": day.isoformat()},
            )
        env = {
            **os.environ,
            "PAPERROUTE_DATABASE_URL": postgres_url,
            "PAPERROUTE_REDIS_URL": redis_url,
            "PAPERROUTE_HF_DAILY_URL": f"{server.url}/api/daily_papers",
            "PAPERROUTE_ARXIV_API_URL": f"{server.url}/api/query",
            "PAPERROUTE_GITHUB_API_URL": f"{server.url}/github",
            "PAPERROUTE_HTTP_MAX_RETRIES": "1",
            "PAPERROUTE_JOB_LEASE_S": str(LEASE_S),
            "PAPERROUTE_SECRET_KEY": "cluster-test-secret-key-0123456789",
        }
        for inherited in ("PAPERROUTE_CONFIG", "PROMETHEUS_MULTIPROC_DIR"):
            env.pop(inherited, None)
        yield env


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "paperroute", *args], env=env, stdout=out, stderr=out
        )


def test_two_web_nodes_two_workers_and_a_worker_killed_mid_import(
    cluster_env: dict[str, str], tmp_path: Path
) -> None:
    url = cluster_env["PAPERROUTE_DATABASE_URL"]
    config = Config(database_url=url, redis_url=cluster_env["PAPERROUTE_REDIS_URL"])
    with open_hub(config) as hub:  # migrated once, before any node starts
        hub.sources.add("hf-daily", make_schedule("hf-daily"), {"days_back": DAYS - 1})
    jobs = Jobs(config)
    jobs.huey.flush()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        ports = [free_port(), free_port()]
        for number, port in enumerate(ports):
            log = tmp_path / f"web{number}.log"
            serve = ("serve", "--port", str(port), "--workers", "1", "--no-worker")
            processes.append(_start(cluster_env, log, *serve))
        workers = {}
        for number in range(2):
            log = tmp_path / f"worker{number}.log"
            process = _start(cluster_env, log, "worker", "--concurrency", "1", "--no-periodic")
            processes.append(process)
            workers[number] = (process, log)

        def worker_ids() -> dict[str, subprocess.Popen[bytes]]:
            found = {}
            for process, log in workers.values():
                match = re.search(r"paperroute worker ([0-9a-f]+):", log.read_text("utf-8"))
                if match:
                    found[match.group(1)] = process
            return found

        _wait(lambda: len(worker_ids()) == 2, "both workers to start")
        jobs.tasks.tick()  # the minute's tick: the source is due

        with open_hub(config) as hub:

            def mid_import() -> bool:
                holder = _holder(hub)
                return holder is not None and 0 < hub.papers.stats().papers < DAYS * PER_DAY

            _wait(mid_import, "an import to be half done")
            holder = _holder(hub)
            assert holder is not None
            victim = worker_ids()[holder]
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            stored_at_kill = hub.papers.stats().papers
            assert stored_at_kill < DAYS * PER_DAY

            # The next minute's tick finds the source due again once the lease has lapsed.
            ticked = [0.0]

            def taken_over() -> bool:
                if time.monotonic() - ticked[0] > 1.0 and hub.sources.due():
                    jobs.tasks.tick()
                    ticked[0] = time.monotonic()
                source = hub.sources.get("hf-daily")
                return source.last_run_at is not None and not source.running

            _wait(taken_over, "the other worker to take the source over")
            source = hub.sources.get("hf-daily")
            assert source.last_error is None
            assert hub.papers.stats().papers == DAYS * PER_DAY  # none lost, none twice
            assert source.total_added == DAYS * PER_DAY - stored_at_kill

        for port in ports:
            base = f"http://127.0.0.1:{port}"
            _wait(lambda base=base: _up(base), f"the web node on {base}")
            for index in (0, DAYS - 1):
                paper = httpx.get(f"{base}/api/v1/papers/{_paper_id(index, 3)}", timeout=10)
                assert paper.status_code == 200, paper.text
                assert f"(cluster day {index})" in paper.json()["title"]
            found = httpx.get(
                f"{base}/api/v1/search",
                params={"q": "cluster", "mode": "keyword", "limit": 5},
                timeout=30,
            )
            assert found.status_code == 200, found.text
            assert found.json()["total"] == DAYS * PER_DAY
    finally:
        stop_all(processes, timeout=15)
        jobs.huey.flush()
        jobs.close()


def _holder(hub: object) -> str | None:
    """The worker id holding the source's claim, when one does."""
    from paperroute.store.schema_jobs import sources

    db = hub._db  # type: ignore[attr-defined]
    with db.read() as connection:
        row = connection.execute(sources.select().where(sources.c.name == "hf-daily")).first()
    if row is None or row.claimed_by is None:
        return None
    return str(row.claimed_by)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
