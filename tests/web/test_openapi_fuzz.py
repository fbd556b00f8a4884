"""Schemathesis against /api/v1/openapi.json of a hub over the demo data, in process (ASGI),
with every check on: no 5xx, documented status codes, content types, headers and response
schemas, invalid input refused, valid input accepted, 405s with a true Allow header. Bounded
by examples per operation and a deadline per call; any failure fails the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from paperroute import Config
from paperroute.web.app import create_app
from support.demo import load_demo

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25  # per operation; 22 operations, under a minute on 2 cores
# Operations the fuzzing cannot hold to every check, each with its reason. Remove an entry
# when that changes: the test then holds it to every check.
KNOWN = {
    # Hugging Face's shape: date, week and month exclude each other (400), which OpenAPI 3.0
    # cannot say of query parameters.
    "GET /api/daily_papers",
    "POST /api/v1/bounces",  # message/rfc822 body: no serializer
}


@pytest.fixture(scope="module")
def hub_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'demo.db'}"
    load_demo(url)  # its own copy: the fuzzing writes
    app = create_app(
        Config(
            database_url=url,
            secret_key="schemathesis-secret-key-0123456789",
            digest_bounce_token="fuzz-bounce-token",
            smtp_url="outbox",  # subscriptions mail their confirmation: kept in the database
            base_url="http://testserver",
        )
    )
    yield app
    app.state.hub.close()


def test_the_api_keeps_its_openapi_promises(hub_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", hub_app)
    cases = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if f"{operation.method.upper()} {operation.path}" in KNOWN:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            # A cursor is an opaque signed token: no schema can make a fuzzed one valid, so
            # a cursor-carrying case is not held to "valid input accepted" (its 400 is
            # documented); every other check still applies to it.
            opaque = bool(case.query and "cursor" in case.query)
            case.call_and_validate(excluded_checks=[positive_data_acceptance] if opaque else None)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's at the end
            failures.append(f"{operation.method.upper()} {operation.path}: {exc!r}"[:1500])
    print(f"schemathesis: {cases} cases, {len(failures)} failing operations")
    assert cases > 0
    assert not failures, "\n\n".join(failures)


def test_the_document_lists_the_api_and_its_errors_only(hub_app: FastAPI) -> None:
    document = hub_app.openapi()
    assert all(path.startswith("/api/") for path in document["paths"])
    assert "/subscribe" not in document["paths"] and "/api/v1/daily" in document["paths"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "HTTPValidationError" not in str(responses), (method, path)
            assert {"400", "401", "503"} <= set(responses), (method, path)
            assert "application/problem+json" in responses["400"]["content"]
            if method != "get":
                assert {"403", "413", "429"} <= set(responses), (method, path)
