"""Deliverability headers on every message, as a real SMTP server on 127.0.0.1 receives them:
Date, a Message-ID on the sender's domain, From / Reply-To / Sender from the settings, the
envelope sender (fixed or VERP), and the list and bulk headers on digests only; hostile
header settings are refused before anything is written or sent."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select

from paperroute import Hub, open_hub
from paperroute.community.errors import Unavailable
from paperroute.errors import ConfigError
from paperroute.store.schema_community import login_tokens
from paperroute.store.schema_digests import digest_runs
from support.digest_data import AS_OF, make_config
from support.smtp import Received, SmtpServer

HEADERS = {
    "mail_from": "Papers Digest <digest@papers.example.org>",
    "mail_reply_to": "Curators <curators@lab.example.org>",
    "mail_sender": "relay@mailer.example.net",
}
BULK = ("List-Id", "List-Unsubscribe", "Precedence", "Auto-Submitted")


def send_all(hub: Hub) -> None:
    hub.community.request_sign_in("reader@example.org", "198.51.100.7")
    hub.digests.subscribe("new@example.org", {"trending": "on"})
    hub.digests.add_confirmed("Sub@Example.com", {"trending": "on"})
    result = hub.digests.send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 1


def by_subject(messages: list[Received]) -> dict[str, Received]:
    return {str(m.message["Subject"]).split(",")[0].split(" digest ")[0]: m for m in messages}


def test_every_message_carries_the_deliverability_headers(
    papers_hub: Hub, smtp_server: SmtpServer
) -> None:
    config = make_config(
        papers_hub.config.database_url,
        smtp_url=smtp_server.url,
        mail_return_path="bounces+{recipient}@papers.example.org",
        **HEADERS,
    )
    with open_hub(config, clock=lambda: AS_OF) as hub:
        send_all(hub)
    sign_in, confirm, digest = smtp_server.wait_for(3)
    for item in (sign_in, confirm, digest):
        message = item.message
        assert message["From"] == HEADERS["mail_from"]
        assert message["Reply-To"] == HEADERS["mail_reply_to"]
        assert message["Sender"] == HEADERS["mail_sender"]
        assert message["Message-ID"].endswith("@papers.example.org>")
        assert parsedate_to_datetime(message["Date"]) == AS_OF
        (recipient,) = item.recipients
        local, _, domain = recipient.partition("@")
        assert item.mail_from == f"bounces+{local}={domain}@papers.example.org"
    assert len({m.message["Message-ID"] for m in (sign_in, confirm, digest)}) == 3
    for transactional in (sign_in, confirm):
        assert not any(name in transactional.message for name in BULK)
    message = digest.message
    assert message["List-Id"] == "paperroute digest <digest.papers.example.org>"
    assert message["Precedence"] == "bulk" and message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_fixed_return_path_and_the_default(papers_hub: Hub, smtp_server: SmtpServer) -> None:
    url = papers_hub.config.database_url
    fixed = make_config(url, smtp_url=smtp_server.url, mail_return_path="bounce@papers.example.org")
    with open_hub(fixed, clock=lambda: AS_OF) as hub:
        send_all(hub)
    assert {m.mail_from for m in smtp_server.wait_for(3)} == {"bounce@papers.example.org"}
    smtp_server.reset()
    with open_hub(make_config(url, smtp_url=smtp_server.url), clock=lambda: AS_OF) as hub:
        hub.community.request_sign_in("reader@example.org", "198.51.100.7")
    (item,) = smtp_server.wait_for(1)
    assert item.mail_from == "digest@papers.example.org"
    assert "Reply-To" not in item.message and "Sender" not in item.message


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("mail_return_path", "bounces@x.org\r\nRCPT TO:<victim@example.org>"),
        ("mail_return_path", "not an address"),
        ("mail_return_path", "bounces+{recipient}{recipient}@x.org"),
        ("mail_return_path", "bounces@{recipient}"),
        ("mail_reply_to", "x <a@example.org>\r\nBcc: everyone@example.org"),
        ("mail_reply_to", "<script>alert(1)</script>"),
        ("mail_sender", "a" * 10_000 + "@example.org"),
        ("mail_sender", "relay@exa\u202emple.org"),
        ("mail_from", "nobody"),
    ],
)
def test_a_hostile_header_setting_is_refused_before_any_write(
    papers_hub: Hub, smtp_server: SmtpServer, setting: str, value: str
) -> None:
    overrides = {setting: value}
    config = make_config(papers_hub.config.database_url, smtp_url=smtp_server.url, **overrides)
    with open_hub(config, clock=lambda: AS_OF) as hub:
        hub.digests.add_confirmed("sub@example.org", {"trending": "on"})
        with pytest.raises(Unavailable, match=setting):
            hub.community.request_sign_in("reader@example.org", "198.51.100.7")
        with pytest.raises(ConfigError, match=setting):
            hub.digests.send(as_of=AS_OF, ignore_hour=True)
        check = hub.check_mail("me@example.org")
        assert [(s.name, s.ok) for s in check.steps] == [("config", False)]
        assert setting in check.steps[0].detail
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(digest_runs)) == 0
        assert connection.scalar(select(func.count()).select_from(login_tokens)) == 0
    assert smtp_server.messages == []
