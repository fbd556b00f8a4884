"""JSON Lines parser: real corpus and Kaggle-shape records, plus broken input."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from paperroute.model import DailyEntry, PaperRecord, RecordError
from paperroute.sources.jsonl import (
    MAX_LINE,
    iter_jsonl,
    open_jsonl,
    parse_jsonl,
    split_arxiv_authors,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "jsonl"
CORPUS = DATA / "corpus-300.jsonl.gz"
MULTIDATE = DATA / "corpus-multidate-2.jsonl"
KAGGLE = DATA / "kaggle-200.jsonl"
UTC = dt.UTC


def records(items: list[PaperRecord | RecordError]) -> list[PaperRecord]:
    return [i for i in items if isinstance(i, PaperRecord)]


def errors(items: list[PaperRecord | RecordError]) -> list[RecordError]:
    return [i for i in items if isinstance(i, RecordError)]


@pytest.fixture(scope="module")
def corpus() -> list[PaperRecord | RecordError]:
    with open_jsonl(CORPUS) as stream:
        return list(iter_jsonl(stream, document="corpus-300.jsonl.gz"))


@pytest.fixture(scope="module")
def kaggle() -> dict[str, PaperRecord]:
    with open_jsonl(KAGGLE) as stream:
        items = list(iter_jsonl(stream, document="kaggle-200.jsonl"))
    assert errors(items) == []
    return {r.arxiv_id or "": r for r in records(items)}


# --- corpus shape ---------------------------------------------------------------------------


def test_corpus_all_lines_parse(corpus: list[PaperRecord | RecordError]) -> None:
    assert len(corpus) == 300
    assert errors(corpus) == []
    assert {r.source for r in records(corpus)} == {"jsonl"}


def test_corpus_first_record_golden(corpus: list[PaperRecord | RecordError]) -> None:
    first = corpus[0]
    assert isinstance(first, PaperRecord)
    assert first.source_key == "corpus-300.jsonl.gz:1 (0704.0125)"
    assert first.arxiv_id == "0704.0125"
    assert first.version is None
    assert first.title == "Anisotropic thermo-elasticity in 2D -- Part I: A unified approach"
    assert first.authors == ("Michael Reissig", "Jens Wirth")
    assert first.categories == ("math.AP",)
    assert first.comments == "22 pages;"
    assert first.abstract.startswith("In this note we develop tools and techniques for the")
    assert "\n" not in first.abstract
    assert first.announced_on == dt.date(2008, 4, 10)
    assert first.daily == (DailyEntry(day=dt.date(2008, 4, 10), source="arxiv", kind="listed"),)
    assert first.abs_url == "https://arxiv.org/abs/0704.0125"
    assert first.record_hash is not None


def test_corpus_scraper_split_authors_are_repaired(
    corpus: list[PaperRecord | RecordError],
) -> None:
    # The line reads ["Fran\\c{c}ois Golse (CMLS-EcolePolytechnique", "LJLL)",
    # "Alex Mahalov,\n  Basil Nicolaenko"]: a comma inside an affiliation split one name in
    # two and a wrapped line glued two names together.
    third = corpus[2]
    assert isinstance(third, PaperRecord)
    assert third.arxiv_id == "0704.0337"
    assert third.authors == ("François Golse", "Alex Mahalov", "Basil Nicolaenko")


def test_corpus_last_record_and_cross_listed_categories(
    corpus: list[PaperRecord | RecordError],
) -> None:
    last = corpus[-1]
    assert isinstance(last, PaperRecord)
    assert last.source_key == "corpus-300.jsonl.gz:300 (0708.1758)"
    assert last.title == (
        "Vanishing moment method and moment solutions for second order fully nonlinear "
        "partial differential equations"
    )
    assert last.authors == ("Xiaobing Feng", "Michael Neilan")
    assert last.categories == ("math.NA", "math.AP")
    assert last.announced_on == dt.date(2007, 8, 14)


def test_corpus_several_listing_dates() -> None:
    items = list(parse_jsonl(MULTIDATE.read_bytes(), document="multi.jsonl"))
    assert errors(items) == []
    first, second = records(items)
    assert first.arxiv_id == "2102.05231"
    assert [d.day for d in first.daily] == [
        dt.date(2026, 5, 1),
        dt.date(2026, 5, 2),
        dt.date(2026, 5, 3),
    ]
    assert all(d.source == "arxiv" and d.kind == "listed" for d in first.daily)
    assert first.announced_on == dt.date(2026, 5, 1)
    assert first.comments == (
        "accepted by the 3rd IEEE Workshop on Artificial Intelligence for Art Creation"
    )
    assert first.categories == ("cs.CV", "cs.AI")
    assert second.arxiv_id == "2110.02887"
    assert second.announced_on == dt.date(2026, 3, 20)
    assert second.authors[0] == "Sawsan Alqahtani"


def test_announced_on_is_the_earliest_date_whatever_the_order() -> None:
    line = json.dumps(
        {
            "id": "2401.01234",
            "title": "T",
            "authors": ["A B"],
            "categories": ["cs.LG"],
            "summary": "S",
            "listing_dates": ["2024-01-05", "2024-01-03", "not a date"],
        }
    ).encode()
    (record,) = parse_jsonl(line)
    assert isinstance(record, PaperRecord)
    assert record.announced_on == dt.date(2024, 1, 3)
    assert [d.day for d in record.daily] == [dt.date(2024, 1, 5), dt.date(2024, 1, 3)]


def corpus_line(**fields: Any) -> bytes:
    obj = {
        "id": "2401.01234",
        "title": "T",
        "authors": ["A B"],
        "categories": ["cs.LG"],
        "summary": "S",
        "listing_dates": ["2024-01-05"],
    }
    obj.update(fields)
    return json.dumps(obj).encode()


def test_corpus_categories_and_authors_as_strings() -> None:
    line = corpus_line(categories="cs.LG  stat.ML", authors="A One, B Two and C Three")
    (record,) = records(list(parse_jsonl(line)))
    assert record.categories == ("cs.LG", "stat.ML")
    assert record.authors == ("A One", "B Two", "C Three")
    (record,) = records(list(parse_jsonl(corpus_line(categories=["cs.LG stat.ML", "math.OC"]))))
    assert record.categories == ("cs.LG", "stat.ML", "math.OC")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"categories": 5}, "categories is a int, not a list of strings or a string"),
        ({"categories": {"cs": "LG"}}, "categories is a dict, not a list of strings or a string"),
        ({"categories": ["cs.LG", 5]}, "categories holds a int, not a category"),
        ({"authors": ["A B", {"name": "C"}]}, "authors holds a dict, not a name"),
        ({"authors": 7, "listing_dates": []}, "authors is a int, not a list of names or a string"),
        ({"title": 5}, "title is a int, not text"),
        ({"title": ["T"]}, "title is a list, not text"),
    ],
)
def test_corpus_fields_of_the_wrong_type_are_record_errors(
    fields: dict[str, Any], reason: str
) -> None:
    data = b"\n".join([corpus_line(**fields), corpus_line(id="2401.01235")])
    bad, good = parse_jsonl(data, document="d")
    assert bad == RecordError("jsonl", "d:1 (2401.01234)", reason)
    assert isinstance(good, PaperRecord) and good.arxiv_id == "2401.01235"


def test_unexpected_record_shapes_never_abort_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from paperroute.sources import jsonl

    def broken(**_fields: Any) -> PaperRecord:
        raise TypeError("boom")

    monkeypatch.setattr(jsonl, "build_record", broken)
    data = b"\n".join([corpus_line(), corpus_line(id="2401.01235")])
    assert list(parse_jsonl(data, document="d")) == [
        RecordError("jsonl", "d:1 (2401.01234)", "unexpected record shape: boom"),
        RecordError("jsonl", "d:2 (2401.01235)", "unexpected record shape: boom"),
    ]


# --- Kaggle shape ---------------------------------------------------------------------------


def test_kaggle_latest_version_and_dates(kaggle: dict[str, PaperRecord]) -> None:
    paper = kaggle["acc-phys/9503001"]
    assert paper.source_key == "kaggle-200.jsonl:6 (acc-phys/9503001)"
    assert paper.version == 2
    assert paper.submitted_at == dt.datetime(1995, 3, 29, 5, 13, 29, tzinfo=UTC)
    assert paper.updated_at == dt.datetime(1995, 4, 7, 7, 16, 31, tzinfo=UTC)
    assert paper.doi == "10.1016/0168-9002(96)88028-4"
    assert paper.categories == ("acc-phys", "physics.acc-ph")
    # "..., P.V.Vorob'ev (BINP Novosibirsk)": the affiliation is not part of the name.
    assert paper.authors == (
        "A.N.Aleshaev",
        "I.V.Pinayev",
        "V.M.Popik",
        "S.S.Serednyakov",
        "T.V.Shaftan",
        "A.S.Sokolov",
        "N.A.Vinokurov",
        "P.V.Vorob'ev",
    )


def test_kaggle_three_versions(kaggle: dict[str, PaperRecord]) -> None:
    paper = kaggle["adap-org/9509003"]
    assert paper.version == 3
    assert paper.submitted_at == dt.datetime(1995, 10, 5, 17, 35, 17, tzinfo=UTC)
    assert paper.updated_at == dt.datetime(1995, 11, 20, 9, 59, 40, tzinfo=UTC)
    assert paper.authors == ("Yu Shi",)


def test_kaggle_license_journal_ref_and_and_separated_authors(
    kaggle: dict[str, PaperRecord],
) -> None:
    paper = kaggle["0704.0002"]
    assert paper.title == "Sparsity-certifying Graph Decompositions"
    assert paper.authors == ("Ileana Streinu", "Louis Theran")
    assert paper.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert paper.comments == "To appear in Graphs and Combinatorics"
    assert paper.categories == ("math.CO", "cs.CG")
    assert paper.version == 2
    assert paper.submitted_at == dt.datetime(2007, 3, 31, 2, 26, 18, tzinfo=UTC)
    assert kaggle["acc-phys/9411004"].journal_ref == "AIPConf.Proc.335:57-74,1995"
    assert kaggle["acc-phys/9411004"].announced_on is None
    assert kaggle["acc-phys/9411004"].daily == ()


def test_kaggle_title_keeps_tex_math(kaggle: dict[str, PaperRecord]) -> None:
    paper = kaggle["acc-phys/9411002"]
    assert paper.title.startswith("Order $\\hbar$ Corrections to the Classical Dynamics")
    assert paper.authors == ("Patrick L. Nash",)


def test_kaggle_authors_parsed_is_preferred() -> None:
    line = KAGGLE.read_bytes().splitlines()[0]
    obj = json.loads(line)
    obj["authors_parsed"] = [["Habib", "Salman", ""], ["Ryne", "Robert D.", "Jr"]]
    (record,) = parse_jsonl(json.dumps(obj).encode())
    assert isinstance(record, PaperRecord)
    assert record.authors == ("Salman Habib", "Robert D. Ryne Jr")


def test_kaggle_fields_of_the_wrong_type() -> None:
    base = json.loads(KAGGLE.read_bytes().splitlines()[0])
    base.pop("authors_parsed")
    lines = [
        {**base, "authors": 7},
        {**base, "title": 3.5},
        {**base, "categories": ["cs.LG", "stat.ML"]},
        # int() refuses superscript digits (isdigit() accepts them) and 5,000-digit numbers.
        {**base, "versions": [{"version": "v\u00b2"}, {"version": "v" + "9" * 5000}]},
    ]
    data = b"\n".join(json.dumps(obj).encode() for obj in lines)
    items = list(parse_jsonl(data, document="d"))
    assert [(e.source_key, e.reason) for e in errors(items)] == [
        ("d:1 (acc-phys/9411001)", "authors is a int, not a list of names or a string"),
        ("d:2 (acc-phys/9411001)", "title is a float, not text"),
    ]
    listed, odd_versions = records(items)
    assert listed.categories == ("cs.LG", "stat.ML")
    assert odd_versions.version is None


# 100 KB of hostile text: the old separator pattern rescanned a run of spaces from every
# position in it (quadratic: 0.14 s at 8 KB, hours for a 2 MB line); now linear.
HOSTILE = 100_000


@pytest.mark.parametrize(
    ("authors", "names"),
    [
        ("Ann" + " " * HOSTILE + "Bo", ("Ann Bo",)),
        ("Ann" + " ;" * (HOSTILE // 2), ("Ann",)),
        ("Ann" + "\n " * HOSTILE + "and Bo", ("Ann", "Bo")),
    ],
    ids=["spaces", "semicolons", "newlines"],
)
def test_hostile_author_strings_are_linear(authors: str, names: tuple[str, ...]) -> None:
    base = json.loads(KAGGLE.read_bytes().splitlines()[0])
    base.pop("authors_parsed")
    line = json.dumps({**base, "authors": authors}).encode()
    start = time.perf_counter()
    (record,) = records(list(parse_jsonl(line)))
    assert tuple(split_arxiv_authors(authors)) == names
    assert time.perf_counter() - start < 2
    assert record.authors == names


def test_split_arxiv_authors() -> None:
    assert split_arxiv_authors("A. Smith (MIT), B. Jones ((1) X, (2) Y) and C. Wu") == [
        "A. Smith",
        "B. Jones",
        "C. Wu",
    ]
    assert split_arxiv_authors("Donald Johann, Jr. and Fred Prior") == [
        "Donald Johann Jr.",
        "Fred Prior",
    ]
    assert split_arxiv_authors('Endre S\\"uli, Agnieszka Ka{\\l}amajska') == [
        "Endre Süli",
        "Agnieszka Kałamajska",
    ]


# --- streams, gzip, bad input ---------------------------------------------------------------


def test_gzip_detected_by_magic_not_by_name(tmp_path: Path) -> None:
    plain = KAGGLE.read_bytes().splitlines()[:3]
    disguised = tmp_path / "looks-plain.jsonl"
    disguised.write_bytes(gzip.compress(b"\n".join(plain)))
    not_gzip = tmp_path / "looks-compressed.jsonl.gz"
    not_gzip.write_bytes(b"\n".join(plain))
    for path in (disguised, not_gzip):
        with open_jsonl(path) as stream:
            items = list(iter_jsonl(stream, document=path.name))
        assert [r.arxiv_id for r in records(items)] == [
            "acc-phys/9411001",
            "acc-phys/9411002",
            "acc-phys/9411003",
        ]
    assert len(records(list(parse_jsonl(gzip.compress(b"\n".join(plain)))))) == 3


def test_broken_lines_among_good_ones() -> None:
    good = KAGGLE.read_bytes().splitlines()[:2]
    data = b"\n".join(
        [
            good[0],
            b'{"id": "0704.0001", "title": ',  # truncated JSON
            b"",  # blank lines are skipped, but counted
            b"[1, 2, 3]",
            b'{"id": "0704.0002", "title": "caf\xe9"}',  # latin-1, not UTF-8
            b'{"id": "x", "something": "else"}',
            good[1],
        ]
    )
    items = list(parse_jsonl(data, document="mixed.jsonl"))
    assert [r.arxiv_id for r in records(items)] == ["acc-phys/9411001", "acc-phys/9411002"]
    assert records(items)[1].source_key == "mixed.jsonl:7 (acc-phys/9411002)"
    errs = errors(items)
    assert [e.source_key for e in errs] == [
        "mixed.jsonl:2",
        "mixed.jsonl:4",
        "mixed.jsonl:5",
        "mixed.jsonl:6 (x)",
    ]
    assert "not valid JSON" in errs[0].reason
    assert "not a JSON object (a list)" in errs[1].reason
    assert "not UTF-8" in errs[2].reason
    assert "neither the corpus shape nor the Kaggle" in errs[3].reason


def test_record_level_errors_from_build_record() -> None:
    base = json.loads(KAGGLE.read_bytes().splitlines()[0])
    no_title = {**base, "title": None}
    huge = {**base, "abstract": "x" * 1_000_000}
    bad_id = {**base, "id": "2401.99999999"}
    data = b"\n".join(json.dumps(obj).encode() for obj in (no_title, huge, bad_id, base))
    items = list(parse_jsonl(data, document="d"))
    errs = errors(items)
    assert [e.source_key for e in errs] == [
        "d:1 (acc-phys/9411001)",
        "d:2 (acc-phys/9411001)",
        "d:3 (2401.99999999)",
    ]
    assert errs[0].reason == "missing title"
    assert errs[1].reason.startswith("abstract too long (1,000,000 characters")
    assert errs[2].reason.startswith("invalid arXiv id")
    assert len(records(items)) == 1


def test_over_long_line_is_skipped_in_bounded_reads() -> None:
    good = KAGGLE.read_bytes().splitlines()[0]
    long_line = b'{"id": "0704.0001", "title": "' + b"x" * (MAX_LINE + 10) + b'"}'
    seen: list[int] = []

    class Spy(io.BytesIO):
        def readline(self, size: int | None = -1) -> bytes:
            assert size is not None and 0 < size <= MAX_LINE + 2
            line = super().readline(size)
            seen.append(len(line))
            return line

    stream = Spy(b"\n".join([long_line, good, long_line + b"\n" + good]))
    items = list(iter_jsonl(stream, document="big.jsonl"))
    assert [e.source_key for e in errors(items)] == ["big.jsonl:1", "big.jsonl:3"]
    assert "longer than 2,097,152 bytes" in errors(items)[0].reason
    assert [r.source_key for r in records(items)] == [
        "big.jsonl:2 (acc-phys/9411001)",
        "big.jsonl:4 (acc-phys/9411001)",
    ]
    assert max(seen) <= MAX_LINE + 2


def test_truncated_gzip_names_the_document() -> None:
    compressed = CORPUS.read_bytes()
    items = list(parse_jsonl(compressed[: len(compressed) // 2], document="cut.jsonl.gz"))
    assert len(records(items)) > 50
    last = items[-1]
    assert isinstance(last, RecordError)
    assert last.source_key == "cut.jsonl.gz"
    assert "unreadable after line" in last.reason


def test_byte_order_mark_and_crlf() -> None:
    good = KAGGLE.read_bytes().splitlines()[:2]
    data = b"\xef\xbb\xbf" + good[0] + b"\r\n" + good[1] + b"\r\n"
    items = list(parse_jsonl(data))
    assert [r.arxiv_id for r in records(items)] == ["acc-phys/9411001", "acc-phys/9411002"]


def test_same_line_same_hash_changed_line_other_hash() -> None:
    lines = KAGGLE.read_bytes().splitlines()[:1]
    changed = lines[0].replace(b"Symplectic", b"Simplectic")
    a, b, c = records(list(parse_jsonl(b"\n".join([lines[0], lines[0], changed]))))
    assert a.record_hash == b.record_hash != c.record_hash
