from __future__ import annotations

import pytest

from paperroute.links import extract_code_url, extract_project_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Code will be available at https://github.com/AIGeeksGroup/DOEI.",
            "https://github.com/AIGeeksGroup/DOEI",
        ),
        (
            "see https://github.com/locuslab/diffusion-model-hallucination).",
            "https://github.com/locuslab/diffusion-model-hallucination",
        ),
        ("\\url{https://gitlab.com/group/project.git}", "https://gitlab.com/group/project"),
        ("https://github.com/owner/repo/tree/main/src", "https://github.com/owner/repo"),
        ("https://github.com/features/actions only", None),
        ("no links here", None),
        ("https://example.org/x", None),
    ],
)
def test_code_url(text: str, expected: str | None) -> None:
    assert extract_code_url(text) == expected


def test_code_url_looks_at_comments_after_abstract() -> None:
    assert extract_code_url("nothing", "Code: https://github.com/a/b") == "https://github.com/a/b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Project page: https://foo.github.io/bar/.", "https://foo.github.io/bar/"),
        ("Our project page is at https://envharness.com/", "https://envharness.com/"),
        ("Code at https://github.com/a/b and https://arxiv.org/abs/1", None),
        ("We compare with https://example.com/baseline", None),
    ],
)
def test_project_url(text: str, expected: str | None) -> None:
    assert extract_project_url(text) == expected
