"""Tables of the vectors domain (migration 0003): one embedding per (paper, model), stored as
float16 little-endian bytes, and one row per model describing how its vectors were made."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from .schema import metadata
from .types import UTCDateTime

TZ = UTCDateTime()

# The model a vector was made with. ``version`` names the weights and settings (max length):
# when it changes, every vector of that model is stale and is made again.
embedding_models = Table(
    "embedding_models",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("version", String(300), nullable=False),
    Column("dimension", Integer, nullable=False),
    Column("max_length", Integer, nullable=False),
    Column("updated_at", TZ, nullable=False),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("model", String(200), nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float16, little-endian, unit length
    # Hash of the text the vector was made from: a changed title or abstract makes it stale.
    Column("text_hash", String(32), nullable=False),
    Column("created_at", TZ, nullable=False),
    PrimaryKeyConstraint("paper_pk", "model"),
    Index("ix_embeddings_model_created", "model", "created_at"),
)

# Each paper's words and two-word sequences with their counts (search/_terms.py), for the
# tf-idf re-ranking of similar papers; dropped when the paper's text changes (migration 0006).
paper_terms = Table(
    "paper_terms",
    metadata,
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("terms", LargeBinary, nullable=False),  # sorted uint32 hashes, then uint8 counts
)
