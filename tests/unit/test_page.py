"""The plain-text daily-papers page format, against the project's real seed page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from paperroute.model import DailyEntry, PaperRecord, RecordError
from paperroute.sources.page import parse_page

NAME = "000_d689724431bc92a7.txt"
PAGE = (Path(__file__).resolve().parent.parent / "data" / "page" / NAME).read_bytes()
# The page's paragraphs: 5 header lines, then title, abstract, title, abstract...
PARAGRAPHS = PAGE.split(b"\n\n")
HEADER, BLOCKS = PARAGRAPHS[:5], PARAGRAPHS[5:]
FIRST_TITLE = (
    "DOEI: Dual Optimization of Embedding Information for Attention-Enhanced Class Activation Maps"
)
SECOND_TITLE = "DreamSpace: Dreaming Your Room Space with Text-Driven Panoramic Texture Propagation"
LAST_TITLE = (
    "Optimistic Online Mirror Descent for Bridging Stochastic and Adversarial Online "
    "Convex Optimization"
)


def parse(data: bytes, **kwargs: Any) -> list[PaperRecord | RecordError]:
    return list(parse_page(data, **kwargs))


def good(items: list[PaperRecord | RecordError]) -> list[PaperRecord]:
    assert all(isinstance(i, PaperRecord) for i in items), [
        i for i in items if isinstance(i, RecordError)
    ]
    return [i for i in items if isinstance(i, PaperRecord)]


def page(*paragraphs: bytes) -> bytes:
    return b"\n\n".join(paragraphs)


# --- golden ----------------------------------------------------------------------------------


def test_seed_page_golden() -> None:
    got = good(parse(PAGE, document=NAME, year=2025))
    assert len(got) == 60
    first = got[0]
    assert first.source == "page"
    assert first.source_key == f"{NAME}#1"
    assert first.title == FIRST_TITLE
    assert first.abstract.startswith(
        "Weakly supervised semantic segmentation (WSSS) typically utilizes limited semantic "
        "annotations to obtain initial Class Activation Maps (CAMs)."
    )
    assert first.abstract.endswith(
        "Code will be available at https://github.com/AIGeeksGroup/DOEI."
    )
    assert first.arxiv_id is None
    assert first.authors == ()
    assert first.code_url == "https://github.com/AIGeeksGroup/DOEI"
    assert first.daily == (DailyEntry(day=dt.date(2025, 3, 14), source="hf", kind="listed"),)
    assert first.record_hash is not None

    second = got[1]
    assert second.source_key == f"{NAME}#2"
    assert second.title == SECOND_TITLE
    assert second.project_url == "https://ybbbbt.com/publication/dreamspace"
    assert second.code_url is None

    last = got[-1]
    assert last.source_key == f"{NAME}#60"
    assert last.title == LAST_TITLE
    assert last.abstract.endswith("derive new guarantees for many intermediate scenarios.")
    assert sum(1 for r in got if r.code_url) == 12
    assert len({r.record_hash for r in got}) == 60


def test_no_year_means_no_daily_entry() -> None:
    got = good(parse(PAGE))
    assert len(got) == 60
    assert all(r.daily == () for r in got)
    assert got[0].source_key == "page#1"


def test_year_on_the_date_line() -> None:
    data = page(*HEADER[:4], b"Mar 14, 2025", *BLOCKS)
    assert good(parse(data))[0].daily[0].day == dt.date(2025, 3, 14)


def test_iso_date_line_and_a_second_day() -> None:
    data = page(b"2025-03-14", *BLOCKS[:4], b"March 15", *BLOCKS[4:8])
    got = good(parse(data, year=2025))
    assert [r.daily[0].day for r in got] == [dt.date(2025, 3, 14)] * 2 + [dt.date(2025, 3, 15)] * 2


def test_record_hash_covers_the_day() -> None:
    on_14 = good(parse(page(b"Mar 14", *BLOCKS[:4]), year=2025))
    on_15 = good(parse(page(b"Mar 15", *BLOCKS[:4]), year=2025))
    assert all(a.record_hash != b.record_hash for a, b in zip(on_14, on_15, strict=True))
    # Without a day the fingerprint is the text alone, as before.
    undated = good(parse(page(*BLOCKS[:4])))
    assert len({r.record_hash for r in undated} & {r.record_hash for r in on_14}) == 0


# --- robustness ------------------------------------------------------------------------------


def test_crlf_and_trailing_spaces_give_the_same_records() -> None:
    crlf = PAGE.replace(b"\n", b"  \r\n")
    assert [(r.title, r.abstract) for r in good(parse(crlf))] == [
        (r.title, r.abstract) for r in good(parse(PAGE))
    ]


def test_wrapped_abstract_lines_are_joined() -> None:
    abstract = BLOCKS[1].decode()
    wrapped = "\n".join(abstract[i : i + 80] for i in range(0, len(abstract), 80)).encode()
    (record,) = good(parse(page(BLOCKS[0], wrapped)))
    assert record.abstract.startswith("Weakly supervised semantic segmentation (WSSS) typically")
    assert len(record.abstract) >= len(abstract) - 1


@pytest.mark.parametrize(
    "header",
    [
        [],  # no header at all
        [b"Get trending papers in your email inbox!", b"Mar 14"],
        [b"Daily Papers", b"by AK and the research community", b"Mar 14"],  # unknown line
        [b"NEW", b"Subscribe", b"byAK and the research community", b"Friday, Mar 14"],
    ],
)
def test_header_variants(header: list[bytes]) -> None:
    got = good(parse(page(*header, *BLOCKS), year=2025))
    assert len(got) == 60
    assert got[0].title == FIRST_TITLE
    assert got[0].source_key == "page#1"


def test_bom_is_ignored() -> None:
    assert good(parse(b"\xef\xbb\xbf" + PAGE))[0].title == FIRST_TITLE


# --- bad input -------------------------------------------------------------------------------


def test_missing_abstract_is_reported_and_the_rest_parsed() -> None:
    # Drop DreamSpace's abstract: its title is followed directly by the next title.
    data = page(*HEADER, *BLOCKS[:3], *BLOCKS[4:])
    got = parse(data, document="p")
    assert len(got) == 60
    assert isinstance(got[0], PaperRecord)
    assert got[1] == RecordError(
        "page", "p#2", f"no abstract after title {SECOND_TITLE!r} (line 15)"
    )
    assert len(good(got[:1] + got[2:])) == 59
    assert isinstance(got[2], PaperRecord)
    assert got[2].source_key == "p#3"


def test_last_title_without_abstract() -> None:
    got = parse(page(*HEADER, *BLOCKS[:-1]), document="p")
    assert got[-1] == RecordError(
        "page", "p#60", f"no abstract after title {LAST_TITLE!r} (line 247)"
    )
    assert len(good(got[:-1])) == 59


def test_abstract_without_title() -> None:
    got = parse(page(*HEADER, BLOCKS[1], *BLOCKS[2:4]), document="p")
    assert got[0] == RecordError("page", "p#1", "abstract without a title (line 11)")
    assert isinstance(got[1], PaperRecord)
    assert got[1].title == SECOND_TITLE


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", page(*HEADER)])
def test_page_without_papers_is_one_error(data: bytes) -> None:
    assert parse(data, document="empty.txt") == [
        RecordError("page", "empty.txt", "no papers found (expected title and abstract blocks)")
    ]


def test_huge_abstract_is_a_record_error() -> None:
    huge = b"This is a sentence. " * 60_000
    got = parse(page(*HEADER, BLOCKS[0], huge, *BLOCKS[2:4]), document="p")
    assert isinstance(got[0], RecordError)
    assert got[0].source_key == "p#1"
    assert got[0].reason.startswith("abstract too long")
    assert good(got[1:])[0].title == SECOND_TITLE


def test_latin1_bytes_spoil_only_their_block() -> None:
    spoiled = BLOCKS[3].replace(b"Diffusion-based", "Diffusion-bas\u00e9d".encode("latin-1"))
    got = parse(page(*HEADER, *BLOCKS[:3], spoiled, *BLOCKS[4:8]), document="p")
    assert len(got) == 4
    assert got[1] == RecordError(
        "page",
        "p#2",
        f"not valid UTF-8 text (line 17, title {SECOND_TITLE!r}); save the page as UTF-8",
    )
    assert len(good([got[0], *got[2:]])) == 3


def test_utf16_page_is_decoded() -> None:
    data = PAGE.decode("utf-8").encode("utf-16")
    got = good(parse(data))
    assert len(got) == 60
    assert got[0].title == FIRST_TITLE
