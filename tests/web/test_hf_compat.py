"""/api/daily_papers answers in Hugging Face's shape: compared with a real dump of the same
day, and read back by paperroute's own Hugging Face parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paperroute.model import PaperRecord
from paperroute.sources.hf_daily import parse_daily

REAL = Path(__file__).parents[1] / "data" / "hf-daily" / "2026-08-21.json"
# What huggingface_hub's DailyPapers / PaperInfo read, and their JSON types.
ITEM_FIELDS = {"paper": dict, "publishedAt": str, "title": str, "summary": str,
               "numComments": int, "submittedBy": dict}  # fmt: skip
PAPER_FIELDS = {"id": str, "title": str, "summary": str, "authors": list, "publishedAt": str,
                "upvotes": int, "githubRepo": str, "githubStars": int}  # fmt: skip


def _check_shape(item: dict[str, Any], real: dict[str, Any]) -> None:
    for key, kind in ITEM_FIELDS.items():
        assert isinstance(real[key], kind), key  # the real dump agrees with the table
        assert isinstance(item[key], kind), key
    for key, kind in PAPER_FIELDS.items():
        if key in real["paper"]:
            assert isinstance(real["paper"][key], kind), key
        if key in item["paper"]:
            assert isinstance(item["paper"][key], kind), key
    for author in item["paper"]["authors"]:
        assert set(author) == {"name"} and isinstance(author["name"], str)
    for stamp in (item["publishedAt"], item["paper"]["publishedAt"]):
        assert len(stamp) == len(real["publishedAt"]) and stamp.endswith("Z")
    assert isinstance(item["submittedBy"]["name"], str)


def test_same_day_matches_the_real_dump(demo: TestClient) -> None:
    real = json.loads(REAL.read_text())
    ours = demo.get("/api/daily_papers", params={"date": "2026-08-21"}).json()
    assert isinstance(ours, list) and len(ours) == len(real)
    by_id = {item["paper"]["id"]: item for item in real}
    assert {item["paper"]["id"] for item in ours} == set(by_id)
    for item in ours:
        original = by_id[item["paper"]["id"]]
        _check_shape(item, original)
        assert item["title"] == item["paper"]["title"] == original["title"].strip()
        assert item["paper"]["upvotes"] == original["paper"]["upvotes"]
        assert item["submittedBy"]["name"] == original["submittedBy"]["name"]
        # One stored spelling per author up to case ("Yu-Gang Jiang" / "Yu-gang Jiang").
        names = [a["name"].casefold() for a in original["paper"]["authors"]]
        assert [a["name"].casefold() for a in item["paper"]["authors"]] == names
        if "githubRepo" in original["paper"]:
            assert item["paper"]["githubStars"] == original["paper"]["githubStars"]
    upvotes = [item["paper"]["upvotes"] for item in ours]
    assert upvotes == sorted(upvotes, reverse=True)  # Hugging Face's default order


def test_our_answer_parses_like_hugging_faces(sqlite_demo: TestClient) -> None:
    body = sqlite_demo.get("/api/daily_papers", params={"date": "2026-08-21"}).content
    records = list(parse_daily(body))
    assert records and all(isinstance(r, PaperRecord) for r in records)
    real = {r.arxiv_id: r for r in parse_daily(REAL.read_bytes()) if isinstance(r, PaperRecord)}
    for record in records:
        assert isinstance(record, PaperRecord)
        original = real[record.arxiv_id]
        assert record.title == original.title
        assert [a.casefold() for a in record.authors] == [a.casefold() for a in original.authors]
        assert record.code_stars == original.code_stars
        assert record.daily[0].upvotes == original.daily[0].upvotes
        assert record.daily[0].day == original.daily[0].day


def _all(client: TestClient, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in range(20):
        got = client.get("/api/daily_papers", params={**params, "p": str(page)}).json()
        items += got
        if len(got) < 50:
            return items
    raise AssertionError("no end")


def test_week_month_paging_and_sorting(demo: TestClient) -> None:
    week = demo.get("/api/daily_papers", params={"week": "2026-W34", "limit": 100}).json()
    assert 100 >= len(week) > 17
    first = demo.get("/api/daily_papers", params={"month": "2026-08", "limit": 20}).json()
    second = demo.get("/api/daily_papers", params={"month": "2026-08", "limit": 20, "p": 1})
    ids = [i["paper"]["id"] for i in first]
    assert len(ids) == 20 and not set(ids) & {i["paper"]["id"] for i in second.json()}
    newest = _all(demo, week="2026-W34", sort="publishedAt")
    stamps = [item["paper"]["publishedAt"] for item in newest]
    assert stamps == sorted(stamps, reverse=True)
    hot = _all(demo, week="2026-W34", sort="trending")
    assert len(hot) == len(newest) > 100
    assert {i["paper"]["id"] for i in hot} == {i["paper"]["id"] for i in newest}
    assert hot[0]["paper"]["id"] == "2608.19880"  # 163 upvotes, newest day
    assert demo.get("/api/daily_papers", params={"date": "2030-01-01"}).json() == []


@pytest.mark.parametrize(
    "query",
    [
        {"date": "2026-08-21", "week": "2026-W34"},
        {"date": "21/08/2026"},
        {"week": "2026-W60"},
        {"month": "2026-13"},
        {"sort": "upvotes"},
        {"limit": "0"},
        {"limit": "101"},
        {"p": "-1"},
        {"p": "x"},
        {"date": "2" * 1000},
    ],
)
def test_bad_parameters_are_400(sqlite_demo: TestClient, query: dict[str, str]) -> None:
    response = sqlite_demo.get("/api/daily_papers", params=query)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]
