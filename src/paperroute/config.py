"""Configuration: defaults, then a TOML file, then ``PAPERROUTE_*`` environment variables.

Nothing is read at import time; ``load_config()`` is called once by the edge (CLI, server).
"""

from __future__ import annotations

import ipaddress
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///paperroute.db"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    # Other host names requests may name in their Host header (comma separated), besides
    # base_url's host and the loopback names; any other host gets 400.
    allowed_hosts: str = ""
    # smtp://[user:password@]host[:port] (STARTTLS with ?starttls=1), smtps://..., or
    # "outbox" to keep mail in the database (the default in demo mode).
    smtp_url: str = ""
    # A PEM bundle of the certificate authorities that sign the SMTP server's certificate,
    # for a server with a private CA; empty = the system's trusted authorities.
    smtp_ca_file: str = ""
    # Allow AUTH over an unencrypted connection (a relay on this machine only): without it,
    # credentials in a plain smtp:// URL are refused.
    smtp_auth_without_tls: bool = False
    mail_from: str = "paperroute <noreply@localhost>"
    # Optional Reply-To and Sender headers of every message.
    mail_reply_to: str = ""
    mail_sender: str = ""
    # The envelope sender (MAIL FROM, where bounces go): empty = mail_from's address; a fixed
    # address; or one holding {recipient} for VERP (bounces+{recipient}@example.org becomes
    # bounces+alice=example.com@example.org).
    mail_return_path: str = ""
    # Search (issue 4). The embedding model: "all-MiniLM-L6-v2" (bundled weights package) or
    # the path of a sentence-transformers-style BERT folder (model.safetensors,
    # tokenizer.json, config.json).
    embed_model: str = "all-MiniLM-L6-v2"
    embed_max_length: int = 128  # tokens per text, [CLS]/[SEP] included
    embed_batch_size: int = 64  # texts per stored batch of `paperroute embed`
    # The forward pass: "onnxruntime" (faster), "numpy", or "auto" (onnxruntime when it and
    # onnx can be imported, else numpy).
    embed_backend: str = "auto"
    # Where the vector index is kept: "" = next to a SQLite database (none for PostgreSQL:
    # built in memory at start), else a folder.
    vector_index_dir: str = ""
    # Exact inner-product search up to this many vectors, HNSW beyond.
    vector_exact_max: int = 300_000
    # From this many vectors (up to vector_exact_max), similar papers take their vector
    # neighbours from an HNSW graph beside the exact index, rescored exactly (docs/search.md).
    similar_graph_min: int = 100_000
    # Similar papers hold every paper's term bag in memory while the stored bags take at
    # most this many MiB (188 at 200k papers; inverted for their keyword neighbours, ~110
    # MiB more), else read their candidates' from the database; 0: never held
    # (docs/search.md).
    similar_bags_mb: int = 512
    # Hybrid search: weight of the semantic score (the keyword score gets 1 - it).
    hybrid_semantic_weight: float = 0.3
    # Community: minutes a sign-in link stays valid, days a sign-in lasts, and the hourly
    # limits on sign-in requests (per address, per client IP) and paper submissions (per reader).
    login_link_minutes: int = 15
    session_days: int = 30
    login_rate_per_email: int = 5
    login_rate_per_ip: int = 30
    submit_rate_per_reader: int = 20
    # Digests (issue 5): SMTP connections in parallel, messages per second over all of them
    # (0 = no limit), tries per message on 4xx / dropped connections, the first back-off.
    digest_pool_size: int = 4
    digest_rate_per_s: float = 50.0
    digest_max_attempts: int = 5
    digest_retry_base_s: float = 1.0
    # Send a short "nothing new" digest rather than nothing when no paper matches.
    digest_send_empty: bool = False
    # Bounces within digest_bounce_window_days that suppress an address (hard, soft).
    digest_bounce_hard_limit: int = 1
    digest_bounce_soft_limit: int = 3
    digest_bounce_window_days: int = 30
    # The token the bounce webhook (POST /api/v1/bounces) requires; empty = no webhook.
    digest_bounce_token: str = ""
    # Subscribe requests per client IP per hour, and per address per day.
    digest_subscribe_per_ip_hour: int = 10
    digest_subscribe_per_address_day: int = 3
    # Seconds between passes of `paperroute digest run-scheduler`.
    digest_scheduler_interval_s: float = 300.0
    # Seconds after which the send lease of a sender that died on another machine is taken
    # over (one on this machine whose process is gone at once); renewed every quarter of it.
    digest_lease_s: float = 120.0
    # Megabytes of readers' ranking models ("For you": interest vectors and term masses)
    # kept in memory between digest runs; a reader's model is rebuilt when their signals
    # change or it was dropped (least recently used first). About 40 kB a reader.
    recommend_model_cache_mb: int = 256
    # Trending (docs/trending.md): upvotes decay as (age in days + 1) ^ -gravity; code stars
    # count log10(1 + stars); recency halves every trending_recency_half_life days. The month
    # window's upvotes halve every trending_month_half_life days instead (no recency term).
    trending_gravity: float = 1.5
    trending_upvote_weight: float = 1.0
    trending_star_weight: float = 0.5
    trending_recency_weight: float = 1.0
    trending_recency_half_life: float = 3.0
    trending_month_half_life: float = 30.0
    # `paperroute serve` against slow and greedy clients (docs/deploy.md): seconds a client
    # has to send a request's headers (from connecting, or from its first byte after a
    # keep-alive pause) and its body; seconds an idle keep-alive connection is kept; the
    # largest request head (request line and headers) in bytes, 431 beyond; connections
    # plus requests in progress per worker process, 503 beyond.
    serve_header_timeout: float = 10.0
    serve_body_timeout: float = 30.0
    serve_keep_alive_timeout: int = 5
    serve_max_header_bytes: int = 16_384
    serve_limit_concurrency: int = 2_048
    # Operations (docs/deploy.md). Who may read /metrics: requests bearing this token
    # ("Authorization: Bearer <token>"), and clients in these networks (comma-separated
    # CIDRs); with neither set, nobody may.
    metrics_token: str = ""
    metrics_networks: str = ""
    # Log lines: "text" or "json" (one object per line); access_log adds one line per request.
    log_format: str = "text"
    access_log: bool = False
    # SQLite's synchronous pragma: "normal" (a power cut may lose the last transactions, never
    # corrupt) or "full" (each commit waits for the disk).
    sqlite_synchronous: str = "normal"
    # Upkeep jobs (docs/upkeep.md). `paperroute enrich`: arXiv ids per API request, hours
    # before a paper arXiv failed on is tried again (doubling with each failure), and the
    # category inference: neighbours that vote, the share of their vote a category needs.
    enrich_batch_size: int = 50
    enrich_retry_hours: float = 6.0
    infer_neighbours: int = 20
    infer_threshold: float = 0.35
    # `paperroute stars refresh`: GitHub's API, a token (optional: 60 requests an hour
    # without, 5000 with), hours before a repository's stars are asked for again.
    github_api_url: str = "https://api.github.com"
    github_token: str = ""
    stars_refresh_hours: float = 24.0
    # The task queue of the background jobs (docs/jobs.md): empty = a SQLite file beside a
    # SQLite database, or tables in the PostgreSQL database; redis://host:6379/0 = Redis
    # (workers on other machines).
    redis_url: str = ""
    # Worker threads of the job consumer embedded in `paperroute serve` (SQLite).
    worker_concurrency: int = 2
    # Seconds after which the lock of a job, or the claim on a scheduled source, whose worker
    # died is taken over; a live worker renews it every third of that.
    job_lease_s: float = 60.0
    # Seconds after a vote before trending is precomputed again: the votes of those seconds
    # share one run (0 = only after imports, stars and every 15 minutes).
    trending_debounce_s: float = 30.0


_INT = {
    "ingest_batch_size",
    "http_max_retries",
    "embed_max_length",
    "embed_batch_size",
    "vector_exact_max",
    "similar_graph_min",
    "similar_bags_mb",
    "login_link_minutes",
    "session_days",
    "login_rate_per_email",
    "login_rate_per_ip",
    "submit_rate_per_reader",
    "digest_pool_size",
    "digest_max_attempts",
    "digest_bounce_hard_limit",
    "digest_bounce_soft_limit",
    "digest_bounce_window_days",
    "digest_subscribe_per_ip_hour",
    "digest_subscribe_per_address_day",
    "serve_keep_alive_timeout",
    "serve_max_header_bytes",
    "serve_limit_concurrency",
    "enrich_batch_size",
    "infer_neighbours",
    "recommend_model_cache_mb",
    "worker_concurrency",
}
_FLOAT = {
    "arxiv_min_interval",
    "http_timeout",
    "hybrid_semantic_weight",
    "digest_rate_per_s",
    "digest_retry_base_s",
    "digest_scheduler_interval_s",
    "digest_lease_s",
    "trending_gravity",
    "trending_upvote_weight",
    "trending_star_weight",
    "trending_recency_weight",
    "trending_recency_half_life",
    "serve_header_timeout",
    "serve_body_timeout",
    "trending_month_half_life",
    "enrich_retry_hours",
    "infer_threshold",
    "stars_refresh_hours",
    "job_lease_s",
    "trending_debounce_s",
}
_NONZERO = {
    "digest_lease_s",
    "job_lease_s",
    "http_timeout",
    "trending_recency_half_life",
    "trending_month_half_life",
    "serve_header_timeout",
    "serve_body_timeout",
}
_AT_MOST_ONE = {"hybrid_semantic_weight", "infer_threshold"}
_BOOL = {"demo", "digest_send_empty", "smtp_auth_without_tls", "access_log"}
_MAY_BE_EMPTY = {
    "secret_key",
    "smtp_url",
    "smtp_ca_file",
    "mail_reply_to",
    "mail_sender",
    "mail_return_path",
    "vector_index_dir",
    "digest_bounce_token",
    "allowed_hosts",
    "metrics_token",
    "metrics_networks",
    "github_token",
    "redis_url",
}
_CHOICES = {
    "embed_backend": ("auto", "numpy", "onnxruntime"),
    "log_format": ("text", "json"),
    "sqlite_synchronous": ("normal", "full"),
}
_NETWORKS = {"metrics_networks"}
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
    if name in _CHOICES:
        word = str(value).strip().lower()
        if word not in _CHOICES[name]:
            allowed = ", ".join(_CHOICES[name])
            raise ConfigError(f"{where}: {name} must be one of {allowed}, not {value!r}")
        return word
    if name in _NETWORKS:
        return ",".join(str(n) for n in networks(str(value), f"{where}: {name}"))
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
            if name in _AT_MOST_ONE and real > 1:
                raise ConfigError(f"{where}: {name} must be between 0 and 1, not {value!r}")
            return real
    except ValueError:
        raise ConfigError(f"{where}: {name} must be a positive number, not {value!r}") from None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {name} must be a non-empty string")
    return value.strip()


def networks(text: str, where: str = "networks") -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/8, 192.0.2.7"`` -> the networks (an address is a network of one).
    Raises ConfigError naming the entry that is not an address or CIDR."""
    found: list[IPNetwork] = []
    for entry in text.replace(" ", ",").split(","):
        if entry:
            try:
                found.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ConfigError(
                    f"{where}: {entry!r} is not an IP address or network (CIDR)"
                ) from None
    return tuple(found)


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
