"""Checkpoints of long-running imports (OAI-PMH resumption tokens, feed fingerprints)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import Connection, select

from .schema import harvest_state


def _key(key: str) -> str:
    """Keys name what they checkpoint (a URL, a path); long ones keep a readable head and a
    hash, to fit the column."""
    if len(key) <= 300:  # the column's size
        return key
    return f"{key[:150]}#{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def get_state(connection: Connection, key: str) -> dict[str, Any] | None:
    query = select(harvest_state.c.value).where(harvest_state.c.key == _key(key))
    value = connection.scalar(query)
    if value is None:
        return None
    loaded = json.loads(value)
    return loaded if isinstance(loaded, dict) else None


def put_state(connection: Connection, key: str, value: dict[str, Any]) -> None:
    """Replace the checkpoint ``key``; runs in the caller's transaction."""
    now = dt.datetime.now(dt.UTC)
    text = json.dumps(value, sort_keys=True)
    key = _key(key)
    updated = connection.execute(
        harvest_state.update().where(harvest_state.c.key == key).values(value=text, updated_at=now)
    )
    if updated.rowcount == 0:
        connection.execute(harvest_state.insert().values(key=key, value=text, updated_at=now))
