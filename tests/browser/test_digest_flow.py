"""The digest in a real browser: subscribe from the footer form, follow the confirmation
mail's link, receive a digest from `paperroute digest send`, read it, and unsubscribe with
the RFC 8058 one-click POST its List-Unsubscribe header names. Mail goes to a real SMTP
server on 127.0.0.1 that records it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import httpx
import pytest

from support.browser import screenshot
from support.smtp import SmtpServer

SECRET = "browser-tests-throwaway-secret"
EMAIL = "browser.reader@example.org"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def server_env(smtp: SmtpServer) -> dict[str, str]:
    return {"PAPERROUTE_SMTP_URL": smtp.url}


def _mail_to(smtp: SmtpServer, email: str, count: int) -> EmailMessage:
    deadline = time.monotonic() + 15
    while True:
        found = smtp.to(email)
        if len(found) >= count:
            message = message_from_bytes(found[count - 1].data, policy=default)
            assert isinstance(message, EmailMessage)
            return message
        assert time.monotonic() < deadline, f"no mail number {count} to {email}"
        time.sleep(0.1)


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def test_subscribe_confirm_receive_and_unsubscribe(
    page: object, live_server: str, smtp: SmtpServer, browser_demo_db: str
) -> None:
    p = page
    p.goto(live_server + "/")  # type: ignore[attr-defined]
    p.fill("#subscribe-email", EMAIL)  # type: ignore[attr-defined]
    p.click("form.subscribe button[type=submit]")  # type: ignore[attr-defined]
    p.wait_for_selector("text=Check your inbox")  # type: ignore[attr-defined]
    screenshot(p, "digest-subscribed")

    confirmation = _mail_to(smtp, EMAIL, 1)
    link = re.search(rf"{re.escape(live_server)}/subscribe/confirm\?token=\S+", _text(confirmation))
    assert link, _text(confirmation)
    p.goto(link.group(0))  # type: ignore[attr-defined]
    p.click("button:has-text('Confirm my subscription')")  # type: ignore[attr-defined]
    p.wait_for_selector("text=Subscription confirmed")  # type: ignore[attr-defined]
    p.click("text=Choose what you get")  # type: ignore[attr-defined]
    p.fill("#digest-categories", "cs.CL, cs.LG")  # type: ignore[attr-defined]
    p.click("form.digest-form button:has-text('Save')")  # type: ignore[attr-defined]
    p.wait_for_selector("text=Saved")  # type: ignore[attr-defined]

    env = {
        **os.environ,
        "PAPERROUTE_DATABASE_URL": browser_demo_db,
        "PAPERROUTE_DEMO": "1",
        "PAPERROUTE_SECRET_KEY": SECRET,
        "PAPERROUTE_BASE_URL": live_server,
        "PAPERROUTE_SMTP_URL": smtp.url,
    }
    env.pop("PAPERROUTE_CONFIG", None)
    sent = subprocess.run(
        [sys.executable, "-m", "paperroute", "digest", "send", "--now", "--only", EMAIL],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "sent 1" in sent.stdout

    digest = _mail_to(smtp, EMAIL, 2)
    assert re.fullmatch(r"paperroute digest, \w{3} \d+ \w{3} \d{4}: \d+ papers?", digest["Subject"])
    html = digest.get_body(("html",))
    assert html is not None
    p.set_content(html.get_content())  # type: ignore[attr-defined]
    assert p.locator("a:has-text('Paper page')").count() >= 1  # type: ignore[attr-defined]
    screenshot(p, "digest-mail", full_page=True)

    # RFC 8058: the mail provider POSTs to the https URI of List-Unsubscribe.
    header = str(digest["List-Unsubscribe"])
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", header)
    assert url, header
    answer = httpx.post(
        url.group(1),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    p.goto(url.group(1))  # type: ignore[attr-defined]
    p.wait_for_selector("text=already unsubscribed")  # type: ignore[attr-defined]
    screenshot(p, "digest-unsubscribed")
