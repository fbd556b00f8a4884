"""Data and configuration shared by the digest tests (tests/digest) and the browser test:
real papers of three listing days and a test configuration."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from paperroute import Config
from paperroute.model import DailyEntry, PaperRecord
from paperroute.sources.common import build_record

DATA = Path(__file__).parents[1] / "data" / "digest"
SECRET = "digest-tests-secret-key-0123456789"
# Planning clock of the tests: the day after the last listing day, 09:00 UTC (a Saturday).
AS_OF = dt.datetime(2026, 8, 22, 9, 0, tzinfo=dt.UTC)


def paper_records() -> list[PaperRecord]:
    records = []
    for line in (DATA / "papers.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        daily = tuple(
            DailyEntry(
                day=dt.date.fromisoformat(day),
                source=source,
                kind="submitted" if source == "hf" else "listed",
                upvotes=upvotes,
            )
            for day, source, upvotes in item["daily"]
        )
        record = build_record(
            source="jsonl",
            source_key=item["id"],
            title=item["title"],
            abstract=item["summary"],
            authors=item["authors"],
            arxiv_id=item["id"],
            categories=item["categories"],
            code_url=item["code_url"],
            code_stars=item["code_stars"],
            daily=daily,
        )
        assert isinstance(record, PaperRecord), record
        records.append(record)
    return records


def make_config(database_url: str, **overrides: Any) -> Config:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET,
        "base_url": "https://papers.example.org",
        "mail_from": "paperroute <digest@papers.example.org>",
        "smtp_url": "outbox",
        "digest_rate_per_s": 0.0,
        "digest_retry_base_s": 0.01,
        "allowed_hosts": "testserver",  # the name the TestClient sends
    }
    values.update(overrides)
    return Config(**values)
