"""Tables of the vectors domain, registered on the store's one MetaData (see schema.py)."""

from __future__ import annotations

from .schema import metadata

__all__ = ["metadata"]
