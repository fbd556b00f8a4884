"""Names chosen under older folding rules are checked again (community/_refold.py, migration
0017): the first reader to choose a name keeps it, a later look-alike and a name the rules now
refuse go back to the default, stale keys are recomputed; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from paperroute.community import Community
from paperroute.community._refold import refold_names
from paperroute.hub import Hub
from paperroute.store.schema_community import users

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def stored_as(hub: Hub, pk: int, name: str, key: str, chosen_day: int) -> None:
    """What an older release stored: the name and the key its rules computed."""
    with hub._db.engine.begin() as connection:
        connection.execute(
            update(users)
            .where(users.c.pk == pk)
            .values(
                display_name=name,
                display_key=key,
                name_chosen_at=START + dt.timedelta(days=chosen_day),
            )
        )


def names(hub: Hub) -> dict[int, tuple[str, str, bool]]:
    with hub._db.engine.connect() as connection:
        rows = connection.execute(
            select(users.c.pk, users.c.display_name, users.c.display_key, users.c.name_chosen_at)
        ).all()
    return {r.pk: (r.display_name, r.display_key, r.name_chosen_at is not None) for r in rows}


def test_old_names_are_checked_again_and_the_first_to_choose_keeps_a_name(
    seeded_hub: Hub, community: Community
) -> None:
    pks = {
        who: community.ensure_user(f"{who}@example.org").pk
        for who in ("alice", "lookalike", "blank", "carol", "staff", "capital_i", "dave", "never")
    }
    # Keys as the first rules made them: the dotless i and the Hangul filler were kept.
    stored_as(seeded_hub, pks["lookalike"], "Al\u0131ce", "al\u0131ce", chosen_day=1)
    stored_as(seeded_hub, pks["alice"], "Alice", "alice", chosen_day=3)
    stored_as(seeded_hub, pks["blank"], "Bob\u3164", "bob\u3164", chosen_day=2)
    stored_as(seeded_hub, pks["carol"], "Carol  King", "CAROLKING", chosen_day=4)
    stored_as(seeded_hub, pks["staff"], "The Adm1n", "theadm1n", chosen_day=5)
    stored_as(seeded_hub, pks["dave"], "Dave", "dave", chosen_day=6)
    # Keys apart ("aiice", "alice"), skeletons one: a capital I for the kept "Alıce"'s l.
    stored_as(seeded_hub, pks["capital_i"], "AIice", "aiice", chosen_day=7)
    before = names(seeded_hub)

    with seeded_hub._db.engine.begin() as connection:
        done = refold_names(connection)

    after = names(seeded_hub)
    # "Alıce" chose first (day 1): it keeps the name under its current key; "Alice" (day 3)
    # now folds to the same key and goes back to its default.
    assert after[pks["lookalike"]] == ("Al\u0131ce", "alice", True)
    assert after[pks["alice"]] == (f"reader-{pks['alice']}", f"reader{pks['alice']}", False)
    assert after[pks["blank"]] == (f"reader-{pks['blank']}", f"reader{pks['blank']}", False)
    assert after[pks["staff"]] == (f"reader-{pks['staff']}", f"reader{pks['staff']}", False)
    assert after[pks["carol"]] == ("Carol King", "carolking", True)  # spaces collapsed too
    assert after[pks["dave"]] == before[pks["dave"]]
    assert after[pks["never"]] == before[pks["never"]]  # never chose a name
    assert after[pks["capital_i"]][2] is False  # "AIice" passes for "Alıce"
    assert set(done.reset) == {pks["alice"], pks["blank"], pks["staff"], pks["capital_i"]}
    assert set(done.rekeyed) == {pks["lookalike"], pks["carol"]}
    # Everyone else is untouched, and a second run changes nothing.
    untouched = set(before) - set(pks.values())
    assert {pk: after[pk] for pk in untouched} == {pk: before[pk] for pk in untouched}
    with seeded_hub._db.engine.begin() as connection:
        again = refold_names(connection)
    assert again.rekeyed == again.reset == ()
    assert names(seeded_hub) == after
    # The reader sent back can choose another name; the kept one stays taken.
    alice = community.ensure_user("alice@example.org")
    assert community.set_display_name(alice, "Alice Liddell").display_name == "Alice Liddell"


def test_a_key_passing_from_one_reader_to_another_meets_no_unique_error(
    seeded_hub: Hub, community: Community
) -> None:
    """The reader sent back held, under the old rules, exactly the key the first reader's
    name folds to now: the swap goes through a placeholder key."""
    first = community.ensure_user("first@example.org").pk
    second = community.ensure_user("second@example.org").pk
    stored_as(seeded_hub, first, "B0b", "b0b", chosen_day=1)  # now folds to "bob"
    stored_as(seeded_hub, second, "Bob", "bob", chosen_day=2)
    with seeded_hub._db.engine.begin() as connection:
        done = refold_names(connection)
    assert done.reset == (second,) and done.rekeyed == (first,)
    after = names(seeded_hub)
    assert after[first] == ("B0b", "bob", True)
    assert after[second][2] is False


def test_a_failure_half_way_leaves_every_name_as_it_was(
    seeded_hub: Hub, community: Community
) -> None:
    first = community.ensure_user("first@example.org").pk
    second = community.ensure_user("second@example.org").pk
    stored_as(seeded_hub, first, "Alice", "ALICE", chosen_day=1)
    stored_as(seeded_hub, second, "Alic\u0435", "alic\u0435", chosen_day=2)
    before = names(seeded_hub)
    with pytest.raises(IntegrityError), seeded_hub._db.engine.begin() as connection:
        refold_names(connection)
        # Whatever fails after it in the same transaction (a later migration step).
        connection.execute(update(users).values(display_key="same"))
    assert names(seeded_hub) == before
