"""Module-level parse functions for tests of the background parser (a spawned process
imports them by name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from paperroute.errors import SourceError
from paperroute.model import PaperRecord, ParseItem
from paperroute.sources.common import build_record


def three_then_broken(path: Path) -> Iterator[ParseItem]:
    for n in range(3):
        record = build_record(source="jsonl", source_key=f"{path.name}:{n}", title=f"T{n}")
        assert isinstance(record, PaperRecord)
        yield record
    raise SourceError(f"cannot read {path}: the stream broke off")


def crashes(path: Path) -> Iterator[ParseItem]:
    raise ZeroDivisionError("boom")
    yield  # pragma: no cover


def one_then_silent_failure(path: Path) -> Iterator[ParseItem]:
    record = build_record(source="jsonl", source_key="1", title="Only")
    assert isinstance(record, PaperRecord)
    yield record
    raise SourceError("")
