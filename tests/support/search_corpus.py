"""The 300 real corpus papers the search tests run on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperroute import PaperRecord
from paperroute.sources.common import build_record
from paperroute.sources.jsonl import parse_jsonl

DATA = Path(__file__).parents[1] / "data"


def corpus_records() -> list[PaperRecord]:
    records = parse_jsonl((DATA / "jsonl" / "corpus-300.jsonl.gz").read_bytes())
    return [r for r in records if isinstance(r, PaperRecord)]


def rec(key: str, **fields: Any) -> PaperRecord:
    made = build_record(source="arxiv-api", source_key=key, **fields)
    assert isinstance(made, PaperRecord), made
    return made
