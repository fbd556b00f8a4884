"""The command line end to end, on files: every command through Typer's CliRunner (the same
process, for speed) and a few through ``python -m paperroute`` (the real entry point).

Each test that touches a database runs on SQLite and on PostgreSQL (fixture ``database_url``);
the database is named by ``PAPERROUTE_DATABASE_URL``, as a user would set it. Exit status: 0
when everything went in, 1 when something was skipped (each named on stderr), 2 for a usage
or configuration error. No command may let a traceback reach the user.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import inspect

from paperroute import Config, open_hub
from paperroute.store.engine import create_db_engine, current_revision, head_revision
from support.cli import cli, show, skipped, stats, summary

DATA = Path(__file__).parents[1] / "data"
CORPUS = DATA / "jsonl" / "corpus-300.jsonl.gz"
HF = DATA / "hf-daily"
PAGE = DATA / "page" / "000_d689724431bc92a7.txt"


# -- init, configuration -------------------------------------------------------------------


def test_init_creates_the_schema_and_is_idempotent(database_url: str) -> None:
    for _ in range(2):
        result = cli(database_url, "init")
        assert (result.exit_code, result.stdout) == (0, f"database ready: {database_url}\n")
    engine = create_db_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        assert {"papers", "authors", "daily_entries", "provenance", "harvest_state"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_every_command_reads_the_database_url_from_the_environment(database_url: str) -> None:
    assert cli(database_url, "ingest", "page", str(PAGE)).stdout == summary(60) + "\n"
    assert stats(database_url)["papers"] == 60
    with open_hub(Config(database_url=database_url)) as hub:  # the same database, directly
        assert hub.papers.stats().papers == 60


def test_database_url_option_wins_over_the_environment(database_url: str, tmp_path: Path) -> None:
    decoy = tmp_path / "decoy.db"
    result = cli(
        f"sqlite:///{decoy}", "--database-url", database_url, "ingest", "jsonl", str(CORPUS)
    )
    assert (result.exit_code, result.stdout) == (0, summary(300) + "\n")
    assert stats(database_url)["papers"] == 300
    assert not decoy.exists()


@pytest.mark.parametrize("command", [["init"], ["stats"], ["show", "0704.0125"]])
@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://u@localhost/db",
            "unsupported database 'mysql': use sqlite:/// or postgresql+psycopg://",
        ),
        (
            "not a url",
            "invalid database URL 'not a url': "
            "Could not parse SQLAlchemy URL from given URL string",
        ),
        (
            "sqlite:////nonexistent-dir/x/p.db",
            "cannot create database '/nonexistent-dir/x/p.db': /nonexistent-dir/x does not exist",
        ),
    ],
)
def test_invalid_database_url_is_a_usage_error(command: list[str], url: str, message: str) -> None:
    result = cli(url, *command)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {message}\n")


def test_unreachable_postgresql_is_a_usage_error() -> None:
    result = cli("postgresql+psycopg://paperroute@127.0.0.1:1/none", "init")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot migrate the database: OperationalError: ")
    assert "Connection refused" in result.stderr


def test_invalid_setting_in_the_environment_is_a_usage_error(database_url: str) -> None:
    result = cli(database_url, "stats", PAPERROUTE_HTTP_MAX_RETRIES="many")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: PAPERROUTE_HTTP_MAX_RETRIES: http_max_retries must be a positive number, "
        "not 'many'\n",
    )


# -- JSON Lines ----------------------------------------------------------------------------


def test_jsonl_corpus_inserts_then_leaves_unchanged(database_url: str) -> None:
    first = cli(database_url, "ingest", "jsonl", str(CORPUS))
    assert (first.exit_code, first.stdout) == (0, summary(300) + "\n")
    second = cli(database_url, "ingest", "jsonl", str(CORPUS))
    assert (second.exit_code, second.stdout, skipped(second)) == (
        0,
        summary(unchanged=300) + "\n",
        [],
    )
    counts = stats(database_url)
    assert (counts["papers"], counts["authors"], counts["daily_entries"]) == (
        300,
        491,
        {"arxiv": 300},
    )
    paper = show(database_url, "0704.0125")
    assert paper["title"] == "Anisotropic thermo-elasticity in 2D -- Part I: A unified approach"
    assert (paper["authors"], paper["categories"]) == (
        ["Michael Reissig", "Jens Wirth"],
        ["math.AP"],
    )


def _corpus_lines() -> list[bytes]:
    with gzip.open(CORPUS, "rb") as stream:
        return stream.read().splitlines()


def test_jsonl_bad_lines_are_named_and_the_good_ones_land(
    database_url: str, tmp_path: Path
) -> None:
    lines = _corpus_lines()
    big = json.loads(lines[4])  # 0704.0402, with a 1 MB abstract
    big["summary"] = " ".join([big["summary"]] * (1_000_000 // len(big["summary"]) + 1))
    big_length = len(" ".join(big["summary"].split()))
    bad_id = json.loads(lines[3]) | {"id": "2401.999999"}
    not_utf8 = lines[5].replace(b"the", b"th\xe9", 1)
    bad_byte = not_utf8.index(b"\xe9")
    huge = json.dumps(json.loads(lines[6]) | {"comment": "x" * 3_000_000}).encode()
    path = tmp_path / "broken.jsonl"
    path.write_bytes(
        b"\n".join(
            [
                lines[0],
                b"this is not JSON",
                lines[1],
                b"[1, 2, 3]",
                not_utf8,
                json.dumps(big).encode(),
                json.dumps(bad_id).encode(),
                b'{"id": "0704.0125", "title": ',
                huge,
                lines[2],
            ]
        )
    )
    result = cli(database_url, "ingest", "jsonl", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == summary(3, skipped=7)
    assert skipped(result) == [
        "skipped broken.jsonl:2: not valid JSON: Expecting value: line 1 column 1 (char 0)",
        "skipped broken.jsonl:4: not a JSON object (a list)",
        f"skipped broken.jsonl:5: not UTF-8 text (invalid continuation byte at byte {bad_byte})",
        f"skipped broken.jsonl:6 (0704.0402): abstract too long ({big_length:,} characters, "
        "limit 20,000)",
        "skipped broken.jsonl:7 (2401.999999): invalid arXiv id '2401.999999'",
        "skipped broken.jsonl:8: not valid JSON: Expecting value: line 1 column 29 (char 28)",
        "skipped broken.jsonl:9: line longer than 2,097,152 bytes; skipped",
    ]
    assert stats(database_url)["papers"] == 3
    assert show(database_url, "0704.0286")["id"] == "0704.0286"
    assert show(database_url, "https://arxiv.org/abs/0704.0337v1")["id"] == "0704.0337"


def test_skip_summary_groups_records_by_reason(database_url: str, tmp_path: Path) -> None:
    """BUG (cli._report): the summary groups by the reason's text up to ':' or '(', so every
    invalid id (the id is quoted in the reason) gets a group of its own."""
    lines = _corpus_lines()
    path = tmp_path / "ids.jsonl"
    bad = [json.loads(line) | {"id": f"bad-id-{n}"} for n, line in enumerate(lines[:3])]
    path.write_text("\n".join(json.dumps(record) for record in bad))
    result = cli(database_url, "ingest", "jsonl", str(path))
    assert result.exit_code == 1
    assert result.stdout == summary(skipped=3) + "\nskipped by reason: 3 invalid arXiv id\n"


def test_jsonl_missing_file_and_truncated_gzip(database_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    result = cli(database_url, "ingest", "jsonl", str(missing))
    assert (result.exit_code, skipped(result)) == (1, [f"skipped {missing}: no such file"])
    assert result.stdout == summary(skipped=1) + "\nskipped by reason: 1 no such file\n"

    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(CORPUS.read_bytes()[:40_000])
    result = cli(database_url, "ingest", "jsonl", str(truncated))
    assert result.exit_code == 1
    (line,) = skipped(result)
    assert line.startswith("skipped truncated.jsonl.gz: unreadable after line ")
    stored = int(line.split("after line ")[1].split(":")[0])
    assert 100 < stored < 300
    assert result.stdout.splitlines()[0] == summary(stored, skipped=1)
    assert stats(database_url)["papers"] == stored


# -- Hugging Face daily papers --------------------------------------------------------------


def test_hf_daily_folder_with_the_malformed_day(database_url: str) -> None:
    result = cli(database_url, "ingest", "hf-daily", str(HF))
    assert (result.exit_code, result.stdout) == (0, summary(13 + 26 + 28 + 17) + "\n")
    paper = show(database_url, "2608.19880")
    assert paper["code_url"] == "https://github.com/google-research/envharness"
    assert (paper["code_stars"], paper["project_url"]) == (8, "https://envharness.com/")
    (daily,) = paper["daily"]
    assert daily["day"] == "2026-08-21"
    assert (daily["source"], daily["kind"], daily["upvotes"]) == ("hf", "submitted", 163)
    assert (daily["submitter"], daily["num_comments"]) == ("taesiri", 1)
    (recovered,) = show(database_url, "2412.07730")["daily"]  # a Python repr item
    assert (recovered["day"], recovered["upvotes"]) == ("2024-12-11", 54)
    assert stats(database_url)["daily_entries"] == {"hf": 84}


def test_hf_daily_single_files(database_url: str) -> None:
    result = cli(database_url, "ingest", "hf-daily", str(HF / "2024-12-11-malformed-items.json"))
    assert (result.exit_code, result.stdout, skipped(result)) == (0, summary(26) + "\n", [])
    result = cli(database_url, "ingest", "hf-daily", str(HF / "2025-06-10.json"))
    assert (result.exit_code, result.stdout) == (0, summary(28) + "\n")
    assert [d["upvotes"] for d in show(database_url, "2506.08007")["daily"]] == [97]


def _tar(path: Path, members: dict[str, Path]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, source in members.items():
            archive.add(source, arcname=name)
    return path


def test_hf_daily_tar_archive_of_two_days(database_url: str, tmp_path: Path) -> None:
    days = {f"daily/{n}.json": HF / f"{n}.json" for n in ("2024-05-27", "2026-08-21")}
    result = cli(database_url, "ingest", "hf-daily", str(_tar(tmp_path / "two.tar.gz", days)))
    assert (result.exit_code, result.stdout) == (0, summary(13 + 17) + "\n")
    assert [d["day"] for d in show(database_url, "2405.15738")["daily"]] == ["2024-05-27"]
    assert [d["upvotes"] for d in show(database_url, "2608.19880")["daily"]] == [163]


def test_hf_daily_day_comes_from_the_member_not_the_archive_name(
    database_url: str, tmp_path: Path
) -> None:
    """BUG (ingest._day_from_name): the member of a top-level archive is named
    "archive.tar.gz:2024-05-27.json" and the first date in that name, the archive's, wins."""
    members = {"2024-05-27.json": HF / "2024-05-27.json"}
    archive = _tar(tmp_path / "hf-snapshot-2026-09-01.tar.gz", members)
    assert cli(database_url, "ingest", "hf-daily", str(archive)).exit_code == 0
    assert [d["day"] for d in show(database_url, "2405.15738")["daily"]] == ["2024-05-27"]


def test_hf_daily_usage_errors(database_url: str, tmp_path: Path) -> None:
    result = cli(database_url, "ingest", "hf-daily")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: give either dump PATHs or --date D [--until D]\n",
    )
    result = cli(database_url, "ingest", "hf-daily", "--date", "2026-13-01")
    assert (result.exit_code, result.stderr.strip()) == (  # + the progress bar's blank line
        2,
        "error: --date must be a date like 2026-01-31, not '2026-13-01'",
    )
    missing = tmp_path / "2024-01-01.json"
    result = cli(database_url, "ingest", "hf-daily", str(missing))
    assert result.exit_code == 1
    assert skipped(result) == [
        f"skipped {missing}: cannot read {missing}: No such file or directory"
    ]


# -- show, stats, demo ---------------------------------------------------------------------


def test_show_unknown_paper(database_url: str) -> None:
    cli(database_url, "ingest", "jsonl", str(CORPUS))
    for ref in ("2501.99999", "doi:10.1000/nothing-here"):
        result = cli(database_url, "show", ref)
        assert (result.exit_code, result.stdout, result.stderr) == (
            1,
            "",
            f"error: no paper {ref!r}\n",
        )


def test_show_json_and_table(database_url: str) -> None:
    cli(database_url, "ingest", "hf-daily", str(HF / "2026-08-21.json"))
    paper = show(database_url, "arXiv:2608.19880v1")
    assert {"id", "title", "authors", "categories", "daily", "provenance"} <= paper.keys()
    assert paper["title"] == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert (len(paper["authors"]), paper["authors"][0]) == (17, "Chengsong Huang")
    assert [(p["source"], p["source_key"]) for p in paper["provenance"]] == [
        ("hf-daily", "2026-08-21/2608.19880")
    ]
    table = cli(database_url, "show", "2608.19880")
    assert table.exit_code == 0
    lines = [" ".join(line.split()) for line in table.stdout.splitlines()]
    assert lines[0] == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert "listed 2026-08-21 hf submitted, 163 upvotes, submitted by taesiri" in lines
    assert "code https://github.com/google-research/envharness (★ 8)" in lines


def test_stats_json(database_url: str) -> None:
    empty = stats(database_url)
    assert (empty["papers"], empty["authors"], empty["daily_entries"]) == (0, 0, {})
    cli(database_url, "ingest", "hf-daily", str(HF / "2026-08-21.json"))
    cli(database_url, "ingest", "jsonl", str(CORPUS))
    counts = stats(database_url)
    assert (counts["papers"], counts["with_code"]) == (317, 12)
    assert counts["daily_entries"] == {"arxiv": 300, "hf": 17}
    assert counts["by_source"] == {"hf-daily": 17, "jsonl": 300}
    result = cli(database_url, "stats")
    rows = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    assert {"papers 317", "daily entries (hf) 17", "from jsonl 300"} <= set(rows)


def test_demo_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = cli(url, "demo", "load")
    assert (result.exit_code, result.stdout) == (0, summary(6338, 305) + "\n")
    counts = stats(url)
    assert (counts["papers"], counts["with_code"], counts["with_arxiv_id"]) == (6338, 1083, 6338)
    assert counts["daily_entries"] == {"arxiv": 6292, "hf": 575}
    assert (counts["first_day"], counts["last_day"]) == ("2026-03-20", "2026-08-21")


@pytest.mark.postgres
def test_init_does_not_print_the_database_password(postgres_url: str) -> None:
    """BUG (cli.init): the URL is echoed with its password; the test server trusts any."""
    url = postgres_url.replace(
        "postgresql+psycopg://postgres@", "postgresql+psycopg://postgres:s3cret@"
    )
    result = cli(url, "init")
    assert result.exit_code == 0
    assert "s3cret" not in result.stdout + result.stderr


# -- the real entry point --------------------------------------------------------------------


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PAPERROUTE_")}
    return subprocess.run(
        [sys.executable, "-m", "paperroute", *args],
        cwd=cwd,
        env={**environ, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_python_m_paperroute_imports_shows_and_fails_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "mixed.jsonl"
    broken.write_bytes(_corpus_lines()[0] + b"\n{not json\n")
    done = _run(tmp_path, "ingest", "jsonl", str(broken), PAPERROUTE_DATABASE_URL=database_url)
    assert (done.returncode, done.stdout.splitlines()[0]) == (1, summary(1, skipped=1))
    assert (
        "skipped mixed.jsonl:2: not valid JSON: Expecting property name enclosed in double quotes"
        in done.stderr
    )
    done = _run(
        tmp_path, "show", "0704.0125", "--format", "json", PAPERROUTE_DATABASE_URL=database_url
    )
    assert (done.returncode, json.loads(done.stdout)["id"]) == (0, "0704.0125")
    done = _run(tmp_path, "show", "0704.9999", PAPERROUTE_DATABASE_URL=database_url)
    assert (done.returncode, done.stderr) == (1, "error: no paper '0704.9999'\n")
    assert "Traceback" not in done.stdout + done.stderr


def test_python_m_paperroute_usage_errors_and_default_database(tmp_path: Path) -> None:
    done = _run(tmp_path, "init", PAPERROUTE_DATABASE_URL="mysql://root@localhost/papers")
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr
        == "error: unsupported database 'mysql': use sqlite:/// or postgresql+psycopg://\n"
    )
    done = _run(tmp_path, "stats", "--format", "yaml")
    assert done.returncode == 2 and "Invalid value for '--format'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "paperroute.db").exists()
    done = _run(tmp_path, "init")  # no PAPERROUTE_DATABASE_URL: ./paperroute.db
    assert (done.returncode, done.stdout) == (0, "database ready: sqlite:///paperroute.db\n")
    assert (tmp_path / "paperroute.db").is_file()
