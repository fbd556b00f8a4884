"""Jinja2 setup: URL helpers for papers, authors and categories, number and date filters."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ..config import Config
from ..links import http_url, paper_path
from ..model import Paper
from ..reading.taxonomy import category_label, category_name
from .cite import citation
from .tex import tex_html

STATIC = Path(__file__).parent / "static"


paper_url = paper_path


def author_url(name: str) -> str:
    return "/authors/" + quote(name, safe="")


def category_url(category: str) -> str:
    return "/categories/" + quote(category, safe="")


def day_url(day: dt.date) -> str:
    return f"/papers/date/{day.isoformat()}"


def page_href(request: Request, page: int, **changed: str) -> str:
    """The link to page ``page`` of the list being shown (with the ``changed`` query
    parameters): its path and query only, never the request's host (a page cached for
    everyone must not carry the ``Host`` one reader sent)."""
    changed["page"] = str(page)
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changed]
    path = "/" + request.scope["path"].lstrip("/")  # "//host/..." would leave the site
    return quote(path) + "?" + urlencode([*params, *changed.items()])


def compact(number: int | None) -> str:
    """1234 -> 1.2k; what a card shows for stars."""
    if number is None:
        return ""
    if number >= 10_000:
        return f"{number / 1000:.0f}k"
    if number >= 1000:
        return f"{number / 1000:.1f}k"
    return str(number)


def plural(count: int | None, singular: str, plural_form: str | None = None) -> str:
    """The word for ``count`` of them: ``{{ n }} {{ n|plural("upvote") }}`` reads "1 upvote",
    "0 upvotes", "2 upvotes" (``plural_form`` for irregular words)."""
    if count == 1:
        return singular
    return plural_form if plural_form is not None else singular + "s"


def long_date(day: dt.date | dt.datetime | None) -> str:
    if day is None:
        return ""
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def short_date(day: dt.date | dt.datetime | None) -> str:
    if day is None:
        return ""
    return f"{day:%b} {day.day}, {day.year}"


def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*.css")) + sorted(STATIC.rglob("*.js")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def ai_keywords(paper: Paper) -> tuple[str, ...]:
    """The keywords Hugging Face's model wrote for the paper's latest listing that has some."""
    for entry in reversed(paper.daily):
        if entry.ai_keywords:
            return entry.ai_keywords
    return ()


def ai_summary(paper: Paper) -> str | None:
    """The summary Hugging Face's model wrote for the paper's latest listing that has one."""
    for entry in reversed(paper.daily):
        if entry.ai_summary:
            return entry.ai_summary
    return None


def configure_templates(templates: Jinja2Templates, config: Config) -> None:
    env = templates.env
    env.filters.update(
        paper_url=paper_url,
        author_url=author_url,
        category_url=category_url,
        category_label=category_label,
        category_name=category_name,
        day_url=day_url,
        compact=compact,
        plural=plural,
        http_url=http_url,
        long_date=long_date,
        short_date=short_date,
        tex=tex_html,
        ai_keywords=ai_keywords,
        ai_summary=ai_summary,
        citation=citation,
    )
    env.globals.update(
        asset_version=_asset_version(),
        page_href=page_href,
        demo=config.demo,
        site_name="paperroute",
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
