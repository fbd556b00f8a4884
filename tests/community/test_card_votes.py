"""Upvoting from a list: every card has a vote control (a sign-in link when signed out, a
toggle button with its state for a screen reader when signed in, swapped in place by htmx),
and the header links to /submit, and to /admin for admins."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from paperroute.community import Community
from support.community import PAPERS, web_sign_in
from support.smtp import SmtpServer

DAY = "/papers/date/2026-11-20"


def _card_controls(html: str) -> list[str]:
    return re.findall(
        r'<(?:form class="card-vote"|a class="card-votes").*?</(?:form|a)>', html, re.S
    )


def test_signed_out_cards_link_to_sign_in_and_back(client: TestClient) -> None:
    html = client.get(DAY).text
    controls = _card_controls(html)
    assert len(controls) == len(PAPERS)
    for control in controls:
        assert f'href="/login?next={DAY}"' in control
        assert 'aria-label="Sign in to upvote' in control
    assert 'href="/submit"' not in html and 'href="/admin"' not in html
    # The cached copy says the same.
    assert _card_controls(client.get(DAY).text) == controls


def test_card_vote_toggles_in_place(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "cards@example.org")
    html = client.get(DAY).text
    assert 'href="/submit"' in html and 'href="/admin"' not in html
    controls = _card_controls(html)
    assert len(controls) == len(PAPERS)
    first = next(c for c in controls if f"/papers/{PAPERS[0]}/vote" in c)
    assert 'aria-pressed="false"' in first and 'name="fragment" value="card"' in first
    before = int(re.search(r'data-testid="card-vote-count">(\d+)<', first).group(1))  # type: ignore[union-attr]

    swapped = client.post(
        f"/papers/{PAPERS[0]}/vote",
        data={"csrf_token": csrf, "fragment": "card"},
        headers={"HX-Request": "true"},
    )
    assert swapped.status_code == 200
    fragment = swapped.text
    assert fragment.lstrip().startswith('<form class="card-vote"'), fragment[:200]
    assert 'aria-pressed="true"' in fragment and 'aria-label="Upvote “Paper 1' in fragment
    assert f'data-testid="card-vote-count">{before + 1}<' in fragment
    assert "paper-upvotes" not in fragment  # no out-of-band swap aimed at a paper page

    again = _card_controls(client.get(DAY).text)
    mine = next(c for c in again if f"/papers/{PAPERS[0]}/vote" in c)
    assert 'aria-pressed="true"' in mine
    others = [c for c in again if c is not mine]
    assert all('aria-pressed="false"' in c for c in others)

    back = client.post(
        f"/papers/{PAPERS[0]}/vote",
        data={"csrf_token": csrf, "fragment": "card"},
        headers={"HX-Request": "true"},
    )
    assert 'aria-pressed="false"' in back.text
    assert f'data-testid="card-vote-count">{before}<' in back.text


def test_admins_get_an_admin_link(client: TestClient, smtp_server: SmtpServer) -> None:
    web_sign_in(client, smtp_server, "boss@example.org")
    community: Community = client.app.state.community  # type: ignore[attr-defined]
    community.set_admin("boss@example.org", True)
    html = client.get("/trending").text
    assert 'href="/admin"' in html and 'href="/submit"' in html
