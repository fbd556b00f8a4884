"""Trending: the score's terms, its settings, ``paperroute trending``, and lists that follow
reader votes and moderation (through the page cache's data version)."""

from __future__ import annotations

import datetime as dt
import json
import math
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from paperroute import Config, load_config, open_hub
from paperroute.model import DailyEntry, PaperRecord
from paperroute.reading import Candidate, Weights, score
from paperroute.store.schema import papers
from paperroute.store.schema_community import hidden_papers, users, votes
from support.cli import cli

REF = dt.datetime(2026, 8, 22, tzinfo=dt.UTC)


def _candidate(
    up: int = 0, stars: int | None = None, age: float = 1.0, votes: int = 0
) -> Candidate:
    return Candidate(1, "x", up, votes, stars, REF - dt.timedelta(days=age))


def test_terms_follow_the_documented_formula() -> None:
    w = Weights(gravity=1.5, upvote_weight=2.0, star_weight=0.5, recency_weight=3.0,
                recency_half_life=4.0)  # fmt: skip
    t = score(_candidate(up=10, votes=2, stars=999, age=3.0), REF, w, "week")
    assert t.upvotes == 12 and t.age_days == pytest.approx(3.0)
    assert t.upvote_term == pytest.approx(2.0 * 12 / 4**1.5)
    assert t.star_term == pytest.approx(0.5 * 3.0)
    assert t.recency_term == pytest.approx(3.0 * 0.5 ** (3 / 4))
    assert t.score == pytest.approx(t.upvote_term + t.star_term + t.recency_term)
    everything = score(_candidate(up=10, votes=2, stars=999, age=3.0), REF, w, "all")
    assert everything.upvote_term == pytest.approx(24.0) and everything.recency_term == 0.0


def test_score_moves_the_right_way() -> None:
    w = Weights()
    base = score(_candidate(up=10, age=2), REF, w, "week").score
    assert score(_candidate(up=20, age=2), REF, w, "week").score > base
    assert score(_candidate(up=10, age=5), REF, w, "week").score < base
    assert score(_candidate(up=10, age=2, stars=100), REF, w, "week").score > base
    assert score(_candidate(up=9, votes=1, age=2), REF, w, "week").score == pytest.approx(base)
    # log-scaled stars: 10x the stars adds a constant
    s1 = score(_candidate(stars=99), REF, w, "week").star_term
    s2 = score(_candidate(stars=999), REF, w, "week").star_term
    s3 = score(_candidate(stars=9999), REF, w, "week").star_term
    assert s2 - s1 == pytest.approx(s3 - s2) == pytest.approx(w.star_weight)
    assert score(_candidate(stars=-5), REF, w, "week").star_term == 0.0
    future = score(_candidate(up=3, age=-2), REF, w, "week")  # clock skew: age 0
    assert future.age_days == 0 and math.isfinite(future.score)


def test_weights_come_from_the_configuration() -> None:
    config = load_config(
        environ={"PAPERROUTE_TRENDING_GRAVITY": "2.5", "PAPERROUTE_TRENDING_STAR_WEIGHT": "0"}
    )
    weights = Weights.from_config(config)
    assert weights.gravity == 2.5 and weights.star_weight == 0.0
    from paperroute.errors import ConfigError

    with pytest.raises(ConfigError):
        load_config(environ={"PAPERROUTE_TRENDING_RECENCY_HALF_LIFE": "0"})
    with pytest.raises(ConfigError):
        load_config(environ={"PAPERROUTE_TRENDING_GRAVITY": "-1"})


def test_cli_ranking_and_explain_agree_with_the_api(
    sqlite_demo_url: str, sqlite_demo: TestClient
) -> None:
    result = cli(sqlite_demo_url, "trending", "--limit", "5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    api = sqlite_demo.get("/api/v1/trending", params={"limit": 5}).json()["items"]
    assert [r["id"] for r in rows] == [i["id"] for i in api]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    explained = cli(sqlite_demo_url, "trending", "--explain", rows[0]["id"], "--format", "json")
    terms = json.loads(explained.stdout)
    assert terms["score"] == pytest.approx(rows[0]["score"])
    detail = sqlite_demo.get(f"/api/v1/papers/{rows[0]['id']}").json()["trending"]
    assert detail["score"] == pytest.approx(terms["score"])
    table = cli(sqlite_demo_url, "trending", "--explain", rows[0]["id"])
    assert "upvote term" in table.stdout and "score" in table.stdout
    month = cli(sqlite_demo_url, "trending", "--window", "month", "--limit", "3")
    assert month.exit_code == 0 and "trending (month)" in month.stdout
    assert cli(sqlite_demo_url, "trending", "--window", "year").exit_code == 2
    missing = cli(sqlite_demo_url, "trending", "--explain", "0000.00000")
    assert missing.exit_code == 1 and "no paper" in missing.stderr
    assert cli(sqlite_demo_url, "trending", "--limit", "0").exit_code == 2


def _seed(config: Config) -> None:
    day = dt.date(2026, 8, 21)
    records = [
        PaperRecord(
            source="jsonl",
            source_key=str(n),
            title=f"Paper number {n}",
            abstract="An abstract.",
            arxiv_id=f"2608.0000{n}",
            authors=("Ada Lovelace",),
            categories=("cs.LG",),
            daily=(DailyEntry(day=day, source="hf", kind="submitted", upvotes=10 - n),),
        )
        for n in (1, 2, 3)
    ]
    with open_hub(config) as hub:
        assert hub.papers.ingest(records).inserted == 3


def _order(client: TestClient) -> list[str]:
    return [item["id"] for item in client.get("/api/v1/trending").json()["items"]]


def test_reader_votes_and_hiding_change_every_list(fresh: TestClient) -> None:
    config: Config = fresh.app.state.config  # type: ignore[attr-defined]
    _seed(config)
    fresh.app.state.page_cache.clear()  # type: ignore[attr-defined]
    assert _order(fresh) == ["2608.00001", "2608.00002", "2608.00003"]
    before = fresh.get("/").text
    now = dt.datetime.now(dt.UTC)
    with open_hub(config) as hub, hub._db.engine.begin() as connection:
        paper_pk = connection.scalar(select(papers.c.pk).where(papers.c.id == "2608.00003"))
        for n in range(9):
            user = connection.execute(
                insert(users).values(
                    email=f"r{n}@example.org",
                    display_name=f"r{n}",
                    display_key=f"r{n}",
                    is_admin=False,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            connection.execute(
                insert(votes).values(paper_pk=paper_pk, user_pk=user, created_at=now)
            )
    time.sleep(1.1)  # the data version is read at most once a second
    assert _order(fresh)[0] == "2608.00003"  # 7 HF upvotes + 9 reader votes
    after = fresh.get("/").text
    assert after != before and '<span class="count">16</span>' in after
    with open_hub(config) as hub, hub._db.engine.begin() as connection:
        connection.execute(
            insert(hidden_papers).values(paper_pk=paper_pk, reason="", hidden_at=now)
        )
    time.sleep(1.1)
    assert "2608.00003" not in _order(fresh)
    assert fresh.get("/papers/2608.00003").status_code == 404
    assert fresh.get("/api/v1/papers/2608.00003").status_code == 404
    assert b"2608.00003" not in fresh.get("/feeds/daily.atom").content
    assert "2608.00003" not in fresh.get("/").text
    hf = fresh.get("/api/daily_papers").json()
    assert [i["paper"]["id"] for i in hf] == ["2608.00001", "2608.00002"]
