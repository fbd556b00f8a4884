"""The command line against a real local HTTP server replaying recorded responses: OAI-PMH
harvests (interrupted, resumed, incremental), the arXiv API, announcement feeds by URL and
Hugging Face days. Every run goes to ReplayServer through the configured base URLs
(PAPERROUTE_OAI_URL, PAPERROUTE_ARXIV_API_URL, PAPERROUTE_HF_DAILY_URL) with no politeness
delay and one retry, answered ``Retry-After: 0`` so that no test sleeps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from support.cli import cli, show, skipped, stats, summary
from support.replay import ReplayServer, Reply

DATA = Path(__file__).parents[1] / "data"
OAI = DATA / "oai-pmh"
API = DATA / "arxiv-api"
OAI_PAGE_1 = OAI / "oai_dc_ListRecords_cs_2024-01-25_with_token.xml"  # 5 records + a token
OAI_LAST_PAGE = OAI / "arxivraw_ListRecords_constructed_final_page.xml"  # 5 records, 1 deleted
TOKEN = "6960524|1001"
HARVEST = ["ingest", "oai", "--prefix", "oai_dc", "--set", "cs"]
UNAVAILABLE = Reply(503, b"Service Unavailable, retry after 0 seconds", {"Retry-After": "0"})


def _oai(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-01-28T00:00:00Z</responseDate>"
        '<request verb="ListRecords">http://export.arxiv.org/oai2</request>'
        f"{body}</OAI-PMH>\n"
    ).encode()


NO_RECORDS = _oai(
    '<error code="noRecordsMatch">The combination of the values of the from, until, set and '
    "metadataPrefix arguments results in an empty list.</error>"
)
BAD_TOKEN = _oai(
    '<error code="badResumptionToken">The value of the resumptionToken argument is invalid '
    "or expired.</error>"
)


def _recorded(name: str) -> Reply:
    """A recorded arXiv API answer. The recorder kept the UTF-8 body decoded as ISO-8859-1
    (see PROVENANCE-arxiv_api.md); encoding it back gives the bytes arXiv sent."""
    data = json.loads((API / name).read_text("utf-8"))
    return Reply(int(data["status_code"]), str(data["body"]).encode("latin-1"))


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


def run(database_url: str, server: ReplayServer, *args: str) -> Result:
    return cli(
        database_url,
        *args,
        PAPERROUTE_OAI_URL=f"{server.url}/oai",
        PAPERROUTE_ARXIV_API_URL=f"{server.url}/api/query",
        PAPERROUTE_HF_DAILY_URL=f"{server.url}/api/daily_papers",
        PAPERROUTE_ARXIV_MIN_INTERVAL="0",
        PAPERROUTE_HTTP_MAX_RETRIES="1",
    )


# -- OAI-PMH harvest -----------------------------------------------------------------------


def test_oai_harvest_is_resumed_then_incremental(database_url: str, server: ReplayServer) -> None:
    server.add("/oai", Reply(200, OAI_PAGE_1.read_bytes()), query={"metadataPrefix": "oai_dc"})
    server.add("/oai", UNAVAILABLE, query={"resumptionToken": TOKEN})  # forever

    first = run(database_url, server, *HARVEST)
    assert first.exit_code == 1
    assert first.stdout.splitlines()[0] == summary(5, skipped=1)
    token_url = f"{server.url}/oai?verb=ListRecords&resumptionToken=6960524%7C1001"
    assert skipped(first) == [
        f"skipped {server.url}/oai: GET {token_url} still answered HTTP 503 Service "
        "Unavailable after 2 attempt(s): Service Unavailable, retry after 0 seconds"
    ]
    assert stats(database_url)["papers"] == 5  # page 1 is kept
    first_page = ("/oai", {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "cs"})
    resume = ("/oai", {"verb": "ListRecords", "resumptionToken": TOKEN})
    assert server.requests == [first_page, resume, resume]

    # The server is fixed; the next run asks for the token and nothing else.
    last_page = Reply(200, OAI_LAST_PAGE.read_bytes())
    server.add("/oai", last_page, query={"verb": "ListRecords", "resumptionToken": TOKEN})
    second = run(database_url, server, *HARVEST)
    assert (second.exit_code, second.stdout) == (0, summary(5) + "\n")
    assert (
        second.stderr.split()
        == (
            f"resuming the interrupted harvest at token {TOKEN} "
            "records deleted upstream, skipped: 1"
        ).split()
    )
    assert server.requests[3:] == [resume]
    assert stats(database_url)["papers"] == 10
    assert show(database_url, "0704.0001")["provenance"][0]["source"] == "arxiv-oai"

    # A finished harvest: the next one asks only for what changed since its newest datestamp.
    since = {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "cs", "from": "2024-01-26"}
    server.add("/oai", Reply(200, NO_RECORDS), query=since)
    third = run(database_url, server, *HARVEST)
    assert (third.exit_code, third.stdout) == (0, summary() + "\n")
    assert third.stderr.split("\n")[0:2] == [
        "incremental harvest from 2024-01-26",
        "noRecordsMatch: no records in the requested range",
    ]
    assert server.requests[4:] == [("/oai", since)]


def _expired_token_server(server: ReplayServer) -> list[str]:
    """Page 1 under /other, then an expired token; the harvest args that use it (--url wins
    over PAPERROUTE_OAI_URL, whose /oai has no replies)."""
    server.add("/other", Reply(200, OAI_PAGE_1.read_bytes()), query={"metadataPrefix": "oai_dc"})
    server.add("/other", Reply(200, BAD_TOKEN), query={"resumptionToken": TOKEN})
    return [*HARVEST, "--url", f"{server.url}/other"]


def test_oai_expired_token_is_not_sent_again(database_url: str, server: ReplayServer) -> None:
    """BUG (ingest.harvest_oai): the token is forgotten after badResumptionToken only when the
    run started with it; when page 2 of a fresh harvest fails, the next run resends it."""
    args = _expired_token_server(server)
    first = run(database_url, server, *args)
    assert first.exit_code == 1
    assert skipped(first) == [
        f"skipped {server.url}/other: OAI-PMH badResumptionToken: The value of the "
        "resumptionToken argument is invalid or expired. "
        f"({server.url}/other, resumptionToken '{TOKEN}')"
    ]
    assert [path for path, _ in server.requests] == ["/other", "/other"]
    assert stats(database_url)["papers"] == 5
    run(database_url, server, *args)
    assert "resumptionToken" not in server.requests[2][1]


def test_oai_restart_after_an_expired_token_skips_nothing(
    database_url: str, server: ReplayServer
) -> None:
    """BUG (ingest.harvest_oai): after an expired token the next run asks from= the newest
    datestamp of the pages it got, but the pages it never got may hold older datestamps (a
    ListRecords list is not ordered by datestamp; here page 2 holds records stamped 2008-2010
    while page 1's are 2024-01-25/26): they would never be harvested. The restart must repeat
    the interrupted request (here: no from)."""
    server.add("/oai", Reply(200, OAI_PAGE_1.read_bytes()), query={"metadataPrefix": "oai_dc"})
    server.add(
        "/oai", UNAVAILABLE, UNAVAILABLE, Reply(200, BAD_TOKEN), query={"resumptionToken": TOKEN}
    )
    assert run(database_url, server, *HARVEST).exit_code == 1  # 503 twice on page 2
    resumed = run(database_url, server, *HARVEST)  # the token has expired meanwhile
    assert resumed.exit_code == 1
    assert "OAI-PMH badResumptionToken" in skipped(resumed)[0]
    server.add(
        "/oai", Reply(200, NO_RECORDS), query={"metadataPrefix": "oai_dc", "from": "2024-01-26"}
    )
    before = len(server.requests)
    run(database_url, server, *HARVEST)
    first_page = {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "cs"}
    assert server.requests[before] == ("/oai", first_page)


# -- the arXiv API -------------------------------------------------------------------------


def test_arxiv_api_ids(database_url: str, server: ReplayServer) -> None:
    reply = _recorded("id_1707.08567_s0_m100_6a1afebfc6a3.json")
    server.add("/api/query", reply, query={"id_list": "1707.08567"})
    result = run(database_url, server, "ingest", "arxiv-api", "--ids", "1707.08567")
    assert (result.exit_code, result.stdout) == (0, summary(1) + "\n")
    query = {"search_query": "", "id_list": "1707.08567", "start": "0", "max_results": "100"}
    assert server.requests == [("/api/query", query)]
    paper = show(database_url, "1707.08567")
    assert (len(paper["authors"]), paper["authors"][0]) == (34, "Kees A. Schouhamer Immink")
    assert "Dirk Wübben" in paper["authors"]
    assert paper["provenance"][0]["source"] == "arxiv-api"


def test_arxiv_api_query_pages(database_url: str, server: ReplayServer) -> None:
    pages = {"0": "s0_m10_bc5a6c384fe9", "10": "s10_m10_34e56e15aaac", "20": "s20_m10_348a237fecab"}
    for start, name in pages.items():
        reply = _recorded(f"q_testing_{name}.json")
        server.add("/api/query", reply, query={"search_query": "testing", "start": start})
    args = ["ingest", "arxiv-api", "--query", "testing", "--max-results", "30"]
    result = run(database_url, server, *args)
    assert (result.exit_code, result.stdout) == (0, summary(30) + "\n")
    assert [(q["start"], q["max_results"]) for _, q in server.requests] == [
        ("0", "30"),
        ("10", "20"),
        ("20", "10"),
    ]
    assert stats(database_url)["papers"] == 30
    assert show(database_url, "2409.05654")["version"] == 9

    # Without a limit the 214,881 results are paged until the server fails: pages kept.
    result = run(database_url, server, "ingest", "arxiv-api", "--query", "testing")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == summary(unchanged=30, skipped=1)
    (line,) = skipped(result)
    assert line.startswith(f"skipped testing: GET {server.url}/api/query?search_query=testing")
    assert line.endswith(
        "start=30&max_results=100 answered HTTP 404 Not Found: no reply recorded for /api/query"
    )


def test_arxiv_api_errors_and_empty_results(database_url: str, server: ReplayServer) -> None:
    server.add(
        "/api/query", _recorded("id_abc_s0_m100_b79c8dcf6bc3.json"), query={"id_list": "abc"}
    )
    empty = _recorded("id_0000.0000_s0_m100_8b51d9633a68.json")
    server.add("/api/query", empty, query={"id_list": "0000.0000"})
    result = run(database_url, server, "ingest", "arxiv-api", "--ids", "abc")
    assert result.exit_code == 1
    (line,) = skipped(result)
    assert line.startswith(
        f"skipped abc: GET {server.url}/api/query?search_query=&id_list=abc&start=0&"
        "max_results=100 answered HTTP 400 Bad Request: "
    )
    assert "incorrect id format for abc" in line
    result = run(database_url, server, "ingest", "arxiv-api", "--ids", "0000.0000")
    assert (result.exit_code, result.stdout, skipped(result)) == (0, summary() + "\n", [])
    result = run(database_url, server, "ingest", "arxiv-api", "--ids", "1", "--query", "x")
    assert (result.exit_code, result.stderr) == (2, "error: give exactly one of --query or --ids\n")


def test_arxiv_api_skip_summary_names_the_http_status(
    database_url: str, server: ReplayServer
) -> None:
    """BUG (cli._report): the reason is cut at its first ':', the one in "GET http://..."."""
    server.add("/api/query", _recorded("id_abc_s0_m100_b79c8dcf6bc3.json"))
    result = run(database_url, server, "ingest", "arxiv-api", "--ids", "abc")
    assert result.stdout.splitlines()[1] != "skipped by reason: 1 GET http"
    assert "400" in result.stdout.splitlines()[1]


def test_arxiv_api_retries(database_url: str, server: ReplayServer) -> None:
    reply = _recorded("id_1605.08386_s0_m100_199195aa31ad.json")
    server.add(
        "/api/query",
        Reply(429, b"Rate exceeded.", {"Retry-After": "0"}),
        reply,
        query={"id_list": "1605.08386"},
    )
    result = run(database_url, server, "ingest", "arxiv-api", "--ids", "1605.08386")
    assert (result.exit_code, result.stdout) == (0, summary(1) + "\n")
    assert len(server.requests) == 2
    assert show(database_url, "1605.08386")["id"] == "1605.08386"

    server.add("/api/query", UNAVAILABLE, query={"id_list": "1707.08567"})
    result = run(database_url, server, "ingest", "arxiv-api", "--ids", "1707.08567")
    assert result.exit_code == 1
    (line,) = skipped(result)
    assert line.endswith(
        "still answered HTTP 503 Service Unavailable after 2 attempt(s): "
        "Service Unavailable, retry after 0 seconds"
    )
    assert len(server.requests) == 4


# -- feeds and Hugging Face days by URL -------------------------------------------------------


def test_rss_by_url(database_url: str, server: ReplayServer) -> None:
    feed = DATA / "rss" / "laya-reader_arxiv_rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24.xml"
    server.add("/rss/cs.LG", Reply(200, feed.read_bytes()))
    url = f"{server.url}/rss/cs.LG"
    first = run(database_url, server, "ingest", "rss", url)
    assert (first.exit_code, first.stdout) == (0, summary(4) + "\n")
    again = run(database_url, server, "ingest", "rss", url)
    assert (again.exit_code, again.stdout) == (0, summary(unchanged=4) + "\n")
    assert "warning: the feed is still dated 2026-09-24" in again.stderr
    missing = run(database_url, server, "ingest", "rss", f"{server.url}/rss/cs.AI")
    assert (missing.exit_code, missing.stderr.strip()) == (
        1,
        f"error: GET {server.url}/rss/cs.AI answered HTTP 404 Not Found: "
        "no reply recorded for /rss/cs.AI",
    )
    assert stats(database_url)["papers"] == 4


def test_hf_daily_live_days(database_url: str, server: ReplayServer) -> None:
    day = (DATA / "hf-daily" / "2026-08-21.json").read_bytes()
    server.add("/api/daily_papers", Reply(200, day), query={"date": "2026-08-21"})
    args = ["ingest", "hf-daily", "--date", "2026-08-21", "--until", "2026-08-22"]
    result = run(database_url, server, *args)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == summary(17, skipped=1)
    assert skipped(result) == [
        f"skipped 2026-08-22: GET {server.url}/api/daily_papers?date=2026-08-22&limit=100 "
        "answered HTTP 404 Not Found: no reply recorded for /api/daily_papers"
    ]
    assert [q for _, q in server.requests] == [
        {"date": "2026-08-21", "limit": "100"},
        {"date": "2026-08-22", "limit": "100"},
    ]
    (entry,) = show(database_url, "2608.19880")["daily"]
    assert (entry["day"], entry["upvotes"], entry["submitter"]) == ("2026-08-21", 163, "taesiri")


def test_retries_are_logged_by_the_real_entry_point(
    database_url: str, server: ReplayServer, tmp_path: Path
) -> None:
    reply = _recorded("id_1605.08386_s0_m100_199195aa31ad.json")
    server.add("/api/query", Reply(429, b"Rate exceeded.", {"Retry-After": "0"}), reply)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PAPERROUTE_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "paperroute",
            "--verbose",
            "ingest",
            "arxiv-api",
            "--ids",
            "1605.08386",
        ],
        cwd=tmp_path,
        env=environ
        | {
            "PAPERROUTE_DATABASE_URL": database_url,
            "PAPERROUTE_ARXIV_API_URL": f"{server.url}/api/query",
            "PAPERROUTE_ARXIV_MIN_INTERVAL": "0",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, summary(1) + "\n")
    url = f"{server.url}/api/query?search_query=&id_list=1605.08386&start=0&max_results=100"
    assert (
        f"WARNING paperroute.sources.http: GET {url}: HTTP 429 Too Many Requests "
        "(Retry-After: 0); retrying in 0.0 s (retry 1 of 4)"
    ) in done.stderr.splitlines()
    assert "Traceback" not in done.stderr
