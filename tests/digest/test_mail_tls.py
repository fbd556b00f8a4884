"""Mail that real submission servers accept: sign-in links, confirmations and digest runs over
STARTTLS (587 style) and implicit TLS (465 style) with AUTH, against a real aiosmtpd on
127.0.0.1 holding a certificate made in the test (trustme). Certificates and host names are
verified; a bad certificate, a missing STARTTLS or a wrong password is one clear error, and a
digest run stops at it with nothing marked sent (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from sqlalchemy import select

from paperroute import Hub, open_hub
from paperroute.community.errors import Unavailable
from paperroute.digest._delivery import Delivery
from paperroute.errors import ConfigError
from paperroute.mail.transport import MailError, connect, parse_smtp_url
from paperroute.store.schema_digests import digest_runs, digest_sends
from support.cli import cli
from support.digest_data import AS_OF, SECRET, make_config
from support.smtp import SmtpServer

USER, PASSWORD = "mailer", "s3cret pass"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[SmtpServer]:
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    with SmtpServer(tls=request.param, certificate=certificate, users={USER: PASSWORD}) as server:
        yield server


def tls_hub(database_url: str, server: SmtpServer, ca_file: str, **overrides: object) -> Hub:
    config = make_config(
        database_url,
        smtp_url=server.url_for(USER, PASSWORD.replace(" ", "%20")),
        smtp_ca_file=ca_file,
        digest_pool_size=2,
        **overrides,
    )
    return open_hub(config, clock=lambda: AS_OF)


def statuses(hub: Hub) -> list[str]:
    with hub._db.engine.connect() as connection:
        return sorted(connection.scalars(select(digest_sends.c.status)))


def test_sign_in_confirmation_and_digest_reach_a_tls_server_signed_in(
    papers_hub: Hub, tls_server: SmtpServer, ca_file: str
) -> None:
    url = papers_hub.config.database_url
    with tls_hub(url, tls_server, ca_file) as hub:
        hub.community.request_sign_in("reader@example.org", "198.51.100.7")
        hub.digests.subscribe("new@example.org", {"trending": "on"})
        for n in range(3):
            hub.digests.add_confirmed(f"sub{n}@example.org", {"trending": "on"})
        result = hub.digests.send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 3 and result.report.stopped is None
    received = tls_server.wait_for(5)
    assert [m.message["Subject"] for m in received[:2]] == [
        "Your paperroute sign-in link",
        "Confirm your paperroute digest subscription",
    ]
    assert all(m.tls and m.login == USER for m in received), [(m.tls, m.login) for m in received]
    assert tls_server.logins and all(ok for _, ok in tls_server.logins)
    assert statuses(papers_hub) == ["sent"] * 3


def test_auth_is_offered_over_tls_only_and_the_client_never_sends_it_in_clear(
    tls_server: SmtpServer, ca_file: str
) -> None:
    settings = parse_smtp_url(tls_server.url_for(USER, "s3cret%20pass"), ca_file=ca_file)
    steps: list[str] = []
    client = connect(settings, lambda name, _detail: steps.append(name))
    try:
        assert steps == ["connect", "tls", "auth"]
        assert isinstance(client.sock, ssl.SSLSocket)
    finally:
        client.quit()


@pytest.mark.parametrize(
    ("make_certificate", "reason"),
    [
        pytest.param(lambda ca: trustme.CA().issue_cert("127.0.0.1"), "unable to get local issuer"),
        pytest.param(lambda ca: ca.issue_cert("mail.example.org"), "mismatch"),
        pytest.param(
            lambda ca: ca.issue_cert(
                "127.0.0.1",
                not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                not_after=dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
            ),
            "expired",
        ),
    ],
    ids=["unknown-authority", "wrong-host-name", "expired"],
)
def test_an_invalid_certificate_is_refused_naming_the_setting(
    ca: trustme.CA, ca_file: str, make_certificate: object, reason: str
) -> None:
    certificate = make_certificate(ca)  # type: ignore[operator]
    for tls in ("starttls", "implicit"):
        with SmtpServer(tls=tls, certificate=certificate, users={USER: PASSWORD}) as server:
            settings = parse_smtp_url(server.url_for(USER, "x"), ca_file=ca_file, timeout=5)
            with pytest.raises(MailError) as refused:
                connect(settings)
            assert refused.value.kind == "tls" and refused.value.stops_run
            assert reason in str(refused.value) and "smtp_ca_file" in str(refused.value)
            assert server.logins == [] and server.messages == []


def test_a_self_signed_certificate_is_refused(tmp_path: Path) -> None:
    """The server presents a certificate signed by its own key (no authority at all)."""
    ca = trustme.CA()
    chain, key = tmp_path / "self.pem", tmp_path / "self.key"
    ca.cert_pem.write_to_path(str(chain))
    ca.private_key_pem.write_to_path(str(key))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(chain), str(key))
    with SmtpServer(tls="implicit", certificate=context) as server:
        with pytest.raises(MailError, match=r"self-signed.*smtp_ca_file"):
            connect(parse_smtp_url(server.url, timeout=5))
        assert server.messages == []


def test_the_system_authorities_are_the_default(ca: trustme.CA) -> None:
    """Without smtp_ca_file the test's private authority is not trusted."""
    certificate = ca.issue_cert("127.0.0.1")
    with (
        SmtpServer(tls="starttls", certificate=certificate) as server,
        pytest.raises(MailError, match=r"certificate .* was refused"),
    ):
        connect(parse_smtp_url(server.url, timeout=5))


def test_starttls_asked_for_and_not_offered_is_never_a_downgrade(
    papers_hub: Hub, ca_file: str
) -> None:
    with SmtpServer(users={USER: PASSWORD}, auth_require_tls=False) as plain:
        url = f"smtp://{USER}:x@127.0.0.1:{plain.port}?starttls=1"
        with pytest.raises(MailError, match=r"does not offer STARTTLS.*plain text") as refused:
            connect(parse_smtp_url(url, ca_file=ca_file))
        assert refused.value.kind == "tls"
        config = make_config(papers_hub.config.database_url, smtp_url=url)
        with open_hub(config, clock=lambda: AS_OF) as hub:
            hub.digests.add_confirmed("one@example.org", {"trending": "on"})
            result = hub.digests.send(as_of=AS_OF, ignore_hour=True)
            with pytest.raises(Unavailable):
                hub.community.request_sign_in("reader@example.org", "198.51.100.7")
        assert result.report.sent == 0
        assert "does not offer STARTTLS" in (result.report.stopped or "")
        assert plain.logins == [] and plain.messages == []
    assert statuses(papers_hub) == ["pending"]


def test_a_wrong_password_stops_the_run_then_the_right_one_resumes_it(
    papers_hub: Hub, tls_server: SmtpServer, ca_file: str
) -> None:
    url = papers_hub.config.database_url
    emails = [f"sub{n}@example.org" for n in range(4)]
    config = make_config(
        url,
        smtp_url=tls_server.url_for(USER, "wrong"),
        smtp_ca_file=ca_file,
        digest_pool_size=2,
        digest_retry_base_s=0.0,
    )
    with open_hub(config, clock=lambda: AS_OF) as hub:
        for email in emails:
            hub.digests.add_confirmed(email, {"trending": "on"})
        result = hub.digests.send(as_of=AS_OF, ignore_hour=True)
        assert result.report.sent == 0 and result.report.deferred == 0
        stopped = result.report.stopped or ""
        assert f"refused the login of '{USER}'" in stopped and "535" in stopped
        assert "check the user name and password in smtp_url" in stopped
        assert "wrong" not in stopped  # the password is never shown
        # At most one login per pool connection: the run stops instead of retrying each one.
        assert len(tls_server.logins) <= 2
        check = hub.check_mail()
        assert not check.ok and check.steps[-1].name == "auth"
    assert statuses(papers_hub) == ["pending"] * 4
    assert tls_server.messages == [] and {ok for _, ok in tls_server.logins} == {False}
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(digest_runs.c.finished_at)) is None
    with tls_hub(url, tls_server, ca_file) as hub:
        again = hub.digests.send(as_of=AS_OF, ignore_hour=True)
    assert again.resumed_runs and again.report.sent == 4 and again.planned == 0
    assert tls_server.recipients() == {e: 1 for e in emails}


def test_the_server_closing_mid_data_over_tls_is_retried_once(
    papers_hub: Hub, tls_server: SmtpServer, ca_file: str
) -> None:
    emails = [f"sub{n}@example.org" for n in range(3)]
    tls_server.drop_at_dot(1)
    with tls_hub(papers_hub.config.database_url, tls_server, ca_file) as hub:
        for email in emails:
            hub.digests.add_confirmed(email, {"trending": "on"})
        result = hub.digests.send(as_of=AS_OF, ignore_hour=True)
    assert tls_server.dropped == 1
    assert result.report.sent == 3 and result.report.retried == 1
    assert {r: len(m) for r, m in tls_server.mailbox().items()} == {e: 1 for e in emails}
    assert all(m.tls for m in tls_server.messages)
    assert statuses(papers_hub) == ["sent"] * 3


def test_credentials_over_plain_text_are_refused_unless_the_operator_says_local_relay(
    tmp_path: Path,
) -> None:
    with SmtpServer(users={USER: PASSWORD}, auth_require_tls=False) as relay:
        url = relay.url_for(USER, "s3cret%20pass")
        with pytest.raises(ConfigError, match="smtp_auth_without_tls"):
            parse_smtp_url(url)
        database = f"sqlite:///{tmp_path / 'relay.db'}"
        with open_hub(make_config(database, smtp_url=url)) as hub:
            with pytest.raises(Unavailable, match="no TLS"):
                hub.community.request_sign_in("reader@example.org", "198.51.100.7")
            check = hub.check_mail()
            assert [(s.name, s.ok) for s in check.steps] == [("config", False)]
        local = make_config(database, smtp_url=url, smtp_auth_without_tls=True)
        with open_hub(local) as hub:
            hub.community.request_sign_in("reader@example.org", "198.51.100.7")
        message = relay.wait_for(1)[0]
        assert message.login == USER and not message.tls


def test_an_unreadable_ca_file_is_a_configuration_error(papers_hub: Hub, tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-bundle.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n", encoding="utf-8")
    for path in (str(bogus), str(tmp_path / "missing.pem")):
        config = make_config(
            papers_hub.config.database_url,
            smtp_url="smtps://127.0.0.1:1",
            smtp_ca_file=path,
        )
        with pytest.raises(ConfigError, match=r"smtp_ca_file .* is not a readable PEM bundle"):
            Delivery(papers_hub._db, config, "secret")


def test_digest_send_says_why_the_run_stopped_and_exits_1(
    papers_hub: Hub, tls_server: SmtpServer, ca_file: str
) -> None:
    papers_hub.digests.add_confirmed("sub@example.org", {"trending": "on"})
    result = cli(
        papers_hub.config.database_url,
        "digest",
        "send",
        "--now",
        "--at",
        AS_OF.isoformat(),
        PAPERROUTE_SMTP_URL=tls_server.url_for(USER, "wrong"),
        PAPERROUTE_SMTP_CA_FILE=ca_file,
        PAPERROUTE_SECRET_KEY=SECRET,
    )
    assert result.exit_code == 1
    assert "sent 0 ·" in result.stdout
    assert "error: the run stopped, nothing more was sent: SMTP server" in result.stderr
    assert "check the user name and password in smtp_url" in result.stderr
    assert "wrong" not in result.output
    assert statuses(papers_hub) == ["pending"] and tls_server.messages == []
