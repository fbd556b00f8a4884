from __future__ import annotations

from pathlib import Path

import pytest

from paperroute.config import DEFAULT_DATABASE_URL, Config, load_config
from paperroute.errors import ConfigError


def test_defaults() -> None:
    config = load_config({})
    assert config.database_url == DEFAULT_DATABASE_URL
    assert config.arxiv_min_interval == 3.0


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    file = tmp_path / "paperroute.toml"
    file.write_text('database_url = "sqlite:///from-file.db"\ningest_batch_size = 10\n')
    env = {"PAPERROUTE_CONFIG": str(file), "PAPERROUTE_INGEST_BATCH_SIZE": "20"}
    config = load_config(env)
    assert config.database_url == "sqlite:///from-file.db"
    assert config.ingest_batch_size == 20
    assert load_config(env, database_url="sqlite:///cli.db").database_url == "sqlite:///cli.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAPERROUTE_INGEST_BATCH_SIZE": "many"}, "ingest_batch_size must be a positive"),
        ({"PAPERROUTE_INGEST_BATCH_SIZE": "0"}, "ingest_batch_size must be a positive"),
        ({"PAPERROUTE_ARXIV_MIN_INTERVAL": "-1"}, "arxiv_min_interval must be a positive"),
        ({"PAPERROUTE_DATABASE_URL": "  "}, "database_url must be a non-empty string"),
    ],
)
def test_invalid_values_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env)


def test_unknown_and_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'nonsense'"):
        load_config({}, path=bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("database_url = \n")
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config({}, path=broken)
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config({}, path=tmp_path / "missing.toml")


@pytest.mark.parametrize("value", ["0", "nan", "inf"])
def test_a_timeout_must_be_a_positive_finite_number(value: str) -> None:
    with pytest.raises(ConfigError, match="http_timeout must be a positive"):
        load_config({"PAPERROUTE_HTTP_TIMEOUT": value})


def test_serve_follows_its_port_while_base_url_is_left_at_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader's review: on --port 18090 the mail links named port 8000 (dead links)."""
    from paperroute.cli.web import served_base_url

    monkeypatch.delenv("PAPERROUTE_BASE_URL", raising=False)
    assert served_base_url(Config(), "127.0.0.1", 18090) == "http://127.0.0.1:18090"
    assert served_base_url(Config(), "::1", 8001) == "http://[::1]:8001"
    assert served_base_url(Config(), "localhost", 8000) == "http://localhost:8000"
    chosen = Config(base_url="https://papers.example.org")
    assert served_base_url(chosen, "127.0.0.1", 18090) == "https://papers.example.org"
    assert served_base_url(Config(), "0.0.0.0", 80) == Config().base_url
    monkeypatch.setenv("PAPERROUTE_BASE_URL", "http://127.0.0.1:8000")
    assert served_base_url(Config(), "127.0.0.1", 18090) == "http://127.0.0.1:8000"
