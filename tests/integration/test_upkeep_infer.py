"""``hub.upkeep.infer_categories``: papers without categories get those of their nearest
categorised papers (stored vectors), apart from their own, shown marked on the paper page;
dropped once the paper has its own; the same rows however often and however many at once."""

from __future__ import annotations

import datetime as dt
import json
import threading

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from paperroute import Config, Hub, open_hub
from paperroute.model import PaperRecord
from paperroute.sources.common import build_record
from paperroute.store.schema import papers
from paperroute.store.schema_upkeep import inferred_categories
from paperroute.store.schema_vectors import embedding_models, embeddings
from paperroute.web.app import create_app
from support.cli import cli

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
# (arXiv id, categories, direction of its vector)
PAPERS = [
    ("2401.00001", ["cs.CL", "cs.AI"], [1.0, 0.0, 0.0]),
    ("2401.00002", ["cs.CL"], [0.95, 0.05, 0.0]),
    ("2401.00003", ["cs.CV"], [0.0, 1.0, 0.0]),
    ("2401.00004", ["cs.CV"], [0.05, 0.95, 0.0]),
    ("2401.00005", [], [0.9, 0.1, 0.0]),  # near the cs.CL papers
    ("2401.00006", [], [0.1, 0.9, 0.05]),  # near the cs.CV papers
]


def _record(arxiv_id: str, categories: list[str], source: str = "hf-daily") -> PaperRecord:
    record = build_record(
        source=source,
        source_key=arxiv_id,
        title=f"Paper {arxiv_id}",
        abstract="An abstract.",
        authors=["A. Author"],
        arxiv_id=arxiv_id,
        categories=categories,
    )
    assert isinstance(record, PaperRecord)
    return record


def _seed(hub: Hub) -> None:
    hub.papers.ingest([_record(i, cats) for i, cats, _ in PAPERS])
    with hub._db.write() as connection:
        connection.execute(
            insert(embedding_models).values(
                model=hub.search.model, version="test", dimension=3, max_length=8, updated_at=NOW
            )
        )
        for arxiv_id, _, direction in PAPERS:
            pk = connection.scalar(select(papers.c.pk).where(papers.c.id == arxiv_id))
            vector = np.array(direction, dtype=np.float32)
            vector /= np.linalg.norm(vector)
            connection.execute(
                insert(embeddings).values(
                    paper_pk=pk,
                    model=hub.search.model,
                    vector=vector.astype("<f2").tobytes(),
                    text_hash="x",
                    created_at=NOW,
                )
            )


def _stored(hub: Hub) -> list[tuple[str, str, int]]:
    with hub._db.read() as connection:
        rows = connection.execute(
            select(papers.c.id, inferred_categories.c.category, inferred_categories.c.position)
            .join(papers, papers.c.pk == inferred_categories.c.paper_pk)
            .order_by(papers.c.id, inferred_categories.c.position)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_inferred_categories_come_from_the_nearest_papers(database_url: str) -> None:
    config = Config(database_url=database_url, infer_neighbours=2, infer_threshold=0.5)
    with open_hub(config) as hub:
        _seed(hub)
        report = hub.upkeep.infer_categories()
        assert (report.considered, report.inferred, report.cleared) == (2, 2, 0)
        assert _stored(hub) == [("2401.00005", "cs.CL", 0), ("2401.00006", "cs.CV", 0)]
        # Never mixed with the source's own.
        assert hub.papers.show("2401.00005").categories == ()
        assert hub.reading.paper("2401.00005").card.inferred_categories == ("cs.CL",)
        assert hub.reading.paper("2401.00001").card.inferred_categories == ()
        assert hub.upkeep.infer_categories().inferred == 2
        assert _stored(hub) == [("2401.00005", "cs.CL", 0), ("2401.00006", "cs.CV", 0)]
        # The paper gains categories of its own (arXiv's): the inferred ones go.
        hub.papers.ingest([_record("2401.00005", ["cs.IR"], source="arxiv-api")])
        again = hub.upkeep.infer_categories()
        assert again.cleared == 1 and again.considered == 1
        assert _stored(hub) == [("2401.00006", "cs.CV", 0)]
        assert hub.reading.paper("2401.00005").card.inferred_categories == ()


def test_two_inferences_at_once_agree(database_url: str) -> None:
    config = Config(database_url=database_url, infer_neighbours=2, infer_threshold=0.2)
    with open_hub(config) as first, open_hub(config) as second:
        _seed(first)
        errors: list[BaseException] = []

        def run(hub: Hub) -> None:
            try:
                for _ in range(3):
                    hub.upkeep.infer_categories()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(h,)) for h in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        stored = _stored(first)
        assert len(stored) == len(set(stored))
        assert {(paper, cat) for paper, cat, _ in stored} >= {
            ("2401.00005", "cs.CL"),
            ("2401.00006", "cs.CV"),
        }


def test_the_paper_page_marks_inferred_categories(database_url: str) -> None:
    config = Config(
        database_url=database_url,
        demo=True,
        secret_key="infer-test-secret",
        allowed_hosts="testserver",
        infer_neighbours=2,
        infer_threshold=0.5,
    )
    with open_hub(config) as hub:
        _seed(hub)
        hub.upkeep.infer_categories()
    with TestClient(create_app(config)) as client:
        page = client.get("/papers/2401.00005").text
        assert 'cs.CL <span class="inferred-mark">(inferred)</span>' in page
        own = client.get("/papers/2401.00001").text
        assert "(inferred)" not in own and ">cs.CL</a>" in own
        data = client.get("/api/v1/papers/2401.00005").json()
        assert (data["categories"], data["inferred_categories"]) == ([], ["cs.CL"])
        listed = client.get("/categories/cs.CL").text  # a card in a list, marked too
        assert "2401.00005" in listed and 'cs.CL <span class="inferred-mark">' in listed


def test_enrich_infer_only_and_accuracy_on_the_command_line(database_url: str) -> None:
    with open_hub(Config(database_url=database_url)) as hub:
        _seed(hub)
    env = {"PAPERROUTE_INFER_NEIGHBOURS": "2", "PAPERROUTE_INFER_THRESHOLD": "0.5"}
    result = cli(database_url, "enrich", "--infer-only", **env)
    assert result.exit_code == 0, result.stderr
    assert "inferred categories for 2 of 2 papers without categories" in result.stdout
    measured = cli(database_url, "enrich", "--accuracy", "--format", "json", **env)
    assert measured.exit_code == 0, measured.stderr
    figures = json.loads(measured.stdout)
    assert figures["all"]["papers"] == 4 and figures["all"]["precision"] == 1.0
    assert figures["hf"]["papers"] == 0  # none of these papers was listed by Hugging Face


def test_inferred_categories_count_for_category_pages_filters_and_digests(
    database_url: str,
) -> None:
    from paperroute.digest._candidates import index
    from paperroute.reading import ListView

    config = Config(database_url=database_url, infer_neighbours=2, infer_threshold=0.5)
    with open_hub(config) as hub:
        _seed(hub)
        own = {c.id for c in hub.reading.category("cs.CL", limit=50).cards}
        assert own == {"2401.00001", "2401.00002"}
        hub.upkeep.infer_categories()
        page = hub.reading.category("cs.CL", limit=50)
        assert {c.id for c in page.cards} == own | {"2401.00005"} and page.total == 3
        assert dict(hub.reading.categories())["cs.CL"] == 3
        # Lists narrowed to a category (here this week's trending papers) include them too.
        narrowed = hub.reading.trending("week", limit=50, view=ListView(category="cs.CV"))
        assert {c.id for c in narrowed.page.cards} == {"2401.00003", "2401.00004", "2401.00006"}
        found = hub.search.query("cat:cs.CL", limit=50)
        assert {h.id for h in found.hits} == own | {"2401.00005"}
        cards = hub.reading.cards(list(range(1, 7)))
        picked = index(NOW.date(), NOW.date(), cards, [0.0] * len(cards))
        assert {cards[i].id for i in picked.category("cs.CV")} == {
            "2401.00003",
            "2401.00004",
            "2401.00006",
        }
        # A paper that gains its own categories leaves the inferred ones at once.
        hub.papers.ingest([_record("2401.00005", ["cs.IR"], source="arxiv-api")])
        assert hub.reading.category("cs.CL", limit=50).total == 2
        assert {h.id for h in hub.search.query("cat:cs.CL", limit=50).hits} == own
