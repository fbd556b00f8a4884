"""hub.signals and hub.foryou on real papers: feedback, follows and the library shape the
profile; the page gives reasons, never a paper marked "not interested", and no interest
floods it; a library upload is all or nothing and keeps unknown entries privately; a
reader's signals are theirs alone and go with the account."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from paperroute import Hub, InvalidInput, NotFound
from paperroute.community import User
from paperroute.recommend import Pick
from paperroute.recommend.foryou import diversify
from paperroute.store.schema import papers
from support.community import signed_in
from support.foryou import BIB, DG
from support.smtp import SmtpServer


def _reader(hub: Hub, smtp: SmtpServer, email: str) -> User:
    return signed_in(hub.community, smtp, email)


def test_a_reader_without_signals_gets_the_cold_start(fhub: Hub, smtp_server: SmtpServer) -> None:
    ada = _reader(fhub, smtp_server, "ada@example.org")
    page = fhub.foryou.page(ada.pk)
    assert page.cold and page.picks == [] and page.days == 7


def test_feedback_and_follows_make_the_profile(fhub: Hub, smtp_server: SmtpServer) -> None:
    ada = _reader(fhub, smtp_server, "ada@example.org")
    fhub.signals.set_feedback(ada.pk, DG[0], "more")
    fhub.signals.set_feedback(ada.pk, DG[1], "less")
    fhub.signals.set_feedback(ada.pk, DG[1], "less")  # twice: still one
    fhub.signals.follow(ada.pk, "category", "math.DG")
    fhub.signals.follow(ada.pk, "author", "  Jens   Wirth ")
    profile = fhub.foryou.profile(ada.pk)
    assert [(s.paper_id, s.kind) for s in profile.seeds] == [(DG[0], "more_like_this")]
    assert profile.negatives == {DG[1]}
    assert profile.categories == ("math.DG",) and profile.authors == ("Jens Wirth",)
    # "More like this" replaces "not interested" on the same paper, and can be taken back.
    fhub.signals.set_feedback(ada.pk, DG[1], "more")
    assert fhub.signals.feedback_kinds(ada.pk) == {
        fhub.community.paper_pk(DG[0]): "more", fhub.community.paper_pk(DG[1]): "more"
    }  # fmt: skip
    fhub.signals.set_feedback(ada.pk, DG[1], None)
    assert [f.paper_id for f in fhub.signals.feedback(ada.pk)] == [DG[0]]


@pytest.mark.parametrize(
    ("ref", "kind", "error"),
    [("9999.99999", "more", NotFound), ("", "more", NotFound), ("x" * 5000, "less", NotFound),
     ("\ud800", "more", NotFound), (DG[0], "love", InvalidInput)],
)  # fmt: skip
def test_feedback_on_bad_input_is_refused(
    fhub: Hub, smtp_server: SmtpServer, ref: str, kind: str, error: type[Exception]
) -> None:
    ada = _reader(fhub, smtp_server, "ada@example.org")
    with pytest.raises(error):
        fhub.signals.set_feedback(ada.pk, ref, kind)
    assert fhub.signals.feedback(ada.pk) == []


@pytest.mark.parametrize(
    ("kind", "value"), [("author", ""), ("author", "x" * 201), ("tag", "a"), ("author", "a\x00b")]
)
def test_follows_refuse_unusable_names(
    fhub: Hub, smtp_server: SmtpServer, kind: str, value: str
) -> None:
    ada = _reader(fhub, smtp_server, "ada@example.org")
    with pytest.raises(InvalidInput):
        fhub.signals.follow(ada.pk, kind, value)
    assert fhub.signals.follows(ada.pk) == []


def test_the_page_explains_itself_and_never_shows_what_was_refused(
    fhub: Hub, smtp_server: SmtpServer
) -> None:
    ada = _reader(fhub, smtp_server, "ada@example.org")
    for paper_id in DG[:3]:
        fhub.signals.set_feedback(ada.pk, paper_id, "more")
    fhub.signals.set_days(ada.pk, 60)
    first = fhub.foryou.page(ada.pk, limit=10)
    assert not first.cold and len(first.picks) == 10
    assert all(p.pick.reason for p in first.picks)
    refused = first.picks[0].pick.paper_id
    fhub.signals.set_feedback(ada.pk, refused, "less")
    again = fhub.foryou.page(ada.pk, limit=10)
    assert refused not in {p.pick.paper_id for p in again.picks}
    assert not {p.pick.paper_id for p in again.picks} & set(DG[:3])


def test_diversify_caps_each_interest_while_others_have_picks() -> None:
    flood = [Pick(f"a{n}", "t", 1 - n / 100, "close to A", "A") for n in range(6)]
    other = [Pick(f"b{n}", "t", 0.5 - n / 100, "you follow cs.CL") for n in range(3)]
    chosen = diversify(flood + other, 6, per_interest=3)
    assert [p.paper_id for p in chosen] == ["a0", "a1", "a2", "b0", "b1", "b2"]
    # Once the other interest has no pick left, the strong one fills the page's end: in
    # rounds of three, best first within a round.
    assert [p.paper_id for p in diversify(flood + other[:1], 6, 3)] == [
        "a0", "a1", "a2", "b0", "a3", "a4"
    ]  # fmt: skip
    # A flood of one seed among several interests: the top of the page is mixed.
    many = flood + [Pick(f"a{n}", "t", 0.9 - n / 100, "close to A", "A") for n in range(6, 20)]
    many += [Pick(f"c{n}", "t", 0.2 - n / 100, "close to C", "C") for n in range(5)]
    top = diversify(many + other, 12, 3)[:9]
    assert sum(p.reason_paper_id == "A" for p in top) == 3 and len(top) == 9


def test_a_library_upload_stores_known_and_private_entries_and_names_the_skipped(
    fhub: Hub, smtp_server: SmtpServer
) -> None:
    ada = _reader(fhub, smtp_server, "ada@example.org")
    with fhub._db.read() as connection:
        before = connection.scalar(select(func.count()).select_from(papers))
    report = fhub.foryou.import_library(ada.pk, BIB, "mine.bib")
    assert (report.format, report.stored, report.matched) == ("bibtex", 2, 1)
    assert len(report.skipped) == 1 and "broken" in report.skipped[0]
    view = fhub.signals.view(ada.pk)
    # A matched entry shows the hub's title (its link goes to that paper; an id list's
    # entry has no title of its own); a private one, the file's.
    assert [(e.paper_id, e.title) for e in view.library] == [
        (DG[0], fhub.papers.show(DG[0]).title),
        (None, "An unpublished draft on Ricci flow"),
    ]
    assert view.library[1].authors == ("Jane Doe",) and view.library[1].year == 2026
    # The private entry is not written into the public papers table.
    with fhub._db.read() as connection:
        assert connection.scalar(select(func.count()).select_from(papers)) == before
    assert {s.paper_id for s in fhub.foryou.profile(ada.pk).seeds} == {DG[0]}


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n", b"\x00\x01binary", b"%PDF-1.7 not a library at all",
     b"\n".join(b"2401.%05d" % n for n in range(50_001))],
)  # fmt: skip
def test_an_unusable_upload_keeps_the_library_there_was(
    fhub: Hub, smtp_server: SmtpServer, data: bytes
) -> None:
    ada = _reader(fhub, smtp_server, "ada@example.org")
    fhub.foryou.import_library(ada.pk, BIB, "mine.bib")
    with pytest.raises(InvalidInput):
        fhub.foryou.import_library(ada.pk, data, "bad.bib")
    assert fhub.signals.view(ada.pk).library_total == 2


def test_signals_are_private_and_go_with_the_account(fhub: Hub, smtp_server: SmtpServer) -> None:
    ada = _reader(fhub, smtp_server, "ada@example.org")
    bob = _reader(fhub, smtp_server, "bob@example.org")
    fhub.signals.set_feedback(ada.pk, DG[0], "more")
    fhub.signals.follow(ada.pk, "category", "math.DG")
    fhub.foryou.import_library(ada.pk, BIB, "mine.bib")
    entry = fhub.signals.view(ada.pk).library[0].pk
    bobs = fhub.signals.view(bob.pk)
    assert (bobs.feedback, bobs.follows, bobs.library) == ([], [], [])
    with pytest.raises(NotFound):
        fhub.signals.remove_library_entry(bob.pk, entry)  # not his
    fhub.signals.set_feedback(bob.pk, DG[0], None)  # his own (none): Ada's stays
    assert fhub.signals.view(ada.pk).library_total == 2
    assert len(fhub.signals.feedback(ada.pk)) == 1
    fhub.community.delete_account(ada)
    gone = fhub.signals.view(ada.pk)
    assert (gone.feedback, gone.follows, gone.library_total) == ([], [], 0)
