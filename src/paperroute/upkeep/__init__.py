"""The hub's upkeep jobs (issue 11): arXiv enrichment, inferred categories, code stars."""

from .infer import Accuracy
from .service import EnrichReport, InferReport, StarsReport, Upkeep

__all__ = ["Accuracy", "EnrichReport", "InferReport", "StarsReport", "Upkeep"]
