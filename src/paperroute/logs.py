"""Log lines: plain text for a terminal, or one JSON object per line for a log pipeline
(``log_format = "json"``, ``paperroute --log-format json``).

A JSON line holds ``time`` (UTC, ISO 8601 with milliseconds and ``Z``), ``level``,
``logger`` and ``message``, then the record's ``fields`` (the access log's ``method``,
``path``, ``route``, ``status``, ``duration_ms``, ``client``) and ``exception`` when there
is a traceback. The same configuration is handed to uvicorn, so that each worker process
of ``paperroute serve`` writes its own lines (and uvicorn's) in the chosen format.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "paperroute.access"
# Start-up lines (`paperroute serve`'s address) are INFO even when the rest is WARNING.
NOTICE_LOGGER = "paperroute.serve"


# Line breaks (and the other controls) that a request path, a header, an address or a
# remote server's error text may carry: written as they are, one could forge log lines.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


class TextFormatter(logging.Formatter):
    """``TEXT_FORMAT`` lines whose message shows control characters escaped (``\\r\\n``),
    so that each record is one line; a traceback after it keeps its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return _CONTROL.sub(_escaped, super().formatMessage(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created, dt.UTC)
        entry: dict[str, Any] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``log_format`` ("text" or "json")."""
    return JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT)


def server_log_config(log_format: str, *, verbose: bool = False) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's ``log_config``: uvicorn's loggers and
    paperroute's write to stderr in ``log_format``; the access log and the start-up notice
    at INFO, the rest at WARNING (INFO with ``verbose``)."""
    chosen: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if log_format == "json"
        else {"()": f"{__name__}.TextFormatter", "fmt": TEXT_FORMAT}
    )
    level = "INFO" if verbose else "WARNING"
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "chosen",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"chosen": chosen},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "paperroute": {"handlers": ["stderr"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"level": "INFO"},
            NOTICE_LOGGER: {"level": "INFO"},
        },
    }
