"""The read side of the JSON API (/api/v1): lists, cursors, problem documents, OpenAPI."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def _walk(
    client: TestClient, path: str, limit: int, **extra: str
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, following next_cursor; and the total it announced."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    total = -1
    for _ in range(1000):
        params: dict[str, Any] = {"limit": limit, **extra}
        if cursor:
            params["cursor"] = cursor
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        data = response.json()
        total = data["total"]
        items += data["items"]
        cursor = data["next_cursor"]
        if cursor is None:
            return items, total
    raise AssertionError("next_cursor never ended")


def test_daily_walks_hf_papers_then_arxiv_listings(demo: TestClient) -> None:
    items, total = _walk(demo, "/api/v1/daily", 40)
    assert len(items) == total == len({item["id"] for item in items})
    first = demo.get("/api/v1/daily").json()
    assert first["date"] == "2026-08-21"
    assert first["previous_date"] == "2026-08-20" and first["next_date"] is None
    hf = [item for item in items if item["hf_upvotes"] > 0]
    assert items[: len(hf)] == hf  # community picks first
    assert [i["upvotes"] for i in hf] == sorted((i["upvotes"] for i in hf), reverse=True)
    day = demo.get("/api/v1/daily", params={"date": "2026-08-14"}).json()
    assert day["date"] == "2026-08-14" and day["next_date"] == "2026-08-17"


def test_trending_pages_are_disjoint_and_ordered(demo: TestClient) -> None:
    items, total = _walk(demo, "/api/v1/trending", 100, window="month")
    assert len(items) == total > 100
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    assert len({item["id"] for item in items}) == total
    week = demo.get("/api/v1/trending").json()
    assert week["window"] == "week" and "log10" in week["formula"]
    assert week["total"] < total


def test_paper_detail(demo: TestClient) -> None:
    data = demo.get("/api/v1/papers/2608.16590").json()
    assert data["id"] == "2608.16590"
    assert data["code_stars"] == 152 and data["upvotes"] == 92
    assert data["url"] == "/papers/2608.16590"
    assert any(listing["source"] == "hf" for listing in data["listings"])
    terms = data["trending"]
    total = terms["upvote_term"] + terms["star_term"] + terms["recency_term"]
    assert abs(terms["score"] - total) < 1e-5
    # any version of the id finds it
    assert demo.get("/api/v1/papers/2608.16590v1").json()["id"] == "2608.16590"


def test_authors_and_categories(demo: TestClient) -> None:
    author = demo.get("/api/v1/authors/WENTAO ZHANG").json()
    assert author["name"] == "Wentao Zhang" and author["total"] >= len(author["items"]) > 1
    assert all("Wentao Zhang" in item["authors"] for item in author["items"])
    categories = demo.get("/api/v1/categories").json()["items"]
    counts = [c["papers"] for c in categories]
    assert counts == sorted(counts, reverse=True)
    top = categories[0]
    items, total = _walk(demo, f"/api/v1/categories/{top['category']}", 200)
    assert total == top["papers"] == len(items)
    assert all(top["category"] in item["categories"] for item in items)


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !!",
        "x",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _cursor([1, 2]),
        _cursor({"s": "trending:week", "o": -5}),
        _cursor({"s": "trending:week", "o": "5"}),
        _cursor({"s": "trending:week", "o": 10**12}),
        _cursor({"s": "trending:month", "o": 30}),  # another list's cursor
        "A" * 200,
    ],
)
def test_bad_cursors_are_a_400_problem(sqlite_demo: TestClient, cursor: str) -> None:
    response = sqlite_demo.get("/api/v1/trending", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert "cursor" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/v1/papers/0000.00000", 404, "no paper"),
        ("/api/v1/papers/" + "z" * 3000, 404, "no paper"),
        ("/api/v1/authors/Nobody At All", 404, "no author"),
        ("/api/v1/categories/zz.ZZ", 404, "no papers in category"),
        ("/api/v1/daily?date=2026-02-30", 400, "not a date"),
        ("/api/v1/daily?date=" + "9" * 39, 400, "not a date"),
        ("/api/v1/daily?date=" + "9" * 500, 400, "date"),
        ("/api/v1/trending?window=year", 400, "window"),
        ("/api/v1/trending?limit=0", 400, "limit"),
        ("/api/v1/trending?limit=100000", 400, "limit"),
        ("/api/v1/trending?cursor=" + "A" * 5000, 400, "cursor"),
        ("/api/v1/nothing-here", 404, "nothing at"),
    ],
)
def test_errors_are_problem_documents(
    sqlite_demo: TestClient, path: str, status: int, words: str
) -> None:
    response = sqlite_demo.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert words in response.json()["detail"]


def test_openapi_documents_the_read_api(sqlite_demo: TestClient) -> None:
    spec = sqlite_demo.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/daily",
        "/api/v1/trending",
        "/api/v1/papers/{paper_id}",
        "/api/v1/authors/{name}",
        "/api/v1/categories",
        "/api/v1/categories/{category}",
        "/api/daily_papers",
    ):
        assert path in paths, path
    assert "PaperDetail" in spec["components"]["schemas"]
    assert not any(p.startswith("/papers") or p == "/" for p in paths)  # pages stay out


def test_empty_hub(fresh: TestClient) -> None:
    assert fresh.get("/api/v1/daily").json()["items"] == []
    assert fresh.get("/api/v1/trending").json() == {
        **fresh.get("/api/v1/trending").json(),
        "items": [],
        "total": 0,
        "next_cursor": None,
    }
    assert fresh.get("/api/v1/categories").json() == {"items": []}
    assert fresh.get("/api/daily_papers").json() == []
    assert "No papers yet" in fresh.get("/").text
    assert fresh.get("/trending").status_code == 200
