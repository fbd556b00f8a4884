"""Building blocks for features that run their own queries on the reading tables inside
their own connection (digests): the visibility condition, cards, and what trending's score
is computed from. Use cases go through ``hub.reading`` instead."""

from __future__ import annotations

from ._queries import candidates, load_cards, visible
from .model import Card
from .scoring import Candidate, Terms, Weights, reference_time, score

__all__ = [
    "Candidate",
    "Card",
    "Terms",
    "Weights",
    "candidates",
    "load_cards",
    "reference_time",
    "score",
    "visible",
]
