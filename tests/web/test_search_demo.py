"""Search on the demo data (real MiniLM vectors), SQLite and PostgreSQL: a query that names an
author or an id finds those papers first, totals are real and every match can be paged
through, nothing close says so, and a misspelt query is corrected from the index's words."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from paperroute import Config, open_hub
from paperroute.web.app import create_app
from support.demo import load_demo

PFISTER = {"2607.27853", "2608.19880"}  # FinanceHarness, EnvHarness
HUANG = {"2608.19880", "2608.17271"}  # EnvHarness, ASI-Bench


def _with_vectors(url: str) -> str:
    load_demo(url)
    with open_hub(Config(database_url=url)) as hub:
        assert hub.search.import_demo_vectors() > 6000
    return url


@pytest.fixture(scope="module")
def sqlite_searchable(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _with_vectors(f"sqlite:///{tmp_path_factory.mktemp('search') / 'demo.db'}")


@pytest.fixture(scope="module")
def postgresql_searchable(postgres_admin_url: str | None) -> Iterator[str]:
    if postgres_admin_url is None:
        if os.environ.get("PAPERROUTE_REQUIRE_ALL") == "1":
            pytest.fail("required service unavailable: PostgreSQL")
        pytest.skip("no PostgreSQL server")
    name = f"paperroute_searchdemo_{uuid.uuid4().hex[:10]}"
    admin = postgres_admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield _with_vectors(f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The demo data with its MiniLM vectors (semantic and best-match search work)."""
    url = request.getfixturevalue(f"{request.param}_searchable")
    config = Config(
        database_url=url,
        demo=True,
        secret_key="search-demo-tests-secret",
        allowed_hosts="testserver",
    )
    with TestClient(create_app(config)) as client:
        yield client


def search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_author_named_puts_their_papers_first(demo: TestClient) -> None:
    for name, papers in (("Tomas Pfister", PFISTER), ("Chengsong Huang", HUANG)):
        for mode in ("hybrid", "keyword"):
            ids = [item["id"] for item in search(demo, name, mode=mode)["items"]]
            assert set(ids[:2]) == papers, (name, mode, ids)
    # The web page and its default mode too.
    page = demo.get("/search", params={"q": "Tomas Pfister"}).text
    cards = page.split('<article class="card"')[1:]
    assert "FinanceHarness" in cards[0] + cards[1] and "EnvHarness" in cards[0] + cards[1]


def test_an_arxiv_id_finds_its_paper_first(demo: TestClient) -> None:
    for q in ("2608.19880", "arXiv:2608.19880v1", "https://arxiv.org/abs/2608.19880"):
        body = search(demo, q)
        assert body["items"][0]["id"] == "2608.19880", q
        assert body["total"] >= 1


def test_keyword_totals_are_exact_and_every_match_can_be_paged(demo: TestClient) -> None:
    first = search(demo, "diffusion", mode="keyword", limit=200)
    total = first["total"]
    assert first["total_exact"] is True and total > 300  # every paper with the word
    seen = [item["id"] for item in first["items"]]
    offset = first["next_offset"]
    while offset is not None:
        body = search(demo, "diffusion", mode="keyword", limit=200, offset=offset)
        assert body["total"] == total
        seen += [item["id"] for item in body["items"]]
        offset = body["next_offset"]
    assert len(seen) == total == len(set(seen))
    # The web page says so and pages 30 at a time.
    page = demo.get("/search", params={"q": "diffusion", "mode": "keyword", "page": "2"}).text
    assert f"{total:,} results, page 2 of {-(-total // 30)}" in page
    assert 'rel="next"' in page and 'rel="prev"' in page


def test_nothing_close_shows_nothing(demo: TestClient) -> None:
    body = search(demo, "qwertyuiop")
    assert body["items"] == [] and body["total"] == 0 and body["suggestion"] is None
    assert any("no close matches" in notice for notice in body["notices"])
    assert search(demo, "qwertyuiop", mode="semantic")["items"] == []
    page = demo.get("/search", params={"q": "qwertyuiop"}).text
    assert "0 results" in page and "No close matches" in page
    # A real topic keeps its papers close in meaning beside its keyword matches, and its
    # total (matches + close papers) stays put from page to page.
    topic = search(demo, "agents that use tools", limit=30)
    assert len(topic["items"]) == 30
    keyword = search(demo, "agents that use tools", mode="keyword")["total"]
    assert topic["total"] > keyword
    for offset in (30, 120, 300):
        assert (
            search(demo, "agents that use tools", limit=30, offset=offset)["total"]
            == (topic["total"])
        )


def test_a_misspelt_query_is_corrected_from_the_index(demo: TestClient) -> None:
    typed = "difusion modles for vidoe"
    body = search(demo, typed, mode="keyword")
    assert body["suggestion"] == "diffusion models for video"
    assert body["total"] > 10
    fixed = search(demo, "diffusion models for video", mode="keyword")
    assert [i["id"] for i in body["items"]] == [i["id"] for i in fixed["items"]]
    as_typed = search(demo, typed, mode="keyword", spell="false")
    assert as_typed["suggestion"] is None and as_typed["total"] == 0
    page = demo.get("/search", params={"q": typed}).text
    assert "Showing results for" in page and "diffusion models for video" in page
    assert "Search instead for" in page and "spell=0" in page
    # A misspelt name: corrected (in the case typed), then its papers first.
    name = search(demo, "Tomas Pfistr")
    assert name["suggestion"] == "Tomas Pfister"
    assert {item["id"] for item in name["items"][:2]} == PFISTER
    # Words the index holds are left alone.
    assert search(demo, "diffusion models", mode="keyword")["suggestion"] is None


def test_suggestions_offer_authors_and_categories_and_papers(demo: TestClient) -> None:
    html = demo.get("/search/suggest", params={"q": "Tomas Pf"}).text
    assert 'href="/authors/Tomas%20Pfister"' in html and "2 papers" in html
    assert "FinanceHarness" in html and 'role="listbox"' in html
    categories = demo.get("/search/suggest", params={"q": "cs.c"}).text
    assert 'href="/categories/cs.CL"' in categories and 'href="/categories/cs.CV"' in categories
    by_id = demo.get("/search/suggest", params={"q": "2608.19880"}).text
    assert by_id.index("EnvHarness") < by_id.index("suggest-all")  # the paper it names
    for fragment in (html, categories):  # aria-activedescendant needs unique ids
        ids = re.findall(r'role="option" id="([^"]+)"', fragment)
        assert ids and len(ids) == len(set(ids))


def test_suggestions_correct_a_typo_as_the_results_page_does(demo: TestClient) -> None:
    """The reader review: the box said "No papers match" where Enter found 300 results."""
    html = demo.get("/search/suggest", params={"q": "difusion modles"}).text
    assert "Did you mean “diffusion models”?" in html
    assert 'role="option"' in html and "No papers match" not in html
    assert 'href="/search?q=diffusion%20models"' in html
    nothing = demo.get("/search/suggest", params={"q": "qwertyuiop zxcvbnm"}).text
    assert "No papers match" in nothing and "Did you mean" not in nothing
