"""The paper page's details (issue 15, items 9 and 14) on the demo data: TeX text macros in
abstracts shown as formatting, Hugging Face's machine-written keywords, the citation and the
copy-the-id button."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient


def _abstract(page: str) -> str:
    found = re.search(r'<p class="abstract math">(.*?)</p>', page, re.S)
    assert found is not None
    return found.group(1)


def test_tex_text_macros_in_an_abstract_show_as_formatting(demo: TestClient) -> None:
    page = demo.get("/papers/2607.13027")  # \textbf{PalmClaw} ... 11.5\% ... 94.9\%
    assert page.status_code == 200
    abstract = _abstract(page.text)
    assert "<strong>PalmClaw</strong>" in abstract
    assert "11.5% relative improvement" in abstract and "94.9% reduction" in abstract
    assert "\\textbf" not in abstract and "\\%" not in abstract
    # The stored text is unchanged: the API still gives the TeX source.
    stored = demo.get("/api/v1/papers/2607.13027").json()["abstract"]
    assert "\\textbf{PalmClaw}" in stored and "11.5\\%" in stored


def test_card_snippets_convert_macros_too(demo: TestClient) -> None:
    page = demo.get("/search?q=PalmClaw&mode=keyword")
    assert page.status_code == 200
    assert "\\textbf{PalmClaw}" not in page.text


def test_the_machine_written_summary_is_shown_and_marked(demo: TestClient) -> None:
    """Issue 15 item 14: Hugging Face's ai_summary, stored (migration 0009) and shown."""
    page = demo.get("/papers/2608.19880").text
    section = re.search(r'<section class="ai-summary".*?</section>', page, re.S)
    assert section is not None
    assert "machine-written by Hugging Face" in section.group(0)
    assert "EnvHarness and EnvRigger dynamically reshape static environments" in section.group(0)
    assert 'class="ai-summary"' not in demo.get("/papers/2607.13027").text


def test_machine_written_keywords_are_shown_and_marked(demo: TestClient) -> None:
    page = demo.get("/papers/2608.10720").text
    section = re.search(r'<section class="ai-keywords".*?</section>', page, re.S)
    assert section is not None
    assert "machine-written by Hugging Face" in section.group(0)
    assert "Visual Thought Plan" in section.group(0) and "omni-modal dialogue" in section.group(0)
    assert 'href="/search?q=%22Prefix%20Streaming%22"' in section.group(0)
    # A paper without Hugging Face keywords has no such section.
    assert 'class="ai-keywords"' not in demo.get("/papers/2607.13027").text


def test_the_cite_box_holds_bibtex_and_plain_text(demo: TestClient) -> None:
    page = demo.get("/papers/2608.10720").text
    bibtex = re.search(r'<pre id="cite-bibtex">(.*?)</pre>', page, re.S)
    plain = re.search(r'<p id="cite-plain" class="cite-plain">(.*?)</p>', page, re.S)
    assert bibtex is not None and plain is not None
    entry = html.unescape(bibtex.group(1))
    assert re.match(r"@misc\{[a-z]+2026[a-z0-9]+,\n  title = \{\{", entry), entry
    assert "  eprint = {2608.10720},\n  archivePrefix = {arXiv}," in entry
    assert "arXiv:2608.10720." in html.unescape(plain.group(1))
    assert 'data-copy-from="cite-bibtex"' in page and 'data-copy-from="cite-plain"' in page
    assert 'class="copy-id" data-copy-text="2608.10720"' in page
