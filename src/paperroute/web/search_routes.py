"""Search on the web: the results page (/search), results as you type (/search/suggest), an
Atom feed of any search (/search/feed), the JSON API (/api/v1/search,
/api/v1/papers/{id}/similar) and the "Similar papers" section of the paper page.

Every query is valid: what the parser cannot use comes back as notices, never as an error.
Snippets carry the keyword index's match marks; they are escaped first, then the marks
become <mark> elements. Papers hidden by moderators never appear (the search use cases and
``hub.reading.cards`` both leave them out)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from ..hub import SearchResult
from ..ids import try_arxiv_id
from ..reading import Card
from ..search import (
    MARK_END,
    MARK_START,
    MAX_SEARCH_LIMIT,
    MAX_WINDOW,
    KeywordHit,
    Mode,
    parse_query,
)
from ..search.results import total_text
from .api import card_json
from .deps import get_hub, render
from .feeds import card_entries
from .feedxml import ATOM_TYPE, build_atom
from .params import printable
from .problems import problem_response
from .sections import RELATED_PAPERS

router = APIRouter()
_EMPTY = parse_query("")  # frozen: the query of a similar-papers result

PAGE_LIMIT = 30
SUGGEST_LIMIT = 6
SUGGEST_NAMES = 3  # authors, and categories, besides the papers
FEED_LIMIT = 50
SIMILAR_ON_PAGE = 6
MAX_FIELD = 300
Text = Annotated[
    str,
    Query(
        description='the query: words, "phrases", prefix*, -excluded, '
        "cat:, author:, after:, before:, has:code"
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT, description="results to return")]
Offset = Annotated[
    int,
    Query(
        ge=0,
        lt=MAX_WINDOW,
        description=f"results to skip (the next page's offset); the first {MAX_WINDOW:,} "
        "results are served at most: a page reaching past them is cut short",
    ),
]


def highlight(snippet: str) -> Markup:
    """The snippet escaped, with the keyword index's match marks as <mark> elements."""
    escaped = str(escape(snippet.replace(MARK_END, MARK_START).replace(MARK_START, "\x00")))
    parts = escaped.split("\x00")
    html = "".join(
        f"<mark>{part}</mark>" if index % 2 else part for index, part in enumerate(parts)
    )
    return Markup(html)  # noqa: S704 - every part was escaped above


class _ResultCard:
    """A Card whose snippet is the search's highlighted one (for _paper_card.html)."""

    def __init__(self, card: Card, hit: KeywordHit) -> None:
        self._card = card
        self.hit = hit
        self.snippet = highlight(hit.snippet) if hit.snippet else card.snippet

    def __getattr__(self, name: str) -> Any:
        return getattr(self._card, name)


def _mode(value: str | None, notices: list[str]) -> Mode:
    if not value:
        return Mode.hybrid
    try:
        return Mode(value.strip().lower())
    except ValueError:
        notices.append(f"unknown mode {value[:20]!r}: showing hybrid results")
        return Mode.hybrid


def _compose(q: str, fields: dict[str, str]) -> str:
    """The query with the filter form's fields appended as filters."""
    parts = [q]
    for name in ("cat", "author"):
        value = " ".join(fields.get(name, "").replace('"', " ").split())[:MAX_FIELD]
        if value:
            parts.append(f'{name}:"{value}"' if " " in value else f"{name}:{value}")
    for name in ("after", "before"):
        value = fields.get(name, "").strip()[:20]
        if value:
            parts.append(f"{name}:{value.replace(' ', '')}")
    if fields.get("code"):
        parts.append("has:code")
    return " ".join(p for p in parts if p.strip())


def _correction_href(
    result: SearchResult, q: str, text: str, fields: dict[str, str], mode: Mode
) -> str:
    """The link to a search's correction (searched or offered) with the filter form's
    fields kept in the form: the correction is of the query with the fields appended
    (_compose), and they are cut off its end again, not moved into ``q``."""
    corrected = result.suggestion or result.did_you_mean or ""
    if not corrected:
        return ""
    appended = text[len(q) :] if text.startswith(q) else ""
    if appended.strip() and corrected.endswith(appended):
        corrected = corrected[: len(corrected) - len(appended)]
        kept = [(name, value) for name, value in fields.items() if value]
    else:
        kept = []
    return "/search?" + urlencode([("q", corrected), ("mode", mode.value), *kept])


def _cards(request: Request, result: SearchResult) -> list[_ResultCard]:
    hits = {hit.pk: hit for hit in result.hits}
    cards = get_hub(request).reading.cards(list(hits))
    return [_ResultCard(card, hits[card.pk]) for card in cards]


def _search(
    request: Request,
    text: str,
    mode: Mode,
    limit: int,
    offset: int = 0,
    correct: bool = True,
    offer: bool = True,
) -> SearchResult:
    return get_hub(request).search.query(
        text, mode=mode, limit=limit, offset=offset, correct=correct, offer=offer
    )


# The page's and the feed's spell=0 (as the API's boolean reads "false", "off", ...).
SPELL_OFF = frozenset({"0", "false", "f", "off", "no", "n"})


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
async def search_page(
    request: Request,
    q: str = "",
    mode: str | None = None,
    cat: str = "",
    author: str = "",
    after: str = "",
    before: str = "",
    code: str = "",
    page: str = "1",
    spell: str = "",
) -> Response:
    notices: list[str] = []
    chosen = _mode(mode, notices)
    # (ASCII digits only: "²" and "①" are digits to str.isdigit, not to int.)
    number = int(page) if page.isascii() and page.isdigit() and 0 < len(page) <= 20 else 1
    number = max(1, min(number, -(-MAX_WINDOW // PAGE_LIMIT)))  # (the last: cut short)
    spell_off = spell.strip().lower() in SPELL_OFF
    given = {"cat": cat, "author": author, "after": after, "before": before, "code": code}
    q, fields = printable(q), {name: printable(value) for name, value in given.items()}
    text = _compose(q, fields)
    context: dict[str, Any] = {
        "search_query": q,
        "query": text,
        "mode": chosen.value,
        "modes": [m.value for m in Mode],
        "fields": fields,
        "cards": [],
        "notices": notices,
        "searched": bool(text.strip()),
        "used_mode": chosen.value,
        "page": number,
        "last_page": 1,
        "total_text": "",
        "total": 0,
        "suggestion": None,
        "did_you_mean": None,
        "correction_href": "",
        "spell_off": spell_off,  # (kept by the mode tabs: the query as typed)
    }
    if text.strip():

        def work() -> tuple[SearchResult, list[_ResultCard]]:
            offset = (number - 1) * PAGE_LIMIT
            result = _search(request, text, chosen, PAGE_LIMIT, offset, correct=not spell_off)
            return result, _cards(request, result)

        result, cards = await run_in_threadpool(work)
        pages = max(1, -(-min(result.total, MAX_WINDOW) // PAGE_LIMIT))
        if cards:  # an estimate ("about") can fall short of the pages that hold results
            pages = max(pages, number)
            full = len(cards) == PAGE_LIMIT and number * PAGE_LIMIT < MAX_WINDOW
            if full and result.open_ended:  # (a next page may hold more: offer it)
                pages = max(pages, number + 1)
        context.update(
            cards=cards,
            used_mode=result.mode.value,
            last_page=pages,
            total_text=total_text(result),
            total=result.total,
            suggestion=result.suggestion,
            did_you_mean=result.did_you_mean,
            correction_href=_correction_href(result, q, text, fields, chosen),
            first_rank=result.offset + 1,
        )
        notices.extend(result.notices)
    return render(request, "search/results.html", context)


@router.get("/search/suggest", response_class=HTMLResponse, include_in_schema=False)
async def suggest(request: Request, q: str = "") -> Response:
    """Results as you type for the header's search box (htmx fragment): authors and
    categories whose names start with the text, and a few papers (a listbox that
    static/js/suggest.js drives with the keyboard)."""
    q = printable(q)
    text = q.strip()
    if len(text) < 2:
        return HTMLResponse("")
    if text[-1].isalnum() and ":" not in text.split()[-1] and try_arxiv_id(text) is None:
        text += "*"  # the word being typed is a prefix (an arXiv id names its paper)

    def work() -> dict[str, Any]:
        hub = get_hub(request)
        names = hub.search.suggest_names(q.strip(), limit=SUGGEST_NAMES)
        result = _search(request, text, Mode.hybrid, SUGGEST_LIMIT, correct=False, offer=False)
        cards, suggestion = _cards(request, result), None
        if not (cards or names.authors or names.categories):
            # A typo: what the results page would search instead (did you mean).
            fixed = _search(request, q.strip(), Mode.keyword, SUGGEST_LIMIT)
            if fixed.suggestion:
                cards, suggestion = _cards(request, fixed), fixed.suggestion
        return {
            "cards": cards,
            "authors": names.authors,
            "categories": names.categories,
            "query": suggestion or q,
            "suggestion": suggestion,
        }

    return render(request, "search/suggest.html", await run_in_threadpool(work))


@router.get("/search/feed", include_in_schema=False)
async def search_feed(
    request: Request, q: str = "", mode: str | None = None, spell: str = ""
) -> Response:
    """An Atom feed of any search (its newest results are its best matches); ``spell=0``
    as on the page: the query as typed, not its correction."""
    chosen = _mode(mode, [])
    q = printable(q)

    def work() -> bytes:
        correct = spell.strip().lower() not in SPELL_OFF
        found = _search(request, q, chosen, FEED_LIMIT, correct=correct) if q.strip() else None
        cards = [] if found is None else _cards(request, found)
        base = request.app.state.config.base_url.rstrip("/")
        self_url = f"{base}/search/feed?{request.url.query}"
        alternate = f"{base}/search?{request.url.query}"
        entries = card_entries([c._card for c in cards], request.app.state.config.base_url)
        title = f"paperroute: search for {' '.join(q.split())[:100]}"
        return build_atom(title, self_url, entries, alternate_url=alternate)

    return Response(await run_in_threadpool(work), media_type=ATOM_TYPE)


def _item(card: _ResultCard) -> dict[str, Any]:
    item = card_json(card._card, card.hit.score)
    item["snippet"] = card.hit.snippet.replace(MARK_START, "").replace(MARK_END, "")
    return item


SearchMode = Annotated[
    str, Query(max_length=20, json_schema_extra={"enum": ["keyword", "semantic", "hybrid"]})
]


@router.get("/api/v1/search", tags=["search"])
async def api_search(
    request: Request,
    q: Text = "",
    mode: SearchMode = "hybrid",
    limit: Limit = 20,
    offset: Offset = 0,
    spell: Annotated[bool, Query(description="correct a query that matches nothing")] = True,
) -> Response:
    """Search papers (keyword, semantic or hybrid), a page at a time: ``total`` counts the
    matches (``total_exact`` false: an estimate), ``next_offset`` asks for the next page
    (null on the last). A query that matches nothing is corrected from the index's words:
    ``suggestion`` is the query the items are for (``spell=false``: the items are for the
    query as typed, and ``did_you_mean`` offers the correction). Notices say what in the
    query was not used; an empty query gives no items and a notice."""
    try:
        chosen = Mode(mode.strip().lower())
    except ValueError:
        return problem_response(
            400, "Bad Request", f"mode must be keyword, semantic or hybrid, not {mode[:20]!r}"
        )

    q = printable(q)  # (as the page reads it: no NUL or escape echoed in the JSON)

    def work() -> dict[str, Any]:
        result = _search(request, q, chosen, limit, offset, correct=spell)
        items = [_item(card) for card in _cards(request, result)]
        end = result.offset + len(result.hits)
        # (An estimate can fall short of the results: a full page of one offers the next.)
        short = end < MAX_WINDOW and result.open_ended
        more = (end < min(result.total, MAX_WINDOW) or short) and len(result.hits) == limit
        return {
            "query": q,
            "mode": result.mode.value,
            "total": result.total,
            "total_exact": result.total_exact,
            "offset": result.offset,
            "next_offset": end if more else None,
            "suggestion": result.suggestion,
            "did_you_mean": result.did_you_mean,
            "notices": list(result.notices),
            "items": items,
        }

    return _json(await run_in_threadpool(work))


@router.get("/api/v1/papers/{paper_id:path}/similar", tags=["search"])
async def api_similar(request: Request, paper_id: str, limit: Limit = 10) -> Response:
    """Papers similar to one paper (itself excluded); 404 problem for an unknown paper."""

    def work() -> dict[str, Any]:
        result = get_hub(request).search.similar(paper_id, limit=limit)
        hits = SearchResult(query=_EMPTY, hits=result.hits, notices=result.notices)
        return {
            "id": result.paper_id,
            "notices": list(result.notices),
            "items": [_item(card) for card in _cards(request, hits)],
        }

    return _json(await run_in_threadpool(work))


def _json(body: dict[str, Any]) -> Response:
    return JSONResponse(body)


def similar_section(request: Request, paper: Any, paper_pk: int) -> tuple[str, dict[str, Any]]:
    """The paper page's "Similar papers" (empty list: the template says so)."""
    result = get_hub(request).search.similar(paper.id, limit=SIMILAR_ON_PAGE)
    hits = SearchResult(query=_EMPTY, hits=result.hits, notices=())
    return "search/similar_section.html", {"similar": _cards(request, hits), "paper": paper}


def install(app: FastAPI) -> None:
    app.include_router(router)
    # After the reader's actions on the paper, before the comments: a reader after related
    # work should not scroll past the thread.
    app.state.paper_sections.append((RELATED_PAPERS, similar_section))
