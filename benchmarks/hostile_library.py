"""Parse hostile library files (recommend/library.py): an RIS entry wrapped over many lines,
an RIS entry of many tags, a BibTeX value left open, and the same doubled, so that the
ratio shows whether the cost is linear (about 2) or quadratic (about 4); and render one
hostile 10,000-character comment ("$1" repeated: math searches).

Run: ``.venv/bin/python benchmarks/hostile_library.py`` (no assertions on timings; quote
the load average beside the figures). The last line is one JSON object of the figures."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable

from _common import peak_rss_mb
from paperroute.community._comments import MarkdownRenderer
from paperroute.recommend.library import LibraryError, parse_library

LINES = 400_000


def ris_wrapped(lines: int) -> bytes:
    return b"TY  - JOUR\nTI  - x\nAB  - start\n" + b"  words\n" * lines + b"ER  - \n"


def ris_tags(lines: int) -> bytes:
    return b"TY  - JOUR\nTI  - x\n" + b"AU  - Doe, J\n" * lines + b"ER  - \n"


def bib_open(lines: int) -> bytes:
    return b"@misc{k, title = {" + b"{x\n" * lines


def seconds(make: Callable[[int], bytes], lines: int) -> float:
    data = make(lines)
    started = time.perf_counter()
    with contextlib.suppress(LibraryError):
        parse_library(data, "hostile")
    return round(time.perf_counter() - started, 3)


def main() -> None:
    figures: dict[str, float] = {}
    for name, make in (
        ("ris_wrapped", ris_wrapped),
        ("ris_tags", ris_tags),
        ("bib_open", bib_open),
    ):
        one, two = seconds(make, LINES), seconds(make, 2 * LINES)
        figures[f"{name}_s"] = one
        figures[f"{name}_x2_s"] = two
        figures[f"{name}_ratio"] = round(two / one, 2) if one else 0.0
    renderer = MarkdownRenderer()
    started = time.perf_counter()
    renderer.render("$1" * 5_000)  # a 10,000-character comment of "$" before digits
    figures["comment_dollars_s"] = round(time.perf_counter() - started, 3)
    figures["lines"] = LINES
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
