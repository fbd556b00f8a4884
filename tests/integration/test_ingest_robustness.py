"""Import use cases under failure: broken inputs keep what came before them."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

from paperroute import Hub, PaperRecord, SourceError
from paperroute.ingest import ingest_feed, ingest_hf_files
from paperroute.model import ParseItem
from paperroute.sources.common import build_record
from paperroute.sources.rss import parse_feed

DATA = Path(__file__).parents[1] / "data"
FEED = DATA / "rss" / "laya-reader_arxiv_rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24.xml"


def test_an_input_that_breaks_off_keeps_the_records_before_it(hub: Hub) -> None:
    def items() -> Iterator[ParseItem]:
        for n in range(3):
            made = build_record(source="jsonl", source_key=str(n), title=f"T{n}")
            assert isinstance(made, PaperRecord)
            yield made
        raise SourceError("cannot read big.jsonl.gz: the parser stopped")

    report = hub.papers.ingest(items(), batch_size=100)
    assert report.inserted == 3
    assert [e.reason for e in report.skipped] == ["cannot read big.jsonl.gz: the parser stopped"]
    assert hub.papers.stats().papers == 3


def test_an_error_page_between_two_stale_feeds_does_not_hide_the_repeat(hub: Hub) -> None:
    good = parse_feed(FEED.read_bytes())
    first = ingest_feed(hub, good, feed_key="cs.LG")
    assert not any("warning" in n for n in first.notices)
    broken = ingest_feed(hub, parse_feed(b"<html>502 Bad Gateway</html>"), feed_key="cs.LG")
    assert broken.failed
    again = ingest_feed(hub, good, feed_key="cs.LG")
    assert any(n.startswith("warning:") for n in again.notices), again.notices


def test_a_corrupt_compressed_archive_is_reported(hub: Hub, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as archive:
        data = (DATA / "hf-daily" / "2024-05-27.json").read_bytes()
        info = tarfile.TarInfo("2024-05-27.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    raw = bytearray(buffer.getvalue())
    middle = len(raw) // 2
    raw[middle : middle + 64] = b"\x00" * 64
    path = tmp_path / "days.tar.xz"
    path.write_bytes(bytes(raw))
    report = ingest_hf_files(hub, [path])
    assert report.failed
    assert report.skipped[-1].reason.startswith("unreadable archive")
