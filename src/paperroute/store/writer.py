"""Writing records: one transaction per batch, merging each record into its paper.

Contract: ``PaperWriter.write(records)`` stores a batch atomically (all or nothing) and
reports, per record, whether it inserted, updated or left a paper unchanged. One writer per
database at a time (the CLI's imports); readers may run concurrently. Not thread-safe.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Engine, bindparam, delete, select, update

from ..clock import Clock, utcnow
from ..ids import content_hash_id, surname_key, title_hash
from ..model import DailyEntry, PaperRecord
from .bulk import bulk_insert
from .merge import PaperState, fold_name, merge_into, new_state
from .rows import chunks, load_states
from .schema import (
    authors,
    daily_entries,
    paper_authors,
    paper_categories,
    papers,
    provenance,
)
from .schema_vectors import paper_terms

Outcome = Literal["inserted", "updated", "unchanged"]
_AUTHOR_CACHE_LIMIT = 300_000


@dataclass(slots=True)
class _Slot:
    """A paper touched by the batch: its state now and as it was stored before."""

    state: PaperState
    before: PaperState | None  # None: new in this batch


class PaperWriter:
    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self._engine = engine
        self._clock = clock
        self._author_pks: dict[str, int] = {}

    def write(self, records: Sequence[PaperRecord]) -> list[Outcome]:
        """Store ``records`` in one transaction; the outcome of each, in order."""
        if not records:
            return []
        try:
            with self._engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    # Every lookup here probes a unique index with a few hundred keys; during
                    # a bulk import the planner's statistics lag far behind the tables' size
                    # and it picks sequential scans, each slower as the tables grow.
                    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                return self._write(connection, records)
        except BaseException:
            # Author ids created by a rolled-back transaction (a failure anywhere, the commit
            # included) no longer exist, and SQLite would hand the same ids out again.
            self._author_pks.clear()
            raise

    def _write(self, connection: Connection, records: Sequence[PaperRecord]) -> list[Outcome]:
        now = self._clock()
        outcomes: list[Outcome | None] = [None] * len(records)
        hashes = self._stored_hashes(connection, records)
        pending: list[int] = []
        # A paper named twice in the batch goes the long way: its first record may change
        # what its second one would otherwise be compared with.
        named = Counter(record.arxiv_id for record in records if record.arxiv_id)
        for index, record in enumerate(records):
            # The same raw record as this source's last one for the paper changes nothing.
            once = record.arxiv_id is not None and named[record.arxiv_id] == 1
            stored = hashes.get(record.arxiv_id) if once and record.arxiv_id else None
            if record.record_hash and stored == record.record_hash:
                outcomes[index] = "unchanged"
            else:
                pending.append(index)
        if not pending:
            return [o or "unchanged" for o in outcomes]

        slots = self._load_slots(connection, [records[i] for i in pending])
        by_arxiv: dict[str, _Slot] = {}
        by_doi: dict[str, _Slot] = {}
        by_title: dict[int, list[_Slot]] = {}
        for slot in slots:
            self._register(slot, by_arxiv, by_doi, by_title)

        # (slot, source) -> the last record of that source merged into the slot's paper
        touched: dict[tuple[int, str], tuple[_Slot, PaperRecord]] = {}
        for index in pending:
            record = records[index]
            found = self._find(record, by_arxiv, by_doi, by_title)
            if found is None:
                slot = _Slot(new_state(record), None)
                self._register(slot, by_arxiv, by_doi, by_title)
                outcomes[index] = "inserted"
            else:
                slot = found
                snapshot = slot.state.copy()
                merge_into(slot.state, record)
                self._register(slot, by_arxiv, by_doi, by_title)
                outcomes[index] = "updated" if slot.state != snapshot else "unchanged"
            touched[(id(slot), record.source)] = (slot, record)

        self._flush(connection, list(touched.values()), now)
        return [o or "unchanged" for o in outcomes]

    def _stored_hashes(
        self, connection: Connection, records: Sequence[PaperRecord]
    ) -> dict[str, str]:
        """record_hash of each record's source for the papers the batch names by arXiv id/DOI."""
        source = records[0].source
        if any(r.source != source for r in records):
            return {}
        arxiv_ids = sorted({r.arxiv_id for r in records if r.arxiv_id})
        found: dict[str, str] = {}
        join = papers.join(
            provenance,
            (provenance.c.paper_pk == papers.c.pk) & (provenance.c.source == source),
        )
        for part in chunks(arxiv_ids):
            query = (
                select(papers.c.arxiv_id, provenance.c.record_hash)
                .select_from(join)
                .where(papers.c.id.in_(part))
            )
            for row in connection.execute(query):
                if row.record_hash:
                    found[row.arxiv_id] = row.record_hash
        return found

    def _load_slots(self, connection: Connection, records: Sequence[PaperRecord]) -> list[_Slot]:
        arxiv_ids = sorted({r.arxiv_id for r in records if r.arxiv_id})
        dois = sorted({r.doi for r in records if r.doi})
        titles = sorted({r.title_hash or title_hash(r.title) for r in records})
        pks: set[int] = set()
        lookups: list[tuple[Any, Sequence[Any]]] = [
            (papers.c.id, arxiv_ids),
            (papers.c.doi, dois),
            # Same title: a paper without ids that this batch may identify, or the reverse.
            (papers.c.title_hash, titles),
        ]
        for column, values in lookups:
            for part in chunks(values):
                pks.update(connection.scalars(select(papers.c.pk).where(column.in_(part))))
        states = load_states(connection, sorted(pks))
        return [_Slot(state, state.copy()) for state in states.values()]

    @staticmethod
    def _register(
        slot: _Slot,
        by_arxiv: dict[str, _Slot],
        by_doi: dict[str, _Slot],
        by_title: dict[int, list[_Slot]],
    ) -> None:
        state = slot.state
        if state.arxiv_id:
            by_arxiv.setdefault(state.arxiv_id, slot)
        if state.doi:
            by_doi.setdefault(state.doi, slot)
        group = by_title.setdefault(state.title_hash, [])
        if slot not in group:
            group.append(slot)

    @staticmethod
    def _find(
        record: PaperRecord,
        by_arxiv: dict[str, _Slot],
        by_doi: dict[str, _Slot],
        by_title: dict[int, list[_Slot]],
    ) -> _Slot | None:
        if record.arxiv_id and record.arxiv_id in by_arxiv:
            return by_arxiv[record.arxiv_id]
        if record.doi and record.doi in by_doi:
            slot = by_doi[record.doi]
            if not record.arxiv_id or not slot.state.arxiv_id:
                return slot
        # Same title: also the same first author, where both name one ("Introduction" by two
        # people is two papers).
        candidates = [
            slot
            for slot in by_title.get(record.title_hash or title_hash(record.title), [])
            if _same_first_author(record.authors, slot.state.authors)
        ]
        first = record.authors[0] if record.authors else None
        if record.arxiv_id or record.doi:
            # A paper first stored without ids (a seed page, a bare BibTeX entry) is adopted by
            # the first record that identifies it.
            orphans = [s for s in candidates if s.state.id.startswith("hash:")]
            return orphans[0] if len(orphans) == 1 else None
        same = [s for s in candidates if s.state.id == content_hash_id(record.title, first)]
        if same:
            return same[0]
        # A record without ids matches a stored paper by title only when that is unambiguous.
        return candidates[0] if len(candidates) == 1 else None

    def _flush(
        self,
        connection: Connection,
        touched: Sequence[tuple[_Slot, PaperRecord]],
        now: dt.datetime,
    ) -> None:
        slots = list({id(slot): slot for slot, _ in touched}.values())
        new = [slot for slot in slots if slot.before is None]
        changed = [slot for slot in slots if slot.before is not None and slot.state != slot.before]
        if new:
            names = [*new[0].state.columns(), "created_at", "modified_at"]
            rows = [(*slot.state.columns().values(), now, now) for slot in new]
            inserted = bulk_insert(connection, papers, names, rows, returning=("id", "pk"))
            pks = dict(inserted)
            for slot in new:
                slot.state.pk = pks[slot.state.id]
        if changed:
            params = [
                {
                    **{f"v_{k}": v for k, v in slot.state.columns().items()},
                    "v_modified_at": now,
                    "b_pk": slot.state.pk,
                }
                for slot in changed
            ]
            values: dict[str, Any] = {
                name[2:]: bindparam(name) for name in params[0] if name != "b_pk"
            }
            connection.execute(
                update(papers).where(papers.c.pk == bindparam("b_pk")).values(values), params
            )
        self._write_children(connection, new, changed)
        self._write_provenance(connection, touched, now)

    def _write_children(
        self, connection: Connection, new: Sequence[_Slot], changed: Sequence[_Slot]
    ) -> None:
        author_slots = list(new) + [
            s for s in changed if s.before is not None and s.before.authors != s.state.authors
        ]
        category_slots = list(new) + [
            s for s in changed if s.before is not None and s.before.categories != s.state.categories
        ]
        # A changed text makes its stored term bag stale (made again by `paperroute embed`).
        reworded = [
            s.state.pk
            for s in changed
            if s.before is not None
            and (s.before.title, s.before.abstract) != (s.state.title, s.state.abstract)
        ]
        for part in chunks(reworded):
            connection.execute(delete(paper_terms).where(paper_terms.c.paper_pk.in_(part)))
        stale_authors = [s.state.pk for s in author_slots if s.before is not None]
        stale_categories = [s.state.pk for s in category_slots if s.before is not None]
        for table, stale in ((paper_authors, stale_authors), (paper_categories, stale_categories)):
            for part in chunks(stale):
                connection.execute(delete(table).where(table.c.paper_pk.in_(part)))

        named = [(s.state.pk, [(fold_name(n), n) for n in s.state.authors]) for s in author_slots]
        author_pks = self._author_ids(connection, [pair for _, pairs in named for pair in pairs])
        bulk_insert(
            connection,
            paper_authors,
            ("paper_pk", "position", "author_pk"),
            [(pk, i, author_pks[key]) for pk, pairs in named for i, (key, _) in enumerate(pairs)],
        )
        bulk_insert(
            connection,
            paper_categories,
            ("paper_pk", "category", "position"),
            [
                (s.state.pk, cat, i)
                for s in category_slots
                for i, cat in enumerate(s.state.categories)
            ],
        )

        entries: list[tuple[Any, ...]] = []
        for slot in list(new) + list(changed):
            before = slot.before.daily if slot.before is not None else {}
            for key, entry in slot.state.daily.items():
                if before.get(key) != entry:
                    entries.append(_entry_row(slot.state.pk, entry))
        bulk_insert(
            connection,
            daily_entries,
            _ENTRY_COLUMNS,
            entries,
            conflict=("day", "source", "paper_pk"),
            update=_ENTRY_COLUMNS[3:],
        )

    def _author_ids(
        self, connection: Connection, names: Sequence[tuple[str, str]]
    ) -> dict[str, int]:
        """Author primary keys by folded name, for (folded, spelled) names; new names are
        stored with the first spelling seen."""
        if len(self._author_pks) > _AUTHOR_CACHE_LIMIT:
            self._author_pks.clear()
        wanted: dict[str, str] = {}
        for key, name in names:
            if key not in self._author_pks:
                wanted.setdefault(key, name)
        missing = sorted(wanted)
        for part in chunks(missing):
            query = select(authors.c.pk, authors.c.name_key).where(authors.c.name_key.in_(part))
            for row in connection.execute(query):
                self._author_pks[row.name_key] = row.pk
        to_insert = [(wanted[k], k) for k in missing if k not in self._author_pks]
        if to_insert:
            returned = bulk_insert(
                connection, authors, ("name", "name_key"), to_insert, returning=("name_key", "pk")
            )
            self._author_pks.update(returned)
        return self._author_pks

    def _write_provenance(
        self,
        connection: Connection,
        touched: Sequence[tuple[_Slot, PaperRecord]],
        now: dt.datetime,
    ) -> None:
        bulk_insert(
            connection,
            provenance,
            ("paper_pk", "source", "source_key", "record_hash", "first_seen_at", "fetched_at"),
            [
                (
                    slot.state.pk,
                    record.source,
                    record.source_key[:2000],
                    record.record_hash,
                    now,
                    now,
                )
                for slot, record in touched
            ],
            conflict=("paper_pk", "source"),
            update=("source_key", "record_hash", "fetched_at"),
        )


def _same_first_author(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return not a or not b or surname_key(a[0]) == surname_key(b[0])


_ENTRY_COLUMNS = (
    "day",
    "source",
    "paper_pk",
    "kind",
    "submitter",
    "upvotes",
    "num_comments",
    "submitted_at",
    "ai_keywords",
    "ai_summary",
)


def _entry_row(paper_pk: int | None, entry: DailyEntry) -> tuple[Any, ...]:
    return (
        entry.day,
        entry.source,
        paper_pk,
        entry.kind,
        entry.submitter,
        entry.upvotes,
        entry.num_comments,
        entry.submitted_at,
        json.dumps(list(entry.ai_keywords)) if entry.ai_keywords else None,
        entry.ai_summary,
    )
