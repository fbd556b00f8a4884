"""Helpers for the community tests (tests/community): seed papers, a settable clock, and
signing a reader in through the emailed link, as the domain or as a browser would."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from paperroute.community import Community, User
from paperroute.hub import Hub
from paperroute.model import DailyEntry, PaperRecord

from .smtp import SmtpServer

SECRET = "test-secret-key-0123456789abcdef"
PAPERS = ("2401.00001", "2401.00002", "hep-th/9901001")


def seed(hub: Hub) -> None:
    records = [
        PaperRecord(
            source="jsonl",
            source_key=str(n),
            title=f"Paper {n} <script>alert('t{n}')</script>",
            abstract=f"Abstract {n}.",
            arxiv_id=arxiv_id,
            authors=("Ada Lovelace", "Alan Turing"),
            categories=("cs.LG",),
            daily=(
                DailyEntry(
                    day=datetime(2026, 11, 20, tzinfo=UTC).date(), source="hf", upvotes=3 * n
                ),
            ),
        )
        for n, arxiv_id in enumerate(PAPERS, 1)
    ]
    report = hub.papers.ingest(records)
    assert report.inserted == len(PAPERS), report


class Clock:
    """A settable clock for expiry tests."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def link_token(server: SmtpServer, email: str) -> str:
    """The token of the newest sign-in link mailed to ``email``."""
    return server.found_in_last(email, r"/auth/verify\?token=([A-Za-z0-9_\-]+)")


def signed_in(community: Community, server: SmtpServer, email: str) -> User:
    community.request_sign_in(email, "198.51.100.7")
    return community.sign_in(link_token(server, email))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def web_sign_in(client: TestClient, server: SmtpServer, email: str) -> str:
    """Sign ``client`` in through the real flow; returns the signed-in CSRF token."""
    before = len(server.to(email))
    page = client.get("/login")
    answer = client.post("/login", data={"email": email, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 200, answer.text
    server.wait_for(1)
    assert len(server.to(email)) == before + 1
    token = link_token(server, email)
    confirm = client.get(f"/auth/verify?token={token}")
    assert confirm.status_code == 200, confirm.text
    done = client.post(
        "/auth/verify",
        data={"token": token, "csrf_token": csrf_of(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    me = client.get("/me")
    assert me.status_code == 200 and email in me.text
    return csrf_of(me.text)
