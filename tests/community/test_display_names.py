"""Readers' display names: never the address by default, chosen on /me, validated against
hostile input (control and invisible characters, RTL overrides, HTML, huge input, staff
words, look-alikes of other readers), unique by their folded key; SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from paperroute.community import Community
from paperroute.errors import InvalidInput
from support.community import PAPERS, csrf_of, signed_in, web_sign_in
from support.smtp import SmtpServer

SECRET_LOCAL = "ada.secret.handle"


def comment_as(client: TestClient, csrf: str, text: str) -> None:
    posted = client.post(f"/papers/{PAPERS[0]}/comments", data={"csrf_token": csrf, "body": text})
    assert posted.status_code == 200, posted.text


def choose(client: TestClient, csrf: str, name: str) -> object:
    return client.post("/me/name", data={"csrf_token": csrf, "name": name}, follow_redirects=False)


def test_a_new_reader_is_shown_by_a_neutral_name_never_the_address(
    client: TestClient, community: Community, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, f"{SECRET_LOCAL}@example.org")
    comment_as(client, csrf, "A first comment.")
    reader = community.user_by_email(f"{SECRET_LOCAL}@example.org")
    assert reader is not None and not reader.name_chosen
    assert reader.display_name == f"reader-{reader.pk}"
    client.cookies.clear()  # what everyone else sees
    page = client.get(f"/papers/{PAPERS[0]}").text
    assert f"reader-{reader.pk}" in page and SECRET_LOCAL not in page


def test_a_reader_chooses_a_name_on_me_and_it_is_shown_on_their_comments(
    client: TestClient, community: Community, smtp_server: SmtpServer
) -> None:
    csrf = web_sign_in(client, smtp_server, f"{SECRET_LOCAL}@example.org")
    me = client.get("/me").text
    assert 'action="/me/name"' in me and 'id="display-name"' in me
    comment_as(client, csrf, "Before the name.")
    answer = choose(client, csrf, "  Ada   Lovelace ")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"] == "/me?name=saved#name"  # type: ignore[attr-defined]
    saved = client.get("/me?name=saved").text
    assert "Saved: you are now <strong>Ada Lovelace</strong>" in saved
    reader = community.user_by_email(f"{SECRET_LOCAL}@example.org")
    assert reader is not None and reader.name_chosen and reader.display_name == "Ada Lovelace"
    client.cookies.clear()
    page = client.get(f"/papers/{PAPERS[0]}").text
    assert "Ada Lovelace" in page and f"reader-{reader.pk}" not in page


HOSTILE = [
    ("bell\x07ringer", "control or invisible"),
    ("nul\x00name", "control or invisible"),
    ("\u202eevil.exe", "control or invisible"),  # right-to-left override
    ("Ada\u200bLovelace", "control or invisible"),  # zero-width space
    ("line\u2028break", "control or invisible"),
    ("\u3164\u3164", "control or invisible"),  # Hangul filler: a blank-looking name
    ("Ada\u3164Lovelace", "control or invisible"),
    ("Ada\u115fLovelace", "control or invisible"),  # Hangul choseong filler
    ("Ada\u1160Lovelace", "control or invisible"),  # Hangul jungseong filler
    ("Ada\uffa0Lovelace", "control or invisible"),  # halfwidth Hangul filler
    ("Ada\u2060Lovelace", "control or invisible"),  # word joiner
    ("Ada\ufeffLovelace", "control or invisible"),  # zero-width no-break space
    ("\u2066Ada\u2069", "control or invisible"),  # bidi isolates
    ("Ada\u180eLovelace", "control or invisible"),  # Mongolian vowel separator
    ("Ada\u034fLovelace", "control or invisible"),  # combining grapheme joiner
    ("\u0307Alice", "not U\\+0307 COMBINING DOT ABOVE"),  # a mark on no letter, named
    ("Ali\u0301\u0301\u0301\u0301\u0301ce", "not U\\+0301"),  # a stack of marks on a letter
    ("Ada\ufe0fLovelace", "control or invisible"),  # a variation selector
    ("\u2800\u2800", "letters, digits, spaces"),  # braille blank
    ("\u0430dm\u0131n", "'admin'"),  # Cyrillic a, dotless i
    ("<b>bold</b>", "letters, digits, spaces"),
    ('"><script>alert(1)</script>', "letters, digits, spaces"),
    ("ada@example.org", "e-mail address"),
    ("x" * 10_000, "at most 40"),
    ("x" * 41, "2 to 40"),
    ("a", "2 to 40"),
    ("   ", "2 to 40"),
    ("12345", "at least one letter"),
    ("admin", "'admin'"),
    ("Site Admin", "'admin'"),
    ("4dm1n", "'admin'"),
    ("\u0410dmin", "'admin'"),  # Cyrillic A
    ("ádmín", "'admin'"),
    ("the_moderator", "'moderator'"),
    ("PaperRoute Team", "'paperroute'"),
    ("root", "kept for the site"),
    ("reader-1", "site's defaults"),
    ("Reader 0002", "site's defaults"),
]


@pytest.mark.parametrize(("name", "reason"), HOSTILE, ids=[repr(n[:20]) for n, _ in HOSTILE])
def test_a_hostile_name_is_refused_with_a_reason_and_nothing_changes(
    community: Community, smtp_server: SmtpServer, name: str, reason: str
) -> None:
    reader = signed_in(community, smtp_server, "reader@example.org")
    with pytest.raises(InvalidInput, match=reason):
        community.set_display_name(reader, name)
    after = community.user_by_email("reader@example.org")
    assert after is not None and after.display_name == reader.display_name
    assert not after.name_chosen


@pytest.mark.parametrize(
    "name",
    [
        "\u202eevil",
        "<img src=x onerror=alert(1)>",
        "admin",
        "x" * 999,
        "\u3164\u3164",
        "\u0430dm\u0131n",
    ],
    ids=repr,
)
def test_the_form_shows_the_refusal_with_status_400(
    client: TestClient, smtp_server: SmtpServer, name: str
) -> None:
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    answer = choose(client, csrf, name)
    assert answer.status_code == 400  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    assert 'id="name-error" role="alert"' in html and "Traceback" not in html
    assert "<img src=x" not in html and "\u202e" not in html
    assert csrf_of(html)


def test_an_oversized_form_field_is_refused(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    answer = choose(client, csrf, "x" * 10_000)
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert "Traceback" not in answer.text  # type: ignore[attr-defined]
    assert "reader-" in client.get("/me").text


def test_a_name_close_to_another_readers_is_taken(
    community: Community, smtp_server: SmtpServer
) -> None:
    ada = signed_in(community, smtp_server, "ada@example.org")
    eve = signed_in(community, smtp_server, "eve@example.org")
    community.set_display_name(ada, "Ada Lovelace")
    for copy in (
        "ada lovelace",
        "Ada  Lovelacé",
        "Ad\u0430 Lovelace",
        "ADA LOVELACE",
        "Ada Lovelac\u0435",  # Cyrillic e
        "Ada Lovelace\u0301",
        "Ada_Lovelace",
        "AdaLovelace",
    ):
        with pytest.raises(InvalidInput, match="taken"):
            community.set_display_name(eve, copy)
    # Another reader's default name is refused too (impersonating reader-<pk>).
    with pytest.raises(InvalidInput, match="defaults"):
        community.set_display_name(eve, f"reader-{ada.pk}")
    # Case folding that maps one letter to another: the dotless i and the dotted capital I.
    community.set_display_name(ada, "Alice Liddell")
    for copy in (
        "Al\u0131ce Liddell",
        "AL\u0130CE LIDDELL",
        "Al\u0131ce L\u0131ddell",
        # Latin small capitals
        "\u1d00\u029f\u026a\u1d04\u1d07 \u029f\u026a\u1d05\u1d05\u1d07\u029f\u029f",
    ):
        with pytest.raises(InvalidInput, match="taken"):
            community.set_display_name(eve, copy)
    assert community.set_display_name(ada, "ada lovelace").display_name == "ada lovelace"
    assert community.set_display_name(eve, "Eve").display_name == "Eve"


def test_letters_of_other_scripts_and_i_l_1_that_pass_for_a_name_are_taken(
    community: Community, smtp_server: SmtpServer
) -> None:
    """Unicode's confusables beyond Cyrillic and Greek (Cherokee, Lisu, Canadian Syllabics),
    and what case folding would join or keep apart wrongly: a capital I, a small l, a 1."""
    ada = signed_in(community, smtp_server, "ada@example.org")
    eve = signed_in(community, smtp_server, "eve@example.org")
    community.set_display_name(ada, "Alice")
    for copy in (
        "\u13aalice",  # Cherokee A
        "\ua4eelice",  # Lisu A
        "\u15c5lice",  # Canadian Syllabics A
        "AIice",  # a capital I for the l
        "A1ice",
        "A\u04c0ice",  # Cyrillic palochka
        "A\u04cfice",  # its small form
        "A\u0627ice",  # Arabic alef
        "A\u026aice",  # Latin small capital I
    ):
        with pytest.raises(InvalidInput, match="taken"):
            community.set_display_name(eve, copy)
    # Names that only share a key variant are other names: a small i is not an l.
    community.set_display_name(ada, "Elia")
    assert community.set_display_name(eve, "Ella").display_name == "Ella"
    community.set_display_name(ada, "Lan Wu")
    assert community.set_display_name(eve, "Ian Wu").display_name == "Ian Wu"  # L is not I
    with pytest.raises(InvalidInput, match="taken"):  # but a small l passes for an I
        community.set_display_name(ada, "lan Wu")
    # However many of them a name holds.
    community.set_display_name(ada, "Ella Bell Hill Mill Will")
    with pytest.raises(InvalidInput, match="taken"):
        community.set_display_name(eve, "Ella Bell Hill Mill WiII")


def test_names_in_scripts_with_vowel_signs_are_names(
    community: Community, smtp_server: SmtpServer
) -> None:
    """Devanagari, Tamil and Thai spell with combining vowel signs and viramas."""
    ada = signed_in(community, smtp_server, "ada@example.org")
    for name in (
        "\u0930\u093e\u0939\u0941\u0932 \u0936\u0930\u094d\u092e\u093e",
        "\u0bae\u0bc1\u0bb0\u0bc1\u0b95\u0ba9\u0bcd",
        "\u0e2a\u0e21\u0e28\u0e31\u0e01\u0e14\u0e34\u0e4c",
    ):
        assert community.set_display_name(ada, name).display_name == name


def test_name_changes_are_rate_limited(client: TestClient, smtp_server: SmtpServer) -> None:
    csrf = web_sign_in(client, smtp_server, "reader@example.org")
    for n in range(10):
        assert choose(client, csrf, f"Name {chr(65 + n)}").status_code == 303  # type: ignore[attr-defined]
    limited = choose(client, csrf, "One Too Many")
    assert limited.status_code == 429  # type: ignore[attr-defined]
    assert "Name J" in client.get("/me").text
