"""The OpenAPI document at /api/v1/openapi.json, made to tell the truth.

FastAPI's generated document lists every route (HTML pages too), promises 422 for invalid
input where the API answers 400, and says nothing of the statuses the edge adds (401 for an
unknown API token, 403 for a missing CSRF token, 413, 429, 503) nor that errors are
``application/problem+json``. ``install(app)`` replaces ``app.openapi`` with one that keeps
the JSON API (paths under ``/api/``) and documents, for each operation, the error statuses
it can answer, each as a problem document. Schemathesis checks the result against the
running app (tests/web/test_openapi_fuzz.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}
# Every operation: a bad parameter or body, an unknown personal API token, the database
# unavailable.
EVERY = {
    "400": "invalid parameter or body",
    "401": "sign-in needed, or the API token is unknown, revoked or suspended",
    "503": "the database is unavailable",
}
WITH_PATH = {"404": "no such resource"}
WRITES = {
    "403": "CSRF token missing or wrong (cookie sessions), or not allowed",
    "404": "no such resource",
    "409": "conflicts with the current state",
    "413": "the body is too large",
    "429": "too many requests: see Retry-After",
}


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI response: ``description``, answered as a problem document."""
    return {
        "description": f"{description} (RFC 9457 problem document)",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def build(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, openapi_version=app.openapi_version, routes=app.routes
    )
    # Only the JSON API: HTML pages and forms are not part of it.
    document["paths"] = {
        path: item for path, item in document.get("paths", {}).items() if path.startswith("/api/")
    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422")):
                del responses["422"]  # FastAPI's; invalid input is answered 400 here
            wanted = dict(EVERY)
            names = {p.get("name") for p in operation.get("parameters", [])}
            if "{" in path or "category" in names:  # a category no paper is in: 404
                wanted.update(WITH_PATH)
            if method != "get":
                wanted.update(WRITES)
            for status, description in wanted.items():
                known = responses.get(status)
                if known is None:
                    responses[status] = problem(description)
                else:
                    known["content"] = problem(description)["content"]
    return document


def install(app: FastAPI) -> None:
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            cached.update(build(app))
        return cached

    app.openapi = openapi  # type: ignore[method-assign]
