"""Rendering: the message parses back, its headers are ours alone whatever a paper or a
subscriber contains, the bodies escape everything, and equal input gives equal bytes."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html import unescape

import pytest

from paperroute.config import Config
from paperroute.digest._mime import HeaderError, assemble
from paperroute.digest._render import Renderer, message_id
from paperroute.digest.model import Pick, Subscriber, preferences
from paperroute.errors import ConfigError
from paperroute.reading import Card

HOSTILE = "Bcc: victim@example.org\r\nX-Evil: 1\n<script>alert(1)</script> \u2028 é ☃"
SENT = dt.datetime(2026, 8, 22, 9, 0, tzinfo=dt.UTC)


def card(pk: int, **values: object) -> Card:
    fields: dict[str, object] = {
        "pk": pk,
        "id": f"2608.{pk:05d}",
        "title": f"Paper {pk}",
        "abstract": "An abstract. " * 60,
        "authors": ("Ada Lovelace", "Alan Turing"),
        "categories": ("cs.CL",),
        "day": dt.date(2026, 8, 21),
        "submitted_at": None,
        "code_url": "https://github.com/example/repo",
        "code_stars": 1234,
        "project_url": None,
        "abs_url": None,
        "pdf_url": None,
        "hf_upvotes": 12,
        "votes": 1,
        "comments": 0,
        "hf_comments": 0,
        "submitter": None,
    }
    fields.update(values)
    return Card(**fields)  # type: ignore[arg-type]


def subscriber(**prefs: object) -> Subscriber:
    return Subscriber(
        pk=7,
        email="reader@xn--bcher-kva.de",
        status="confirmed",
        prefs=preferences({"trending": "on", **prefs}),
        token_version=2,
        through_day=None,
        created_at=SENT,
        confirmed_at=SENT,
    )


def render(cards: list[Card], picks: list[Pick], **config: object) -> tuple[bytes, EmailMessage]:
    values: dict[str, object] = {
        "secret_key": "render-test-secret-0123456789",
        "base_url": "https://papers.example.org/",
        "mail_from": "Päperroute Digest <digest@papers.example.org>",
    }
    values.update(config)
    cfg = Config(**values)  # type: ignore[arg-type]
    renderer = Renderer(cfg, cfg.secret_key)
    rendered = renderer.message(
        subscriber(),
        picks,
        {c.pk: c for c in cards},
        day=dt.date(2026, 8, 22),
        message_id=message_id(cfg, cfg.secret_key, 3, 7),
        sent_at=SENT,
    )
    message = message_from_bytes(rendered.raw, policy=default)
    assert isinstance(message, EmailMessage)
    return rendered.raw, message


def test_headers_are_ours_alone_whatever_the_papers_hold() -> None:
    cards = [
        card(1, title=HOSTILE, authors=(HOSTILE,), abstract=HOSTILE, code_url="javascript:x"),
        card(2),
    ]
    picks = [Pick(1, f"matches '{HOSTILE}'"), Pick(2, "new in cs.CL")]
    raw, message = render(cards, picks)
    assert list(message.keys()) == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Id",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Auto-Submitted",
        "Precedence",
        "MIME-Version",
        "Content-Type",
    ]
    assert message["Subject"] == "paperroute digest, Sat 22 Aug 2026: 2 papers"
    assert message["From"] == "Päperroute Digest <digest@papers.example.org>"
    assert message["To"] == "reader@xn--bcher-kva.de"
    assert message["Message-ID"].startswith("<digest.3.7.")
    assert b"\nBcc:" not in raw.split(b"\r\n\r\n", 1)[0]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html and "javascript:" not in text  # unsafe code link dropped
    assert "é ☃" in text and "reader@bücher.de" in unescape(html)
    assert html.isascii()  # non-ASCII as character references: the part travels as 7bit
    for part in message.walk():
        if part.get_content_maintype() == "text":
            for line in part.as_string().splitlines():
                assert len(line) <= 998


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (" https://github.com/example/trimmed \n", "https://github.com/example/trimmed"),
        ("HTTPS://github.com/example/upper", "HTTPS://github.com/example/upper"),
        ("https://github.com/example/tab\there", None),
        ("https://github.com/example/back\\slash", None),
        ("https://github.com/example/space here", None),
        ("https://github.com/example/ctl\x0bchar", None),
        (" javascript:alert(1)", None),
    ],
)
def test_code_links_follow_the_same_rule_as_the_web_pages(stored: str, shown: str | None) -> None:
    _, message = render([card(1, code_url=stored)], [Pick(1, "new in cs.CL")])
    html = unescape(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    if shown is None:
        assert "Code" not in html and "Code:" not in text
    else:
        assert f'href="{shown}"' in html and f"Code: {shown}" in text


def test_rendering_is_deterministic() -> None:
    cards = [card(1), card(2)]
    picks = [Pick(2, "trending, 13 upvotes"), Pick(1, "new in cs.CL")]
    assert render(cards, picks)[0] == render(cards, picks)[0]


def test_each_paper_has_links_authors_abstract_and_reason() -> None:
    many_authors = tuple(f"Author {n}" for n in range(9))
    _, message = render([card(1, authors=many_authors)], [Pick(1, "by Author 3")])
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://papers.example.org/papers/2608.00001" in html
    assert "https://arxiv.org/pdf/2608.00001" in html
    assert "https://github.com/example/repo" in html and "★ 1,234" in unescape(html)
    assert "and 3 more" in text and "[by Author 3]" in text
    assert text.count("An abstract.") < 60  # shortened
    assert text.count("An abstract.") > 5 and "..." in text  # cut at a word, marked
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://papers.example.org/unsubscribe/")
    assert "https://papers.example.org/subscription/" in text


def test_empty_digest_says_so() -> None:
    _, message = render([], [])
    assert message["Subject"].endswith("nothing new")


@pytest.mark.parametrize(
    "config",
    [
        {"mail_from": "x <a@example.org>\r\nBcc: b@example.org"},
        {"base_url": "https://papers.example.org/\r\nBcc: b@example.org"},
        {"base_url": "javascript:alert(1)"},
        {"base_url": 'https://x.org/"onmouseover="x'},
    ],
)
def test_a_hostile_configuration_is_refused(config: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        render([card(1)], [Pick(1, "x")], **config)


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\x00b", "é"])
def test_assemble_refuses_any_header_that_could_inject(value: str) -> None:
    with pytest.raises(HeaderError):
        assemble([("Subject", value)], "text", "<p>html</p>")


@pytest.mark.parametrize("paper_id", ["doi:10.1000/xyz-1", "hash:0123abcd", "hep-th/9901001v2"])
def test_paper_links_in_mail_are_the_web_hubs_urls(paper_id: str) -> None:
    from paperroute.web.templating import paper_url

    _, message = render([card(1, id=paper_id)], [Pick(1, "new in cs.CL")])
    html = unescape(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert f'href="https://papers.example.org{paper_url(paper_id)}"' in html
