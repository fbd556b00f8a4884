"""Addresses a subscriber may give: normalised, or refused with a reason a person can act on."""

from __future__ import annotations

import pytest

from paperroute.site.addresses import InvalidAddress, display_email, normalise_email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Reader@Example.ORG", "reader@example.org"),
        ("  first.last+digest@sub.example.co.uk ", "first.last+digest@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        ("user@例え.jp", "user@xn--r8jz45g.jp"),
        ("user@example.org.", "user@example.org"),
    ],
)
def test_valid_addresses_are_normalised(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored


def test_an_idn_domain_is_shown_in_unicode() -> None:
    assert display_email(normalise_email("user@bücher.de")) == "user@bücher.de"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "required"),
        ("   ", "required"),
        ("no-at-sign.example.org", "needs a name, an @"),
        ("@example.org", "needs a name, an @"),
        ("user@", "needs a name, an @"),
        ("user@localhost", "needs a dot"),
        ("a..b@example.org", "part before the @"),
        (".a@example.org", "part before the @"),
        ('"quoted"@example.org', "part before the @"),
        ("a b@example.org", "spaces"),
        ("a@exa mple.org", "spaces"),
        ("üser@example.org", "SMTPUTF8"),
        ("用户@例子.广告", "SMTPUTF8"),
        ("user@-bad.example.org", "not a valid domain"),
        ("user@example.123", "not a valid domain"),
        ("user@exa_mple.org", "not a valid domain"),
        ("x" * 65 + "@example.org", "part before the @"),
        ("a@" + "b" * 64 + ".org", "not a valid"),
        ("a@" + ".".join(["abcdefghij"] * 30) + ".org", "too long"),
        ("x" * 5000, "longer than"),
    ],
)
def test_invalid_addresses_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidAddress, match=reason):
        normalise_email(typed)


@pytest.mark.parametrize(
    "hostile",
    [
        "victim@example.org\r\nBcc: everyone@example.org",
        "victim@example.org\nSubject: hi",
        "victim@example.org\rX: y",
        "victim@example.org\x00",
        "victim@example.org\u2028Bcc: x@example.org",
        "victim@example.org,other@example.org",
        "Name <victim@example.org>",
        "victim@example.org>",
    ],
)
def test_no_accepted_address_can_carry_a_header(hostile: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_email(hostile)
