"""Submitting a paper by arXiv id or URL: fetched through the arXiv API client from a real
local HTTP server answering a recorded response; offline and unknown papers are clear errors."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperroute import Config
from paperroute.community import Forbidden, Unavailable
from paperroute.errors import InvalidInput, NotFound
from support.community import PAPERS, web_sign_in
from support.replay import ReplayServer, Reply, load_recording
from support.smtp import SmtpServer

DATA = Path(__file__).parents[1] / "data" / "arxiv-api"
RECORDED = "1707.08567"


@pytest.fixture
def arxiv() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        server.add("/api/query", load_recording(next(DATA.glob(f"id_{RECORDED}_*.json"))))
        yield server


@pytest.fixture
def app_config(config: Config, arxiv: ReplayServer, seeded_hub: object) -> Config:
    return dataclasses.replace(config, arxiv_api_url=arxiv.url + "/api/query", http_max_retries=0)


def test_submit_fetches_stores_and_lists_the_paper(
    app_config: Config, seeded_hub: object, arxiv: ReplayServer
) -> None:
    from paperroute import open_hub

    with open_hub(app_config) as hub:
        community = hub.community
        reader = community.ensure_user("sub@example.org")
        outcome = community.submit(reader, f"https://arxiv.org/abs/{RECORDED}v2")
        assert (outcome.paper_id, outcome.created) == (RECORDED, True)
        paper = hub.papers.show(RECORDED)
        assert paper.title and paper.authors
        # The submitter is shown by display name: the neutral default, never the address.
        assert [(e.source, e.kind, e.submitter) for e in paper.daily] == [
            ("hub", "submitted", f"reader-{reader.pk}")
        ]
        again = community.submit(reader, f"arXiv:{RECORDED}")
        assert (again.paper_id, again.created) == (RECORDED, False)
        assert len(arxiv.requests) == 1  # a paper the hub has is not fetched again
        assert community.submit(reader, PAPERS[0]).created is False
        for bad in ("", "not an id", "x" * 600, "<script>", "2401.1"):
            with pytest.raises(InvalidInput):
                community.submit(reader, bad)
        admin = community.ensure_user("mod@example.org", admin=True)
        community.set_paper_hidden(admin, RECORDED, True)
        with pytest.raises(Forbidden, match="removed"):
            community.submit(reader, RECORDED)


def test_unknown_paper_and_offline_arxiv(app_config: Config, arxiv: ReplayServer) -> None:
    from paperroute import open_hub

    with open_hub(app_config) as hub:
        community = hub.community
        reader = community.ensure_user("sub@example.org")
        with pytest.raises(NotFound, match=r"arXiv has no paper 2501\.00002"):
            community.submit(reader, "2501.00002")  # the recording holds another paper
    arxiv.add("/down", Reply(503, b"down"))
    with open_hub(dataclasses.replace(app_config, arxiv_api_url=arxiv.url + "/down")) as hub:
        community = hub.community
        with pytest.raises(Unavailable, match="cannot be reached"):
            community.submit(community.ensure_user("sub@example.org"), "2501.00003")
    offline = dataclasses.replace(app_config, arxiv_api_url="http://127.0.0.1:9/api/query")
    with open_hub(offline) as hub, pytest.raises(Unavailable, match="try again"):
        hub.community.submit(hub.community.ensure_user("a@example.org"), "2501.00004")


def test_submit_page(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "sub@example.org")
    form = client.get("/submit")
    assert form.status_code == 200 and 'name="reference"' in form.text
    done = client.post(
        "/submit", data={"csrf_token": csrf, "reference": RECORDED}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/papers/{RECORDED}"
    assert client.get(done.headers["location"]).status_code == 200
    bad = client.post("/submit", data={"csrf_token": csrf, "reference": "<b>nope</b>"})
    assert bad.status_code == 400 and "not an arXiv id" in bad.text and "<b>nope" not in bad.text
    missing = client.post("/submit", data={"csrf_token": csrf, "reference": "2501.00002"})
    assert missing.status_code == 404


def test_an_offline_arxiv_keeps_the_form_and_the_typed_id(
    app_config: Config, smtp_server: SmtpServer
) -> None:
    """arXiv unreachable: the submit page again, the typed id still in the box and the
    reason inline (it was an error page without the form)."""
    from paperroute.web.app import create_app

    offline = dataclasses.replace(app_config, arxiv_api_url="http://127.0.0.1:9/api/query")
    app = create_app(offline)
    with TestClient(app) as client:
        csrf = web_sign_in(client, smtp_server, "sub@example.org")
        typed = "arXiv:2501.00004"
        answer = client.post("/submit", data={"csrf_token": csrf, "reference": typed})
        assert answer.status_code == 503
        html = answer.text
        assert '<h1 id="submit-title">Submit a paper</h1>' in html
        assert re.search(
            r'<input id="submit-reference" name="reference"[^>]*value="arXiv:2501\.00004"', html
        )
        error = re.search(r'<p class="form-error" id="submit-error" role="alert">([^<]+)</p>', html)
        assert error is not None and "try again" in error.group(1)
        assert 'aria-describedby="submit-error"' in html
        bad = client.post("/submit", data={"csrf_token": csrf, "reference": "2401.1"})
        assert bad.status_code == 400 and 'value="2401.1"' in bad.text
        assert 'class="form-error"' in bad.text
    app.state.hub.close()


def test_submissions_are_rate_limited(
    client: TestClient, smtp_server: SmtpServer, app_config: Config
) -> None:
    csrf = web_sign_in(client, smtp_server, "sub@example.org")
    for n in range(app_config.submit_rate_per_reader):
        client.post("/submit", data={"csrf_token": csrf, "reference": f"2501.{n:05d}"})
    limited = client.post("/submit", data={"csrf_token": csrf, "reference": "2501.99999"})
    assert limited.status_code == 429 and "paper submissions" in limited.text
