"""Digest subscriptions by API: ``POST /api/v1/subscriptions`` (its schema in the OpenAPI
document, with what each field takes) and the bounce webhook. Included by
``digest_routes.install``."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..config import Config
from ..digest import (
    FREQUENCIES,
    MAX_SEEDS,
    MailError,
    RateLimited,
    Suppressed,
    time_zones,
)
from ..errors import ConfigError, InvalidInput
from ..reading.taxonomy import arxiv_choices
from ..site.addresses import EMAIL_PATTERN
from .digest_deps import FORM_FIELDS, DigestsDep
from .openapi import problem
from .problems import problem_response
from .session import client_ip

log = logging.getLogger(__name__)
router = APIRouter()
MAX_WEBHOOK_BYTES = 1024 * 1024


# Text the digest's fields promise to take: Latin letters and printable ASCII (more is
# accepted, but no control or format character, which this cannot say more simply).
_PLAIN_TEXT = "^[ -~\u00a0-\u00ac\u00ae-\u024f]*$"
# An arXiv id as the API promises to take it (the form and the CLI take URLs and "arXiv:"
# too): new style (YYMM.NNNN to 1412, YYMM.NNNNN from 1501) or old style, with a version;
# ASCII digits only ([0-9], not \d: a generator may take \d for any script's digits).
_ARXIV_ID = (
    r"^(?:(?:0[0-9]|1[0-4])(?:0[1-9]|1[0-2])\.[0-9]{4}"
    r"|(?:1[5-9]|[2-9][0-9])(?:0[1-9]|1[0-2])\.[0-9]{5}"
    r"|[a-z][a-z-]{1,20}(?:\.[A-Z]{2})?/[0-9]{7})(?:v[1-9][0-9]{0,3})?$"
)
_SUBSCRIPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["email"],
    "additionalProperties": False,  # a misspelt field is an error, not silently dropped
    "properties": {
        # What site.addresses accepts (its internationalised domains aside, which are
        # accepted too but not promised here).
        "email": {"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN},
        "frequency": {"type": "string", "enum": list(FREQUENCIES)},
        "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 = Monday"},
        "send_hour": {"type": "integer", "minimum": 0, "maximum": 23},
        "timezone": {
            "type": "string",
            "enum": list(time_zones()),
            "description": "IANA name, e.g. Europe/Berlin",
        },
        "trending": {"type": "boolean"},
        "categories": {
            "type": "array",
            "items": {"type": "string", "enum": sorted(arxiv_choices())},
            "maxItems": 20,
            "description": "arXiv categories (cs.CL) or whole archives (cs)",
        },
        "keywords": {
            "type": "array",
            "items": {"type": "string", "maxLength": 200, "pattern": _PLAIN_TEXT},
            "maxItems": 20,
            "description": "searches in the search box's language",
        },
        "authors": {
            "type": "array",
            "items": {"type": "string", "maxLength": 120, "pattern": _PLAIN_TEXT},
            "maxItems": 20,
        },
        "max_papers": {"type": "integer", "minimum": 1, "maximum": 50},
        "for_you": {
            "type": "boolean",
            "description": "a For-you section: picks from the reader account at this address "
            "and from the seed papers",
        },
        "seeds": {
            "type": "array",
            "items": {"type": "string", "pattern": _ARXIV_ID},
            "maxItems": MAX_SEEDS,
            "description": "arXiv ids (2401.01234) of papers for the For-you section of a "
            "subscriber without a reader account; one the hub does not hold yet counts once "
            "it does",
        },
    },
    # At least one thing to receive: trending (the default), a category, a keyword or an
    # author; a body that turns trending off and names nothing else is refused (400).
    "anyOf": [
        {"not": {"required": ["trending"]}},
        {"properties": {"trending": {"enum": [True]}}},
        {"required": ["categories"], "properties": {"categories": {"minItems": 1}}},
        *(
            {"required": [name], "properties": {name: {"minItems": 1, "items": {"pattern": r"\S"}}}}
            for name in ("keywords", "authors")
        ),
    ],
}


class _BadBody(ValueError):
    """What is wrong with a JSON body, in words for the problem document."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _BadBody(f"the field {key[:40]!r} is given twice")
        seen[key] = value
    return seen


def _json_object(body: bytes) -> Any:
    """The body as JSON: UTF-8 only (RFC 8259; json.loads would guess UTF-16 too), each
    field once (json.loads keeps the last of two), numbers within Python's 4,300 digits."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise _BadBody("the body must be JSON in UTF-8") from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:  # arrays nested a thousand deep
        raise _BadBody("the JSON is nested too deeply") from None
    except _BadBody:
        raise
    except ValueError as exc:
        if "digits" in str(exc):  # int() of a number longer than sys.get_int_max_str_digits
            raise _BadBody("a number in the body is too long") from None
        raise _BadBody("the body is not valid JSON") from None


def _wrong_type(fields: dict[str, Any]) -> str | None:
    """What is not of the JSON type the schema promises, in the words the form's checks use
    (the form's parser takes "3" for 3 and "false" for false; the API takes what it
    documents: 3, false, lists as arrays). Every field at fault is named."""
    wrong = []
    for name, value in fields.items():
        kind = _SUBSCRIPTION_SCHEMA["properties"][name]["type"]
        if kind == "integer" and not (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and float(value).is_integer()  # JSON Schema: 18.0 is an integer
        ):
            wrong.append(f"{name.replace('_', ' ')} must be a whole number")
        elif kind == "boolean" and not isinstance(value, bool):
            wrong.append(f"{name} must be true or false")
        elif kind == "array" and not isinstance(value, list):
            wrong.append(f"{name} must be a list")
        elif kind == "string" and not isinstance(value, str):
            wrong.append(f"{name} must be text")
    return "; ".join(wrong) or None


@router.post(
    "/api/v1/subscriptions",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _SUBSCRIPTION_SCHEMA}},
        },
        "responses": {"415": problem("the body is not sent as JSON")},
    },
)
async def api_subscribe(request: Request, digests: DigestsDep) -> Response:
    """Subscribe an address (JSON: email, frequency, weekday, send_hour, timezone, trending,
    categories, keywords, authors, max_papers, for_you, seeds). Mails the confirmation
    link: 202."""
    # JSON only: a form or text/plain body is what another site's page can post from a
    # visitor's browser without asking first (no CORS preflight).
    # One Content-Type only (two are malformed, and a proxy may read the other one), and a
    # JSON type: application/json or application/<anything>+json.
    sent = request.headers.getlist("content-type")
    kind = sent[0].split(";")[0].strip().lower() if len(sent) == 1 else ""
    if kind != "application/json" and not (
        kind.startswith("application/") and kind.endswith("+json")
    ):
        return problem_response(
            415,
            "Unsupported Media Type",
            "send the subscription as JSON (Content-Type: application/json)",
        )
    try:
        data = _json_object(await request.body())
    except _BadBody as exc:
        return problem_response(400, "Bad Request", str(exc))
    if not isinstance(data, dict):
        return problem_response(400, "Bad Request", "the body must be a JSON object")
    email = data.get("email")
    if not isinstance(email, str):
        return problem_response(400, "Bad Request", "email is required (a string)")
    unknown = sorted(set(data) - set(_SUBSCRIPTION_SCHEMA["properties"]))
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        known = ", ".join(_SUBSCRIPTION_SCHEMA["properties"])
        return problem_response(
            400, "Bad Request", f"unknown field {shown} (the fields are: {known})"
        )
    fields = {k: v for k, v in data.items() if k in (*FORM_FIELDS, "trending", "for_you")}
    wrong = _wrong_type(fields)
    if wrong:
        return problem_response(400, "Bad Request", wrong)
    try:
        outcome = await run_in_threadpool(
            digests.subscribe, email, fields, client=client_ip(request)
        )
    except RateLimited as exc:
        return problem_response(
            429, "Too Many Requests", str(exc), headers={"Retry-After": str(exc.retry_after)}
        )
    except Suppressed as exc:
        return problem_response(403, "Forbidden", str(exc))
    except InvalidInput as exc:
        return problem_response(400, "Bad Request", str(exc))
    except (MailError, ConfigError) as exc:
        log.error("subscription mail failed: %s", exc)
        return problem_response(
            503, "Service Unavailable", "the confirmation mail cannot be sent now"
        )
    return JSONResponse({"status": "pending", "detail": outcome.message}, status_code=202)


@router.post(
    "/api/v1/bounces",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        },
        "responses": {"422": problem("not a delivery status notification")},
    },
)
async def bounce_webhook(request: Request, digests: DigestsDep) -> Response:
    """A bounce (the raw DSN message as the body), from a mail server's pipe or a provider's
    webhook; authorised by ``X-Bounce-Token`` equal to ``digest_bounce_token``."""
    config: Config = request.app.state.config
    if not config.digest_bounce_token:
        return problem_response(404, "Not Found", "the bounce webhook is not enabled")
    supplied = request.headers.get("x-bounce-token", "")
    if not hmac.compare_digest(supplied.encode(), config.digest_bounce_token.encode()):
        return problem_response(401, "Unauthorized", "X-Bounce-Token is missing or wrong")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            return problem_response(413, "Content Too Large", "a bounce is at most 1 MB")
    report = await run_in_threadpool(digests.bounce_message, body)
    if report.not_dsn:
        return problem_response(422, "Unprocessable Content", report.not_dsn[0].split(": ", 1)[1])
    return JSONResponse(
        {
            "bounces": [
                {"email": b.email, "kind": b.kind, "status": b.status} for b in report.bounces
            ],
            "suppressed": sorted(set(report.suppressed)),
            "unsubscribed": report.unsubscribed,
            # Bounces naming no digest sent to their address: ignored (docs/digests.md).
            "unmatched": len(report.unmatched),
        }
    )
