"""For you over HTTP: the page (signed out: a prompt; no signals: the cold start; else
picks with reasons), card feedback swapped by htmx, follows, the /me library upload with
its errors (413, 422, nothing half-stored), export, account deletion, the JSON API and its
privacy between readers."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from paperroute import Hub
from support.community import web_sign_in
from support.foryou import BIB, DG
from support.smtp import SmtpServer


def test_signed_out_for_you_is_a_friendly_prompt(client: TestClient) -> None:
    page = client.get("/for-you")
    assert page.status_code == 200
    assert 'href="/login?next=/for-you"' in page.text
    assert 'href="/for-you"' not in client.get("/").text  # the header link: readers only


def test_cold_start_then_picks_with_reasons(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    assert 'href="/for-you"' in client.get("/").text
    cold = client.get("/for-you")
    assert "Get started" in cold.text and 'name="categories" value="math.DG"' in cold.text
    assert "Shaped by" not in cold.text  # no signals to be shaped by yet
    bad = client.post(
        "/for-you/start",
        data={"csrf_token": csrf, "categories": ["math.DG", "no.SUCH"], "papers": "9999.99999"},
    )
    assert bad.status_code == 400
    assert "No category &#39;no.SUCH&#39;" in bad.text
    assert "No paper &#39;9999.99999&#39;" in bad.text and "Nothing was saved" in bad.text
    assert 'value="math.DG" checked' in bad.text  # the reader's ticks are kept
    many = " ".join(f"2601.{n:05d}" for n in range(51))
    too_many = client.post("/for-you/start", data={"csrf_token": csrf, "papers": many})
    assert too_many.status_code == 400 and "At most 50 categories and 50 papers" in too_many.text
    assert "Get started" in client.get("/for-you").text  # nothing was stored
    started = client.post(
        "/for-you/start",
        data={"csrf_token": csrf, "categories": ["math.DG"], "papers": f"{DG[0]}, {DG[1]}"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    page = client.get("/for-you").text
    assert "Shaped by" in page
    reasons = re.findall(r'data-testid="pick-reason">(.*?)</p>', page, re.S)
    assert reasons and all(r.strip() for r in reasons)
    assert 'data-testid="not-interested"' in page and 'hx-target="closest article"' in page


def test_not_interested_on_for_you_removes_the_card(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    client.post("/for-you/start", data={"csrf_token": csrf, "papers": DG[0]})
    first = re.search(r'action="/papers/([^"]+)/feedback"', client.get("/for-you").text)
    assert first
    paper_id = first.group(1)
    gone = client.post(
        f"/papers/{paper_id}/feedback",
        data={"csrf_token": csrf, "kind": "less", "fragment": "remove"},
        headers={"HX-Request": "true"},
    )
    assert gone.status_code == 200 and gone.text == ""
    assert f"/papers/{paper_id}/feedback" not in client.get("/for-you").text


def test_card_feedback_toggles_in_place_and_needs_csrf(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    fragment = client.post(
        f"/papers/{DG[2]}/feedback",
        data={"csrf_token": csrf, "kind": "more", "fragment": "card"},
        headers={"HX-Request": "true"},
    ).text
    assert fragment.lstrip().startswith('<form class="card-feedback"')
    assert re.search(r'aria-pressed="true"[^>]*data-testid="more-like-this"', fragment)
    refused = client.post(f"/papers/{DG[2]}/feedback", data={"kind": "less"})
    assert refused.status_code == 403
    assert (
        client.post(
            "/papers/9999.99999/feedback", data={"csrf_token": csrf, "kind": "more"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/papers/{DG[2]}/feedback", data={"csrf_token": csrf, "kind": "x" * 11}
        ).status_code
        == 400
    )


def test_the_paper_page_offers_more_like_this_to_a_signed_in_reader(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    assert 'data-testid="more-like-this"' not in client.get(f"/papers/{DG[2]}").text
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    page = client.get(f"/papers/{DG[2]}").text
    assert re.search(r'aria-pressed="false"[^>]*data-testid="more-like-this"', page)
    client.post(f"/papers/{DG[2]}/feedback", data={"csrf_token": csrf, "kind": "more"})
    again = client.get(f"/papers/{DG[2]}").text
    assert re.search(r'aria-pressed="true"[^>]*data-testid="more-like-this"', again)
    client.cookies.clear()
    assert 'data-testid="more-like-this"' not in client.get(f"/papers/{DG[2]}").text


def test_follow_an_author_and_a_category(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    page = client.get("/categories/math.DG").text
    assert 'data-testid="follow"' in page and ">Follow<" in page
    swapped = client.post(
        "/categories/math.DG/follow", data={"csrf_token": csrf, "on": "1"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert ">Following<" in swapped.text
    client.post("/authors/Jens Wirth/follow", data={"csrf_token": csrf, "on": "1"})
    me = client.get("/me").text
    assert "Jens Wirth" in me and "math.DG" in me
    assert (
        client.post(
            "/categories/math.DG/follow", data={"csrf_token": csrf, "on": "maybe"}
        ).status_code
        == 400
    )


def test_library_upload_reports_and_errors(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")

    def upload(data: bytes, name: str = "mine.bib") -> tuple[int, str]:
        answer = client.post(
            "/me/library", data={"csrf_token": csrf}, files={"library": (name, data)}
        )
        return answer.status_code, answer.text

    status, text = upload(BIB)
    assert status == 200
    assert "Imported 2 entries (bibtex)" in text and "broken" in text
    assert "An unpublished draft on Ricci flow" in text and "(not in this hub)" in text
    for bad in (b"", b"\x00\x01\x02", b"\n".join(b"2401.%05d" % n for n in range(50_001))):
        status, text = upload(bad)
        assert status == 422, text[:300]
        assert "Nothing was imported" in text and "Traceback" not in text
    huge = b"@misc{k, title={" + b"x" * (8 * 1024 * 1024) + b"}}"
    too_large = client.post(
        "/me/library", data={"csrf_token": csrf}, files={"library": ("big.bib", huge)}
    )
    assert too_large.status_code == 413
    assert "Imported" not in client.get("/me").text and "2 entries from" in client.get("/me").text
    assert client.post("/me/library", data={"csrf_token": csrf}).status_code == 400


def test_export_and_delete_the_account(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "ada@example.org")
    client.post(f"/papers/{DG[0]}/feedback", data={"csrf_token": csrf, "kind": "more"})
    client.post("/me/library", data={"csrf_token": csrf}, files={"library": ("m.bib", BIB)})
    exported = client.get("/me/export")
    assert exported.headers["content-disposition"].startswith("attachment")
    data = json.loads(exported.text)
    assert data["account"]["email"] == "ada@example.org"
    assert data["for_you"]["feedback"][0]["paper_id"] == DG[0]
    assert len(data["for_you"]["library"]["entries"]) == 2
    assert "delete" in client.get("/me/delete").text
    wrong = client.post("/me/delete", data={"csrf_token": csrf, "confirm": "no"})
    assert wrong.status_code == 400 and client.get("/me").status_code == 200
    done = client.post("/me/delete", data={"csrf_token": csrf, "confirm": "delete"})
    assert done.status_code == 200 and "deleted" in done.text
    assert client.get("/me", follow_redirects=False).status_code == 303  # signed out


def _token(client: TestClient, smtp_server: SmtpServer, email: str) -> str:
    csrf = web_sign_in(client, smtp_server, email)
    page = client.post("/me/tokens", data={"csrf_token": csrf, "name": "script"}).text
    found = re.search(r'data-testid="new-token">([^<]+)<', page)
    assert found
    client.cookies.clear()
    return found.group(1)


def test_the_api_is_private_to_each_reader(
    client: TestClient, fhub: Hub, smtp_server: SmtpServer
) -> None:
    ada = {"Authorization": f"Bearer {_token(client, smtp_server, 'ada@example.org')}"}
    bob = {"Authorization": f"Bearer {_token(client, smtp_server, 'bob@example.org')}"}
    assert client.get("/api/v1/me/recommendations").status_code == 401
    cold = client.get("/api/v1/me/recommendations", headers=ada).json()
    assert cold["cold_start"] is True and cold["items"] == []
    given = client.post(f"/api/v1/me/feedback/{DG[0]}", json={"kind": "more"}, headers=ada)
    assert given.json() == {"paper_id": DG[0], "kind": "more"}
    uploaded = client.post("/api/v1/me/library?filename=mine.bib", content=BIB, headers=ada).json()
    assert (uploaded["stored"], uploaded["matched"], len(uploaded["skipped"])) == (2, 1, 1)
    picks = client.get("/api/v1/me/recommendations?limit=5&since=60", headers=ada).json()
    assert len(picks["items"]) == 5 and all(p["reason"] for p in picks["items"])
    # Bob sees none of it and cannot change it.
    assert client.get("/api/v1/me/recommendations", headers=bob).json()["cold_start"] is True
    client.delete(f"/api/v1/me/feedback/{DG[0]}", headers=bob)
    assert client.get("/api/v1/me/recommendations", headers=ada).json()["cold_start"] is False
    # Bad input: clear problems, no traceback.
    unusable = client.post("/api/v1/me/library", content=b"\x00", headers=ada)
    assert unusable.status_code == 422 and "binary" in unusable.json()["detail"]
    assert (
        client.post(
            "/api/v1/me/library", content=b"x" * (8 * 1024 * 1024 + 1), headers=ada
        ).status_code
        == 413
    )
    for body in ({"kind": "love"}, {}, [1]):
        assert (
            client.post(f"/api/v1/me/feedback/{DG[0]}", json=body, headers=ada).status_code == 400
        )
    assert (
        client.post(
            "/api/v1/me/feedback/9999.99999", json={"kind": "less"}, headers=ada
        ).status_code
        == 404
    )
    assert client.get("/api/v1/me/recommendations?limit=0", headers=ada).status_code == 400
    # Ada's library is intact after the refused upload.
    found = fhub.community.user_by_email("ada@example.org")
    assert found is not None and fhub.signals.view(found.pk).library_total == 2


@pytest.mark.parametrize(
    "path", ["/api/v1/me/recommendations", "/api/v1/me/library", "/api/v1/me/feedback/{paper_id}"]
)
def test_the_routes_are_in_the_openapi_document(client: TestClient, path: str) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert path in paths
    if path.endswith("library"):
        assert {"413", "422"} <= set(paths[path]["post"]["responses"])
