"""Checkpoints of long-running imports (OAI-PMH resumption tokens, feed fingerprints)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, select

from .schema import harvest_state


def get_state(connection: Connection, key: str) -> dict[str, Any] | None:
    value = connection.scalar(select(harvest_state.c.value).where(harvest_state.c.key == key))
    if value is None:
        return None
    loaded = json.loads(value)
    return loaded if isinstance(loaded, dict) else None


def put_state(connection: Connection, key: str, value: dict[str, Any]) -> None:
    """Replace the checkpoint ``key``; runs in the caller's transaction."""
    now = dt.datetime.now(dt.UTC)
    text = json.dumps(value, sort_keys=True)
    updated = connection.execute(
        harvest_state.update().where(harvest_state.c.key == key).values(value=text, updated_at=now)
    )
    if updated.rowcount == 0:
        connection.execute(harvest_state.insert().values(key=key, value=text, updated_at=now))
