"""The command line (``paperroute``): parse arguments, call the use cases, print."""

from .ingest import app, main

__all__ = ["app", "main"]
