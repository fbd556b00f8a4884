"""The operations side of a real ``paperroute serve`` process: JSON log lines, the access
log, which proxy's X-Forwarded-For is believed, and /metrics over several workers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from support.served import served

CLIENT_NET = "203.0.113.0/24"  # the only network that may read /metrics in these tests


def json_lines(folder: Path, port: int) -> list[dict[str, Any]]:
    """Every line the server wrote, each parsed as JSON (a line that is not fails)."""
    lines = (folder / f"serve-{port}.log").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def access_lines(folder: Path, port: int, path: str) -> list[dict[str, Any]]:
    found = json_lines(folder, port)
    return [e for e in found if e["logger"] == "paperroute.access" and e["path"] == path]


def wait_for_access_line(folder: Path, port: int, path: str) -> dict[str, Any]:
    """The access line of ``path``; a log line is written after its answer is sent."""
    for _ in range(100):
        found = access_lines(folder, port, path)
        if found:
            return found[-1]
        httpx.get(f"http://127.0.0.1:{port}/healthz")  # gives the server a turn
    raise AssertionError(f"no access line for {path}")


def test_a_trusted_proxys_forwarded_client_is_believed_and_logged_as_json(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    args = ("--workers", "1", "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1/32")
    settings = {"log_format": "json", "access_log": "1", "metrics_networks": CLIENT_NET}
    with served(url, tmp_path, args=args, **settings) as (base, port):
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        assert httpx.get(base + "/metrics", headers=forwarded).status_code == 200
        assert httpx.get(base + "/metrics").status_code == 403  # 127.0.0.1 itself may not
        httpx.get(base + "/about-a-path?token=secret", headers={"X-Forwarded-For": "198.51.100.4"})
        line = wait_for_access_line(tmp_path, port, "/about-a-path")
    assert line["client"] == "198.51.100.4"
    assert (line["method"], line["status"], line["route"]) == ("GET", 404, "<unmatched>")
    assert line["level"] == "info" and line["time"].endswith("Z")
    assert isinstance(line["duration_ms"], float)
    every = json_lines(tmp_path, port)  # each line of the process is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in every)
    assert any(e["logger"] == "paperroute.serve" and "serving" in e["message"] for e in every)
    assert "secret" not in (tmp_path / f"serve-{port}.log").read_text()  # no query strings


def test_an_untrusted_peers_forwarded_for_is_ignored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    args = ("--workers", "1", "--proxy-headers", "--forwarded-allow-ips", "10.0.0.0/8")
    settings = {"log_format": "json", "access_log": "1", "metrics_networks": CLIENT_NET}
    with served(url, tmp_path, args=args, **settings) as (base, port):
        spoofed = {"X-Forwarded-For": "203.0.113.9"}
        assert httpx.get(base + "/metrics", headers=spoofed).status_code == 403
        httpx.get(base + "/spoofed", headers=spoofed)
        line = wait_for_access_line(tmp_path, port, "/spoofed")
    assert line["client"] == "127.0.0.1"


def test_without_proxy_headers_forwarded_for_is_ignored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with served(url, tmp_path, metrics_networks="127.0.0.1") as (base, _port):
        assert httpx.get(base + "/metrics").status_code == 200
        spoofed = {"X-Forwarded-For": "203.0.113.9"}
        assert httpx.get(base + "/metrics", headers=spoofed).status_code == 200  # still local


def test_metrics_add_up_the_requests_of_every_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with served(url, tmp_path, args=("--workers", "2"), metrics_networks="127.0.0.1") as (
        base,
        _port,
    ):
        for _ in range(30):  # new connections: the kernel spreads them over both workers
            assert httpx.get(base + "/healthz").status_code == 200
        for _ in range(4):  # whichever worker answers the scrape counts all 30
            text = httpx.get(base + "/metrics").text
            counted = sum(
                sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "paperroute_http_requests_total"
                and sample.labels["route"] == "/healthz"
            )
            assert counted == 30


def test_the_cli_writes_its_errors_as_json_lines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    command = [sys.executable, "-m", "paperroute", "--database-url", url, "--log-format", "json"]
    done = subprocess.run(
        [*command, "show", "2401.99999"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert lines[-1]["level"] == "error"
    assert "no paper" in lines[-1]["message"]
    assert lines[-1]["time"].endswith("Z")


def test_text_log_lines_cannot_be_forged_by_a_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    settings = {"log_format": "text", "access_log": "1"}
    forged = "/a%0d%0aERROR%20paperroute.web.problems:%20forged%0aINFO%20x"
    with served(url, tmp_path, **settings) as (base, port):
        assert httpx.get(base + forged).status_code == 404
        log = tmp_path / f"serve-{port}.log"
        for _ in range(100):
            if "/a%0d%0a" in log.read_text():
                break
            httpx.get(f"{base}/healthz")
        text = log.read_text()
    # Every line is a record (level first) but the start-up notice.
    lines = [
        line for line in text.splitlines() if line.strip() and not line.startswith("paperroute:")
    ]
    assert any(line.startswith("INFO paperroute.access:") and "/a%0d%0a" in line for line in lines)
    assert not any(
        "forged" in line and not line.startswith("INFO paperroute.access:") for line in lines
    )
    assert all(line.split(" ", 1)[0] in {"INFO", "WARNING", "ERROR", "DEBUG"} for line in lines)
