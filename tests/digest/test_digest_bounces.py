"""Bounces: real delivery status notifications (RFC 3464) from a file, an mbox and a
Maildir, thresholds for soft and hard bounces, unsubscribe requests by mail, and input that
is not a DSN (clear message, nothing changed). A bounce counts only for a digest actually
sent to the bounced address: the real DSNs are replayed with the returned message's
Message-ID set to the one the send log holds; forged ones change nothing."""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from paperroute import Hub
from paperroute.digest import Digests
from paperroute.digest._bounces import parse_dsn
from paperroute.digest._links import make_token
from paperroute.errors import InvalidInput
from paperroute.store.schema_digests import bounces, digest_sends, subscribers, suppressions
from support.cli import cli
from support.digest_data import AS_OF, DATA, SECRET

HARD = DATA / "dsn-mailbox-full-hard.eml"  # user@aol.com, 5.2.2
SOFT = DATA / "dsn-delayed-rfc3464.eml"  # louisl@larry.slip.umd.edu, 4.0.0
DELAYED = DATA / "dsn-no-mx-delayed.eml"  # user@example.com, 4.4.4 delayed
NOT_DSN = DATA / "not-dsn-gmail-plain.eml"
# The Message-ID each real DSN returns (SOFT returns a message without one).
RETURNED = {
    HARD: b"<4E326A95.3010907@example.com>",
    DELAYED: b"<19E44CA63F984902B7D654F8FF40F89D@bo>",
}


def send_digest(digests: Digests, *emails: str) -> dict[str, str]:
    """Subscribe ``emails``, send them a digest (outbox) and return their Message-IDs."""
    for email in emails:
        digests.add_confirmed(email, {"trending": "on"})
    digests.send(as_of=AS_OF, ignore_hour=True)
    with digests._db.read() as connection:
        rows = connection.execute(
            select(subscribers.c.email, digest_sends.c.message_id)
            .join(digest_sends, digest_sends.c.subscriber_pk == subscribers.c.pk)
            .where(digest_sends.c.status == "sent")
        ).all()
    sent = {row.email: row.message_id for row in rows}
    assert set(emails) <= set(sent)
    return sent


def returning(path: Path, message_id: str) -> bytes:
    """The real DSN at ``path`` with its returned message carrying ``message_id``."""
    raw = path.read_bytes()
    if path in RETURNED:
        assert RETURNED[path] in raw
        return raw.replace(RETURNED[path], message_id.encode())
    marker = b"content-type: message/rfc822\n\n"
    assert marker in raw
    return raw.replace(marker, marker + b"Message-ID: " + message_id.encode() + b"\n")


def write(tmp_path: Path, raw: bytes, name: str = "dsn.eml") -> Path:
    path = tmp_path / name
    path.write_bytes(raw)
    return path


def counts(hub: Hub) -> tuple[int, int]:
    with hub._db.engine.connect() as connection:
        return (
            connection.scalar(select(func.count()).select_from(bounces)) or 0,
            connection.scalar(select(func.count()).select_from(suppressions)) or 0,
        )


def test_parse_real_dsns() -> None:
    from email import message_from_bytes
    from email.policy import compat32

    def parse(path: Path) -> list[tuple[str, str, str]] | None:
        found = parse_dsn(message_from_bytes(path.read_bytes(), policy=compat32))
        return None if found is None else [(b.email, b.kind, b.status) for b in found]

    assert parse(HARD) == [("user@aol.com", "hard", "5.2.2")]
    assert parse(SOFT) == [("louisl@larry.slip.umd.edu", "soft", "4.0.0")]
    assert parse(DELAYED) == [("user@example.com", "soft", "4.4.4")]
    assert parse(NOT_DSN) is None


def test_hard_bounce_of_a_sent_digest_suppresses_at_once(
    papers_hub: Hub, digests: Digests, tmp_path: Path
) -> None:
    sent = send_digest(digests, "user@aol.com")
    report = digests.bounces_from_path(write(tmp_path, returning(HARD, sent["user@aol.com"])))
    assert [b.email for b in report.bounces] == ["user@aol.com"]
    assert report.suppressed == ["user@aol.com"] and not report.not_dsn and not report.unmatched
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(suppressions.c.reason)) == "hard-bounce"
    assert digests.send(ignore_hour=True, dry_run=True).due == 0


def test_forged_dsns_change_nothing(papers_hub: Hub, digests: Digests, tmp_path: Path) -> None:
    """Forged DSNs: for a subscriber never mailed (as is, or naming a made-up Message-ID),
    and for a mailed subscriber but naming another reader's digest."""
    digests.add_confirmed("user@aol.com", {"trending": "on"})
    forged = [
        HARD.read_bytes(),
        returning(HARD, "<digest.1.1.000000000000@papers.example.org>"),
    ]
    for raw in forged:
        report = digests.bounces_from_path(write(tmp_path, raw))
        assert not report.bounces and not report.suppressed and not report.not_dsn
        assert len(report.unmatched) == 1 and "user@aol.com" in report.unmatched[0]
    # Both mailed now, but the DSN for user@aol.com returns the other reader's digest.
    sent = send_digest(digests, "other@example.org")
    assert "user@aol.com" in sent
    report = digests.bounces_from_path(write(tmp_path, returning(HARD, sent["other@example.org"])))
    assert len(report.unmatched) == 1 and not report.bounces
    assert counts(papers_hub) == (0, 0)


def test_soft_bounces_suppress_at_the_threshold(
    papers_hub: Hub, digests_for: Callable[..., Digests], tmp_path: Path
) -> None:
    digests = digests_for(digest_bounce_soft_limit=3)
    sent = send_digest(digests, "louisl@larry.slip.umd.edu")
    dsn = write(tmp_path, returning(SOFT, sent["louisl@larry.slip.umd.edu"]))
    for attempt in range(1, 4):
        report = digests.bounces_from_path(dsn)
        assert [b.kind for b in report.bounces] == ["soft"]
        assert bool(report.suppressed) == (attempt == 3)
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(suppressions.c.reason)) == "soft-bounce"


def test_mbox_and_maildir(papers_hub: Hub, digests: Digests, tmp_path: Path) -> None:
    sent = send_digest(digests, "user@aol.com", "user@example.com", "louisl@larry.slip.umd.edu")
    hard = returning(HARD, sent["user@aol.com"])
    soft = returning(SOFT, sent["louisl@larry.slip.umd.edu"])
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    for raw in (hard, returning(DELAYED, sent["user@example.com"]), NOT_DSN.read_bytes()):
        box.add(raw)
    box.flush()
    report = digests.bounces_from_path(tmp_path / "bounces.mbox")
    assert report.messages == 3
    assert sorted(b.email for b in report.bounces) == ["user@aol.com", "user@example.com"]
    assert len(report.not_dsn) == 1 and "not a delivery status notification" in report.not_dsn[0]
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(soft)
    maildir.add(hard)
    again = digests.bounces_from_path(tmp_path / "Maildir")
    assert again.messages == 2 and len(again.bounces) == 2


@pytest.mark.parametrize(
    "content",
    [
        NOT_DSN.read_bytes(),
        b"",
        b"\x00\xff\xfe garbage \x89PNG\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; "
        b"not an address\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--x--\r\n",
        (b"Subject: x\r\n\r\n" + b"A" * 100 + b"\r\n") * 10,
    ],
)
def test_not_a_dsn_changes_nothing(
    papers_hub: Hub, digests: Digests, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "message.eml"
    path.write_bytes(content)
    report = digests.bounces_from_path(path)
    assert report.not_dsn and not report.bounces
    assert counts(papers_hub) == (0, 0)


def test_unreadable_paths_are_clear_errors(digests: Digests, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        digests.bounces_from_path(tmp_path / "missing.mbox")
    (tmp_path / "folder").mkdir()
    with pytest.raises(InvalidInput, match="not a Maildir"):
        digests.bounces_from_path(tmp_path / "folder")
    huge = tmp_path / "huge.eml"
    huge.write_bytes(b"X" * (6 * 1024 * 1024))
    with pytest.raises(InvalidInput, match="larger than"):
        digests.bounces_from_path(huge)


def test_unsubscribe_by_mail(papers_hub: Hub, digests: Digests, tmp_path: Path) -> None:
    subscriber = digests.add_confirmed("reader@example.org", {})

    token = make_token(SECRET, "unsubscribe", subscriber.pk, subscriber.email)
    message = EmailMessage()
    message["From"] = "reader@example.org"
    message["To"] = "digest@papers.example.org"
    message["Subject"] = f"unsubscribe {token}"
    (tmp_path / "request.eml").write_bytes(message.as_bytes())
    report = digests.bounces_from_path(tmp_path / "request.eml")
    assert report.unsubscribed == ["reader@example.org"]
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(subscribers.c.status)) == "unsubscribed"
    del message["Subject"]
    message["Subject"] = f"unsubscribe {token[:-3]}xyz"
    (tmp_path / "forged.eml").write_bytes(message.as_bytes())
    forged = digests.bounces_from_path(tmp_path / "forged.eml")
    assert forged.not_dsn and "invalid token" in forged.not_dsn[0]


def test_cli_bounces_process(papers_hub: Hub, digests: Digests, tmp_path: Path) -> None:
    url = papers_hub.config.database_url
    env = {"PAPERROUTE_SECRET_KEY": SECRET}
    sent = send_digest(digests, "user@aol.com", "user@example.com")
    result = cli(url, "bounces", "process", str(DELAYED), **env)
    assert result.exit_code == 0, result.stderr
    assert "unmatched 1" in result.stdout and "bounces 0" in result.stdout
    assert "ignored" in result.stderr and "user@example.com" in result.stderr
    hard = write(tmp_path, returning(HARD, sent["user@aol.com"]))
    result = cli(url, "bounces", "process", str(hard), **env)
    assert result.exit_code == 0, result.stderr
    assert "hard bounce user@aol.com 5.2.2" in result.stdout
    assert "suppressed 1" in result.stdout and "unmatched 0" in result.stdout
    result = cli(url, "bounces", "process", str(NOT_DSN), **env)
    assert result.exit_code == 1
    assert "not a delivery status notification" in result.stderr
    result = cli(url, "bounces", "process", str(tmp_path / "nope"), **env)
    assert result.exit_code == 1 and "cannot read" in result.stderr
    assert counts(papers_hub) == (1, 1)
