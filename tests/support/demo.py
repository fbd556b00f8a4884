"""The bundled demo data in a database of its own, loaded once per test session."""

from __future__ import annotations

from paperroute import Config, open_hub
from paperroute.ingest import ingest_demo


def load_demo(database_url: str) -> None:
    """``paperroute demo load`` into ``database_url`` (created and migrated first)."""
    with open_hub(Config(database_url=database_url)) as hub:
        report = ingest_demo(hub, None)
        assert not report.skipped, report.skipped[:3]
