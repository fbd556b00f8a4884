"""Similar papers' term bags held in memory (``BagStore``), so that a call reads its ~200
candidates' bags from arrays instead of ~200 rows of ``paper_terms`` (a quarter of a call's
CPU at 200k papers on SQLite: docs/search.md, "Similar papers, round 5").

Every stored bag is read once (``HeldBags``: the bags end to end, 5 bytes a term as stored,
and each paper's start; 188 MB at 200k papers), when it fits ``max_bytes``; beyond, nothing is
held and similar papers read the database as before. Kept in step with the papers by their
``modified_at`` (indexed): a paper written since the last look (new, reworded, its pk
reused) has its bag read again (``load_bags``: the stored one, else made from its text, which
is what ``paperroute embed`` will store), into a small overlay over the arrays. Each look
goes back ``_MARGIN`` before the previous one (a write's time is taken before it commits,
and another machine's clock may differ a little); a (pk, time) already read is not read
again. Everything is read again once a
``_FULL_EVERY``, or when the overlay has grown to a tenth of the arrays. A paper without a
held bag (none stored when the arrays were read, or beyond the cap) is read from the
database by the caller: held or not, a bag is the one ``load_bags`` would return.

The bags are also inverted (``_postings.py``: ~110 MB more at 200k papers, built in ~6 s
with the read): similar papers then take their keyword neighbours and their words'
document frequencies from them instead of the database's index. A paper without a stored
bag at the read (not embedded yet, or damaged) gets its bag from its text in the overlay;
when more than the overlay's limit lack one (a database whose bags ``paperroute embed``
has not stored yet) nothing is inverted, and everything is read again every
``_INCOMPLETE_EVERY`` until they are there. Thread-safe: a request reads the current
``HeldBags`` (never changed once made); one refresh at a time makes the next one, off the
request (``refresh_soon``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, select, text

from ..clock import Clock, utcnow
from ..soon import RunSoon
from ..store.schema import papers
from ._postings import HeldPostings, Postings, df_cap
from ._terms import Bag, bags_after, load_bags

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
U8 = npt.NDArray[np.uint8]

_PAGE = 2_000  # bags read at a time (a page of 1 KB blobs stays in the heap after)
_MARGIN = dt.timedelta(minutes=2)
_FULL_EVERY = 24 * 3600.0  # seconds
_INCOMPLETE_EVERY = 600.0  # seconds: again, while too many papers had no stored bag
_CHECK_EVERY = 5.0  # seconds, as the vector index


@dataclass(frozen=True, slots=True)
class HeldBags:
    """Bags by paper pk: ``pks`` (sorted) and their bags end to end (``ids``, ``counts``,
    ``starts``: paper i's terms are ``starts[i]:starts[i + 1]``), and ``overlay``, the bags
    read since (they win). ``looked``: when the papers' changes were last looked at;
    ``seen``: the (pk, modified_at) read then, within ``_MARGIN`` before it; ``through``:
    the highest pk whose stored bag was read."""

    pks: I64
    starts: I64
    ids: U32
    counts: U8
    overlay: dict[int, Bag] = field(default_factory=dict)
    looked: dt.datetime | None = None
    seen: dict[int, dt.datetime] = field(default_factory=dict)
    loaded_at: float = 0.0
    through: int = 0  # the highest pk whose stored bag was read
    postings: HeldPostings | None = None

    def get(self, pks: Sequence[int]) -> tuple[dict[int, Bag], list[int]]:
        """The held bags of ``pks`` (views of the arrays), and the pks without one."""
        found: dict[int, Bag] = {}
        missing: list[int] = []
        rest = []
        for pk in pks:
            bag = self.overlay.get(pk)
            if bag is not None:
                found[pk] = bag
            else:
                rest.append(pk)
        if not rest or not len(self.pks):
            return found, rest
        wanted = np.asarray(rest, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.pks, wanted), len(self.pks) - 1)
        hit = self.pks[at] == wanted
        starts, ends = self.starts[at].tolist(), self.starts[at + 1].tolist()
        for pk, ok, start, end in zip(rest, hit.tolist(), starts, ends, strict=True):
            if ok:
                found[pk] = (self.ids[start:end], self.counts[start:end])
            else:
                missing.append(pk)
        return found, missing

    @property
    def nbytes(self) -> int:
        held = self.pks.nbytes + self.starts.nbytes + self.ids.nbytes + self.counts.nbytes
        inverted = self.postings.nbytes if self.postings is not None else 0
        return int(held + inverted + sum(5 * len(ids) for ids, _ in self.overlay.values()))


class BagStore:
    """See the module docstring. ``max_bytes``: the most the stored bags may take to be held
    (0: none is); ``check_every``: seconds between looks at the papers' changes."""

    def __init__(
        self,
        engine: Engine,
        max_bytes: int,
        *,
        check_every: float = _CHECK_EVERY,
        clock: Clock = utcnow,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.max_bytes = max_bytes
        self.check_every = check_every
        self._held: HeldBags | None = None
        self._too_big_at: float | None = None  # when the stored bags were found over the cap
        self._checked = -1e18
        self._lock = threading.Lock()  # one refresh at a time
        self._closed = False
        self._soon = RunSoon("refreshing similar papers' term bags")

    def current(self) -> HeldBags | None:
        """The bags as they are (None while none are held)."""
        return self._held

    def current_soon(self, executor: Executor) -> HeldBags | None:
        """The bags as they are, a due refresh (or the first read) asked of ``executor``."""
        if self.max_bytes > 0 and time.monotonic() - self._checked >= self.check_every:
            self._soon.ask(executor, self.refresh)
        return self._held

    def close(self) -> None:
        """Stop a read in progress (at its next page) and hold nothing more."""
        self._closed = True
        self._held = None

    def refresh(self) -> None:
        """Read every bag (first, daily, or when the overlay grew) or the changed ones."""
        if self.max_bytes <= 0 or self._closed:
            return
        with self._lock:
            self._checked = now = time.monotonic()
            held = self._held
            with self.engine.connect() as connection:
                if held is None or self._full_due(held, now):
                    if self._too_big_at is not None and now - self._too_big_at < _FULL_EVERY:
                        return
                    # (Dropped first: two copies would double the memory for a moment.)
                    self._held = None
                    self._held = self._read_all(connection)
                else:
                    self._held = _changed(connection, held, self.clock())

    def _full_due(self, held: HeldBags, now: float) -> bool:
        every = _FULL_EVERY if held.postings is not None else _INCOMPLETE_EVERY
        return now - held.loaded_at >= every or len(held.overlay) > _overlay_limit(held)

    def _read_all(self, connection: Connection) -> HeldBags | None:
        cache_size = None
        if connection.dialect.name == "sqlite":
            # Every page of paper_terms would go through the connection's page cache and
            # leave it full (64 MB, kept while the pool keeps the connection): read them
            # through a small one.
            cache_size = connection.exec_driver_sql("PRAGMA cache_size").scalar()
            connection.exec_driver_sql("PRAGMA cache_size=-2048")
        try:
            return self._read_pages(connection)
        finally:
            if cache_size is not None:
                connection.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")

    def _read_pages(self, connection: Connection) -> HeldBags | None:
        count, size = connection.execute(
            text("SELECT count(*), sum(length(terms)) FROM paper_terms")
        ).one()
        count, size = int(count or 0), int(size or 0)
        # (The pks and starts beside the 5 bytes a term.)
        if size + 16 * (count + 1) > self.max_bytes:
            self._too_big_at = time.monotonic()
            log.info("similar papers' term bags (%d bytes) are over the cap: not held", size)
            return None
        self._too_big_at = None
        # The papers written lately as they are now: their bags are read below, so only
        # those written again after this are read again.
        looked = self.clock()
        recent = _written_since(connection, looked)
        reader = _Reader(count, size // 5)
        after = 0
        while not self._closed:
            rows = connection.exec_driver_sql(
                _PAGE_SQL[connection.dialect.name == "sqlite"], (after, _PAGE)
            ).all()
            if not rows:
                break
            for pk, blob in rows:
                reader.add(int(pk), bytes(blob))
            after = int(rows[-1][0])
        if self._closed:
            return None
        held = reader.held(time.monotonic(), looked, dict(recent), after)
        every = np.fromiter(
            (int(pk) for (pk,) in connection.execute(select(papers.c.pk))), dtype=np.int64
        )
        missing = np.setdiff1d(every, held.pks)
        if len(missing) <= _overlay_limit(held):
            # The papers without a stored bag (not embedded yet, or damaged) from their
            # text, in the overlay; every paper's bag then held, they are inverted too.
            extra = load_bags(connection, missing.tolist()) if len(missing) else {}
            base = Postings.build(
                held.pks, held.starts, held.ids, held.counts, df_cap(len(held.pks))
            )
            postings = HeldPostings(base).with_overlay(held.starts, held.ids, extra)
            held = dataclasses.replace(held, overlay=extra, postings=postings)
        # Papers written while the bags were read are read again at once.
        return _changed(connection, held, self.clock())


_PAGE_SQL = {
    True: "SELECT paper_pk, terms FROM paper_terms WHERE paper_pk > ? ORDER BY paper_pk LIMIT ?",
    False: "SELECT paper_pk, terms FROM paper_terms WHERE paper_pk > %s ORDER BY paper_pk LIMIT %s",
}


class _Reader:
    """The arrays of HeldBags filled bag by bag (sized up front from the stored bags' count
    and total size; grown if more were stored meanwhile). A damaged bag is left out: the
    caller makes it from the text, as load_bags does."""

    def __init__(self, count: int, terms: int) -> None:
        self.pks = np.zeros(count + 1, dtype=np.int64)
        self.starts = np.zeros(count + 2, dtype=np.int64)
        self.ids = np.zeros(terms + 1, dtype=np.uint32)
        self.counts = np.zeros(terms + 1, dtype=np.uint8)
        self.n = 0
        self.at = 0

    def add(self, pk: int, blob: bytes) -> None:
        if len(blob) % 5:
            return
        size = len(blob) // 5
        if self.n + 1 >= len(self.pks):
            self.pks = np.resize(self.pks, 2 * len(self.pks))
            self.starts = np.resize(self.starts, 2 * len(self.starts))
        if self.at + size > len(self.ids):
            grown = max(2 * len(self.ids), self.at + size)
            self.ids, self.counts = np.resize(self.ids, grown), np.resize(self.counts, grown)
        self.pks[self.n] = pk
        self.starts[self.n] = self.at
        self.ids[self.at : self.at + size] = np.frombuffer(blob, dtype="<u4", count=size)
        self.counts[self.at : self.at + size] = np.frombuffer(blob, dtype=np.uint8, offset=4 * size)
        self.n += 1
        self.at += size

    def held(
        self, now: float, looked: dt.datetime, seen: dict[int, dt.datetime], through: int
    ) -> HeldBags:
        self.starts[self.n] = self.at
        n, at = self.n, self.at
        # (Copies only when grown past the estimate: views otherwise would keep the slack.)
        return HeldBags(
            self.pks[:n] if len(self.pks) == n + 1 else self.pks[:n].copy(),
            self.starts[: n + 1] if len(self.starts) == n + 2 else self.starts[: n + 1].copy(),
            self.ids[:at] if len(self.ids) <= at + 1 else self.ids[:at].copy(),
            self.counts[:at] if len(self.counts) <= at + 1 else self.counts[:at].copy(),
            looked=looked,
            seen=seen,
            loaded_at=now,
            through=through,
        )


def _changed(connection: Connection, held: HeldBags, now: dt.datetime) -> HeldBags:
    """``held`` with the bags of the papers written since its last look (less _MARGIN) read
    again, and the bags stored since of papers above its ``through`` (a paper's bag is made
    after the paper: ``paperroute embed``), looked at ``now``."""
    rows = _written_since(connection, held.looked)
    fresh = [pk for pk, when in rows if held.seen.get(pk) != when]
    overlay = {**held.overlay, **load_bags(connection, fresh)} if fresh else held.overlay
    through = held.through
    page = bags_after(connection, through, _PAGE)
    if page:
        overlay = {**overlay, **dict(page)}
        through = page[-1][0]
    postings = held.postings
    if postings is not None and overlay is not held.overlay:
        postings = postings.with_overlay(held.starts, held.ids, overlay)
    return HeldBags(
        held.pks,
        held.starts,
        held.ids,
        held.counts,
        overlay,
        now,
        dict(rows),
        held.loaded_at,
        through,
        postings,
    )


def _overlay_limit(held: HeldBags) -> int:
    """The most papers the overlay holds before everything is read again."""
    return max(10_000, len(held.pks) // 10)


def _written_since(
    connection: Connection, looked: dt.datetime | None
) -> list[tuple[int, dt.datetime]]:
    """(pk, modified_at) of the papers written after ``looked`` less _MARGIN (every paper
    without ``looked``)."""
    statement = select(papers.c.pk, papers.c.modified_at)
    if looked is not None:
        statement = statement.where(papers.c.modified_at > looked - _MARGIN)
    return [(int(pk), _utc(when)) for pk, when in connection.execute(statement)]


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
