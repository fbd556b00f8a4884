"""Configuration: defaults, then a TOML file, then ``PAPERROUTE_*`` environment variables.

Nothing is read at import time; ``load_config()`` is called once by the edge (CLI, server).
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///paperroute.db"


@dataclass(frozen=True, slots=True)
class Config:
    """Every setting, with its default. Documented in docs/configuration.md."""

    database_url: str = DEFAULT_DATABASE_URL
    # Records per transaction on import: larger is faster, smaller loses less on a crash.
    ingest_batch_size: int = 5000
    # Seconds between requests to arXiv (its terms ask for 3).
    arxiv_min_interval: float = 3.0
    http_max_retries: int = 4
    http_timeout: float = 30.0
    oai_url: str = "https://oaipmh.arxiv.org/oai"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    hf_daily_url: str = "https://huggingface.co/api/daily_papers"
    # Demo mode: mail goes to the local outbox (shown at /dev/outbox) and a throwaway secret
    # key is allowed. Never on a public server.
    demo: bool = False
    # Signs session cookies, magic links and unsubscribe links. Required outside demo mode.
    secret_key: str = ""
    # The address readers reach the hub at; links in mail are built from it.
    base_url: str = "http://127.0.0.1:8000"
    # smtp://[user:password@]host[:port] (STARTTLS with ?starttls=1), smtps://..., or
    # "outbox" to keep mail in the database (the default in demo mode).
    smtp_url: str = ""
    mail_from: str = "paperroute <noreply@localhost>"


_INT = {"ingest_batch_size", "http_max_retries"}
_FLOAT = {"arxiv_min_interval", "http_timeout"}
_NONZERO = {"http_timeout"}
_BOOL = {"demo"}
_MAY_BE_EMPTY = {"secret_key", "smtp_url"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, value: object, where: str) -> object:
    if name in _BOOL:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise ConfigError(f"{where}: {name} must be true or false, not {value!r}")
    if name in _MAY_BE_EMPTY and isinstance(value, str):
        return value.strip()
    try:
        if name in _INT:
            number = int(str(value))
            if number < 1:
                raise ValueError
            return number
        if name in _FLOAT:
            real = float(str(value))
            if not math.isfinite(real) or real < 0 or (real == 0 and name in _NONZERO):
                raise ValueError
            return real
    except ValueError:
        raise ConfigError(f"{where}: {name} must be a positive number, not {value!r}") from None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {name} must be a non-empty string")
    return value.strip()


def load_config(
    environ: Mapping[str, str] | None = None,
    path: Path | None = None,
    **overrides: object,
) -> Config:
    """Build the configuration. ``path`` (or ``PAPERROUTE_CONFIG``) names a TOML file whose
    keys are Config's field names; ``PAPERROUTE_<FIELD>`` variables override it; keyword
    overrides (from command-line options) win over both. Raises ConfigError."""
    env = os.environ if environ is None else environ
    names = {f.name for f in fields(Config)}
    values: dict[str, object] = {}
    file = path or (Path(env["PAPERROUTE_CONFIG"]) if env.get("PAPERROUTE_CONFIG") else None)
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read configuration {file}: {exc}") from None
        for key, value in data.items():
            if key not in names:
                raise ConfigError(f"{file}: unknown setting {key!r}")
            values[key] = _coerce(key, value, str(file))
    for name in names:
        variable = f"PAPERROUTE_{name.upper()}"
        if variable in env:
            values[name] = _coerce(name, env[variable], variable)
    for name, value in overrides.items():
        if value is not None:
            values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    return Config(**values)  # type: ignore[arg-type]
