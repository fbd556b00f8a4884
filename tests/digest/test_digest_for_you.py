"""The digest's "For you" section, end to end on SQLite and PostgreSQL: real papers of three
listing days (tests/data/digest) with vectors from a small deterministic embedder, reader
accounts with saved papers, subscribers with and without one, digests delivered to a real
SMTP server (aiosmtpd) and read back.

The seed paper is a real paper listed on the first day; its *follow-up* is a paper made for
the test, listed on the digest's day, whose title and abstract are the seed's (reworded
at the start): whatever the ranker's weights, it is the closest paper of the digest's day
to the seed, so it must come first in the section.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperroute import Hub, open_hub
from paperroute.cli.app import app as cli_app
from paperroute.digest import Digests, Subscriber
from paperroute.digest.model import Pick, picks_from_json, picks_json, seed_ids
from paperroute.errors import InvalidInput
from paperroute.model import DailyEntry, PaperRecord
from paperroute.sources.common import build_record
from paperroute.store.session import Database
from support.digest_data import AS_OF, make_config, paper_records
from support.embedders import HashEmbedder
from support.smtp import Received, SmtpServer

DAY = dt.date(2026, 8, 21)  # the digests' reference day (AS_OF is the next morning)
FIRST = dt.date(2026, 8, 19)
FOLLOW_UP = "2608.99001"
READER = "reader@example.org"


def _seed_record() -> PaperRecord:
    for record in paper_records():
        days = {entry.day for entry in record.daily}
        if days == {FIRST} and len(record.abstract) > 400:
            return record
    raise AssertionError("no paper listed only on the first day")


def _follow_up(seed: PaperRecord) -> PaperRecord:
    record = build_record(
        source="jsonl",
        source_key=FOLLOW_UP,
        title=f"Revisiting {seed.title}",
        abstract=seed.abstract,
        authors=["Ada Follow"],
        arxiv_id=FOLLOW_UP,
        categories=["cs.LG"],
        daily=(DailyEntry(day=DAY, source="arxiv", kind="listed", upvotes=0),),
    )
    assert isinstance(record, PaperRecord)
    return record


@pytest.fixture
def seed() -> PaperRecord:
    return _seed_record()


@pytest.fixture
def fy_hub(database_url: str, tmp_path: Path, seed: PaperRecord) -> Iterator[Hub]:
    config = make_config(database_url, vector_index_dir=str(tmp_path / "index"))
    with open_hub(config, embedder=HashEmbedder()) as hub:
        report = hub.papers.ingest([*paper_records(), _follow_up(seed)])
        assert not report.skipped
        assert hub.search.embed() == 96
        hub.search.store_term_bags()
        yield hub


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def over_smtp(hub: Hub, smtp: SmtpServer) -> Digests:
    """The hub's digests (For-you wiring included) sending to the test SMTP server."""
    config = dataclasses.replace(hub.config, smtp_url=smtp.url)
    return Digests(
        Database(hub._db.engine),
        config,
        clock=hub.digests.clock,
        recommender=hub.recommend,
        foryou=hub.foryou,
    )


def save_paper(hub: Hub, email: str, paper_id: str) -> None:
    user = hub.community.ensure_user(email)
    collection = hub.community.create_collection(user, "Reading list")
    hub.community.add_to_collection(user, collection.pk, paper_id)


def text_of(message: Received) -> str:
    return message.text().replace("\r\n", "\n")


def for_you_part(message: Received) -> str:
    text = text_of(message)
    assert "For you\n=======" in text, text
    return text.split("For you\n=======", 1)[1]


def for_you_html(html: str) -> str:
    """The HTML digest's For-you section, without the footer's signed (time-stamped) links."""
    assert "For you</h2>" in html
    return html.split("For you</h2>", 1)[1].split("/subscription/", 1)[0]


def send(digests: Digests, smtp: SmtpServer, count: int) -> list[Received]:
    result = digests.send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == count, result
    return smtp.wait_for(count)


DAILY = {"frequency": "daily", "trending": False}


def test_a_linked_reader_gets_the_closest_paper_first(
    fy_hub: Hub, smtp: SmtpServer, seed: PaperRecord
) -> None:
    save_paper(fy_hub, READER, seed.arxiv_id or "")
    # The subscriber's address is written otherwise: the site's normaliser links them.
    fy_hub.digests.add_confirmed("Reader@EXAMPLE.org", {**DAILY, "for_you": True})
    [message] = send(over_smtp(fy_hub, smtp), smtp, 1)
    section = for_you_part(message)
    first = section.split("\n2. ", 1)[0] if "\n2. " in section else section
    assert f"Revisiting {seed.title}"[:60] in " ".join(first.split()), section
    assert f"[close to {seed.title}" in " ".join(first.split())
    # The HTML part carries the section too, and the subject counts its papers.
    html = message.message.get_body(("html",))
    assert html is not None and "For you</h2>" in html.get_content()
    picks = [line for line in section.splitlines() if ". [" in line and line[0].isdigit()]
    assert 1 <= len(picks) <= 5
    assert str(message.message["Subject"]).endswith(f": {len(picks)} papers")
    # The seed itself is never picked.
    assert f"/papers/{seed.arxiv_id}" not in section


def test_seed_papers_work_without_an_account(
    fy_hub: Hub, smtp: SmtpServer, seed: PaperRecord
) -> None:
    fy_hub.digests.add_confirmed(
        "anon@example.org", {**DAILY, "for_you": True, "seeds": [f"arXiv:{seed.arxiv_id}v2"]}
    )
    subscriber = fy_hub.digests.find("anon@example.org")
    assert subscriber is not None and subscriber.prefs.seeds == (seed.arxiv_id,)
    assert fy_hub.digests.for_you_source(subscriber) == "seeds"
    [message] = send(over_smtp(fy_hub, smtp), smtp, 1)
    section = for_you_part(message)
    assert section.split("\n\n", 2)[1].startswith("1. [close to ")
    assert f"Revisiting {seed.title}"[:60] in " ".join(section.split())


def test_for_you_never_repeats_the_other_sections(
    fy_hub: Hub, smtp: SmtpServer, seed: PaperRecord
) -> None:
    fields = {**DAILY, "for_you": True, "seeds": [seed.arxiv_id], "keywords": ["Revisiting"]}
    fy_hub.digests.add_confirmed("both@example.org", fields)
    [message] = send(over_smtp(fy_hub, smtp), smtp, 1)
    text = text_of(message)
    main, _, section = text.partition("For you\n=======")
    assert "matches 'Revisiting'" in main and "Revisiting" in main
    assert "Revisiting" not in section
    # Picks are numbered on across the sections, and none appears twice.
    titles = [line for line in text.splitlines() if line and line[0].isdigit() and ". [" in line]
    assert len(titles) == len({t.split(". [", 1)[0] for t in titles})


def test_private_signals_never_reach_another_subscriber(
    fy_hub: Hub, smtp: SmtpServer, seed: PaperRecord
) -> None:
    # One with seeds of their own: their reasons name their seed, never the reader's, and
    # their section is the same before and after the reader's signals exist.
    own = next(r for r in paper_records() if r.arxiv_id not in (seed.arxiv_id, FOLLOW_UP))
    seeded = {**DAILY, "for_you": True, "seeds": [own.arxiv_id]}
    fy_hub.digests.add_confirmed("seeded@example.org", seeded)
    before = for_you_html(fy_hub.digests.preview("seeded@example.org", as_of=AS_OF).html)
    save_paper(fy_hub, READER, seed.arxiv_id or "")
    fy_hub.signals.set_feedback(fy_hub.community.ensure_user(READER).pk, FOLLOW_UP, "more")
    fy_hub.digests.add_confirmed(READER, {**DAILY, "for_you": True})
    # Another subscriber: no account, no seeds; one more with an account of their own.
    fy_hub.digests.add_confirmed("stranger@example.org", {**DAILY, "for_you": True})
    fy_hub.digests.add_confirmed("other@example.org", {**DAILY, "for_you": True})
    fy_hub.community.ensure_user("other@example.org")
    after = for_you_html(fy_hub.digests.preview("seeded@example.org", as_of=AS_OF).html)
    assert before == after
    # Someone else's look at the reader's digest (the admin preview) leaves the signals out.
    admin_view = fy_hub.digests.preview(READER, as_of=AS_OF, private=False)
    assert "For you</h2>" not in admin_view.html and "close to" not in admin_view.html
    assert admin_view.for_you_note and "private" in admin_view.for_you_note
    own_view = fy_hub.digests.preview(READER, as_of=AS_OF)
    assert "For you</h2>" in own_view.html and own_view.for_you_note is None
    send(over_smtp(fy_hub, smtp), smtp, 2)
    mail = {m.recipients[0]: m for m in smtp.messages}
    assert set(mail) == {READER, "seeded@example.org"}  # the others had nothing to receive
    assert f"close to {seed.title}" in " ".join(for_you_part(mail[READER]).split())
    theirs = for_you_part(mail["seeded@example.org"])
    # The follow-up (listed that day, its title the seed's reworded) may be among their
    # picks on its own merits; the reader's saved paper is never named as a reason.
    assert f"close to {seed.title[:40]}" not in " ".join(theirs.split())
    reasons = [line for line in theirs.splitlines() if ". [" in line and line[0].isdigit()]
    assert reasons and all("close to" not in r or own.title[:30] in r for r in reasons), reasons
    # Their previews say why they get no section, and name nothing of the reader's.
    for email in ("stranger@example.org", "other@example.org"):
        rendered = fy_hub.digests.preview(email, as_of=AS_OF)
        assert "For you" not in rendered.html and seed.title[:40] not in rendered.html
        assert rendered.for_you_note is not None and "No For-you section" in rendered.for_you_note


def test_no_signals_or_no_vectors_leave_the_section_out(
    database_url: str, tmp_path: Path, smtp: SmtpServer, seed: PaperRecord
) -> None:
    config = make_config(database_url, vector_index_dir=str(tmp_path / "index"))
    with open_hub(config, embedder=HashEmbedder()) as hub:
        hub.papers.ingest([*paper_records(), _follow_up(seed)])
        # Nothing embedded: the reader's saved paper has no vector to rank with.
        save_paper(hub, READER, seed.arxiv_id or "")
        hub.digests.add_confirmed(READER, {**DAILY, "for_you": True, "categories": "cs.LG"})
        hub.community.ensure_user("empty@example.org")
        hub.digests.add_confirmed("empty@example.org", {**DAILY, "for_you": True, "trending": True})
        messages = send(over_smtp(hub, smtp), smtp, 2)
        for message in messages:
            assert "For you\n=======" not in text_of(message)
        note = hub.digests.preview(READER, as_of=AS_OF).for_you_note
        assert note is not None and "close to the reader's interests" in note
        empty = hub.digests.preview("empty@example.org", as_of=AS_OF).for_you_note
        assert empty is not None and "no signal yet" in empty


def test_the_send_log_keeps_the_section_and_reads_old_rows() -> None:
    picks = [Pick(1, "new in cs.CL"), Pick(2, "close to X", "for_you")]
    assert picks_from_json(picks_json(picks)) == picks
    assert picks_json(picks[:1]) == '[[1, "new in cs.CL"]]'  # as rows were before
    assert picks_from_json('[[5, "trending"]]') == [Pick(5, "trending")]


# -- hostile seed input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([f"2401.{n:05d}" for n in range(10_000)], "at most 50"),
        ([f"2401.{n:05d}" for n in range(51)], "at most 50 arXiv ids, not 51"),
        ("x" * 50_000, "at most 50"),
        (["not-an-id", "2401.01234"], "'not-an-id'"),
        (["２４０１.０１２３４"], "arXiv ids like 2401.01234"),  # fullwidth digits
        (["2401.01234\u202e"], "arXiv ids like"),
        (["2413.01234"], "'2413.01234'"),  # no 13th month
        ([1234], "must be an arXiv id"),
        ({"a": 1}, "must be a list"),
        (["\x00" * 300], "arXiv ids like"),
    ],
)
def test_hostile_seeds_are_refused_with_a_clear_message(seeds: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        seed_ids(seeds)
    assert message in str(caught.value)
    assert len(str(caught.value)) < 400


def test_seeds_are_normalised() -> None:
    text = "arXiv:2401.01234v3, https://arxiv.org/abs/2401.01234\n hep-th/9901001  "
    assert seed_ids(text) == ("2401.01234", "hep-th/9901001")


def test_unknown_seeds_are_kept_and_named(fy_hub: Hub, seed: PaperRecord) -> None:
    fields = {**DAILY, "for_you": True, "seeds": [seed.arxiv_id, "2401.01234"]}
    fy_hub.digests.add_confirmed("new@example.org", fields)
    stored = _find(fy_hub, "new@example.org")
    assert stored.prefs.seeds == (seed.arxiv_id, "2401.01234")
    assert fy_hub.digests.unknown_seeds(stored) == ["2401.01234"]
    # A bad entry among good ones changes nothing: all or nothing.
    token = fy_hub.digests.manage_token(stored)
    with pytest.raises(InvalidInput):
        fy_hub.digests.update(token, {"seeds": [seed.arxiv_id, "garbage"], "max_papers": 3})
    kept = _find(fy_hub, "new@example.org")
    assert kept.prefs.seeds == stored.prefs.seeds and kept.prefs.max_papers == 10


def _find(hub: Hub, email: str) -> Subscriber:
    found = hub.digests.find(email)
    assert found is not None
    return found


def test_cli_add_with_for_you_and_seeds(fy_hub: Hub, seed: PaperRecord) -> None:
    runner = CliRunner()
    url = fy_hub.config.database_url
    env = {"PAPERROUTE_SECRET_KEY": fy_hub.config.secret_key or ""}
    base = ["--database-url", url, "subscribers", "add", "--confirmed", "--no-trending"]
    done = runner.invoke(
        cli_app,
        [*base, "cli@example.org", "--for-you", "--seed", f"{seed.arxiv_id}v1"],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert _find(fy_hub, "cli@example.org").prefs.seeds == (seed.arxiv_id,)
    for bad, said in (
        (["--seed", "garbage!"], "'garbage!'"),
        (["--seed", "２４０１.０１２３４"], "arXiv ids like"),
        (["--seed", "2401.01234", "--seed", "x" * 5000], "arXiv ids like"),
    ):
        result = runner.invoke(cli_app, [*base, "bad@example.org", "--for-you", *bad], env=env)
        assert result.exit_code == 1, result.output
        assert said in result.output and "Traceback" not in result.output
        assert fy_hub.digests.find("bad@example.org") is None
    later = runner.invoke(
        cli_app, [*base, "later@example.org", "--for-you", "--seed", "2401.01234"], env=env
    )
    assert later.exit_code == 0 and "not on this hub yet" in later.output
    assert "2401.01234" in later.output
    many = [arg for n in range(60) for arg in ("--seed", f"2401.{n:05d}")]
    result = runner.invoke(cli_app, [*base, "bad@example.org", "--for-you", *many], env=env)
    assert result.exit_code == 1 and "at most 50" in result.output
    assert fy_hub.digests.find("bad@example.org") is None
