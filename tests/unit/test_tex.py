"""TeX text macros in abstracts become safe HTML; math stays as written for KaTeX."""

from __future__ import annotations

import pytest

from paperroute.web.tex import tex_html


@pytest.mark.parametrize(
    ("source", "html"),
    [
        (r"\textbf{ReCache} wins", "<strong>ReCache</strong> wins"),
        (r"\textit{a} and \emph{b}", "<em>a</em> and <em>b</em>"),
        (r"\texttt{pip install}", "<code>pip install</code>"),
        (r"{\bf bold} text", "<strong>bold</strong> text"),
        (r"82.3\% of R\&D, a\_b, \#1", "82.3% of R&amp;D, a_b, #1"),
        ("key--value --- and", "key\u2013value \u2014 and"),
        ("``x,'' he said", "\u201cx,\u201d he said"),
        ("Fig.~3", "Fig.\u00a03"),
        (r"3 vs.\ 4", "3 vs. 4"),
        (r"\emph{a \textbf{b}} c", "<em>a <strong>b</strong></em> c"),
    ],
)
def test_text_macros_become_html(source: str, html: str) -> None:
    assert str(tex_html(source)) == html


@pytest.mark.parametrize(
    "math",
    [
        r"$\tilde{O}(T^{7/10})$",
        r"$a--b \% c$",
        r"$$\textbf{x}_1$$",
        r"\(x~y\)",
        r"\[ \emph{z} \]",
        r"$\$5$",
    ],
)
def test_math_is_left_as_written_for_katex(math: str) -> None:
    assert str(tex_html(f"see {math} here")) == f"see {math} here"


def test_an_escaped_dollar_is_not_a_formula_delimiter() -> None:
    html = str(tex_html(r"costs \$5 and \$6"))
    assert html == 'costs <span class="tex-dollar">$</span>5 and <span class="tex-dollar">$</span>6'


def test_unknown_or_unclosed_macros_stay_as_text() -> None:
    assert str(tex_html(r"\foo{x} and \textbf{open")) == r"\foo{x} and \textbf{open"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        r"\textbf{<img src=x onerror=alert(1)>}",
        r"\emph{</em><script>x</script>}",
        r"$<script>alert(1)</script>$",
        r"\texttt{\"><svg onload=alert(1)>}",
        "\\textbf{" * 500 + "<b>" + "}" * 500,
    ],
)
def test_hostile_input_cannot_inject_markup(hostile: str) -> None:
    html = str(tex_html(hostile))
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert "<b>" not in html
    tags = {part.split(">")[0].split()[0] for part in html.split("<")[1:]}
    assert tags <= {"strong", "/strong", "em", "/em", "code", "/code"}


def test_empty_and_none() -> None:
    assert str(tex_html("")) == "" and str(tex_html(None)) == ""


def test_many_unclosed_groups_cost_linear_time() -> None:
    source = "\\textbf{" * 20_000
    assert str(tex_html(source)) == source
