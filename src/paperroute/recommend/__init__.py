"""Recommendations ("For you"): library files, readers' profiles, the ranker.

``hub.recommend`` (a ``Recommender``) is the way in; ``parse_library`` reads a library file
without the database. Modules whose name starts with ``_`` are internal to the package.
"""

from .library import (
    MAX_LIBRARY_BYTES,
    MAX_LIBRARY_ENTRIES,
    LibraryEntry,
    LibraryError,
    LibraryParse,
    Skipped,
    parse_library,
)
from .model import SEED_KINDS, Pick, Profile, Seed, SeedKind
from .ranking import RankSettings
from .service import KIND_WEIGHTS, MAX_RECOMMEND_LIMIT, Recommender

__all__ = [
    "KIND_WEIGHTS",
    "MAX_LIBRARY_BYTES",
    "MAX_LIBRARY_ENTRIES",
    "MAX_RECOMMEND_LIMIT",
    "SEED_KINDS",
    "LibraryEntry",
    "LibraryError",
    "LibraryParse",
    "Pick",
    "Profile",
    "RankSettings",
    "Recommender",
    "Seed",
    "SeedKind",
    "Skipped",
    "parse_library",
]
