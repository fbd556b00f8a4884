"""Display names checked again under the current rules (``_names.check_name``).

A name's key is stored when the reader chooses it, so rules that grew later (Hangul fillers
refused, more look-alikes folded, staff words kept) never reached names chosen before:
"Alice" and a later "Alıce" (dotless i) could both stand, each with its own stale key.
:func:`refold_names` walks the chosen names in the order they were chosen. A name the rules
still allow keeps it, its key (and stored form) recomputed; a name they now refuse, or whose
key or skeleton ("AIice" passes for "Alice": ``_names.skeleton``) an earlier-chosen name
already has, goes back to the reader's default (``reader-<pk>``, not chosen), so that no
two readers show one name and the first to choose it keeps it.
Migration 0017 runs it; a later change of the rules adds a migration that runs it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update

from ..errors import InvalidInput
from ..store.schema_community import users
from ._names import check_name, default_key, default_name, skeleton

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refolded:
    """What :func:`refold_names` changed: readers whose stored name or key was rewritten
    (same name, current key), and readers sent back to their default name."""

    rekeyed: tuple[int, ...]
    reset: tuple[int, ...]


def refold_names(connection: Connection) -> Refolded:
    """Recompute every chosen name's key under the current rules (see the module docstring),
    in the caller's transaction."""
    rows = connection.execute(
        select(users.c.pk, users.c.display_name, users.c.display_key)
        .where(users.c.name_chosen_at.is_not(None))
        .order_by(users.c.name_chosen_at, users.c.pk)
    ).all()
    taken: set[str] = set()
    shapes: set[str] = set()  # skeletons: "AIice" passes for "Alice" (_names.skeleton)
    rekeyed: list[tuple[int, str, str]] = []
    reset: list[int] = []
    for pk, stored, stored_key in rows:
        try:
            name, key = check_name(stored)
        except InvalidInput:
            reset.append(pk)
            continue
        shape = skeleton(name)
        if key in taken or shape in shapes:
            reset.append(pk)
            continue
        taken.add(key)
        shapes.add(shape)
        if (name, key) != (stored, stored_key):
            rekeyed.append((pk, name, key))
    moved = [pk for pk, _, _ in rekeyed]
    if moved or reset:
        # First a key no name can fold to ("~" is not a letter or digit) for every row that
        # changes, so that a key passing from one reader to another never meets itself in
        # the unique index on the way.
        placeholder = update(users).where(users.c.pk == bindparam("row"))
        connection.execute(
            placeholder.values(display_key=bindparam("key")),
            [{"row": pk, "key": f"~{pk}"} for pk in moved + reset],
        )
        if rekeyed:
            connection.execute(
                placeholder.values(display_name=bindparam("name"), display_key=bindparam("key")),
                [{"row": pk, "name": name, "key": key} for pk, name, key in rekeyed],
            )
        if reset:
            connection.execute(
                placeholder.values(
                    display_name=bindparam("name"),
                    display_key=bindparam("key"),
                    name_chosen_at=None,
                ),
                [{"row": pk, "name": default_name(pk), "key": default_key(pk)} for pk in reset],
            )
    if reset:
        log.warning(
            "%d display names are refused by the current rules or taken by an earlier reader: "
            "those readers are back to their default name (pks %s)",
            len(reset),
            ", ".join(map(str, reset[:20])) + (" ..." if len(reset) > 20 else ""),
        )
    return Refolded(rekeyed=tuple(moved), reset=tuple(reset))
