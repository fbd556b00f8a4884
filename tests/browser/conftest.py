"""Browser tests: the real app served by uvicorn (``paperroute serve``) over a demo database,
driven by Playwright with Debian's Chromium.

Fixtures:
- ``server_env``: extra environment for the server (override it in a test module, e.g. to
  point ``PAPERROUTE_SMTP_URL`` at a test SMTP server);
- ``live_server``: the base URL of a running hub (one per test module);
- ``browser``: a headless Chromium (one per session); ``page`` / ``dark_page``: a fresh
  browser context per test, light or dark colour scheme.
``support.browser.screenshot(page, name)`` writes tests/artifacts/<name>.png (ignored by git).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support.browser import CHROMIUM, CHROMIUM_ARGS, screenshot
from support.demo import load_demo
from support.served import served

__all__ = ["screenshot"]


def unavailable(reason: str) -> None:
    """Skip, or fail under PAPERROUTE_REQUIRE_ALL=1 (as tests/conftest.py does)."""
    if os.environ.get("PAPERROUTE_REQUIRE_ALL") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    load_demo(url)
    return url


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Extra environment for the served hub; override in a module to change settings."""
    return {}


@pytest.fixture(scope="module")
def live_server(
    browser_demo_db: str, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {"PAPERROUTE_DEMO": "1", "PAPERROUTE_SECRET_KEY": "browser-tests-throwaway-secret"}
    folder = tmp_path_factory.mktemp("server")
    with served(browser_demo_db, folder, env={**env, **server_env}) as (base, _port):
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def _context_page(browser: object, scheme: str) -> Iterator[object]:
    context = browser.new_context(  # type: ignore[attr-defined]
        color_scheme=scheme, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    yield from _context_page(browser, "light")


@pytest.fixture
def dark_page(browser: object) -> Iterator[object]:
    yield from _context_page(browser, "dark")
