"""Hugging Face daily papers (GET /api/daily_papers?date=D) against recorded real days."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from paperroute.errors import SourceError
from paperroute.model import DailyEntry, PaperRecord, RecordError
from paperroute.sources import hf_daily
from paperroute.sources.hf_daily import fetch_day, parse_daily
from paperroute.sources.http import HttpClient
from support.replay import ReplayServer, Reply

DATA = Path(__file__).resolve().parent.parent / "data" / "hf-daily"
DAY_2024_05_27 = (DATA / "2024-05-27.json").read_bytes()
DAY_2024_12_11 = (DATA / "2024-12-11-malformed-items.json").read_bytes()
DAY_2025_06_10 = (DATA / "2025-06-10.json").read_bytes()
DAY_2026_08_21 = (DATA / "2026-08-21.json").read_bytes()


def parse(data: bytes, **kwargs: Any) -> list[PaperRecord | RecordError]:
    return list(parse_daily(data, **kwargs))


def good(items: list[PaperRecord | RecordError]) -> list[PaperRecord]:
    assert all(isinstance(i, PaperRecord) for i in items), [
        i for i in items if isinstance(i, RecordError)
    ]
    return [i for i in items if isinstance(i, PaperRecord)]


def items_of(data: bytes) -> list[Any]:
    loaded = json.loads(data)
    assert isinstance(loaded, list)
    return loaded


# --- golden ----------------------------------------------------------------------------------


def test_2025_06_10_golden() -> None:
    got = good(parse(DAY_2025_06_10, day=dt.date(2025, 6, 10)))
    assert len(got) == 28
    first = got[0]
    assert first.source == "hf-daily"
    assert first.source_key == "2025-06-10/2506.08007"
    assert (first.arxiv_id, first.version) == ("2506.08007", None)
    assert first.title == "Reinforcement Pre-Training"
    assert first.authors == (
        "Qingxiu Dong",
        "Li Dong",
        "Yao Tang",
        "Tianzhu Ye",
        "Yutao Sun",
        "Zhifang Sui",
        "Furu Wei",
    )
    assert first.abstract.startswith(
        "In this work, we introduce Reinforcement Pre-Training (RPT) as a new scaling paradigm"
    )
    # paper.publishedAt, not the item's copy (which is four hours off).
    assert first.submitted_at == dt.datetime(2025, 6, 9, 17, 59, 53, tzinfo=dt.UTC)
    assert first.abs_url == "https://arxiv.org/abs/2506.08007"
    assert first.daily == (
        DailyEntry(
            day=dt.date(2025, 6, 10),
            source="hf",
            kind="submitted",
            submitter="unilm",
            upvotes=97,
            num_comments=3,
            submitted_at=dt.datetime(2025, 6, 10, 0, 43, 1, 816000, tzinfo=dt.UTC),
            ai_keywords=(
                "Reinforcement Pre-Training (RPT)",
                "next-token prediction",
                "reasoning task",
                "reinforcement learning (RL)",
                "verifiable rewards",
                "language modeling accuracy",
                "reinforcement fine-tuning",
                "scaling curves",
            ),
            ai_summary=(
                "Reinforcement Pre-Training (RPT) improves language model accuracy through "
                "reinforcement learning and offers a scalable method for leveraging text data "
                "for general-purpose RL."
            ),
        ),
    )

    minicpm = got[2]
    assert minicpm.arxiv_id == "2506.07900"
    assert minicpm.title == "MiniCPM4: Ultra-Efficient LLMs on End Devices"
    assert len(minicpm.authors) == 75
    assert minicpm.authors[:3] == ("MiniCPM Team", "Chaojun Xiao", "Yuxuan Li")
    assert minicpm.authors[-1] == "Maosong Sun"
    assert minicpm.code_url == "https://github.com/openbmb/minicpm"
    assert minicpm.code_stars is None
    assert minicpm.project_url == (
        "https://huggingface.co/collections/openbmb/minicpm4-6841ab29d180257e940baa9b"
    )
    assert minicpm.daily[0].upvotes == 39
    assert minicpm.daily[0].submitter == "xcjthu"


def test_2026_08_21_golden_with_stars() -> None:
    got = good(parse(DAY_2026_08_21, day=dt.date(2026, 8, 21)))
    assert len(got) == 17
    env = got[0]
    assert env.source_key == "2026-08-21/2608.19880"
    assert env.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert env.authors[:3] == ("Chengsong Huang", "Zifeng Wang", "Rujun Han")
    assert len(env.authors) == 17
    assert env.code_url == "https://github.com/google-research/envharness"
    assert env.code_stars == 8
    assert env.project_url == "https://envharness.com/"
    assert env.submitted_at == dt.datetime(2026, 8, 20, tzinfo=dt.UTC)
    assert env.daily[0].upvotes == 163
    assert env.daily[0].num_comments == 1
    assert env.daily[0].submitter == "taesiri"


def test_day_comes_from_submitted_on_daily_at_when_not_given() -> None:
    got = good(parse(DAY_2025_06_10))
    assert got[0].source_key == "2025-06-10/2506.08007"
    assert got[0].daily[0].day == dt.date(2025, 6, 10)


def test_early_shape_without_submission_fields() -> None:
    # Mid-2024 items have neither submittedOnDailyAt nor submittedBy.
    undated = good(parse(DAY_2024_05_27))
    assert len(undated) == 13
    first = undated[0]
    assert first.source_key == "2405.15738"
    assert first.daily == ()
    assert first.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert len(first.authors) == 9
    # No githubRepo field yet: the link comes from the abstract.
    assert first.code_url == "https://github.com/alibaba/conv-llava"

    dated = good(parse(DAY_2024_05_27, day=dt.date(2024, 5, 27)))
    assert dated[0].source_key == "2024-05-27/2405.15738"
    assert dated[0].daily == (
        DailyEntry(
            day=dt.date(2024, 5, 27),
            source="hf",
            kind="submitted",
            upvotes=32,
            num_comments=3,
        ),
    )


def test_repr_string_items_are_recovered() -> None:
    got = good(parse(DAY_2024_12_11, day=dt.date(2024, 12, 11)))
    assert len(got) == 26
    first = got[0]
    assert first.source_key == "2024-12-11/2412.07730"
    assert first.title == "STIV: Scalable Text and Image Conditioned Video Generation"
    assert first.authors[:4] == ("Zongyu Lin", "Wei Liu", "Chen Chen", "Jiasen Lu")
    assert len(first.authors) == 17
    assert first.submitted_at == dt.datetime(2024, 12, 10, 18, 27, 6, tzinfo=dt.UTC)
    # No submittedOnDailyBy on that day: the submitter comes from the item.
    assert first.daily[0].submitter == "yyf86"
    assert first.daily[0].upvotes == 54
    assert got[-1].arxiv_id == "2412.07187"
    assert got[-1].title == "A New Federated Learning Framework Against Gradient Inversion Attacks"


def test_record_hash_is_stable_and_distinct() -> None:
    a = good(parse(DAY_2025_06_10, day=dt.date(2025, 6, 10)))
    b = good(parse(DAY_2025_06_10, day=dt.date(2025, 6, 10)))
    assert [r.record_hash for r in a] == [r.record_hash for r in b]
    assert len({r.record_hash for r in a}) == len(a)


def test_record_hash_covers_the_listing_day() -> None:
    # The same item listed on two days carries a different DailyEntry: it must not look
    # unchanged on the second day.
    first = good(parse(DAY_2025_06_10, day=dt.date(2025, 6, 10)))
    second = good(parse(DAY_2025_06_10, day=dt.date(2025, 6, 11)))
    assert all(a.record_hash != b.record_hash for a, b in zip(first, second, strict=True))


def test_wrapper_object_with_data_list() -> None:
    wrapped = json.dumps(
        {"status": "success", "date": "2025-06-10", "count": 28, "data": items_of(DAY_2025_06_10)}
    ).encode()
    got = good(parse(wrapped))
    assert len(got) == 28
    assert got[0].source_key == "2025-06-10/2506.08007"


# --- bad input -------------------------------------------------------------------------------


def test_invalid_json_is_one_error_naming_the_document() -> None:
    (error,) = parse(DAY_2025_06_10[:5000], document="2025-06-10.json")
    assert isinstance(error, RecordError)
    assert error.source_key == "2025-06-10.json"
    assert error.reason.startswith("invalid JSON")


@pytest.mark.parametrize(
    "body",
    [
        b'[{"paper": {"id": "2506.08007", "upvotes": ' + b"9" * 5000 + b"}}]",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_unreadable_numbers_and_nesting_are_one_error(body: bytes) -> None:
    (error,) = parse(body, document="d.json")
    assert isinstance(error, RecordError)
    assert error.source_key == "d.json"
    assert error.reason.startswith("invalid JSON")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"items": []}', "expected a JSON list of daily papers, got dict"),
        (b'"hello"', "expected a JSON list of daily papers, got str"),
        (b'{"error": "Invalid date"}', "the API answered an error: Invalid date"),
    ],
)
def test_non_list_top_level(body: bytes, reason: str) -> None:
    assert parse(body) == [RecordError("hf-daily", "response", reason)]


def test_empty_list_yields_nothing() -> None:
    assert parse(b"[]") == []


def test_broken_items_among_good_ones() -> None:
    items = items_of(DAY_2025_06_10)
    no_paper = {"title": "x", "numComments": 0}
    bad_id = json.loads(json.dumps(items[1]))
    bad_id["paper"]["id"] = "2506.0790"  # four digits after 1501: not an arXiv id
    no_title = json.loads(json.dumps(items[3]))
    no_title["paper"]["title"] = ""
    no_title.pop("title")
    mixed = [items[0], 42, no_paper, bad_id, no_title, items[2]]
    got = parse(json.dumps(mixed).encode(), day=dt.date(2025, 6, 10), document="d")
    assert [type(i).__name__ for i in got] == [
        "PaperRecord",
        "RecordError",
        "RecordError",
        "RecordError",
        "RecordError",
        "PaperRecord",
    ]
    assert got[1] == RecordError("hf-daily", "d[1]", "item is a int, not an object")
    assert got[2] == RecordError("hf-daily", "d[2]", "item has no 'paper' object")
    assert got[3] == RecordError("hf-daily", "2025-06-10/2506.0790", "invalid arXiv id '2506.0790'")
    assert got[4] == RecordError(
        "hf-daily", f"2025-06-10/{items[3]['paper']['id']}", "missing title"
    )
    assert isinstance(got[5], PaperRecord)
    assert got[5].arxiv_id == "2506.07900"


def test_repr_strings_are_never_evaluated() -> None:
    items = json.loads(DAY_2024_12_11)
    hostile = "__import__('os').system('touch /tmp/paperroute-pwned')"
    not_a_dict = "[1, 2, 3]"
    huge = "{'paper': {'id': '2412.07730', 'title': '" + "x" * 300_000 + "'}}"
    data = json.dumps([hostile, items[0], not_a_dict, huge]).encode()
    got = parse(data, day=dt.date(2024, 12, 11), document="d")
    assert isinstance(got[0], RecordError)
    assert got[0].source_key == "d[0]"
    assert "neither JSON nor a Python literal" in got[0].reason
    assert isinstance(got[1], PaperRecord)
    assert got[2] == RecordError("hf-daily", "d[2]", "item string holds a list, not a dict")
    assert got[3] == RecordError(
        "hf-daily", "d[3]", f"item is a string of {len(huge):,} characters, too long to recover"
    )
    assert not Path("/tmp/paperroute-pwned").exists()


def test_huge_abstract_is_a_record_error() -> None:
    items = items_of(DAY_2026_08_21)
    items[0]["paper"]["summary"] = "word " * 200_000
    got = parse(json.dumps(items).encode(), day=dt.date(2026, 8, 21))
    assert isinstance(got[0], RecordError)
    assert got[0].source_key == "2026-08-21/2608.19880"
    assert got[0].reason.startswith("abstract too long")
    assert len(good(got[1:])) == 16


def test_latin1_bytes_spoil_only_their_record() -> None:
    items = items_of(DAY_2026_08_21)
    items[1]["paper"]["title"] = "PLACEHOLDER"
    data = json.dumps(items).encode().replace(b"PLACEHOLDER", "Caf\u00e9".encode("latin-1"))
    got = parse(data, day=dt.date(2026, 8, 21))
    assert isinstance(got[1], RecordError)
    assert got[1].reason == "record is not valid UTF-8 text"
    assert got[1].source_key == f"2026-08-21/{items[1]['paper']['id']}"
    assert len(good(got[:1] + got[2:])) == 16


def test_odd_field_types_are_ignored_not_fatal() -> None:
    items = items_of(DAY_2026_08_21)
    paper = items[0]["paper"]
    paper["upvotes"] = True
    paper["githubStars"] = "many"
    paper["ai_keywords"] = ["ok", 3, None, "  spaced   out  "]
    paper["ai_summary"] = ["not", "text"]
    paper["authors"] = [{"name": "A One"}, {"_id": "x"}, "B Two", 7]
    (record,) = good(parse(json.dumps(items[:1]).encode(), day=dt.date(2026, 8, 21)))
    assert record.daily[0].upvotes is None
    assert record.code_stars is None
    assert record.daily[0].ai_keywords == ("ok", "spaced out")
    assert record.daily[0].ai_summary is None
    assert record.authors == ("A One", "B Two")


def test_counts_are_clamped_to_int4() -> None:
    items = items_of(DAY_2026_08_21)
    items[0]["paper"]["upvotes"] = 10**20
    items[0]["numComments"] = -5
    items[0]["paper"]["githubStars"] = 10**30
    (record,) = good(parse(json.dumps(items[:1]).encode(), day=dt.date(2026, 8, 21)))
    assert record.daily[0].upvotes == 2**31 - 1
    assert record.daily[0].num_comments == 0
    assert record.code_stars == 2**31 - 1


# --- client ----------------------------------------------------------------------------------


def test_fetch_day_over_http() -> None:
    with ReplayServer() as server, HttpClient(sleep=lambda _s: None) as client:
        server.add("/api/daily_papers", Reply(200, DAY_2025_06_10), query={"date": "2025-06-10"})
        got = fetch_day(client, dt.date(2025, 6, 10), base_url=server.url + "/api/daily_papers")
        assert server.requests == [("/api/daily_papers", {"date": "2025-06-10", "limit": "100"})]
    records = good(got)
    assert len(records) == 28
    assert records[0].source_key == "2025-06-10/2506.08007"


def test_fetch_day_reads_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_daily, "PAGE_LIMIT", 10)
    items = items_of(DAY_2025_06_10)
    pages = [json.dumps(items[i : i + 10]).encode() for i in (0, 10, 20)]
    url = "/api/daily_papers"
    with ReplayServer() as server, HttpClient(sleep=lambda _s: None) as client:
        server.add(url, Reply(200, pages[0]), query={"date": "2025-06-10"})
        server.add(url, Reply(200, pages[1]), query={"date": "2025-06-10", "p": "1"})
        server.add(url, Reply(200, pages[2]), query={"date": "2025-06-10", "p": "2"})
        got = fetch_day(client, dt.date(2025, 6, 10), base_url=server.url + url)
        assert [q.get("p") for _, q in server.requests] == [None, "1", "2"]
        assert all(q["limit"] == "10" for _, q in server.requests)
    assert [r.arxiv_id for r in good(got)] == [i["paper"]["id"] for i in items]


def test_fetch_day_stops_when_paging_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_daily, "PAGE_LIMIT", 10)
    first_ten = json.dumps(items_of(DAY_2025_06_10)[:10]).encode()
    with ReplayServer() as server, HttpClient(sleep=lambda _s: None) as client:
        server.add("/api/daily_papers", Reply(200, first_ten))
        got = fetch_day(client, dt.date(2025, 6, 10), base_url=server.url + "/api/daily_papers")
        assert len(server.requests) == 2
    assert len(good(got)) == 10


def test_fetch_day_http_error_raises_source_error() -> None:
    with (
        ReplayServer() as server,
        HttpClient(sleep=lambda _s: None) as client,
        pytest.raises(SourceError) as info,
    ):
        server.add("/api/daily_papers", Reply(400, b'{"error": "Invalid date"}'))
        fetch_day(client, dt.date(2025, 6, 10), base_url=server.url + "/api/daily_papers")
    assert info.value.status == 400
