"""TeX text macros in titles and abstracts, shown as HTML: ``\\textbf{x}``, ``82.3\\%``,
``key--value``, ````x,''``. Math (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) is
left as written (escaped) for KaTeX in the browser; the stored text never changes.

Every piece of the source is HTML-escaped before it is wrapped, so a hostile abstract cannot
inject markup: the only tags in the output are the ones this module writes."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_STYLES = {
    "textbf": ("<strong>", "</strong>"),
    "bf": ("<strong>", "</strong>"),
    "textit": ("<em>", "</em>"),
    "emph": ("<em>", "</em>"),
    "it": ("<em>", "</em>"),
    "textsl": ("<em>", "</em>"),
    "texttt": ("<code>", "</code>"),
    "underline": ("<u>", "</u>"),
    "textsc": ('<span class="tex-sc">', "</span>"),
    "textrm": ("", ""),
    "textsf": ("", ""),
    "mbox": ("", ""),
}
# A "$" the text meant literally (``\\$``) sits in its own element, so KaTeX's auto-render
# (which pairs dollars within one run of text) never takes it for a formula's start.
_DOLLAR = '<span class="tex-dollar">$</span>'
_SYMBOLS = {"%": "%", "&": "&amp;", "_": "_", "#": "#", "{": "{", "}": "}", "$": _DOLLAR}

_MATH = re.compile(
    r"\$\$.+?\$\$"  # display math
    r"|(?<!\\)\$(?:\\.|[^$\\])+?\$"  # inline math; \$ inside it does not close it
    r"|\\\(.+?\\\)"
    r"|\\\[.+?\\\]",
    re.DOTALL,
)
_TOKEN = re.compile(
    r"\\(?P<macro>[a-zA-Z]+)\s*\{"  # \textbf{
    r"|\{\\(?P<switch>bf|it|em|tt)\s"  # {\bf bold}
    r"|\\(?P<symbol>[%&_#${}])"
    r"|(?P<dash>---?)"
    r"|(?P<quote>``|'')"
    r"|(?P<tilde>~)"
    r"|\\(?P<space> )"  # "vs.\ " (a control space)
)
_DEPTH = 20  # nested macros deeper than this stay as text


def _groups(text: str) -> dict[int, int]:
    """Each opening brace's index mapped to its closing brace's (one pass, so a hostile run
    of unclosed groups costs linear time); escaped braces do not count."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            stack.append(i)
        elif char == "}" and stack:
            pairs[stack.pop()] = i
        i += 1
    return pairs


def _text(text: str, depth: int) -> str:
    """HTML for a run of text that holds no math."""
    out: list[str] = []
    pos = 0
    groups = _groups(text) if "{" in text else {}
    for match in _TOKEN.finditer(text):
        if match.start() < pos:
            continue  # inside a group already converted
        out.append(str(escape(text[pos : match.start()])))
        pos = match.end()
        macro = match.group("macro") or match.group("switch")
        if macro is not None:
            if match.group("switch") is not None:
                macro = {"bf": "textbf", "it": "textit", "em": "emph", "tt": "texttt"}[macro]
            opened = match.start() if match.group("switch") else match.end() - 1
            end = groups.get(opened, -1)
            if macro not in _STYLES or end < 0 or depth >= _DEPTH:
                out.append(str(escape(match.group(0))))
                continue
            opening, closing = _STYLES[macro]
            out.append(opening + _convert(text[match.end() : end], depth + 1) + closing)
            pos = end + 1
        elif match.group("symbol") is not None:
            out.append(_SYMBOLS[match.group("symbol")])
        elif match.group("dash") is not None:
            out.append("\u2014" if match.group("dash") == "---" else "\u2013")
        elif match.group("quote") is not None:
            out.append("\u201c" if match.group("quote") == "``" else "\u201d")
        elif match.group("space") is not None:
            out.append(" ")
        else:
            out.append("\u00a0")
    out.append(str(escape(text[pos:])))
    return "".join(out)


def _convert(text: str, depth: int) -> str:
    out: list[str] = []
    pos = 0
    for match in _MATH.finditer(text):
        out.append(_text(text[pos : match.start()], depth))
        out.append(str(escape(match.group(0))))
        pos = match.end()
    out.append(_text(text[pos:], depth))
    return "".join(out)


def tex_html(text: str | None) -> Markup:
    """``text`` with its TeX text macros as HTML and its math left for KaTeX."""
    # Safe: _convert escapes every piece of the source and adds only its own fixed tags.
    return Markup(_convert(text or "", 0))  # noqa: S704
