"""``paperroute mail check [--to ADDRESS]``: each step printed, against a real STARTTLS server
with AUTH on 127.0.0.1; what a self-hoster sees when something is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from support.cli import cli
from support.smtp import SmtpServer

USER, PASSWORD = "mailer", "s3cret"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[SmtpServer]:
    certificate = ca.issue_cert("127.0.0.1")
    with SmtpServer(tls="starttls", certificate=certificate, users={USER: PASSWORD}) as running:
        yield running


@pytest.fixture
def env(ca: trustme.CA, tmp_path: Path) -> dict[str, str]:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return {
        "PAPERROUTE_SMTP_CA_FILE": str(bundle),
        "PAPERROUTE_MAIL_FROM": "Papers <digest@papers.example.org>",
        "PAPERROUTE_MAIL_RETURN_PATH": "bounces+{recipient}@papers.example.org",
    }


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'check.db'}"


def test_every_step_is_printed_and_the_test_message_arrives(
    server: SmtpServer, env: dict[str, str], database: str
) -> None:
    url = server.url_for(USER, PASSWORD)
    result = cli(
        database, "mail", "check", "--to", "Me@Example.ORG", PAPERROUTE_SMTP_URL=url, **env
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["ok", "config"],
        ["ok", "connect"],
        ["ok", "tls"],
        ["ok", "auth"],
        ["ok", "send"],
    ]
    assert "STARTTLS: TLSv1.3" in lines[2] and "AUTH PLAIN as mailer" in lines[3]
    assert lines[-1] == "mail works" and PASSWORD not in result.output
    received = server.wait_for(1)[0]
    assert received.tls and received.login == USER
    assert received.recipients == ("me@example.org",)
    assert received.mail_from == "bounces+me=example.org@papers.example.org"
    message = received.message
    assert message["Subject"] == "paperroute mail check" and message["Date"]
    assert message["Message-ID"].endswith("@papers.example.org>")


def test_without_to_it_sends_nothing_and_json_says_ok(
    server: SmtpServer, env: dict[str, str], database: str
) -> None:
    url = server.url_for(USER, PASSWORD)
    result = cli(database, "mail", "check", "--format", "json", PAPERROUTE_SMTP_URL=url, **env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert [s["step"] for s in data["steps"]] == ["config", "connect", "tls", "auth"]
    assert server.messages == []


def test_a_wrong_password_is_one_clear_failed_step(
    server: SmtpServer, env: dict[str, str], database: str
) -> None:
    url = server.url_for(USER, "not-the-password")
    result = cli(
        database, "mail", "check", "--to", "me@example.org", PAPERROUTE_SMTP_URL=url, **env
    )
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-2].startswith("FAIL auth") and "535" in lines[-2]
    assert "check the user name and password in smtp_url" in lines[-2]
    assert lines[-1] == "mail does not work"
    assert "not-the-password" not in result.output and server.messages == []


def test_an_untrusted_certificate_names_the_setting(server: SmtpServer, database: str) -> None:
    result = cli(database, "mail", "check", PAPERROUTE_SMTP_URL=server.url_for(USER, PASSWORD))
    assert result.exit_code == 1
    assert "FAIL tls" in result.stdout and "smtp_ca_file" in result.stdout


def test_nothing_listening_fails_at_connect(database: str) -> None:
    with SmtpServer() as gone:
        url = gone.url
    result = cli(database, "mail", "check", PAPERROUTE_SMTP_URL=url)
    assert result.exit_code == 1 and "FAIL connect" in result.stdout


def test_outbox_and_missing_settings(database: str) -> None:
    outbox = cli(database, "mail", "check", PAPERROUTE_SMTP_URL="outbox")
    assert outbox.exit_code == 0 and "ok   outbox" in outbox.stdout
    unset = cli(database, "mail", "check")
    assert unset.exit_code == 1 and "FAIL config   smtp_url is not set" in unset.stdout
    bad = cli(database, "mail", "check", PAPERROUTE_SMTP_URL="http://example.org")
    assert bad.exit_code == 1 and "must start with smtp://" in bad.stdout


@pytest.mark.parametrize(
    "to",
    [
        "me@example.org\r\nBcc: everyone@example.org",
        "<script>@example.org",
        "x" * 10_000 + "@example.org",
        "me@exa\u202emple.org",
        "",
    ],
    ids=["header-injection", "html", "huge", "rtl-override", "empty"],
)
def test_a_hostile_to_is_refused_before_connecting(
    server: SmtpServer, env: dict[str, str], database: str, to: str
) -> None:
    url = server.url_for(USER, PASSWORD)
    result = cli(database, "mail", "check", "--to", to, PAPERROUTE_SMTP_URL=url, **env)
    assert result.exit_code == 2 and "error: --to:" in result.stderr
    assert server.logins == [] and server.messages == []
