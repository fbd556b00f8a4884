"""The digest commands as a user runs them (`paperroute digest|subscribers ...`)."""

from __future__ import annotations

import json

from sqlalchemy import select

from paperroute import Hub
from paperroute.store.schema_mail import outbox
from support.cli import cli
from support.digest_data import AS_OF, SECRET

ENV = {
    "PAPERROUTE_SECRET_KEY": SECRET,
    "PAPERROUTE_SMTP_URL": "outbox",
    "PAPERROUTE_BASE_URL": "https://papers.example.org",
}


def run(hub: Hub, *args: str) -> tuple[int, str, str]:
    result = cli(hub.config.database_url, *args, **ENV)
    return result.exit_code, result.stdout, result.stderr


def test_subscribers_and_digest_commands(papers_hub: Hub) -> None:
    code, out, err = run(
        papers_hub,
        "subscribers", "add", "Reader@Example.org", "--confirmed", "--categories", "cs.CL",
        "--keyword", "agents", "--frequency", "daily", "--timezone", "Europe/Berlin",
    )  # fmt: skip
    assert code == 0 and "reader@example.org subscribed (confirmed)" in out, err
    code, out, _ = run(papers_hub, "subscribers", "add", "pending@example.org")
    assert code == 0 and "confirmation link" in out
    code, out, _ = run(papers_hub, "subscribers", "list", "--format", "json")
    listed = {item["email"]: item for item in json.loads(out)}
    assert listed["reader@example.org"]["keywords"] == ["agents"]
    assert listed["pending@example.org"]["status"] == "pending"

    at = AS_OF.isoformat()
    code, out, _ = run(papers_hub, "digest", "send", "--dry-run", "--now", "--at", at)
    assert code == 0 and "due 1 · planned 1" in out and "reader@example.org  10 papers" in out
    with papers_hub._db.engine.connect() as connection:
        before = connection.execute(select(outbox.c.subject)).scalars().all()
    assert len(before) == 1  # only the confirmation mail: a dry run sends nothing

    code, out, _ = run(papers_hub, "digest", "preview", "reader@example.org", "--at", at)
    assert code == 0 and "Subject: paperroute digest, Sat 22 Aug 2026:" in out
    assert "[new in cs.CL" in out or "[matches 'agents'" in out

    code, out, err = run(papers_hub, "digest", "send", "--now", "--at", at)
    assert code == 0 and "sent 1 · retried 0" in out, err
    code, out, _ = run(papers_hub, "digest", "send", "--now", "--at", at)
    assert code == 0 and "due 0" in out  # this slot is done

    code, out, _ = run(papers_hub, "subscribers", "suppress", "reader@example.org")
    assert code == 0 and "suppressed" in out
    code, out, _ = run(papers_hub, "subscribers", "list")
    assert "manual" in out
    code, out, _ = run(papers_hub, "subscribers", "suppress", "reader@example.org", "--lift")
    assert code == 0 and "lifted" in out
    code, out, _ = run(papers_hub, "subscribers", "remove", "reader@example.org")
    assert code == 0 and "removed" in out


def test_bad_input_is_explained(papers_hub: Hub) -> None:
    code, _, err = run(papers_hub, "subscribers", "add", "not an address", "--confirmed")
    assert code == 1 and "spaces" in err
    code, _, err = run(papers_hub, "subscribers", "add", "a@example.org", "--timezone", "Nowhere")
    assert code == 1 and "time zone" in err
    code, _, err = run(papers_hub, "digest", "send", "--at", "yesterday")
    assert code == 2 and "--at must be a date and time" in err
    code, _, err = run(papers_hub, "digest", "preview", "nobody@example.org")
    assert code == 1 and "no subscriber" in err
    code, _, err = run(papers_hub, "subscribers", "remove", "nobody@example.org")
    assert code == 1 and "no subscriber" in err
    code, _, err = run(papers_hub, "subscribers", "list", "--status", "sleeping")
    assert code == 2 and "status must be" in err


def test_send_without_a_mail_server_is_a_configuration_error(papers_hub: Hub) -> None:
    result = cli(
        papers_hub.config.database_url,
        "subscribers", "add", "a@example.org", "--confirmed",
        PAPERROUTE_SECRET_KEY=SECRET,
    )  # fmt: skip
    assert result.exit_code == 0
    result = cli(
        papers_hub.config.database_url, "digest", "send", "--now", PAPERROUTE_SECRET_KEY=SECRET
    )
    assert result.exit_code == 2 and "PAPERROUTE_SMTP_URL" in result.stderr
    result = cli(papers_hub.config.database_url, "digest", "send", "--now")
    assert result.exit_code == 2 and "secret key" in result.stderr


def test_a_demo_database_needs_demo_mode_to_send_but_not_to_preview(papers_hub: Hub) -> None:
    """`digest send` on a demo database without PAPERROUTE_DEMO=1 (and without a key) says
    what to set; `digest preview`, which sends nothing, runs without a key."""
    url = papers_hub.config.database_url
    code, _, err = run(papers_hub, "subscribers", "add", "demo.reader@example.org",
                         "--confirmed", "--categories", "cs.CL")  # fmt: skip
    assert code == 0, err
    keyless = {"PAPERROUTE_SECRET_KEY": "", "PAPERROUTE_DEMO": "0", "PAPERROUTE_SMTP_URL": "outbox"}
    at = AS_OF.isoformat()
    sent = cli(url, "digest", "send", "--now", "--at", at, **keyless)
    assert sent.exit_code == 2
    assert "needs a secret key" in sent.stderr and "PAPERROUTE_DEMO=1" in sent.stderr
    with papers_hub._db.engine.connect() as connection:
        subjects = connection.execute(select(outbox.c.subject)).scalars().all()
    assert not any(s.startswith("paperroute digest") for s in subjects)  # nothing was sent

    preview = cli(url, "digest", "preview", "demo.reader@example.org", "--at", at, **keyless)
    assert preview.exit_code == 0, preview.stderr
    assert preview.stdout.startswith("Subject: paperroute digest, Fri 21 Aug 2026: 10 papers")
    assert "throwaway key" in preview.stderr and "PAPERROUTE_DEMO=1" in preview.stderr

    demo = {**keyless, "PAPERROUTE_DEMO": "1"}
    shown = cli(url, "digest", "preview", "demo.reader@example.org", "--at", at, **demo)
    assert shown.exit_code == 0 and "throwaway" not in shown.stderr
    done = cli(url, "digest", "send", "--now", "--at", at, **demo)
    assert done.exit_code == 0 and "sent 1" in done.stdout, done.stdout + done.stderr
