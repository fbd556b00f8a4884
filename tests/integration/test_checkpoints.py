"""Checkpoints of long-running imports (hub.papers.checkpoint / save_checkpoint), on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from paperroute import Config, Hub, open_hub
from paperroute.store.schema import harvest_state


def rows(hub: Hub) -> list[tuple[Any, ...]]:
    with hub._db.engine.connect() as connection:
        query = select(harvest_state.c.key, harvest_state.c.value).order_by(harvest_state.c.key)
        return [tuple(r) for r in connection.execute(query)]


def updated_at(hub: Hub, key: str) -> dt.datetime:
    with hub._db.engine.connect() as connection:
        value = connection.scalar(
            select(harvest_state.c.updated_at).where(harvest_state.c.key == key)
        )
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_a_missing_checkpoint_is_none(hub: Hub) -> None:
    assert hub.papers.checkpoint("oai:arXiv:cs") is None


def test_a_checkpoint_round_trips(hub: Hub) -> None:
    value = {
        "token": "6960524|1001",
        "from": "2024-01-01",
        "done": 1000,
        "complete": False,
        "ratio": 0.5,
        "sets": ["cs", "math"],
        "nested": {"a": None, "b": [1, 2, {"c": "d"}]},
        "text": "Zürich — 東京 ✓",
    }
    before = dt.datetime.now(dt.UTC)
    hub.papers.save_checkpoint("oai:arXiv:cs", value)
    assert hub.papers.checkpoint("oai:arXiv:cs") == value
    stamp = updated_at(hub, "oai:arXiv:cs")
    assert before - dt.timedelta(seconds=1) <= stamp <= dt.datetime.now(dt.UTC)
    assert rows(hub) == [
        (
            "oai:arXiv:cs",
            '{"complete": false, "done": 1000, "from": "2024-01-01", "nested": {"a": null, '
            '"b": [1, 2, {"c": "d"}]}, "ratio": 0.5, "sets": ["cs", "math"], '
            '"text": "Z\\u00fcrich \\u2014 \\u6771\\u4eac \\u2713", "token": "6960524|1001"}',
        )
    ]


def test_saving_again_overwrites_the_one_row(hub: Hub) -> None:
    hub.papers.save_checkpoint("feed", {"etag": "a", "seen": [1]})
    first = updated_at(hub, "feed")
    hub.papers.save_checkpoint("feed", {"etag": "b"})
    assert hub.papers.checkpoint("feed") == {"etag": "b"}
    assert rows(hub) == [("feed", '{"etag": "b"}')]
    assert updated_at(hub, "feed") >= first
    hub.papers.save_checkpoint("feed", {})
    assert hub.papers.checkpoint("feed") == {}
    assert rows(hub) == [("feed", "{}")]


def test_keys_are_independent(hub: Hub) -> None:
    long_key = "k" * 300
    hub.papers.save_checkpoint("a", {"n": 1})
    hub.papers.save_checkpoint("b", {"n": 2})
    hub.papers.save_checkpoint(long_key, {"n": 3})
    hub.papers.save_checkpoint("a", {"n": 10})
    assert [hub.papers.checkpoint(k) for k in ("a", "b", long_key, "c")] == [
        {"n": 10},
        {"n": 2},
        {"n": 3},
        None,
    ]
    assert [key for key, _ in rows(hub)] == ["a", "b", long_key]


@pytest.mark.parametrize("stored", ['["a", "list"]', '"text"', "42", "null"])
def test_a_stored_value_that_is_not_an_object_reads_as_none(hub: Hub, stored: str) -> None:
    with hub._db.engine.begin() as connection:
        connection.execute(
            harvest_state.insert().values(
                key="odd", value=stored, updated_at=dt.datetime.now(dt.UTC)
            )
        )
    assert hub.papers.checkpoint("odd") is None
    hub.papers.save_checkpoint("odd", {"fixed": True})
    assert hub.papers.checkpoint("odd") == {"fixed": True}


def test_checkpoints_survive_reopening(hub: Hub, database_url: str) -> None:
    hub.papers.save_checkpoint("oai", {"token": "t1"})
    hub.close()
    with open_hub(Config(database_url=database_url)) as reopened:
        assert reopened.papers.checkpoint("oai") == {"token": "t1"}
        reopened.papers.save_checkpoint("oai", {"token": "t2"})
    with open_hub(Config(database_url=database_url)) as reopened:
        assert reopened.papers.checkpoint("oai") == {"token": "t2"}
        with reopened._db.engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM harvest_state")) == 1


def test_a_saved_checkpoint_is_committed(hub: Hub) -> None:
    """save_checkpoint commits on its own: a later rolled-back transaction cannot undo it."""
    hub.papers.save_checkpoint("oai", {"token": "kept"})
    with pytest.raises(RuntimeError), hub._db.engine.begin() as connection:
        connection.execute(harvest_state.delete())
        raise RuntimeError("import failed")
    assert hub.papers.checkpoint("oai") == {"token": "kept"}


def test_long_keys_fit_and_stay_distinct(hub: Hub) -> None:
    base = "rss|https://example.org/" + "x" * 400
    hub.papers.save_checkpoint(base + "a", {"n": 1})
    hub.papers.save_checkpoint(base + "b", {"n": 2})
    assert hub.papers.checkpoint(base + "a") == {"n": 1}
    assert hub.papers.checkpoint(base + "b") == {"n": 2}
