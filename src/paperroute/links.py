"""Code repository and project page links found in abstracts and comments; which stored
links are safe to show."""

from __future__ import annotations

import re
from urllib.parse import quote

_URL = re.compile(r"https?://[^\s<>\"'{}|\\^`\]\[]+", re.IGNORECASE)
_CODE_HOST = re.compile(
    r"^https?://(?:www\.)?(?P<host>github\.com|gitlab\.com)/(?P<owner>[\w.\-]+)/(?P<repo>[\w.\-]+)",
    re.IGNORECASE,
)
_NOT_REPO_OWNERS = {"features", "about", "orgs", "topics", "marketplace", "sponsors", "settings"}
# Hosts whose links are papers, datasets or services rather than a paper's own project page.
_NOT_PROJECT = re.compile(
    r"^https?://(?:[\w\-]+\.)*(?:arxiv\.org|doi\.org|dx\.doi\.org|github\.com|gitlab\.com|"
    r"huggingface\.co|creativecommons\.org|twitter\.com|x\.com|youtube\.com|youtu\.be|"
    r"zenodo\.org|openreview\.net|aclanthology\.org|kaggle\.com|colab\.research\.google\.com|"
    r"drive\.google\.com|paperswithcode\.com|ieee\.org|acm\.org|springer\.com|elsevier\.com)",
    re.IGNORECASE,
)
# "Project page: URL", "our website is at URL", "demo available at URL".
_PROJECT_HINT = re.compile(
    r"\b(?:project|page|website|homepage|demo|available)\b[^.;]{0,16}$", re.I
)


def paper_path(paper_id: str) -> str:
    """/papers/{id}: old arXiv ids keep their '/', hash and DOI ids their ':' (the web hub and
    the links in mail build paper URLs alike)."""
    return "/papers/" + quote(paper_id, safe="/:")


def http_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL, else None: stored links come from outside, and a
    ``javascript:`` or ``data:`` link must never reach an href."""
    if not url:
        return None
    text = url.strip()
    lowered = text.lower()
    if lowered.startswith(("https://", "http://")) and not any(
        c in '"<>\\ ' or ord(c) < 32 or ord(c) == 127 for c in text
    ):
        return text
    return None


def _clean(url: str) -> str:
    # Sentences end URLs with punctuation and LaTeX wraps them in braces.
    return url.rstrip(".,;:)}]'\"").removesuffix(".git")


def extract_code_url(*texts: str | None) -> str | None:
    """The first GitHub/GitLab repository URL (https://host/owner/repo) in the texts."""
    for text in texts:
        if not text or "://" not in text:
            continue
        for match in _URL.finditer(text):
            repo = _CODE_HOST.match(_clean(match.group(0)))
            if repo and repo.group("owner").lower() not in _NOT_REPO_OWNERS:
                name = _clean(repo.group("repo"))
                if name:
                    return f"https://{repo.group('host').lower()}/{repo.group('owner')}/{name}"
    return None


def extract_project_url(*texts: str | None) -> str | None:
    """A project page: a github.io page, or any other URL introduced as a project page/website."""
    fallback: str | None = None
    for text in texts:
        if not text or "://" not in text:
            continue
        for match in _URL.finditer(text):
            url = _clean(match.group(0))
            if re.match(r"^https?://[\w\-]+\.github\.io(?:/|$)", url, re.I):
                return url
            if fallback is None and not _NOT_PROJECT.match(url):
                before = text[max(0, match.start() - 40) : match.start()]
                if _PROJECT_HINT.search(before):
                    fallback = url
    return fallback
