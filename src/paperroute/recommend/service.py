"""``hub.recommend``: rank papers for a reader's profile, match a library's entries to
stored papers, build a reader's profile from their signals.

Thread-safe as far as the search index is (its reads lock); nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import InvalidInput, NotFound
from ..ids import fold_name, title_hash
from ..search import Searcher, load_bags
from ..store.session import Database, storage_error
from . import _queries as q
from ._model_cache import ModelCache, signature
from .library import LibraryEntry
from .model import Pick, Profile, Seed, SeedKind
from .ranking import (
    F32,
    I64,
    Interests,
    RankSettings,
    ReaderModel,
    ReaderSeeds,
    interests,
    mmr,
    rank_many,
    reader_models,
    recency_weights,
    score_models,
    seed_terms,
    term_index,
)
from .term_frequencies import FrequencyKeeper, TermFrequencies

MAX_RECOMMEND_LIMIT = 10_000
# How much each kind of signal pulls, relative to a library paper.
KIND_WEIGHTS: dict[SeedKind, float] = {
    "library": 1.0,
    "upvote": 1.0,
    "saved": 1.2,
    "more_like_this": 1.5,
}
_CLOSE_ENOUGH = 0.35  # below this cosine, "close to <Title>" would not be believed
_FOLLOW_POOL = 500
_NO_TERMS = np.zeros(0, dtype=np.uint32)
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class _Reader:
    """A profile resolved against the store: the seeds' rows, vectors and weights."""

    seeds: list[q.PaperRow]
    vectors: F32
    weights: F32
    negatives: set[int]
    negative_vectors: F32


class _Days:
    """Every paper's day (announced, else submitted) in memory, brought up to date on each
    call from the papers modified since (an indexed range), so that a window's papers need
    no scan of the papers table (its OR over two unindexed dates reads every row: seconds
    at 200k papers). A deleted paper may linger here; the ranker reads rows by pk
    afterwards and drops what is gone. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._day: dict[int, int] = {}  # pk -> proleptic ordinal; 0: no day
        self._seen: dt.datetime | None = None
        self._pks = np.zeros(0, dtype=np.int64)
        self._ordinals = np.zeros(0, dtype=np.int64)

    def since(self, connection: Connection, day: dt.date) -> list[int]:
        with self._lock:
            dirty = False
            for pk, when, modified in q.days_since(connection, self._seen):
                ordinal = when.toordinal() if when else 0
                if self._day.get(pk) != ordinal:
                    self._day[pk] = ordinal
                    dirty = True
                if self._seen is None or modified > self._seen:
                    self._seen = modified
            if dirty:
                self._pks = np.fromiter(self._day.keys(), np.int64, len(self._day))
                self._ordinals = np.fromiter(self._day.values(), np.int64, len(self._day))
            found = self._pks[self._ordinals >= day.toordinal()]
        return sorted(found.tolist())


class Recommender:
    """The ranking use cases (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        config: Config,
        searcher: Searcher,
        *,
        clock: Clock = utcnow,
        settings: RankSettings | None = None,
    ) -> None:
        self._db = db
        self.config = config
        self._search = searcher
        self._clock = clock
        self.settings = settings or RankSettings()
        self._days = _Days()
        self._models = ModelCache(config.recommend_model_cache_mb * 1024 * 1024)
        self._frequencies = FrequencyKeeper(db.read, clock=clock)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="paperroute-terms")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def count_terms(self, *, wait: bool = True) -> TermFrequencies | None:
        """The store's term counts (the term side's idf), brought up to date when due: a
        full count reads every stored term bag (seconds at 200k papers). ``wait=False``
        answers at once with the counts as they are (None before the first) and updates
        them in the background: what a request does, and a served process's start."""
        try:
            if wait:
                return self._frequencies.current()
            return self._frequencies.current_soon(self._pool)
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc

    # ------------------------------------------------------------------ profiles

    def account_for_email(self, email: str) -> int:
        """The reader's account id; raises NotFound."""
        with self._db.read() as connection:
            account = q.account_by_email(connection, email)
        if account is None:
            raise NotFound(f"no reader with the address {email.strip()[:100]!r}")
        return account

    def build_profile(self, account_id: int) -> Profile:
        """A reader's profile from their upvotes and the papers in their collections (a
        paper both upvoted and saved counts once, as saved)."""
        with self._db.read() as connection:
            signals = q.reader_signals(connection, account_id)
        best: dict[str, Seed] = {}
        for kind, paper_id, when in signals:
            seed = Seed(paper_id, kind, 1.0, when.date() if when else None)  # type: ignore[arg-type]
            held = best.get(paper_id)
            if held is None or KIND_WEIGHTS[seed.kind] > KIND_WEIGHTS[held.kind]:
                best[paper_id] = seed
        return Profile(seeds=tuple(best.values()))

    def match_library(
        self, entries: Sequence[LibraryEntry]
    ) -> tuple[list[tuple[str, LibraryEntry]], list[LibraryEntry]]:
        """The stored papers the entries name (by arXiv id, then DOI, then title hash, as
        the store's merge rules do), each once in the library's order with the first entry
        naming it, and the entries that name none."""
        try:
            with self._db.read() as connection:
                by_arxiv = q.pks_by_arxiv(connection, [e.arxiv_id for e in entries if e.arxiv_id])
                by_doi = q.ids_by_doi(connection, [e.doi for e in entries if e.doi])
                hashes = [title_hash(e.title) for e in entries if e.title]
                by_title = q.ids_by_title_hash(connection, hashes)
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc
        matched: list[tuple[str, LibraryEntry]] = []
        seen: set[str] = set()
        unmatched: list[LibraryEntry] = []
        for entry in entries:
            found = (
                (by_arxiv.get(entry.arxiv_id) if entry.arxiv_id else None)
                or (by_doi.get(entry.doi) if entry.doi else None)
                or (by_title.get(title_hash(entry.title)) if entry.title else None)
            )
            if found is None:
                unmatched.append(entry)
            elif found not in seen:
                seen.add(found)
                matched.append((found, entry))
        return matched, unmatched

    # ------------------------------------------------------------------ ranking

    def rank(
        self,
        profile: Profile,
        *,
        since: dt.date | None = None,
        limit: int = 20,
        exclude: set[str] | None = None,
        among: Collection[int] | None = None,
    ) -> list[Pick]:
        """The best ``limit`` papers for ``profile``, best first, each with its reason.
        ``since``: only papers announced (else submitted) on or after that day; without it
        the whole store is ranked. ``among``: only these papers (pks; a digest's window,
        whose papers are those first listed in it). Seeds, negatives and ``exclude`` are
        never picked, nor hidden papers. Raises InvalidInput for a limit out of
        1..10,000."""
        if not 1 <= limit <= MAX_RECOMMEND_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_RECOMMEND_LIMIT:,}")
        try:
            return self._rank(
                profile, since, limit, exclude or set(), None if among is None else set(among)
            )
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc

    def _rank(
        self,
        profile: Profile,
        since: dt.date | None,
        limit: int,
        exclude: set[str],
        among: set[int] | None = None,
    ) -> list[Pick]:
        # A due refresh of the vector index (counting the stored vectors: 40-100 ms at 200k
        # papers) runs off the request, as search's does; it was /for-you's p99.
        self._search.refresh_index_soon()
        settings = self.settings
        with self._db.read() as connection:
            reader = self._resolve(connection, profile)
            seed_pks = [s.pk for s in reader.seeds]
            interest = interests([reader.vectors], [reader.weights], settings)
            shortlist = self._shortlist(connection, interest, since, limit, among)
            by_author = q.pks_by_authors(connection, profile.authors, since, _FOLLOW_POOL)
            by_category = q.pks_by_categories(connection, profile.categories, since, _FOLLOW_POOL)
            if among is not None:
                by_author = {pk: v for pk, v in by_author.items() if pk in among}
                by_category = {pk: v for pk, v in by_category.items() if pk in among}
            pool = set(shortlist) | set(by_author) | set(by_category)
            pool -= {s.pk for s in reader.seeds} | reader.negatives
            pool -= {row.pk for row in q.rows_by_id(connection, sorted(exclude)).values()}
            pool -= q.hidden(connection, sorted(pool))
            pks = _newest_first(pool)
            model = reader_models(
                [ReaderSeeds(reader.vectors, reader.weights, seed_pks, reader.negative_vectors)],
                settings,
            )
            term_pks = model[0].term_keys.tolist()
            seed_bags = load_bags(connection, term_pks) if pks and term_pks else {}
            bags = load_bags(connection, pks) if seed_bags else {}
            if not pks:
                return []
            vectors, _ = self._search.index.vectors(pks)
            followed = np.array([(pk in by_author) + (pk in by_category) for pk in pks])
            # Only the terms the reader's seeds hold can score: the rest of the candidates'
            # terms are left out of the index (their idf would not be read).
            held = np.unique(np.concatenate([b[0] for b in seed_bags.values()] + [_NO_TERMS]))
            terms = (
                term_index([bags[pk] for pk in pks], settings, held, self.count_terms(wait=False))
                if seed_bags
                else None
            )
            score = score_models(
                model,
                vectors,
                terms,
                settings,
                seeds=seed_terms(model, seed_bags, terms, settings) if terms else None,
                bonus=[(settings.follow_bonus * followed).astype(np.float32)],
            )[0]
            picked = mmr(score, vectors, limit, settings)
            chosen = [pks[p] for p in picked.tolist()]
            rows = q.rows_by_pk(connection, chosen)
        return self._picks(
            reader,
            chosen,
            vectors[picked],
            score[picked],
            rows,
            {pk: f"by {name} you follow" for pk, name in by_author.items()},
            {pk: f"you follow {category}" for pk, category in by_category.items()},
        )

    @staticmethod
    def _picks(
        reader: _Reader,
        chosen: Sequence[int],
        vectors: F32,
        scores: F32,
        rows: Mapping[int, q.PaperRow],
        by_author: Mapping[int, str],
        by_category: Mapping[int, str],
    ) -> list[Pick]:
        """The chosen papers (pks, best first) as picks, each with its reason: a followed
        author, else the closest seed when close enough, else a followed category."""
        closest = (vectors @ reader.vectors.T) if len(reader.seeds) else None
        picks: list[Pick] = []
        for n, pk in enumerate(chosen):
            row = rows[pk]
            reason, reason_id = "trending in your topics", None
            near, at = -1.0, 0
            if closest is not None and closest.shape[1]:
                at = int(np.argmax(closest[n]))
                near = float(closest[n, at])
            if pk in by_author:
                reason = by_author[pk]
            elif near >= _CLOSE_ENOUGH:
                seed = reader.seeds[at]
                reason, reason_id = f"close to {seed.title}", seed.id
            elif pk in by_category:
                reason = by_category[pk]
            picks.append(Pick(row.id, row.title, round(float(scores[n]), 6), reason, reason_id))
        return picks

    # ------------------------------------------------------------------ many readers

    def for_many(
        self, profiles: Mapping[K, Profile], candidates: Sequence[str], k: int = 20
    ) -> dict[K, list[Pick]]:
        """Every reader's ``k`` best of the same candidates (paper ids: one day's papers, for
        the digests), best first, with reasons; readers are scored in blocks, one matrix
        product each (``ranking.rank_many``), so 100,000 readers over 2,000 papers take
        seconds, not a query each. No MMR (a digest section is short). A reader's seeds,
        negatives and hidden papers are never picked; a reader with nothing to go on (no
        seed with a vector, no follow) gets an empty list. Raises InvalidInput for k out of
        1..10,000."""
        if not 1 <= k <= MAX_RECOMMEND_LIMIT:
            raise InvalidInput(f"k must be between 1 and {MAX_RECOMMEND_LIMIT:,}")
        try:
            return self._for_many(profiles, candidates, k)
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc

    def _for_many(
        self, profiles: Mapping[K, Profile], candidates: Sequence[str], k: int
    ) -> dict[K, list[Pick]]:
        self._search.index.refresh()
        settings = self.settings
        keys = list(profiles)
        frequencies = self._frequencies.current()
        with self._db.read() as connection:
            found = q.rows_by_id(connection, list(candidates))
            pool = {row.pk for row in found.values()}
            pool -= q.hidden(connection, sorted(pool))
            pks = _newest_first(pool)
            rows = q.rows_by_pk(connection, pks)
            readers = self._resolve_many(connection, [profiles[key] for key in keys])
            models = self._models_of(readers) if pks else []
            seed_pks = sorted({int(pk) for m in models for pk in m.term_keys.tolist()})
            seed_bags = load_bags(connection, seed_pks) if pks and seed_pks else {}
            bags = load_bags(connection, pks) if pks else {}
            names, categories = q.follow_keys(connection, pks) if pks else ({}, {})
        out: dict[K, list[Pick]] = {key: [] for key in keys}
        if not pks:
            return out
        vectors = self._vectors(pks)
        at = {pk: n for n, pk in enumerate(pks)}
        banned: list[I64 | None] = []
        bonuses: list[F32 | None] = []
        follows: list[tuple[dict[int, str], dict[int, str]]] = []
        # Who wrote what and what is in which category, the other way round: a reader's
        # follows are then a few lookups, not a pass over every candidate.
        by_name: dict[str, list[int]] = {}
        by_category_name: dict[str, list[int]] = {}
        for pk in pks:
            for name in names.get(pk, ()):
                by_name.setdefault(name, []).append(pk)
            for category in categories.get(pk, ()):
                by_category_name.setdefault(category, []).append(pk)
        for key, reader in zip(keys, readers, strict=True):
            profile = profiles[key]
            by_author: dict[int, str] = {}
            for name, shown in sorted({fold_name(a): a for a in profile.authors}.items()):
                for pk in by_name.get(name, ()):
                    by_author.setdefault(pk, f"by {shown} you follow")
            by_category: dict[int, str] = {}
            for category in sorted(profile.categories):
                for pk in by_category_name.get(category, ()):
                    by_category.setdefault(pk, f"you follow {category}")
            follows.append((by_author, by_category))
            bonus = np.zeros(len(pks), dtype=np.float32)
            bonus[[at[pk] for pk in by_author]] += settings.follow_bonus
            bonus[[at[pk] for pk in by_category]] += settings.follow_bonus
            bonuses.append(bonus)
            never = [at[s.pk] for s in reader.seeds if s.pk in at]
            never += [at[pk] for pk in reader.negatives if pk in at]
            banned.append(np.asarray(never, dtype=np.int64))
        positions, scores = rank_many(
            models,
            vectors,
            k,
            settings,
            candidate_bags=[bags[pk] for pk in pks],
            seed_bags=seed_bags,
            frequencies=frequencies,
            banned=banned,
            bonus=bonuses,
        )
        for n, (key, reader) in enumerate(zip(keys, readers, strict=True)):
            by_author, by_category = follows[n]
            if not len(reader.seeds) and not by_author and not by_category:
                continue
            keep = np.isfinite(scores[n])
            chosen: I64 = positions[n][keep]
            out[key] = self._picks(
                reader,
                [pks[p] for p in chosen.tolist()],
                vectors[chosen],
                scores[n][keep],
                rows,
                by_author,
                by_category,
            )
        return out

    def _models_of(self, readers: Sequence[_Reader]) -> list[ReaderModel]:
        """Each reader's ranking model: kept from an earlier run while its seeds are the
        same, else built."""
        keys = [
            signature([s.pk for s in r.seeds], r.vectors, r.weights, sorted(r.negatives))
            for r in readers
        ]
        models: list[ReaderModel | None] = [self._models.get(key) for key in keys]
        missing = [n for n, model in enumerate(models) if model is None]
        built = reader_models(
            [
                ReaderSeeds(
                    readers[n].vectors,
                    readers[n].weights,
                    [s.pk for s in readers[n].seeds],
                    readers[n].negative_vectors,
                )
                for n in missing
            ],
            self.settings,
        )
        for n, model in zip(missing, built, strict=True):
            models[n] = model
            self._models.put(keys[n], model)
        return [m for m in models if m is not None]

    def _resolve(self, connection: Connection, profile: Profile) -> _Reader:
        return self._resolve_many(connection, [profile])[0]

    def _resolve_many(self, connection: Connection, profiles: Sequence[Profile]) -> list[_Reader]:
        """The profiles against the store, their rows, hidden papers and vectors read once
        for all of them."""
        ids = {s.paper_id for p in profiles for s in p.seeds}
        ids.update(i for p in profiles for i in p.negatives)
        rows = q.rows_by_id(connection, sorted(ids))
        # A paper the moderators hid is no seed: a pick's reason would show its title.
        hidden = q.hidden(connection, [row.pk for row in rows.values()])
        pks = sorted({row.pk for row in rows.values()})
        index = self._search.index
        stored, found = index.vectors(pks)
        vector_of = {pk: stored[n] for n, pk in enumerate(pks) if found[n]}
        today = self._clock().date()
        dim = index.dimension or 1
        out = []
        for profile in profiles:
            kept: list[tuple[Seed, q.PaperRow, F32]] = []
            for seed in profile.seeds:
                row = rows.get(seed.paper_id)
                if row is None or seed.paper_id in profile.negatives or row.pk in hidden:
                    continue
                vector = vector_of.get(row.pk)
                if vector is not None:
                    kept.append((seed, row, vector))
            # Newest first: when added, else the paper's own day.
            kept.sort(key=lambda item: item[0].added or item[1].day or today, reverse=True)
            recency = recency_weights(len(kept), self.settings.recency_power)
            kinds = np.array([KIND_WEIGHTS[s.kind] * max(s.weight, 0.0) for s, _, _ in kept])
            negatives = {rows[i].pk for i in profile.negatives if i in rows}
            shown = [vector_of[pk] for pk in sorted(negatives) if pk in vector_of]
            out.append(
                _Reader(
                    [row for _, row, _ in kept],
                    np.stack([v for _, _, v in kept]) if kept else np.zeros((0, dim), np.float32),
                    (recency * kinds).astype(np.float32),
                    negatives,
                    np.stack(shown) if shown else np.zeros((0, dim), np.float32),
                )
            )
        return out

    def _shortlist(
        self,
        connection: Connection,
        interest: Interests,
        since: dt.date | None,
        limit: int,
        among: set[int] | None = None,
    ) -> list[int]:
        """Candidates by vector: each interest's nearest papers (of the window when
        ``since`` is given, of ``among`` when that is)."""
        index = self._search.index
        allowed = np.asarray(self._days.since(connection, since), dtype=np.int64) if since else None
        if among is not None:
            allowed = np.asarray(sorted(among), dtype=np.int64)
        wanted = min(max(2 * limit, 300), 40_000)
        centres = interest.centres[0][interest.weights[0] > 0]
        if allowed is not None and len(allowed) <= 50_000:
            nearest = index.search_many(centres, wanted, allowed)
        else:
            nearest = [index.search(centre, wanted, allowed) for centre in centres]
        return sorted({pk for found in nearest for pk, _ in found})

    def _vectors(self, pks: Sequence[int]) -> F32:
        return self._search.index.vectors(pks)[0]


def _newest_first(pool: set[int]) -> list[int]:
    """Candidates newest first (the latest stored, highest pk): the ranking keeps the first
    of equal scores, so a reader whose only signals are followed categories or authors
    (equal bonuses) gets the newest of them, not the window's first day."""
    return sorted(pool, reverse=True)
