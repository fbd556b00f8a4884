"""A hidden paper and a banned reader's words appear on no route (issue 14, item 5): hide a
paper and ban a reader who commented and made a public collection, then read every GET
route of the app, anonymous and as another reader, with the paper's own id, authors,
categories and day in the path."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient

from support.sweep import demo_app_copy, fill, get_routes, outbox_sign_in

TROLL = "troll@example.org"
WORDS = "Trollish remark xq7"
TROLL_COLLECTION = "Trollish picks xq7"


def test_hidden_papers_and_banned_readers_appear_nowhere(
    sqlite_demo_url: str, tmp_path: Path
) -> None:
    with demo_app_copy(sqlite_demo_url, tmp_path) as admin:
        admin_csrf = outbox_sign_in(admin, "demo@paperroute.local")
        trending = admin.get("/api/v1/trending?limit=3").json()["items"]
        hidden, other = trending[0], trending[1]
        paper = admin.get(f"/api/v1/papers/{hidden['id']}").json()
        troll = TestClient(admin.app)
        troll_csrf = outbox_sign_in(troll, TROLL)
        said = troll.post(
            f"/papers/{other['id']}/comments", data={"body": WORDS, "csrf_token": troll_csrf}
        )
        assert said.status_code == 200 and WORDS in said.text
        made = troll.post(
            "/collections",
            data={"title": TROLL_COLLECTION, "public": "on", "csrf_token": troll_csrf},
        )
        own = re.search(r"/collections/(\d+)/([a-z0-9-]+)", str(made.url))
        assert own, made.url
        for paper_id in (hidden["id"], other["id"]):
            troll.post(
                f"/collections/{own.group(1)}/papers",
                data={"paper_id": paper_id, "csrf_token": troll_csrf},
            )
        assert TROLL_COLLECTION in admin.get("/collections").text  # before the ban

        word = quote(hidden["title"].split()[0].strip(":"))  # finds it; echoes no title
        assert hidden["id"] in admin.get(f"/api/v1/search?q={word}").text  # before hiding
        assert admin.get(f"/api/v1/papers/{hidden['id']}/similar").status_code == 200
        hide = admin.post(
            f"/papers/{hidden['id']}/hide", data={"reason": "sweep", "csrf_token": admin_csrf}
        )
        assert hide.status_code == 200
        users = admin.get("/admin").text
        troll_pk = re.search(re.escape(TROLL) + r".*?/admin/users/(\d+)/ban", users, re.S)
        assert troll_pk
        banned = admin.post(
            f"/admin/users/{troll_pk.group(1)}/ban", data={"csrf_token": admin_csrf}
        )
        assert banned.status_code == 200

        reader = TestClient(admin.app)
        outbox_sign_in(reader, "reader@example.org")
        day = dt.date.fromisoformat(paper["listed_on"])
        iso = day.isocalendar()
        values = {
            "paper_id": hidden["id"],
            "name": paper["authors"][0],
            "category": paper["categories"][0],
            "day": day.isoformat(),
            "week": f"{iso.year}-W{iso.week:02d}",
            "month": f"{day:%Y-%m}",
            "pk": own.group(1),
            "slug": own.group(2),
            "token": "none",
            "outbox": "1",
        }
        queries = {
            "/search": f"q={word}",
            "/search/suggest": f"q={word}",
            "/search/feed": f"q={word}",
            "/api/v1/search": f"q={word}",
            "/api/v1/daily": f"date={day.isoformat()}",
            "/api/daily_papers": f"date={day.isoformat()}",
            "/trending": "window=all",
            "/api/v1/trending": "window=all",
        }
        templates = sorted(set(get_routes(admin.app.routes)))  # type: ignore[attr-defined]
        paths = [fill(t, values, queries) for t in templates if not t.startswith("/dev/")]
        paths += [f"/papers/{other['id']}", f"/api/v1/papers/{other['id']}/comments"]
        paths += [f"/api/v1/papers/{other['id']}/similar", "/feeds/daily.atom"]
        checked = 0
        for client in (TestClient(admin.app), reader):
            for path in paths:
                answer = client.get(path, follow_redirects=False)
                assert answer.status_code < 500, (path, answer.status_code)
                secrets = [hidden["title"], WORDS, TROLL_COLLECTION]
                if answer.status_code < 400:  # a 404 may repeat the id it was asked for
                    secrets.append(hidden["id"])
                for secret in secrets:
                    assert secret not in answer.text, (path, secret, answer.status_code)
                checked += 1
        assert checked == 2 * len(paths) and len(paths) > 45
        for client in (TestClient(admin.app), reader):
            assert client.get(f"/papers/{hidden['id']}").status_code == 404
            assert client.get(f"/api/v1/papers/{hidden['id']}/similar").status_code == 404
            assert client.get(f"/collections/{own.group(1)}").status_code == 404
