"""axe-core (vendored: tests/browser/vendor/PROVENANCE.md) on every main page in both
themes (issue 15 item 16): no serious or critical violation. The script is evaluated
through Playwright, not added as a tag, so the page's CSP (script-src 'self') still holds
while it runs, and the test checks that it does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.browser import screenshot

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
PAGES = [
    "/",
    "/papers/date/2026-08-20",
    "/papers/week/2026-W34",
    "/papers/month/2026-08",
    "/trending",
    "/papers/2607.17715",
    "/authors/Yann%20LeCun",
    "/categories",
    "/categories/cs.LG",
    "/search?q=attention",
    "/login",
    "/subscribe",
]
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture(params=["light", "dark"])
def themed(browser: object, request: pytest.FixtureRequest) -> Iterator[tuple[object, str]]:
    context = browser.new_context(  # type: ignore[attr-defined]
        color_scheme=request.param, viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH)
    try:
        yield context.new_page(), request.param
    finally:
        context.close()


def _serious(page: object) -> list[str]:
    page.evaluate(AXE)  # type: ignore[attr-defined]
    result = page.evaluate(  # type: ignore[attr-defined]
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': '"
        " + (n.failureSummary || '').slice(0, 160))})); }"
    )
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in result
            if v["impact"] in ("serious", "critical")]  # fmt: skip


def test_no_serious_violation_on_the_main_pages(
    themed: tuple[object, str], live_server: str
) -> None:
    page, theme = themed
    found: dict[str, list[str]] = {}
    for path in PAGES:
        page.goto(live_server + path)  # type: ignore[attr-defined]
        page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
        problems = _serious(page)
        if problems:
            found[path] = problems
        assert page.evaluate("window.__violations") == [], path  # type: ignore[attr-defined]
    screenshot(page, f"a11y-subscribe-{theme}")
    assert not found, "\n".join(f"{path}: {p}" for path, ps in found.items() for p in ps)


def test_axe_runs_under_the_page_policy(page: object, live_server: str) -> None:
    page.goto(live_server + "/")  # type: ignore[attr-defined]
    policy = page.evaluate(  # type: ignore[attr-defined]
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    assert "script-src 'self'" in policy and "unsafe" not in policy
    page.evaluate(AXE)  # type: ignore[attr-defined]
    assert page.evaluate("typeof axe.run") == "function"  # type: ignore[attr-defined]
