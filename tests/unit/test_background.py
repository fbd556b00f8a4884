from __future__ import annotations

from pathlib import Path

import pytest

from paperroute.errors import SourceError
from paperroute.model import PaperRecord
from paperroute.sources.background import parse_in_background
from support.parsers import crashes, one_then_silent_failure, three_then_broken


def test_items_come_through_then_the_failure(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    received: list[str] = []
    with pytest.raises(SourceError) as caught:
        for item in parse_in_background(three_then_broken, path):
            assert isinstance(item, PaperRecord)
            received.append(item.title)
    assert received == ["T0", "T1", "T2"]
    assert str(caught.value) == f"cannot read {path}: the stream broke off"


def test_an_unexpected_crash_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    with pytest.raises(SourceError, match=r"cannot read .*x\.jsonl: ZeroDivisionError: boom"):
        list(parse_in_background(crashes, path))


def test_a_failure_without_a_message_is_still_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "quiet.jsonl"
    with pytest.raises(SourceError, match=r"cannot read .*quiet\.jsonl: SourceError"):
        list(parse_in_background(one_then_silent_failure, path))
