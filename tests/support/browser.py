"""Helpers for the browser tests (tests/browser/conftest.py has the fixtures)."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def screenshot(page: object, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG of ``page`` as tests/artifacts/<name>.png (git-ignored); return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path
