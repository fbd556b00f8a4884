"""paperroute: a self-hostable hub for research papers.

The public Python API: ``open_hub(load_config())`` gives a Hub with every use case.
"""

from .config import Config, load_config
from .errors import (
    ConfigError,
    InvalidInput,
    NotFound,
    PaperrouteError,
    SourceError,
    StorageError,
)
from .hub import Hub, open_hub
from .model import DailyEntry, IngestReport, Paper, PaperRecord, RecordError

__all__ = [
    "Config",
    "ConfigError",
    "DailyEntry",
    "Hub",
    "IngestReport",
    "InvalidInput",
    "NotFound",
    "Paper",
    "PaperRecord",
    "PaperrouteError",
    "RecordError",
    "SourceError",
    "StorageError",
    "load_config",
    "open_hub",
]
