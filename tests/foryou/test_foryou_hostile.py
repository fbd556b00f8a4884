"""For you under attack, over HTTP on SQLite and PostgreSQL: library files holding text no
database stores (lone surrogates escaped in JSON, NUL and control characters in the file
name), a second account trying to see the first's private library, upload floods, follows
without end. Every refusal is a 4xx with a clear message, never a 500/503 or a traceback,
and nothing is half-stored."""

from __future__ import annotations

import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from paperroute import Hub, InvalidInput, PaperRecord
from paperroute.ids import title_hash
from paperroute.recommend.foryou import LIBRARY_UPLOADS_PER_HOUR
from paperroute.recommend.signals import MAX_FOLLOWS
from paperroute.store.schema_signals import reader_follows
from support.community import signed_in, web_sign_in
from support.foryou import BIB, DG
from support.smtp import SmtpServer


def _upload(client: TestClient, csrf: str, data: bytes, name: str = "mine.json") -> tuple[int, str]:
    answer = client.post("/me/library", data={"csrf_token": csrf}, files={"library": (name, data)})
    return answer.status_code, answer.text


LONE = [
    b'[{"type": "article", "title": "Lone \\ud800 surrogate"}]',
    b'[{"type": "article", "title": "Fine", "DOI": "10.1000/\\udfff"}]',
    b'[{"type": "article", "title": "Fine", "id": "key\\ud800"}]',
    b'{"items": [{"itemType": "journalArticle", "title": "T", "creators": '
    b'[{"lastName": "\\udc80", "creatorType": "author"}]}]}',
    b'[{"type": "article", "title": "Fine", "\\ud800": "x"}]',
]


@pytest.mark.parametrize("data", LONE, ids=range(len(LONE)))
def test_json_with_a_lone_surrogate_is_refused_with_422(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer, data: bytes
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    assert _upload(client, csrf, BIB, "mine.bib")[0] == 200
    status, text = _upload(client, csrf, data)
    assert status == 422, text[:500]
    assert "not valid Unicode" in text and "Traceback" not in text
    api = client.post(
        "/api/v1/me/library",
        content=data,
        headers={"X-CSRF-Token": csrf},
    )
    assert api.status_code == 422 and "not valid Unicode" in api.json()["detail"]
    found = fhub.community.user_by_email("ada@example.org")
    assert found is not None and fhub.signals.view(found.pk).library_total == 2


def test_bytes_that_are_not_utf8_in_a_bibtex_key_are_named_not_a_500(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    status, text = _upload(client, csrf, b"@misc{k\xff, title={x}}\n" + BIB, "mine.bib")
    assert status == 200 and "not valid UTF-8" in text and "Traceback" not in text


NAMES = ["evil\x00.bib", "line\r\nX-Forged: 1.bib", "bell\x07\x1b[31m.bib", "\u202egnp.bib", "\x00"]


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_a_hostile_file_name_is_stored_cleaned_never_a_5xx(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer, name: str
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    status, text = _upload(client, csrf, BIB, name)
    assert status == 200, text[:300]
    found = fhub.community.user_by_email("ada@example.org")
    assert found is not None
    stored = fhub.signals.view(found.pk).library_name
    assert stored and stored.isprintable() and "\x00" not in stored
    for query in ("evil%00.bib", "x%ED%A0%80.bib", "a%0d%0ab.bib", "%C0%80"):
        api = client.post(
            f"/api/v1/me/library?filename={query}", content=BIB, headers={"X-CSRF-Token": csrf}
        )
        assert api.status_code == 200, api.text[:300]
        stored = fhub.signals.view(found.pk).library_name
        assert stored and stored.isprintable()
    exported = json.loads(client.get("/me/export").text)
    assert exported["for_you"]["library"]["file"].isprintable()


PRIVATE = "An unpublished draft on Ricci flow"


def test_a_private_entry_is_matched_once_the_hub_holds_it_and_only_its_owner_sees_it(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    assert _upload(client, csrf, BIB, "mine.bib")[0] == 200
    me = client.get("/me").text
    assert "2 entries from" in me and ">1 in this hub<" in me and "(not in this hub)" in me
    # The hub ingests the private entry's paper later: /me matches it and stores the match.
    today = dt.datetime.now(dt.UTC).date()
    later = PaperRecord(
        source="jsonl", source_key="2501.00001", title=PRIVATE, abstract="Flows.",
        authors=("Jane Doe",), arxiv_id="2501.00001", version=1, categories=("math.DG",),
        announced_on=today, title_hash=title_hash(PRIVATE),
    )  # fmt: skip
    assert fhub.papers.ingest([later]).inserted == 1
    me = client.get("/me").text
    assert ">2 in this hub<" in me and "(not in this hub)" not in me
    assert 'href="/papers/2501.00001"' in me
    ada = fhub.community.user_by_email("ada@example.org")
    assert ada is not None
    view = fhub.signals.view(ada.pk)
    assert [e.paper_id for e in view.library][1] == "2501.00001" and view.library_matched == 2
    assert "2501.00001" in {s.paper_id for s in fhub.foryou.profile(ada.pk).seeds}
    # Bob sees none of it: not on his pages, not in his export, not through the API.
    client.cookies.clear()
    bob_csrf = web_sign_in(client, smtp_server, "bob@example.org")
    for path in ("/me", "/me/export", "/for-you", "/api/v1/me/recommendations?since=90"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "mine.bib" not in answer.text and "Whatever the file says" not in answer.text
        assert "2501.00001" not in answer.text or path == "/for-you"
    assert client.get("/api/v1/me/recommendations").json()["cold_start"] is True
    bob = fhub.community.user_by_email("bob@example.org")
    assert bob is not None
    bobs = fhub.signals.view(bob.pk)
    assert (bobs.library, bobs.library_total, bobs.library_matched) == ([], 0, 0)
    assert fhub.foryou.rematch_library(bob.pk) == 0
    assert fhub.foryou.profile(bob.pk).seeds == ()
    entry = view.library[1].pk
    remove = client.post(f"/me/library/{entry}/remove", data={"csrf_token": bob_csrf})
    assert remove.status_code == 404
    assert fhub.signals.view(ada.pk).library_total == 2


def test_library_uploads_are_rate_limited_per_reader(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    headers = {"X-CSRF-Token": csrf}
    for _ in range(LIBRARY_UPLOADS_PER_HOUR - 1):
        assert client.post("/api/v1/me/library", content=BIB, headers=headers).status_code == 200
    # Refused files count too: parsing them is the cost.
    assert client.post("/api/v1/me/library", content=b"\x00", headers=headers).status_code == 422
    limited = client.post("/api/v1/me/library", content=b"2401.00001", headers=headers)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert "too many library uploads" in limited.json()["detail"]
    status, text = _upload(client, csrf, b"2401.00001", "ids.txt")
    assert status == 429 and "too many library uploads" in text and "Nothing was imported" in text
    ada = fhub.community.user_by_email("ada@example.org")
    assert ada is not None and fhub.signals.view(ada.pk).library_total == 2  # BIB's, kept
    # Another reader has their own count.
    client.cookies.clear()
    bob_csrf = web_sign_in(client, smtp_server, "bob@example.org")
    assert _upload(client, bob_csrf, BIB, "mine.bib")[0] == 200


def _one_short_of_the_follows_cap(fhub: Hub, user_pk: int) -> None:
    """The reader follows MAX_FOLLOWS - 1 authors ("Author 0", ...)."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"user_pk": user_pk, "kind": "author", "value": f"Author {n}", "created_at": now}
        for n in range(MAX_FOLLOWS - 1)
    ]
    with fhub._db.write() as connection:
        connection.execute(insert(reader_follows), rows)


def test_follows_are_capped_per_reader_with_a_clear_message(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    ada = fhub.community.user_by_email("ada@example.org")
    assert ada is not None
    _one_short_of_the_follows_cap(fhub, ada.pk)
    # The cold start follows all its categories or none: two would pass the cap.
    two = [name for name, _ in fhub.reading.categories()][:2]
    assert len(two) == 2
    start = client.post(
        "/for-you/start", data={"csrf_token": csrf, "categories": two, "papers": DG[0]}
    )
    assert start.status_code == 400 and "would pass 1,000" in start.text
    assert len(fhub.signals.follows(ada.pk)) == MAX_FOLLOWS - 1
    assert fhub.signals.feedback_kinds(ada.pk) == {}  # its "more like this" not stored either
    fhub.signals.follow(ada.pk, "category", "math.DG")  # the 1,000th
    fhub.signals.follow(ada.pk, "category", "math.DG")  # again: changes nothing
    with pytest.raises(InvalidInput, match="you follow 1,000 authors and categories"):
        fhub.signals.follow(ada.pk, "author", "One Too Many")
    refused = client.post("/authors/One Too Many/follow", data={"csrf_token": csrf, "on": "1"})
    assert refused.status_code == 400 and "you follow 1,000" in refused.text
    assert "Traceback" not in refused.text
    assert len(fhub.signals.follows(ada.pk)) == MAX_FOLLOWS
    client.post(
        "/me/follows/remove", data={"csrf_token": csrf, "kind": "author", "value": "Author 0"}
    )
    ok = client.post(
        "/authors/One Too Many/follow",
        data={"csrf_token": csrf, "on": "1"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and fhub.signals.is_following(ada.pk, "author", "One Too Many")


def test_a_cold_start_naming_a_hidden_paper_stores_nothing_even_for_a_moderator(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer
) -> None:
    admin, _ = fhub.community.set_admin("mod@example.org", True)
    fhub.community.set_paper_hidden(admin, DG[1], True, "spam")
    csrf = web_sign_in(client, smtp_server, "mod@example.org")
    category = next(name for name, _ in fhub.reading.categories())
    refused = client.post(
        "/for-you/start",
        data={"csrf_token": csrf, "categories": [category], "papers": f"{DG[0]} {DG[1]}"},
    )
    assert refused.status_code == 400 and f"No paper &#39;{DG[1]}&#39;" in refused.text
    assert fhub.signals.follows(admin.pk) == [] and fhub.signals.feedback(admin.pk) == []


def test_a_paper_the_moderators_hid_cannot_be_named_for_feedback(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer
) -> None:
    admin, _ = fhub.community.set_admin("mod@example.org", True)
    title = fhub.papers.show(DG[1]).title
    fhub.community.set_paper_hidden(admin, DG[1], True, "spam")
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    given = client.post(
        f"/api/v1/me/feedback/{DG[1]}", json={"kind": "more"}, headers={"X-CSRF-Token": csrf}
    )
    assert given.status_code == 404
    page = client.post(f"/papers/{DG[1]}/feedback", data={"csrf_token": csrf, "kind": "more"})
    assert page.status_code == 404
    assert title not in client.get("/me").text and title not in client.get("/me/export").text
    # Named by a library, it is no seed either: no pick's reason shows its title.
    listed = f"{DG[1]}\n{DG[2]}\n".encode()
    assert _upload(client, csrf, listed, "ids.txt")[0] == 200
    # ... and the upload does not tell the reader it exists: one of two in this hub.
    ada = fhub.community.user_by_email("ada@example.org")
    assert ada is not None and fhub.signals.view(ada.pk).library_matched == 1
    picks = client.get("/api/v1/me/recommendations?limit=30&since=90").json()["items"]
    assert picks and all(DG[1] != p["reason_paper_id"] for p in picks)
    assert all(title not in p["reason"] for p in picks)


def test_feedback_given_before_a_paper_was_hidden_keeps_its_title_to_itself(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    title = fhub.papers.show(DG[1]).title
    given = client.post(
        f"/api/v1/me/feedback/{DG[1]}", json={"kind": "more"}, headers={"X-CSRF-Token": csrf}
    )
    assert given.status_code in (200, 204)
    assert title in client.get("/me").text
    admin, _ = fhub.community.set_admin("mod@example.org", True)
    fhub.community.set_paper_hidden(admin, DG[1], True, "spam")
    me = client.get("/me").text
    assert title not in me and "hidden by the moderators" in me and DG[1] in me
    exported = client.get("/me/export").json()["for_you"]["feedback"]
    assert exported[0]["paper_id"] == DG[1] and exported[0]["title"] is None


def test_readers_concurrent_follows_do_not_pass_the_cap(fhub: Hub, smtp_server: SmtpServer) -> None:
    reader = signed_in(fhub.community, smtp_server, "race@example.org")
    _one_short_of_the_follows_cap(fhub, reader.pk)
    # Eight requests at once, each the 1,000th follow of another author: one may pass.
    start = threading.Barrier(8)

    def follow(n: int) -> bool:
        start.wait()
        try:
            fhub.signals.follow(reader.pk, "author", f"Racer {n}")
        except InvalidInput:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        passed = list(pool.map(follow, range(8)))
    assert sum(passed) == 1
    assert len(fhub.signals.follows(reader.pk)) == MAX_FOLLOWS


def test_the_days_setting_goes_back_only_to_this_site(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "days@example.org")
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/a\r\nb", ""):
        answer = client.post(
            "/for-you/days",
            data={"csrf_token": csrf, "days": "5", "next": hostile},
            follow_redirects=False,
        )
        assert answer.status_code == 303, hostile
        assert answer.headers["location"] == "/for-you", hostile
    kept = client.post(
        "/for-you/days",
        data={"csrf_token": csrf, "days": "9", "next": "/for-you?x=1"},
        follow_redirects=False,
    )
    assert kept.headers["location"] == "/for-you?x=1"
    for wrong in ("0", "-3", "x", "99999"):
        refused = client.post("/for-you/days", data={"csrf_token": csrf, "days": wrong})
        assert refused.status_code in {400, 422} and "Traceback" not in refused.text
