"""HttpClient against a real local HTTP server replaying recorded arXiv answers."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paperroute.errors import SourceError
from paperroute.sources import http
from paperroute.sources.http import (
    ARXIV_MIN_INTERVAL,
    DEFAULT_USER_AGENT,
    HttpClient,
    parse_retry_after,
)
from support.replay import (
    ReplayServer,
    Reply,
    load_nock_replies,
    load_oai_recording,
    load_recording,
)

DATA = Path(__file__).resolve().parent.parent / "data"
ARXIV_400 = DATA / "arxiv-api" / "id_abc_s0_m100_b79c8dcf6bc3.json"
ARXIV_EMPTY = DATA / "arxiv-api" / "id_0000.0000_s0_m100_8b51d9633a68.json"
ARXIV_ONE = DATA / "arxiv-api" / "id_1707.08567_s0_m100_6a1afebfc6a3.json"
OAI_503 = DATA / "oai-pmh" / "oaipmh-listrecords---should-list-identifiers-from-arxiv_0_503.xml"
OAI_NOCK = (
    DATA
    / "oai-pmh"
    / "recordings-with-headers"
    / "nock-fixtures"
    / "oaipmh-listrecords---should-list-identifiers-from-arxiv.json"
)


class FakeSleep:
    """Records each requested wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as s:
        yield s


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- success -------------------------------------------------------------------------------


def test_200_returns_the_recorded_body_and_sends_params_and_user_agent(
    server: ReplayServer, sleep: FakeSleep
) -> None:
    reply = load_recording(ARXIV_ONE)
    server.add("/api/query", reply, query={"id_list": "1707.08567"})
    with HttpClient(sleep=sleep) as client:
        body = client.get(server.url + "/api/query", params={"id_list": "1707.08567"})
    assert body == reply.body
    assert b"Proceedings of Workshop AEW10: Concepts in Information Theory" in body
    assert server.requests == [("/api/query", {"id_list": "1707.08567"})]
    assert server.request_headers[0]["user-agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT == "paperroute/0.1 (+https://github.com/paperroute)"
    assert sleep.waits == []


def test_params_merge_with_the_query_already_in_the_url(server: ReplayServer) -> None:
    server.add("/oai2", Reply(200, b"<ok/>"))
    with HttpClient(user_agent="custom/1.0") as client:
        client.get(
            server.url + "/oai2?verb=ListRecords", params={"set": "cs", "from": "2024-01-25"}
        )
    assert server.requests == [
        ("/oai2", {"verb": "ListRecords", "set": "cs", "from": "2024-01-25"})
    ]
    assert server.request_headers[0]["user-agent"] == "custom/1.0"


def test_redirects_are_followed(server: ReplayServer) -> None:
    server.add("/old", Reply(301, b"", {"Location": "/new"}))
    server.add("/new", Reply(200, b"moved here"))
    with HttpClient() as client:
        assert client.get(server.url + "/old") == b"moved here"
    assert [path for path, _ in server.requests] == ["/old", "/new"]


def test_arxiv_min_interval_is_three_seconds() -> None:
    assert ARXIV_MIN_INTERVAL == 3.0


# --- politeness ----------------------------------------------------------------------------


def test_min_interval_waits_between_request_starts(server: ReplayServer, sleep: FakeSleep) -> None:
    server.add("/x", Reply(200, b"x"))
    with HttpClient(min_interval=5.0, sleep=sleep) as client:
        for _ in range(3):
            client.get(server.url + "/x")
    # No wait before the first request; then the rest of the 5 s after each start.
    assert len(sleep.waits) == 2
    assert all(4.0 < w <= 5.0 for w in sleep.waits), sleep.waits


def test_min_interval_with_real_sleep(server: ReplayServer) -> None:
    server.add("/x", Reply(200, b"x"))
    with HttpClient(min_interval=0.2) as client:
        start = time.monotonic()
        for _ in range(3):
            client.get(server.url + "/x")
        elapsed = time.monotonic() - start
    assert elapsed >= 0.4
    assert len(server.requests) == 3


def test_no_wait_when_min_interval_has_already_passed(server: ReplayServer) -> None:
    server.add("/x", Reply(200, b"x"))
    recorded = FakeSleep()
    with HttpClient(min_interval=0.05, sleep=recorded) as client:
        client.get(server.url + "/x")
        time.sleep(0.1)
        client.get(server.url + "/x")
    assert recorded.waits == []


# --- retries -------------------------------------------------------------------------------


def test_recorded_oai_503_retry_after_10_then_200(
    server: ReplayServer, sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    unavailable = load_oai_recording(OAI_503)
    assert unavailable.status == 503
    assert unavailable.headers["Retry-After"] == "10"
    ok = load_recording(ARXIV_EMPTY)
    server.add("/oai2", unavailable, ok)
    with (
        caplog.at_level(logging.WARNING, logger="paperroute.sources.http"),
        HttpClient(min_interval=ARXIV_MIN_INTERVAL, sleep=sleep) as client,
    ):
        body = client.get(server.url + "/oai2", params={"verb": "ListRecords"})
    assert body == ok.body
    # The server's 10 s, not the 3 s interval on top of it and not back-off.
    assert sleep.waits == [10.0]
    assert len(server.requests) == 2
    message = caplog.records[0].getMessage()
    assert "HTTP 503" in message
    assert "Retry-After: 10" in message
    assert "retrying in 10.0 s" in message


def test_whole_recorded_nock_exchange_503_then_200(server: ReplayServer, sleep: FakeSleep) -> None:
    replies = load_nock_replies(OAI_NOCK)
    assert [r.status for r in replies] == [503, 200]
    server.add("/oai2", *replies, query={"verb": "ListRecords", "metadataPrefix": "arXiv"})
    with HttpClient(sleep=sleep) as client:
        body = client.get(
            server.url + "/oai2",
            params={"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2015-01-01"},
        )
    assert b"<identifier>oai:arXiv.org:1412.8544</identifier>" in body
    assert sleep.waits == [10.0]


def test_429_without_retry_after_backs_off_then_succeeds(
    server: ReplayServer, sleep: FakeSleep
) -> None:
    server.add("/x", Reply(429, b"slow down"), Reply(200, b"fine"))
    with HttpClient(backoff=1.5, sleep=sleep) as client:
        assert client.get(server.url + "/x") == b"fine"
    assert sleep.waits == [1.5]


def test_exponential_backoff_capped_by_max_wait(server: ReplayServer, sleep: FakeSleep) -> None:
    server.add(
        "/x", Reply(500, b"boom"), Reply(502), Reply(504), Reply(500), Reply(503), Reply(200)
    )
    with HttpClient(backoff=1.0, max_wait=5.0, max_retries=5, sleep=sleep) as client:
        assert client.get(server.url + "/x") == b""
    assert sleep.waits == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_503_forever_gives_up_after_max_retries(server: ReplayServer, sleep: FakeSleep) -> None:
    server.add("/oai2", load_oai_recording(OAI_503))
    with HttpClient(max_retries=2, sleep=sleep) as client, pytest.raises(SourceError) as caught:
        client.get(server.url + "/oai2", params={"verb": "ListRecords"})
    err = caught.value
    assert err.status == 503
    assert err.url == server.url + "/oai2?verb=ListRecords"
    text = str(err)
    assert "HTTP 503 Service Unavailable" in text
    assert "after 3 attempt(s)" in text
    assert "Retry after 10 seconds" in text  # the body's text, markup stripped
    assert server.url + "/oai2?verb=ListRecords" in text
    assert sleep.waits == [10.0, 10.0]
    assert len(server.requests) == 3


def test_retry_after_larger_than_max_wait_is_capped(server: ReplayServer, sleep: FakeSleep) -> None:
    server.add("/x", Reply(503, b"", {"Retry-After": "3600"}), Reply(200, b"ok"))
    with HttpClient(max_wait=60.0, sleep=sleep) as client:
        assert client.get(server.url + "/x") == b"ok"
    assert sleep.waits == [60.0]


def test_retry_after_as_http_date(server: ReplayServer, sleep: FakeSleep) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    server.add(
        "/x",
        Reply(503, b"", {"Retry-After": email.utils.format_datetime(when, usegmt=True)}),
        Reply(200, b"ok"),
    )
    with HttpClient(sleep=sleep) as client:
        assert client.get(server.url + "/x") == b"ok"
    assert len(sleep.waits) == 1
    assert 110.0 < sleep.waits[0] <= 120.0


def test_retry_after_date_in_the_past_retries_at_once(
    server: ReplayServer, sleep: FakeSleep
) -> None:
    server.add(
        "/x",
        Reply(503, b"", {"Retry-After": "Thu, 21 Jun 2018 14:30:51 GMT"}),
        Reply(200, b"ok"),
    )
    with HttpClient(sleep=sleep) as client:
        assert client.get(server.url + "/x") == b"ok"
    assert sleep.waits == []


def test_unreadable_retry_after_falls_back_to_backoff(
    server: ReplayServer, sleep: FakeSleep
) -> None:
    server.add("/x", Reply(503, b"", {"Retry-After": "later please"}), Reply(200, b"ok"))
    with HttpClient(backoff=2.0, sleep=sleep) as client:
        assert client.get(server.url + "/x") == b"ok"
    assert sleep.waits == [2.0]


# --- errors that are not retried -------------------------------------------------------------


def test_recorded_arxiv_400_fails_at_once_with_status_and_body(
    server: ReplayServer, sleep: FakeSleep
) -> None:
    reply = load_recording(ARXIV_400)
    assert reply.status == 400
    server.add("/api/query", reply)
    url = server.url + "/api/query"
    with HttpClient(sleep=sleep) as client, pytest.raises(SourceError) as caught:
        client.get(url, params={"id_list": "abc"})
    err = caught.value
    assert err.status == 400
    assert err.url == url + "?id_list=abc"
    text = str(err)
    assert text.startswith(f"GET {url}?id_list=abc answered HTTP 400 Bad Request: ")
    assert "incorrect id format for abc" in text
    assert "<feed" not in text
    assert len(text) < 400
    assert len(server.requests) == 1
    assert sleep.waits == []


def test_unknown_path_404(server: ReplayServer, sleep: FakeSleep) -> None:
    with HttpClient(sleep=sleep) as client, pytest.raises(SourceError) as caught:
        client.get(server.url + "/nothing")
    assert caught.value.status == 404
    assert "HTTP 404" in str(caught.value)
    assert "no reply recorded for /nothing" in str(caught.value)
    assert sleep.waits == []


def test_binary_error_body_is_described_not_dumped(server: ReplayServer) -> None:
    server.add("/pdf", Reply(403, b"%PDF-1.5\x00\xff" * 10, {"Content-Type": "application/pdf"}))
    with HttpClient() as client, pytest.raises(SourceError) as caught:
        client.get(server.url + "/pdf")
    assert str(caught.value).endswith("HTTP 403 Forbidden: (100 bytes of application/pdf)")


def test_connection_refused_retries_then_says_host_unreachable(sleep: FakeSleep) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/api/query"
    with HttpClient(max_retries=2, sleep=sleep) as client, pytest.raises(SourceError) as caught:
        client.get(url)
    err = caught.value
    assert err.status is None
    assert err.url == url
    assert f"host 127.0.0.1:{port} could not be reached" in str(err)
    assert "after 3 attempt(s)" in str(err)
    assert sleep.waits == [1.0, 2.0]


def test_timeout_is_retried_then_reported(server: ReplayServer, sleep: FakeSleep) -> None:
    server.add("/slow", Reply(200, b"late", delay=1.0))
    with (
        HttpClient(timeout=0.1, max_retries=1, sleep=sleep) as client,
        pytest.raises(SourceError) as caught,
    ):
        client.get(server.url + "/slow")
    assert "timed out" in str(caught.value)
    assert sleep.waits == [1.0]
    assert len(server.requests) == 2


def test_unsupported_scheme_is_not_retried(sleep: FakeSleep) -> None:
    with HttpClient(sleep=sleep) as client, pytest.raises(SourceError) as caught:
        client.get("ftp://export.arxiv.org/oai2")
    assert "ftp://export.arxiv.org/oai2" in str(caught.value)
    assert sleep.waits == []


def test_declared_oversize_body_is_refused_without_retry(
    server: ReplayServer, sleep: FakeSleep, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 1000)
    server.add("/big", Reply(200, b"a" * 2000))
    with HttpClient(sleep=sleep) as client, pytest.raises(SourceError) as caught:
        client.get(server.url + "/big")
    assert "response too large (declares 2000 bytes; the limit is 1000 bytes)" in str(caught.value)
    assert len(server.requests) == 1
    assert sleep.waits == []


def test_streamed_oversize_body_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 1000)
    # A chunked body declares no length; the client must count as it reads.
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=iter([b"b" * 600, b"b" * 600]))
    )
    with HttpClient(transport=transport) as client, pytest.raises(SourceError) as caught:
        client.get("https://export.arxiv.org/api/query")
    assert "response too large (exceeded 1200 bytes" in str(caught.value)


def test_body_under_the_limit_is_returned_via_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 1000)
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=iter([b"c" * 500, b"c" * 500]))
    )
    with HttpClient(transport=transport) as client:
        assert client.get("https://export.arxiv.org/api/query") == b"c" * 1000


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        HttpClient(min_interval=-1)
    with pytest.raises(ValueError):
        HttpClient(timeout=0)


# --- Retry-After parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", 10.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("-5", 0.0),
        ("1.5", 1.5),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("inf", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = dt.datetime(2015, 10, 21, 7, 27, tzinfo=dt.UTC)
    assert parse_retry_after(value, now=now) == expected


# --- the replay server itself -------------------------------------------------------------


def test_replay_routes_by_most_specific_query_and_repeats_last(server: ReplayServer) -> None:
    server.add("/oai2", Reply(200, b"any"))
    server.add("/oai2", Reply(200, b"first"), Reply(200, b"second"), query={"verb": "Identify"})
    with HttpClient() as client:
        got = [client.get(server.url + "/oai2", params={"verb": "Identify"}) for _ in range(3)]
        other = client.get(server.url + "/oai2", params={"verb": "ListSets"})
    assert got == [b"first", b"second", b"second"]
    assert other == b"any"


def test_load_oai_recording_keeps_recorded_headers_but_not_hop_headers() -> None:
    reply = load_oai_recording(OAI_503)
    assert reply.body == b"<html><body>\n<h1>Retry after 10 seconds</h1>\n</body></html>\n"
    assert reply.headers == {
        "Retry-After": "10",
        "Vary": "Accept-Encoding,User-Agent",
        "Content-Type": "text/html",
    }


def test_replay_sniffs_content_type(server: ReplayServer) -> None:
    server.add("/a", load_recording(ARXIV_EMPTY))
    server.add("/j", Reply(200, b'{"a": 1}'))
    with httpx.Client() as raw:
        assert raw.get(server.url + "/a").headers["content-type"].startswith("application/xml")
        assert raw.get(server.url + "/j").headers["content-type"] == "application/json"
        missing = raw.get(server.url + "/missing")
    assert missing.status_code == 404
    assert missing.text == "no reply recorded for /missing\n"
