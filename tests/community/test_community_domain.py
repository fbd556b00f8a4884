"""Community use cases on SQLite and PostgreSQL, with mail through a real SMTP server."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from paperroute import Config, open_hub
from paperroute.community import (
    BadLink,
    Community,
    Forbidden,
    NotSignedIn,
    RateLimited,
    TooLarge,
    Unavailable,
)
from paperroute.community._accounts import MAX_ACTIVE_TOKENS, MAX_REVOKED_TOKENS
from paperroute.community.service import SIGN_IN_ADDRESS_CAP
from paperroute.errors import ConfigError, InvalidInput, NotFound
from paperroute.hub import Hub
from paperroute.site.signing import resolve_secret_key, sign, token_hash, unsign
from paperroute.store.schema_community import audit_log, login_tokens
from paperroute.store.session import Database
from support.community import PAPERS, SECRET, Clock, link_token, signed_in
from support.smtp import SmtpServer


def test_sign_in_link_is_mailed_single_use_and_only_hashed(
    community: Community, smtp_server: SmtpServer, seeded_hub: Hub
) -> None:
    assert community.request_sign_in("  Reader@Example.ORG ", "192.0.2.1") == "reader@example.org"
    received = smtp_server.wait_for(1)[0]
    assert received.recipients == ("reader@example.org",)
    assert received.message["Subject"] == "Your paperroute sign-in link"
    token = link_token(smtp_server, "reader@example.org")
    with seeded_hub._db.engine.connect() as connection:
        stored = connection.scalars(select(login_tokens.c.token_hash)).all()
    assert stored == [token_hash(token)] and token not in stored
    assert community.check_sign_in(token) == "reader@example.org"
    user = community.sign_in(token)
    assert user.email == "reader@example.org" and not user.is_admin
    with pytest.raises(BadLink, match="already used"):
        community.sign_in(token)
    with pytest.raises(BadLink, match="already used"):
        community.check_sign_in(token)


@pytest.mark.parametrize("forged", ["", "x", "A" * 43, "A" * 5000, "../../etc/passwd", "\x00"])
def test_forged_links_are_refused(community: Community, forged: str) -> None:
    with pytest.raises(BadLink, match="not valid"):
        community.sign_in(forged)


def test_expired_link_is_refused(
    community: Community, smtp_server: SmtpServer, clock: Clock
) -> None:
    community.request_sign_in("late@example.org", "192.0.2.1")
    token = link_token(smtp_server, "late@example.org")
    clock.advance(minutes=community.config.login_link_minutes, seconds=1)
    with pytest.raises(BadLink, match="expired"):
        community.sign_in(token)


@pytest.mark.parametrize(
    "email", ["", "no-at-sign", "a@b", "two@@example.org", "a b@example.org", "x" * 300 + "@e.org",
              "evil@example.org\r\nBcc: victim@example.org", "<a@example.org>"],
)  # fmt: skip
def test_invalid_addresses_get_a_clear_error_and_no_mail(
    community: Community, smtp_server: SmtpServer, email: str
) -> None:
    with pytest.raises(InvalidInput):
        community.request_sign_in(email, "192.0.2.1")
    assert smtp_server.messages == []


def test_sign_in_requests_are_rate_limited_per_address_and_per_ip(
    community: Community, smtp_server: SmtpServer
) -> None:
    limit = community.config.login_rate_per_email
    for _ in range(limit + 3):  # past the limit: the same answer, no more mail
        assert community.request_sign_in("busy@example.org", "192.0.2.1") == "busy@example.org"
    assert len(smtp_server.wait_for(limit)) == limit
    # The requests from 192.0.2.1 spent its own quota, not the address's owner's.
    community.request_sign_in("busy@example.org", "192.0.2.2")
    assert len(smtp_server.wait_for(limit + 1)) == limit + 1
    for n in range(community.config.login_rate_per_ip - limit - 3):
        community.request_sign_in(f"r{n}@example.org", "192.0.2.1")
    with pytest.raises(RateLimited, match="from your network") as caught:
        community.request_sign_in("fresh@example.org", "192.0.2.1")
    assert 0 < caught.value.retry_after <= 3600


def test_one_address_gets_a_bounded_number_of_links_from_many_networks(
    community: Community, smtp_server: SmtpServer
) -> None:
    cap = community.config.login_rate_per_email * SIGN_IN_ADDRESS_CAP
    for n in range(cap + 5):
        community.request_sign_in("target@example.org", f"198.51.100.{n}")
    assert len(smtp_server.wait_for(cap)) == cap
    assert len(smtp_server.to("target@example.org")) == cap


def test_refused_or_unreachable_mail_is_a_clear_error(
    community: Community, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse("bounce@example.org", 550)
    with pytest.raises(Unavailable, match="refused the address"):
        community.request_sign_in("bounce@example.org", "192.0.2.1")
    smtp_server.drop_at_dot()
    with pytest.raises(Unavailable, match="could not be sent"):
        community.request_sign_in("dropped@example.org", "192.0.2.1")


def test_banned_reader_cannot_sign_in_vote_comment_or_submit(
    community: Community, smtp_server: SmtpServer
) -> None:
    admin = community.ensure_user("admin@example.org", admin=True)
    reader = signed_in(community, smtp_server, "troll@example.org")
    banned = community.set_banned(admin, reader.pk, True, "spam")
    assert banned.banned
    mailed = len(smtp_server.to("troll@example.org"))
    # Asked alike, answered alike: no link, and no telling that the account is suspended.
    assert community.request_sign_in("troll@example.org", "192.0.2.1") == "troll@example.org"
    assert len(smtp_server.to("troll@example.org")) == mailed
    with pytest.raises(Forbidden):
        community.vote(banned, PAPERS[0])
    with pytest.raises(Forbidden):
        community.comment(banned, PAPERS[0], "hello")
    with pytest.raises(Forbidden):
        community.submit(banned, PAPERS[0])
    with pytest.raises(Forbidden):
        community.create_collection(banned, "mine")
    community.set_banned(admin, reader.pk, False)
    assert community.vote(community.user(reader.pk), PAPERS[0]).voted


def test_votes_are_one_per_reader_and_add_to_outside_upvotes(
    community: Community, smtp_server: SmtpServer
) -> None:
    pk = community.paper_pk(PAPERS[1])
    assert community.vote_state(pk, None).count == 6  # Hugging Face's upvotes
    ada = community.ensure_user("ada@example.org")
    alan = community.ensure_user("alan@example.org")
    assert community.vote(ada, PAPERS[1], True).count == 7
    assert community.vote(ada, PAPERS[1], True).count == 7  # once per reader
    state = community.vote(alan, PAPERS[1])  # toggle
    assert (state.count, state.voted) == (8, True)
    state = community.vote(alan, PAPERS[1])
    assert (state.count, state.voted) == (7, False)
    assert community.voted_paper_pks(ada) == [pk]
    with pytest.raises(NotSignedIn):
        community.vote(None, PAPERS[1])
    with pytest.raises(NotFound):
        community.vote(ada, "2999.99999")


@pytest.mark.parametrize(
    ("markdown", "absent", "present"),
    [
        ("<script>alert(1)</script>", ["<script"], ["&lt;script&gt;"]),
        ("[x](javascript:alert(1))", ['href="javascript'], []),
        ("[x](JaVaScRiPt:alert(1))", ["href=", "javascript:alert(1)</a"], []),
        ('<img src=x onerror="alert(1)">', ["<img"], ["&lt;img src=x onerror="]),  # as text
        ("[ok](https://example.org/a)", [], ['href="https://example.org/a"', 'rel="nofollow']),
        ("**bold** and `code`", [], ["<strong>bold</strong>", "<code>code</code>"]),
        ("<a href='https://x'>raw</a>", ["<a href='https"], []),
        ("[d](data:text/html;base64,PHNjcmlwdD4=)", ["href="], []),
    ],
)  # fmt: skip
def test_comments_are_rendered_then_sanitised(
    community: Community, markdown: str, absent: list[str], present: list[str]
) -> None:
    reader = community.ensure_user("writer@example.org")
    comment = community.comment(reader, PAPERS[0], markdown)
    assert comment.body == markdown
    for text in absent:
        assert text not in comment.body_html
    for text in present:
        assert text in comment.body_html


def test_comment_limits(community: Community, seeded_hub: Hub) -> None:
    reader = community.ensure_user("writer@example.org")
    with pytest.raises(InvalidInput, match="empty"):
        community.comment(reader, PAPERS[0], "   \n ")
    with pytest.raises(TooLarge, match="10,000"):
        community.comment(reader, PAPERS[0], "x" * 10_001)
    with pytest.raises(InvalidInput, match="NUL"):
        community.comment(reader, PAPERS[0], "a\x00b")
    assert community.comments(community.paper_pk(PAPERS[0])) == []  # nothing partial


def test_collections_are_private_until_public(community: Community) -> None:
    owner = community.ensure_user("owner@example.org")
    other = community.ensure_user("other@example.org")
    made = community.create_collection(owner, "  Agents   that use tools ", "why", False)
    assert (made.title, made.slug, made.public) == (
        "Agents that use tools",
        "agents-that-use-tools",
        False,
    )
    again = community.create_collection(owner, "Agents that use tools")
    assert again.slug == "agents-that-use-tools-2"
    community.add_to_collection(owner, made.pk, PAPERS[0])
    community.add_to_collection(owner, made.pk, PAPERS[2])
    community.add_to_collection(owner, made.pk, PAPERS[0])  # twice changes nothing
    assert community.collection(made.pk, owner).paper_count == 2
    with pytest.raises(NotFound):
        community.collection(made.pk, other)
    with pytest.raises(NotFound):
        community.collection(made.pk, None)
    with pytest.raises(NotFound):
        community.add_to_collection(other, made.pk, PAPERS[1])
    assert community.public_collections() == []
    shown = community.edit_collection(owner, made.pk, title="Tools", description="", public=True)
    assert (shown.slug, shown.public) == ("tools", True)
    assert [c.pk for c in community.public_collections()] == [made.pk]
    with pytest.raises(Forbidden):
        community.add_to_collection(other, made.pk, PAPERS[1])
    pk = community.paper_pk(PAPERS[0])
    assert [c.pk for c in community.collections_holding(pk, None)] == [made.pk]
    community.remove_from_collection(owner, made.pk, PAPERS[0])
    assert community.collection(made.pk, None).paper_count == 1
    with pytest.raises(InvalidInput):
        community.create_collection(owner, "   ")
    with pytest.raises(InvalidInput):
        community.create_collection(owner, "x" * 201)
    community.delete_collection(owner, made.pk)
    with pytest.raises(NotFound):
        community.collection(made.pk, owner)


def test_moderation_needs_an_admin_and_is_audited(community: Community, seeded_hub: Hub) -> None:
    reader = community.ensure_user("reader@example.org")
    admin = community.ensure_user("admin@example.org", admin=True)
    comment = community.comment(reader, PAPERS[0], "rude")
    with pytest.raises(Forbidden):
        community.set_paper_hidden(reader, PAPERS[0], True)
    with pytest.raises(Forbidden):
        community.set_comment_hidden(reader, comment.pk, True)
    with pytest.raises(Forbidden):
        community.audit_log(reader)
    with pytest.raises(InvalidInput):
        community.set_banned(admin, admin.pk, True)
    community.set_comment_hidden(admin, comment.pk, True)
    pk = community.paper_pk(PAPERS[0])
    assert community.comments(pk, reader) == []
    assert [c.pk for c in community.comments(pk, admin)] == [comment.pk]
    community.set_paper_hidden(admin, PAPERS[0], True, "off-topic")
    with pytest.raises(NotFound):
        community.paper_pk(PAPERS[0], reader)
    with pytest.raises(NotFound):
        community.vote(reader, PAPERS[0])
    assert community.paper_pk(PAPERS[0], admin) == pk
    community.set_paper_hidden(admin, PAPERS[0], False)
    assert community.paper_pk(PAPERS[0], reader) == pk
    actions = [e.action for e in community.audit_log(admin)]
    assert actions == ["unhide-paper", "hide-paper", "hide-comment"]
    assert community.audit_log(admin)[1].detail == "off-topic"


def test_api_tokens(community: Community, seeded_hub: Hub) -> None:
    reader = community.ensure_user("script@example.org")
    token = community.create_api_token(reader, "my script")
    assert token.startswith("prt_")
    assert community.api_user(token) == reader
    assert community.api_user(token + "x") is None
    assert community.api_user("prt_") is None
    listed = community.api_tokens(reader)
    assert [t.name for t in listed] == ["my script"]
    community.revoke_api_token(reader, listed[0].pk)
    assert community.api_user(token) is None
    with pytest.raises(NotFound):
        community.revoke_api_token(reader, listed[0].pk)
    with pytest.raises(InvalidInput):
        community.create_api_token(reader, " ")


def test_making_and_revoking_tokens_in_a_loop_keeps_the_list_bounded(
    community: Community, seeded_hub: Hub
) -> None:
    reader = community.ensure_user("churn@example.org")
    keep = community.create_api_token(reader, "the one in use")
    for n in range(MAX_REVOKED_TOKENS + 20):
        community.create_api_token(reader, f"throwaway {n}")
        newest = community.api_tokens(reader)[0]
        community.revoke_api_token(reader, newest.pk)
    community.create_api_token(reader, "last")  # making one prunes the oldest revoked
    listed = community.api_tokens(reader)
    revoked = [t for t in listed if t.revoked_at is not None]
    assert len(revoked) == MAX_REVOKED_TOKENS
    assert revoked[0].name == f"throwaway {MAX_REVOKED_TOKENS + 19}"  # the newest kept
    assert community.api_user(keep) == reader  # active tokens are never pruned
    assert {t.name for t in listed if t.revoked_at is None} == {"the one in use", "last"}
    for n in range(MAX_ACTIVE_TOKENS - 2):
        community.create_api_token(reader, f"active {n}")
    with pytest.raises(InvalidInput, match="at most 50 active tokens"):
        community.create_api_token(reader, "one too many")


def test_promote_and_demote(community: Community, seeded_hub: Hub) -> None:
    user, created = community.set_admin("Boss@Example.org", True)
    assert (user.email, user.is_admin, created) == ("boss@example.org", True, True)
    user, created = community.set_admin("boss@example.org", False)
    assert (user.is_admin, created) == (False, False)
    with pytest.raises(NotFound):
        community.set_admin("nobody@example.org", False)
    with seeded_hub._db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(audit_log)) == 2


def test_secret_key_required_outside_demo_and_shared_in_demo(database_url: str) -> None:
    with open_hub(Config(database_url=database_url)) as hub:
        with pytest.raises(ConfigError, match="PAPERROUTE_SECRET_KEY"):
            resolve_secret_key(hub.config, Database(hub._db.engine))
        with pytest.raises(ConfigError, match="too short"):
            resolve_secret_key(
                Config(database_url=database_url, secret_key="short"), Database(hub._db.engine)
            )
        demo = Config(database_url=database_url, demo=True)
        first = resolve_secret_key(demo, Database(hub._db.engine))
        assert len(first) >= 32 and resolve_secret_key(demo, Database(hub._db.engine)) == first
        assert resolve_secret_key(Config(secret_key=SECRET), Database(hub._db.engine)) == SECRET


def test_signed_values() -> None:
    token = sign(SECRET, "session", "7:nonce", now=1000)
    assert unsign(SECRET, "session", token, max_age=60, now=1030) == "7:nonce"
    assert unsign(SECRET, "session", token, max_age=60, now=1061) is None  # too old
    assert unsign(SECRET, "csrf", token, max_age=60, now=1030) is None  # other purpose
    assert unsign("another-secret-key-0123456789", "session", token, max_age=60, now=1030) is None
    payload, _, mac = token.partition(".")
    assert unsign(SECRET, "session", payload + "x." + mac, max_age=60, now=1030) is None
    assert unsign(SECRET, "session", "garbage", max_age=60) is None


def test_text_that_cannot_be_stored_is_refused_cleanly(community: Community) -> None:
    reader = community.ensure_user("writer@example.org")
    admin = community.ensure_user("admin@example.org", admin=True)
    lone = "bad \ud800 text"
    attempts = [
        lambda: community.comment(reader, PAPERS[0], lone),
        lambda: community.create_collection(reader, lone),
        lambda: community.create_collection(reader, "ok", lone),
        lambda: community.create_api_token(reader, lone),
        lambda: community.request_sign_in(f"a{lone}@example.org", "192.0.2.1"),
        lambda: community.set_paper_hidden(admin, PAPERS[0], True, lone),
        lambda: community.set_banned(admin, reader.pk, True, lone),
        lambda: community.request_sign_in("jörg@example.org", "192.0.2.1"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput):
            attempt()
    assert community.comments(community.paper_pk(PAPERS[0])) == []
    assert community.own_collections(reader) == []
    assert community.audit_log(admin) == []


def test_international_domains_are_mailed_in_ascii(
    community: Community, smtp_server: SmtpServer
) -> None:
    assert community.request_sign_in("anna@bücher.example", "192.0.2.1") == (
        "anna@xn--bcher-kva.example"
    )
    assert smtp_server.wait_for(1)[0].recipients == ("anna@xn--bcher-kva.example",)


@pytest.mark.parametrize("ref", ["", " ", "\x00", "a\x00b", "\ud800", "x" * 5000, "'; DROP TABLE"])
def test_hostile_paper_references_are_not_found(community: Community, ref: str) -> None:
    reader = community.ensure_user("writer@example.org")
    with pytest.raises(NotFound):
        community.vote(reader, ref)
    with pytest.raises(NotFound):
        community.comment(reader, ref, "hello")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "markdown",
    ["[" * 10_000, "> " * 5_000, "`" * 10_000, "<" * 10_000, "[a](" * 2_500,
     "_" * 5_000 + "a" + "_" * 4_999, "|a|\n|-|\n" + "|x|\n" * 2_400, "![x](" * 2_000],
)  # fmt: skip
def test_pathological_markdown_renders(community: Community, markdown: str) -> None:
    reader = community.ensure_user("writer@example.org")
    comment = community.comment(reader, PAPERS[0], markdown)
    assert comment.body_html and "<script" not in comment.body_html


def test_comments_are_rate_limited(community: Community) -> None:
    from paperroute.community._comment_cases import COMMENTS_PER_HOUR

    reader = community.ensure_user("chatty@example.org")
    for n in range(COMMENTS_PER_HOUR):
        community.comment(reader, PAPERS[n % 2], f"comment {n}")
    with pytest.raises(RateLimited, match="too many comments"):
        community.comment(reader, PAPERS[0], "one more")
    other = community.ensure_user("calm@example.org")
    assert community.comment(other, PAPERS[0], "fine").body == "fine"


def test_session_cookie_is_secure_behind_https(community: Community) -> None:
    from fastapi.responses import Response

    from paperroute.web.session import Sessions

    reader = community.ensure_user("reader@example.org")
    for base, secure in (("https://papers.example.org", True), ("http://127.0.0.1:8000", False)):
        config = dataclasses.replace(community.config, base_url=base)
        response = Response()
        Sessions(community, config, SECRET).sign_in(response, reader)
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure
