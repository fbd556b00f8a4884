"""Transitional (issue 10): what ``web/community_pages.py`` and ``web/community_api.py``
still import from the old ``browse`` module. Delete this package once they call
``hub.reading.cards(pks)``; everything else uses ``paperroute.reading``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StorageError
from ..reading import Card
from ..reading.sql import load_cards

__all__ = ["Card", "load_cards", "reading"]


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as connection:
            yield connection
    except SQLAlchemyError as exc:
        raise StorageError(f"database error: {exc.__class__.__name__}: {exc}") from exc
