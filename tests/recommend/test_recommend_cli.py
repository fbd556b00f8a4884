"""`paperroute recommend` on a real database (SQLite and PostgreSQL) of 300 real corpus
papers: a library file or a reader's signals in, the best papers with their reasons out;
every kind of bad input named, exit status != 0 when nothing is usable, no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paperroute import Config, Hub, PaperRecord, open_hub
from support.cli import cli, skipped
from support.community import SECRET, signed_in
from support.embedders import HashEmbedder
from support.foryou import DG
from support.smtp import SmtpServer


@pytest.fixture
def stored(
    database_url: str, tmp_path: Path, records: list[PaperRecord], smtp_server: SmtpServer
) -> Iterator[tuple[Hub, dict[str, str]]]:
    """The 300 papers with vectors stored under the default model's name (so the CLI's hub,
    which loads no embedder to rank, reads them), and the environment the CLI runs in."""
    index = str(tmp_path / "index")
    config = Config(
        database_url=database_url,
        vector_index_dir=index,
        secret_key=SECRET,
        smtp_url=smtp_server.url,
    )
    embedder = HashEmbedder(dimension=64, name="all-MiniLM-L6-v2")
    with open_hub(config, embedder=embedder) as hub:
        assert hub.papers.ingest(records).inserted == 300
        assert hub.search.embed() == 300
        hub.search.store_term_bags()
        yield hub, {"PAPERROUTE_VECTOR_INDEX_DIR": index}


def _run(database_url: str, env: dict[str, str], *args: str) -> Any:
    return cli(database_url, "recommend", *args, **env)


def _library(tmp_path: Path, body: bytes, name: str = "library.txt") -> str:
    path = tmp_path / name
    path.write_bytes(body)
    return str(path)


def test_an_id_list_gives_json_picks_best_first_never_the_library(
    stored: tuple[Hub, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    _hub, env = stored
    path = _library(tmp_path, "\n".join(DG).encode())
    result = _run(database_url, env, "--library", path, "--limit", "7", "--format", "json")
    assert result.exit_code == 0, result.stderr
    picks = json.loads(result.stdout)
    assert len(picks) == 7
    assert all(set(p) == {"id", "title", "score", "reason"} for p in picks)
    assert not {p["id"] for p in picks} & set(DG)
    assert picks[0]["score"] == max(p["score"] for p in picks)
    assert any(p["reason"].startswith("close to ") for p in picks)
    table = _run(database_url, env, "--library", path, "--limit", "3")
    assert table.exit_code == 0 and picks[0]["id"] in table.stdout


def test_a_bibtex_library_names_what_it_skipped_and_ranks_the_rest(
    stored: tuple[Hub, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    _hub, env = stored
    body = (
        b"@article{one, title = {A}, eprint = {" + DG[0].encode() + b"}, archivePrefix={arXiv}}\n"
        b"@article{two, title = {B}, doi = {10.48550/arXiv." + DG[1].encode() + b"}}\n"
        b"@article{ghost, title = {Nobody stored this}, eprint = {2601.99999}}\n"
        b"@article{broken, title = {Unclosed\n"
    )
    path = _library(tmp_path, body, "mine.bib")
    result = _run(database_url, env, "--library", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 20
    lines = skipped(result)
    assert any("ghost" in line and "2601.99999" in line for line in lines), lines
    assert any("broken" in line or "line" in line for line in lines if "ghost" not in line)


def test_since_keeps_newer_papers_only(
    stored: tuple[Hub, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    hub, env = stored
    path = _library(tmp_path, "\n".join(DG).encode())
    result = _run(database_url, env, "--library", path, "--since", "2008-01-01", "--format", "json")
    assert result.exit_code == 0, result.stderr
    for pick in json.loads(result.stdout):
        shown = hub.papers.show(pick["id"])
        day = shown.announced_on or shown.submitted_at.date()
        assert str(day) >= "2008-01-01"
    later = _run(database_url, env, "--library", path, "--since", "2999-01-01", "--format", "json")
    assert later.exit_code == 0 and json.loads(later.stdout) == []
    assert "no paper to recommend" in later.stderr


def test_a_reader_by_address_and_unknown_or_silent_readers(
    stored: tuple[Hub, dict[str, str]], database_url: str, smtp_server: SmtpServer
) -> None:
    hub, env = stored
    ada = signed_in(hub.community, smtp_server, "ada@example.org")
    quiet = _run(database_url, env, "--user", "ada@example.org")
    assert quiet.exit_code == 1 and "no signals" in quiet.stderr
    hub.signals.set_feedback(ada.pk, DG[0], "more")
    hub.signals.set_feedback(ada.pk, DG[1], "less")
    result = _run(database_url, env, "--user", "ADA@example.org", "--format", "json")
    assert result.exit_code == 0, result.stderr
    ids = {p["id"] for p in json.loads(result.stdout)}
    assert len(ids) == 20 and not ids & {DG[0], DG[1]}
    unknown = _run(database_url, env, "--user", "nobody@example.org")
    assert unknown.exit_code == 1 and "nobody@example.org" in unknown.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one of --library"),
        (("--library", "x.txt", "--user", "a@example.org"), "exactly one of --library"),
        (("--user", "a@example.org", "--limit", "10001"), "between 1 and 10,000"),
        (("--user", "a@example.org", "--limit", "0"), "between 1 and 10,000"),
        (("--user", "a@example.org", "--since", "yesterday"), "YYYY-MM-DD"),
    ],
)
def test_usage_errors_exit_2(
    stored: tuple[Hub, dict[str, str]], database_url: str, args: tuple[str, ...], message: str
) -> None:
    result = _run(database_url, stored[1], *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "is empty"),
        (b"  \n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"hello world\nthis is a letter, not a library\n", "is not a BibTeX"),
        (b"2601.99999\n10.1234/nothing.here\n", "(2 looked up)"),
        (b'{"items": 3}', "library.txt"),
        ("\n".join(f"2601.{n:05d}" for n in range(50_001)).encode(), "50,000"),
    ],
    ids=["empty", "blank", "binary", "prose", "unknown-ids", "json-not-a-library", "too-many"],
)
def test_unusable_libraries_exit_1_naming_why(
    stored: tuple[Hub, dict[str, str]],
    database_url: str,
    tmp_path: Path,
    body: bytes,
    message: str,
) -> None:
    path = _library(tmp_path, body)
    result = _run(database_url, stored[1], "--library", path, "--format", "json")
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr, result.stderr
    assert result.stdout == ""


def test_a_huge_library_of_unknown_ids_is_counted_not_listed(
    stored: tuple[Hub, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    lines = [f"2601.{n:05d}" for n in range(49_999)] + [DG[0]]
    path = _library(tmp_path, "\n".join(lines).encode())
    result = _run(database_url, stored[1], "--library", path, "--limit", "5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 5
    assert len(skipped(result)) == 100
    assert "and 49,899 more skipped" in result.stderr


def test_a_missing_file_exits_1(
    stored: tuple[Hub, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    result = _run(database_url, stored[1], "--library", str(tmp_path / "nope.bib"))
    assert result.exit_code == 1 and "cannot read" in result.stderr


def test_a_library_s_added_days_order_its_seeds(stored: tuple[Hub, dict[str, str]]) -> None:
    """The day the file says each paper was added (Zotero's dateAdded, RIS Y2) is what
    orders the library by recency, not the paper's own day; an entry without one falls
    back to the paper's day, and a paper named twice counts once, as first named."""
    import datetime as dt

    from paperroute.cli.recommend import _library_profile
    from paperroute.recommend.library import LibraryEntry

    hub, _env = stored
    entries = [
        LibraryEntry("a", arxiv_id=DG[0], added=dt.date(2020, 1, 5)),
        LibraryEntry("b", arxiv_id=DG[1], added=dt.date(2026, 3, 1)),
        LibraryEntry("c", arxiv_id=DG[2]),
        LibraryEntry("again", arxiv_id=DG[0], added=dt.date(2026, 9, 9)),
    ]
    profile = _library_profile(hub.recommend, entries, "library.json")
    assert [(s.paper_id, s.added) for s in profile.seeds] == [
        (DG[0], dt.date(2020, 1, 5)),
        (DG[1], dt.date(2026, 3, 1)),
        (DG[2], None),
    ]
