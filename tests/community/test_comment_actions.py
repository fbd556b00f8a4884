"""Comments a reader can live with (issue 15, item 2): math kept for KaTeX (pages and the
API), tables styled by class, edit ("edited") and delete one's own, report someone else's
to the admins, /admin listing reported, recent and hidden comments, /me showing the rendered
comment under its paper's title."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from paperroute.community import Community
from paperroute.community.errors import Forbidden
from support.community import PAPERS, signed_in, web_sign_in
from support.smtp import SmtpServer

MATH = r"Regret $\tilde{O}(T^{7/10})$ and $a_1 * b_2 * c$, also \(x_{i}\)."


def _token(client: TestClient) -> str:
    page = client.post("/me/tokens", data={"csrf_token": _csrf(client), "name": "bot"}).text
    return re.search(r'data-testid="new-token">(prt_[\w-]+)<', page).group(1)  # type: ignore[union-attr]


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/me").text).group(1)  # type: ignore[union-attr]


def test_math_survives_markdown_in_the_page_and_the_api(
    community: Community, smtp_server: SmtpServer, client: TestClient
) -> None:
    reader = signed_in(community, smtp_server, "math@example.org")
    posted = community.comment(reader, PAPERS[0], MATH)
    assert r"$\tilde{O}(T^{7/10})$" in posted.body_html
    assert "$a_1 * b_2 * c$" in posted.body_html and r"\(x_{i}\)" in posted.body_html
    assert "<em>" not in posted.body_html
    api = client.get(f"/api/v1/papers/{PAPERS[0]}/comments").json()["items"][0]
    assert r"$\tilde{O}(T^{7/10})$" in api["body_html"]
    page = client.get(f"/papers/{PAPERS[0]}").text
    assert '<div class="comment-body math">' in page  # app.js runs KaTeX on .math


def test_money_and_table_alignment(community: Community, smtp_server: SmtpServer) -> None:
    reader = signed_in(community, smtp_server, "table@example.org")
    money = community.comment(reader, PAPERS[0], "costs $5 and *$6*")
    assert "<em>$6</em>" in money.body_html
    table = community.comment(reader, PAPERS[0], "| a | b |\n|:-|-:|\n| 1 | 2 |")
    assert '<th class="align-left">a</th>' in table.body_html
    assert "style=" not in table.body_html


def test_math_searches_are_bounded_and_hostile_dollars_stay_text(
    community: Community, smtp_server: SmtpServer
) -> None:
    reader = signed_in(community, smtp_server, "dollars@example.org")
    # Every "$" before a digit closes nothing: searched from each "$" again, it was
    # quadratic: twelve seconds of CPU for this one comment (benchmarks/hostile_library.py).
    dollars = community.comment(reader, PAPERS[0], "$1" * 4_999)
    assert dollars.body_html == f"<p>{'$1' * 4_999}</p>\n"
    # A formula longer than 2,000 characters is no formula: Markdown applies inside it.
    long = community.comment(reader, PAPERS[0], "$" + "x" * 2_000 + " *y* z$")
    assert "<em>y</em>" in long.body_html
    short = community.comment(reader, PAPERS[0], "$x *y* z$ and \\(a *b* c\\)")
    assert "<em>" not in short.body_html


def test_only_the_author_edits_or_deletes(community: Community, smtp_server: SmtpServer) -> None:
    author = signed_in(community, smtp_server, "author@example.org")
    other = signed_in(community, smtp_server, "other@example.org")
    posted = community.comment(author, PAPERS[0], "first")
    assert posted.edited_at is None
    with pytest.raises(Forbidden):
        community.edit_comment(other, posted.pk, "mine now")
    with pytest.raises(Forbidden):
        community.delete_comment(other, posted.pk)
    edited = community.edit_comment(author, posted.pk, "**second**")
    assert edited.edited_at is not None and "<strong>second</strong>" in edited.body_html
    community.delete_comment(author, posted.pk)
    assert community.comments(community.paper_pk(PAPERS[0])) == []


def test_web_forms_edit_delete_report_and_admin_lists(
    client: TestClient, community: Community, smtp_server: SmtpServer, app_config: object
) -> None:
    csrf = web_sign_in(client, smtp_server, "writer@example.org")
    client.post(f"/papers/{PAPERS[0]}/comments", data={"csrf_token": csrf, "body": "draft"})
    page = client.get(f"/papers/{PAPERS[0]}").text
    pk = re.search(r'id="comment-(\d+)"', page).group(1)  # type: ignore[union-attr]
    assert f'action="/comments/{pk}/edit"' in page and f'action="/comments/{pk}/report"' not in page
    too_big = client.post(f"/comments/{pk}/edit", data={"csrf_token": csrf, "body": "x" * 10_001})
    assert too_big.status_code == 413
    no_csrf = client.post(f"/comments/{pk}/edit", data={"body": "sneaky"})
    assert no_csrf.status_code == 403
    done = client.post(f"/comments/{pk}/edit", data={"csrf_token": csrf, "body": "final *text*"})
    assert done.status_code == 200 and "· edited" in done.text and "<em>text</em>" in done.text

    me = client.get("/me").text
    assert "<em>text</em>" in me and "final *text*" not in me
    title = community.paper(community.paper_pk(PAPERS[0])).title
    shown = str(escape(title))  # the seeded title is hostile: escaped
    assert f'href="/papers/{PAPERS[0]}#comment-{pk}">{shown}</a>' in me

    reporter = TestClient(client.app)
    rcsrf = web_sign_in(reporter, smtp_server, "reporter@example.org")
    their_page = reporter.get(f"/papers/{PAPERS[0]}").text
    assert f'action="/comments/{pk}/report"' in their_page
    assert f'action="/comments/{pk}/edit"' not in their_page
    assert (
        reporter.post(f"/comments/{pk}/edit", data={"csrf_token": rcsrf, "body": "x"}).status_code
        == 403
    )
    assert reporter.post(f"/comments/{pk}/delete", data={"csrf_token": rcsrf}).status_code == 403
    reported = reporter.post(
        f"/comments/{pk}/report", data={"csrf_token": rcsrf, "reason": "off-topic spam"}
    )
    assert reported.status_code == 200

    community.ensure_user("boss@example.org", admin=True)
    admin = TestClient(client.app)
    acsrf = web_sign_in(admin, smtp_server, "boss@example.org")
    board = admin.get("/admin").text
    reported_section = board.split('id="reported"')[1].split("</section>")[0]
    assert "off-topic spam" in reported_section and "1 report" in reported_section
    assert shown in reported_section
    admin.post(f"/comments/{pk}/hide", data={"csrf_token": acsrf})
    hidden_section = (
        admin.get("/admin").text.split('id="hidden-comments"')[1].split("</section>")[0]
    )
    assert f'action="/comments/{pk}/unhide"' in hidden_section

    gone = client.post(f"/comments/{pk}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert gone.status_code == 303
    assert f'id="comment-{pk}"' not in client.get(f"/papers/{PAPERS[0]}").text


def test_api_patch_delete_report(client: TestClient, smtp_server: SmtpServer) -> None:
    web_sign_in(client, smtp_server, "apiauthor@example.org")
    api = TestClient(client.app, headers={"Authorization": f"Bearer {_token(client)}"})
    other_client = TestClient(client.app)
    web_sign_in(other_client, smtp_server, "apiother@example.org")
    other = TestClient(client.app, headers={"Authorization": f"Bearer {_token(other_client)}"})

    made = api.post(f"/api/v1/papers/{PAPERS[1]}/comments", json={"body": "v1"}).json()
    assert made["edited_at"] is None
    pk = made["id"]
    assert other.patch(f"/api/v1/comments/{pk}", json={"body": "hijack"}).status_code == 403
    assert other.delete(f"/api/v1/comments/{pk}").status_code == 403
    assert api.patch(f"/api/v1/comments/{pk}", json={"body": "x" * 10_001}).status_code == 413
    edited = api.patch(f"/api/v1/comments/{pk}", json={"body": "$x_1$ v2"})
    assert edited.status_code == 200
    assert edited.json()["edited_at"] is not None and "$x_1$ v2" in edited.json()["body_html"]
    report = other.post(f"/api/v1/comments/{pk}/report", json={"reason": "rude"})
    assert report.status_code == 200 and report.json() == {"reported": True}
    assert other.post(f"/api/v1/comments/{pk}/report").status_code == 200  # no body: fine
    assert TestClient(client.app).post(f"/api/v1/comments/{pk}/report").status_code == 401
    assert api.delete(f"/api/v1/comments/{pk}").status_code == 204
    assert api.delete(f"/api/v1/comments/{pk}").status_code == 404
    assert other.post(f"/api/v1/comments/{pk}/report").status_code == 404


def test_reports_are_rate_limited(community: Community, smtp_server: SmtpServer) -> None:
    from paperroute.community._comment_cases import REPORTS_PER_HOUR
    from paperroute.site.errors import RateLimited

    author = signed_in(community, smtp_server, "loud@example.org")
    reporter = signed_in(community, smtp_server, "flagger@example.org")
    posted = community.comment(author, PAPERS[0], "hello")
    for _ in range(REPORTS_PER_HOUR):
        community.report_comment(reporter, posted.pk, "again")
    with pytest.raises(RateLimited, match="reports"):
        community.report_comment(reporter, posted.pk, "again")
