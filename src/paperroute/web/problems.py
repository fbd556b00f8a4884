"""RFC 9457 problem details for the API, styled error pages for the HTML side.

Any HTTPException or validation error under ``/api/`` becomes an ``application/problem+json``
document; elsewhere the reader gets an error page in the site's layout. Errors from the
paperroute hierarchy are mapped here, at the edge: NotFound -> 404, InvalidInput -> 400,
StorageError -> 503. Nothing a reader types gives a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InvalidInput, NotFound, PaperrouteError, StorageError

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"


def problem_response(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem document: ``type`` about:blank, ``title``, ``status``, ``detail`` + extras."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


# RFC 9110's names where Python before 3.13 keeps the older ones ("Request Entity Too
# Large"), so that one status has one title whichever Python serves it.
_RFC_9110 = {413: "Content Too Large", 422: "Unprocessable Content"}


def _title(status: int) -> str:
    if status in _RFC_9110:
        return _RFC_9110[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def wants_problem(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/")


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """The styled HTML error page (a plain-text fallback if templates are unavailable)."""
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return Response(f"{status} {title}: {detail}", status_code=status, media_type="text/plain")
    context = {"request": request, "status": status, "title": title, "detail": detail}
    response: Response = templates.TemplateResponse(
        request, "error.html", context, status_code=status
    )
    return response


def error_response(
    request: Request, status: int, detail: str, *, headers: Mapping[str, str] | None = None
) -> Response:
    if wants_problem(request):
        return problem_response(status, _title(status), detail, headers=dict(headers or {}))
    response = error_page(request, status, _title(status), detail)
    if headers:
        response.headers.update(headers)
    return response


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in {"query", "path"})
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"there is nothing at {request.url.path[:200]}"
    return error_response(request, exc.status_code, detail, headers=exc.headers)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(request, 400, _validation_detail(exc))


async def _paperroute(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotFound):
        return error_response(request, 404, str(exc))
    if isinstance(exc, InvalidInput):
        return error_response(request, 400, str(exc))
    if isinstance(exc, StorageError):
        # %r: the path is decoded (%0d%0a is CR LF), and text logs keep one record a line.
        log.error("storage error on %r: %s", request.url.path[:500], exc)
        return error_response(request, 503, "the database is unavailable; try again shortly")
    return error_response(request, 400, str(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(PaperrouteError, _paperroute)
