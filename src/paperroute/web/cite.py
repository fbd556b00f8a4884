"""How to cite a paper: a BibTeX entry and a line of plain text, from the stored metadata.

The BibTeX key is the first author's family name, the year and the title's first word,
folded to ASCII letters and digits (``vaswani2017attention``). Field values are wrapped in
braces, so they must never close a brace they did not open: a value whose braces do not
balance has them escaped, and BibTeX's special characters outside math are escaped too."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..model import Paper

_SPECIAL = re.compile(r"(?<!\\)([&%#_])")
_MATH = re.compile(r"(?<!\\)\$[^$]*(?<!\\)\$")
_SKIP_WORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards"}
MAX_PLAIN_AUTHORS = 10


@dataclass(frozen=True, slots=True)
class Citation:
    key: str
    bibtex: str
    plain: str


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _balanced(text: str) -> bool:
    depth = 0
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not escaped


def bibtex_value(text: str) -> str:
    """``text`` safe inside ``{...}``: specials escaped outside math, braces kept only when
    they balance, no line breaks."""
    text = " ".join(text.split())
    if not _balanced(text):
        swap = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "$": "\\$"}
        text = "".join(swap.get(char, char) for char in text)
    out: list[str] = []
    pos = 0
    for match in _MATH.finditer(text):
        out.append(_SPECIAL.sub(r"\\\1", text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_SPECIAL.sub(r"\\\1", text[pos:]))
    return "".join(out)


def _year(paper: Paper) -> int | None:
    if paper.submitted_at is not None:
        return paper.submitted_at.year
    if paper.announced_on is not None:
        return paper.announced_on.year
    if paper.daily:
        return min(entry.day for entry in paper.daily).year
    return None


def _family(name: str) -> str:
    """ "Vaswani" of "Ashish Vaswani" and of "Vaswani, Ashish"."""
    parts = (name.split(",")[0] if "," in name else name).split()
    return parts[-1] if parts else ""


def cite_key(paper: Paper) -> str:
    author = _ascii(_family(paper.authors[0])) if paper.authors else ""
    year = _year(paper)
    words = [_ascii(w) for w in re.split(r"[\s\-:]+", paper.title)]
    word = next((w for w in words if w and w not in _SKIP_WORDS), "")
    key = f"{author or 'anon'}{year or ''}{word}"
    return key[:60]


def citation(paper: Paper) -> Citation:
    key = cite_key(paper)
    year = _year(paper)
    fields: list[tuple[str, str]] = [("title", "{" + bibtex_value(paper.title) + "}")]
    if paper.authors:
        names = [bibtex_value(n) for n in paper.authors]
        # "and" inside a name would split it: braces keep such a name whole.
        names = [f"{{{n}}}" if re.search(r"\band\b", n, re.I) else n for n in names]
        fields.append(("author", " and ".join(names)))
    if year is not None:
        fields.append(("year", str(year)))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", bibtex_value(paper.categories[0])))
    if paper.doi:
        fields.append(("doi", bibtex_value(paper.doi)))
    if paper.journal_ref:
        fields.append(("note", bibtex_value(paper.journal_ref)))
    url = _url(paper)
    if url:
        fields.append(("url", bibtex_value(url)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    bibtex = f"@misc{{{key},\n{body}\n}}"
    return Citation(key=key, bibtex=bibtex, plain=_plain(paper, year, url))


def _url(paper: Paper) -> str:
    if paper.arxiv_id:
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    return paper.abs_url or ""


def _plain(paper: Paper, year: int | None, url: str) -> str:
    authors = list(paper.authors[:MAX_PLAIN_AUTHORS])
    if len(paper.authors) > MAX_PLAIN_AUTHORS:
        who = ", ".join(authors) + ", et al."
    elif len(authors) > 1:
        who = ", ".join(authors[:-1]) + " and " + authors[-1]
    else:
        who = authors[0] if authors else "Anonymous"
    parts = [f"{who} ({year})." if year else f"{who}.", " ".join(paper.title.split()) + "."]
    if paper.arxiv_id:
        parts.append(f"arXiv:{paper.arxiv_id}.")
    elif paper.journal_ref:
        parts.append(paper.journal_ref.rstrip(".") + ".")
    if paper.doi:
        parts.append(f"doi:{paper.doi}.")
    elif url:
        parts.append(url)
    return " ".join(parts)
