"""One address normaliser for the site (site/addresses.py): sign-in and digests accept and
refuse the same addresses, and an account stored under the first, looser sign-in rules
still works (docs/community.md, "Addresses")."""

from __future__ import annotations

import datetime as dt

import pytest

from paperroute.community import Community
from paperroute.errors import InvalidInput
from paperroute.hub import Hub
from paperroute.site.addresses import InvalidAddress, legacy_form, normalise_email
from paperroute.store.schema_community import users
from support.community import link_token
from support.smtp import SmtpServer

DOUBLE_DOT = "a..b@example.org"


def test_a_double_dot_is_refused_for_sign_in(community: Community) -> None:
    with pytest.raises(InvalidAddress, match="twice in a row"):
        community.request_sign_in(DOUBLE_DOT, "198.51.100.7")
    with pytest.raises(InvalidInput):
        community.ensure_user(DOUBLE_DOT)
    assert community.users() == []


def test_a_double_dot_is_refused_for_digests(seeded_hub: Hub) -> None:
    with pytest.raises(InvalidAddress, match="twice in a row"):
        seeded_hub.digests.subscribe(DOUBLE_DOT, {"trending": "on"})
    with pytest.raises(InvalidAddress, match="twice in a row"):
        seeded_hub.digests.add_confirmed(DOUBLE_DOT, {"trending": "on"})


def test_both_paths_store_the_same_form(seeded_hub: Hub, community: Community) -> None:
    typed = "  Reader.Name+tag@Bücher.DE "
    user = community.ensure_user(typed)
    subscriber = seeded_hub.digests.add_confirmed(typed, {"trending": "on"})
    assert user.email == subscriber.email == normalise_email(typed)
    assert user.email == "reader.name+tag@xn--bcher-kva.de"


def test_an_account_stored_under_the_old_rules_keeps_working(
    seeded_hub: Hub, community: Community, smtp_server: SmtpServer
) -> None:
    with seeded_hub._db.engine.begin() as connection:  # made before the stricter rule
        connection.execute(
            users.insert().values(
                email=DOUBLE_DOT,
                display_name="a..b",
                display_key="ab",
                is_admin=False,
                created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        )
    assert legacy_form(" A..B@Example.org ") == DOUBLE_DOT
    found = community.user_by_email("A..B@example.org")
    assert found is not None and found.email == DOUBLE_DOT
    assert community.request_sign_in(DOUBLE_DOT, "198.51.100.7") == DOUBLE_DOT
    assert community.sign_in(link_token(smtp_server, DOUBLE_DOT)).pk == found.pk
    promoted, created = community.set_admin(DOUBLE_DOT, True)
    assert promoted.pk == found.pk and promoted.is_admin and not created
    # Still refused where nothing is stored under it.
    with pytest.raises(InvalidAddress):
        community.request_sign_in("c..d@example.org", "198.51.100.7")
