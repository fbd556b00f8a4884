"""Search on the web: the results page, suggestions, the Atom feed of a search, the JSON API
and the "Similar papers" section, on SQLite and PostgreSQL, with hostile queries."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from paperroute import Config
from paperroute.store.schema import papers
from paperroute.store.schema_community import hidden_papers
from paperroute.web.app import create_app
from paperroute.web.search_routes import highlight
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = [
    "",
    "x" * 10_000,
    "graph\x00neural",
    "🧠 neural 🚀",
    "שלום עולם equations",
    "'; DROP TABLE papers; --",
    'NEAR(a b) OR "unbalanced',
    "title:foo AND NOT bar ^ * ( ) : -",
    "cat:nonsense.XX author:",
    "after:2025-02-30 before:9999-99-99 equations",
    "<script>alert(1)</script>",
    "has:nothing foo:bar",
]


@pytest.fixture
def client(database_url: str, tmp_path: object) -> Iterator[TestClient]:
    config = Config(
        database_url=database_url,
        demo=True,
        secret_key="search-web-tests-secret",
        allowed_hosts="testserver",
    )
    # The deterministic embedder instead of MiniLM (the real model: test_minilm_search.py).
    app = create_app(config, embedder=HashEmbedder())
    hub = app.state.hub
    hub.papers.ingest(corpus_records())
    hub.search.embed()
    with TestClient(app) as test_client:
        yield test_client


def first_id() -> str:
    value = corpus_records()[0].arxiv_id
    assert value
    return value


def test_highlight_escapes_then_marks() -> None:
    html = str(highlight("a <b>\x02x&y\x03</b> \x02z"))
    assert html == "a &lt;b&gt;<mark>x&amp;y</mark>&lt;/b&gt; <mark>z</mark>"


def test_results_page_shows_highlighted_cards(client: TestClient) -> None:
    response = client.get("/search", params={"q": "elliptic", "mode": "keyword"})
    assert response.status_code == 200
    assert "<mark>" in response.text and 'class="card"' in response.text
    assert "elliptic" in response.text.lower()


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_every_mode_and_the_filters(client: TestClient, mode: str) -> None:
    response = client.get("/search", params={"q": "equations", "mode": mode, "cat": "math.DG"})
    assert response.status_code == 200
    dg = {r.arxiv_id for r in corpus_records() if "math.DG" in r.categories}
    found = [i for i in (r.arxiv_id for r in corpus_records()) if f'/papers/{i}"' in response.text]
    assert found and set(found) <= dg


def test_an_unknown_mode_is_a_notice(client: TestClient) -> None:
    response = client.get("/search", params={"q": "equations", "mode": "bogus"})
    assert response.status_code == 200 and "Unknown mode" in response.text


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_fail(client: TestClient, query: str) -> None:
    for mode in ("hybrid", "semantic", "keyword"):
        page = client.get("/search", params={"q": query, "mode": mode})
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text
        api = client.get("/api/v1/search", params={"q": query, "mode": mode})
        assert api.status_code == 200, api.text
        assert isinstance(api.json()["items"], list)
    assert client.get("/search/suggest", params={"q": query}).status_code == 200
    feed = client.get("/search/feed", params={"q": query})
    assert feed.status_code == 200
    ElementTree.fromstring(feed.content)


def test_suggestions_as_you_type(client: TestClient) -> None:
    response = client.get("/search/suggest", params={"q": "ellipt"})
    assert response.status_code == 200
    assert "<li" in response.text and "/papers/" in response.text
    assert client.get("/search/suggest", params={"q": "e"}).text == ""


def test_atom_feed_of_a_search(client: TestClient) -> None:
    response = client.get("/search/feed", params={"q": "elliptic", "mode": "keyword"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    entries = ElementTree.fromstring(response.content).findall(f"{ATOM}entry")
    assert entries
    titles = [e.findtext(f"{ATOM}title") or "" for e in entries]
    summaries = [e.findtext(f"{ATOM}summary") or "" for e in entries]
    assert all("ellip" in (t + s).lower() for t, s in zip(titles, summaries, strict=True))


def test_api_search(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"q": "elliptic", "mode": "semantic"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "semantic" and body["items"]
    item = body["items"][0]
    assert {"id", "title", "score", "snippet", "authors", "url"} <= set(item)
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "params", [{"q": "x", "mode": "bogus"}, {"q": "x", "limit": "0"}, {"q": "x", "limit": "abc"}]
)
def test_api_bad_parameters_are_problems(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert json.loads(response.text)["status"] == 400


def test_api_similar(client: TestClient) -> None:
    response = client.get(f"/api/v1/papers/{first_id()}/similar", params={"limit": 5})
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["items"]]
    assert len(ids) == 5 and first_id() not in ids
    assert client.get("/api/v1/papers/a%00b/similar").status_code == 404
    missing = client.get("/api/v1/papers/9999.99999/similar")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    bad = client.get(f"/api/v1/papers/{first_id()}/similar", params={"limit": 10_000})
    assert bad.status_code == 400


def test_the_paper_page_shows_similar_papers(client: TestClient) -> None:
    response = client.get(f"/papers/{first_id()}")
    assert response.status_code == 200
    assert "Similar papers" in response.text
    section = response.text.split("Similar papers", 1)[1]
    assert section.count('href="/papers/') >= 3
    # After the paper's own vote (in the head) and collections, above the discussion.
    text = response.text
    assert text.index('class="vote-button"') < text.index('id="collections"')
    assert text.index('id="collections"') < text.index('id="similar"') < text.index('id="comments"')


def test_hidden_papers_are_left_out(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    target = corpus_records()[3]
    with hub._db.engine.begin() as connection:
        pk = connection.execute(select(papers.c.pk).where(papers.c.id == target.arxiv_id)).scalar()
        connection.execute(
            insert(hidden_papers).values(
                paper_pk=pk, reason="test", hidden_at=dt.datetime.now(dt.UTC)
            )
        )
    for mode in ("keyword", "semantic", "hybrid"):
        body = client.get("/api/v1/search", params={"q": target.title, "mode": mode}).json()
        assert target.arxiv_id not in [item["id"] for item in body["items"]]


def test_a_quoted_query_is_shown_with_its_own_quotes(client: TestClient) -> None:
    response = client.get("/search", params={"q": '"elliptic curves"', "mode": "keyword"})
    assert response.status_code == 200
    assert "Results for <bdi>&#34;elliptic curves&#34;</bdi>" in response.text
    plain = client.get("/search", params={"q": "elliptic", "mode": "keyword"})
    assert "Results for “<bdi>elliptic</bdi>”" in plain.text


def test_meaning_names_its_window_of_closest_papers(client: TestClient) -> None:
    # Every one of the 300 papers is close to the deterministic embedder's query: the
    # Meaning mode shows the closest 200 and says so ("about 200" read as a guess).
    page = client.get("/search", params={"q": "equations", "mode": "semantic"}).text
    assert "The 200 closest results, page 1 of 7" in page, page
    assert "bout 200" not in page
    # The API's pages of it end with the window: no next page that would be empty.
    for offset, limit in ((180, 20), (0, 200), (150, 50)):
        params = {"q": "equations", "mode": "semantic", "offset": offset, "limit": limit}
        body = client.get("/api/v1/search", params=params).json()
        assert len(body["items"]) == limit and body["next_offset"] is None, (offset, body)
    body = client.get("/api/v1/search", params={"q": "equations", "mode": "semantic"}).json()
    assert body["next_offset"] == 20


def test_the_server_reads_similar_papers_bags_at_start(client: TestClient) -> None:
    # Started with the app, off the requests: no similar-papers call has asked for them.
    hub = client.app.state.hub  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while hub.search.bags.current() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    held = hub.search.bags.current()
    assert held is not None and held.postings is not None


def test_the_server_reads_the_keyword_vocabulary_and_sample_at_start(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    postgresql = hub._db.engine.dialect.name != "sqlite"
    deadline = time.monotonic() + 30
    while not hub.search.vocabulary.knows("equat") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.search.vocabulary.knows("equat")  # no search has asked for it
    assert not hub.search.vocabulary.knows("qwertyuiop")
    # PostgreSQL's frequency sample, with the terms that estimate totals.
    assert (hub.search.frequencies._terms is not None) is postgresql
