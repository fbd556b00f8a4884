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
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from support.browser import CHROMIUM, CHROMIUM_ARGS, screenshot
from support.demo import load_demo

__all__ = ["screenshot"]


def unavailable(reason: str) -> None:
    """Skip, or fail under PAPERROUTE_REQUIRE_ALL=1 (as tests/conftest.py does)."""
    if os.environ.get("PAPERROUTE_REQUIRE_ALL") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PAPERROUTE_DATABASE_URL": browser_demo_db,
        "PAPERROUTE_DEMO": "1",
        "PAPERROUTE_SECRET_KEY": "browser-tests-throwaway-secret",
        "PAPERROUTE_BASE_URL": base,
        **server_env,
    }
    env.pop("PAPERROUTE_CONFIG", None)
    command = [sys.executable, "-m", "paperroute", "serve", "--port", str(port), "--workers", "1"]
    # A file, not a pipe: nobody reads the server's output while it runs.
    log = tmp_path_factory.mktemp("server") / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = log.read_text(errors="replace")
                pytest.fail(f"paperroute serve exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(base + "/static/css/app.css", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("paperroute serve did not answer within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
