"""What the For-you tests share: corpus papers they name and a small library file."""

from __future__ import annotations

# Corpus papers (tests/data/jsonl/corpus-300.jsonl.gz): five of math.DG, a minority topic.
DG = ("0704.0595", "0704.3422", "0704.3468", "0705.0710", "0705.0766")

# One entry the hub holds (by arXiv id), one it does not (kept privately), one broken.
BIB = b"""
@article{known, title = {Whatever the file says}, eprint = {0704.0595}, archivePrefix = {arXiv}}
@article{private, title = {An unpublished draft on Ricci flow}, author = {Doe, Jane},
  date = {2026-01-15}, abstract = {Curvature flows on surfaces.}}
@article{broken, title = {Unclosed
"""
