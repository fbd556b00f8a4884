"""Fixtures for the community tests: a hub with papers, the web app over it with mail going
to a real SMTP server (helpers in tests/support/community.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from paperroute import Config, open_hub
from paperroute.community import Community
from paperroute.hub import Hub
from paperroute.web.app import create_app
from support.community import SECRET, Clock, seed
from support.smtp import SmtpServer


@pytest.fixture
def config(database_url: str, smtp_server: SmtpServer) -> Config:
    return Config(
        database_url=database_url,
        secret_key=SECRET,
        smtp_url=smtp_server.url,
        arxiv_min_interval=0.0,
        http_timeout=5.0,
        allowed_hosts="testserver",  # the name the TestClient sends
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def seeded_hub(config: Config, clock: Clock) -> Iterator[Hub]:
    with open_hub(config, clock=clock) as hub:
        seed(hub)
        yield hub


@pytest.fixture
def community(seeded_hub: Hub) -> Community:
    return seeded_hub.community


@pytest.fixture
def app_config(config: Config, seeded_hub: Hub) -> Config:
    return config


@pytest.fixture
def client(app_config: Config) -> Iterator[TestClient]:
    app = create_app(app_config)
    with TestClient(app) as made:
        yield made
    app.state.hub.close()
