"""The ASGI app. ``create_app(config)`` wires it; ``app_from_env()`` is the factory that
``paperroute serve`` hands to uvicorn, so that each worker process opens its own engine.

Extension points on ``app.state`` (other parts append inside their ``install(app)``):

- ``paper_sections``: ``(place, section)`` pairs, a section a callable ``(request, paper,
  paper_pk) -> (template, context) | None`` rendered on the paper page below the abstract,
  by place (``web/sections.py``), then as appended.
- ``me_sections``: callables ``(request, user) -> (template, context) | None`` for /me.
- ``ready_checks``: name -> blocking callable returning a ``Check``, run by ``/readyz``
  (``web/ops.py``); ``metrics``: the ``Metrics`` of ``/metrics``, whose ``jobs`` and
  ``queue`` hooks the job runner fills (``web/metrics.py``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from ..config import Config, load_config
from ..heap import settle_heap
from ..hub import Hub, open_hub
from ..jobs import QueueProbe, TrendingNudge
from ..search import Embedder
from . import ops, problems
from .cache import PageCache
from .metrics import MULTIPROC_ENV, JobTotals, Metrics
from .security import FrontDoor
from .templating import configure_templates

HERE = Path(__file__).parent

PaperSection = Callable[[Request, Any, int], "tuple[str, dict[str, Any]] | None"]
MeSection = Callable[[Request, Any], "tuple[str, dict[str, Any]] | None"]


class StateDefaults:
    """Gives every request ``state.user = None`` and ``state.csrf_token = ""`` until the
    session middleware (community, outside this one) sets the real ones; then answers an
    anonymous GET from the page cache before any routing. Pure ASGI: a hit costs next to
    nothing (the security headers are added by ``FrontDoor``, outside)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.setdefault("state", {})
            state.setdefault("user", None)
            state.setdefault("csrf_token", "")
            if scope["method"] == "GET" and state["user"] is None:
                cache: PageCache = scope["app"].state.page_cache
                if cache.due():  # a query: never on the event loop
                    await run_in_threadpool(cache.refresh)
                query = scope["query_string"].decode("latin-1")
                hit = cache.lookup(scope["path"], query, state["csrf_token"] or "")
                if hit is not None:
                    state["page_cache_hit"] = True  # the request metrics' route label
                    body, media_type = hit
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [
                                (b"content-type", media_type),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)


def create_app(
    config: Config, *, embedder: Embedder | None = None, settle: bool = False
) -> FastAPI:
    """The hub's web app over the database named by ``config`` (``embedder`` replaces the
    configured one: tests use small deterministic ones). ``settle``: a served process's,
    whose heap at start is frozen once started (settle_heap)."""
    hub = open_hub(config, embedder)
    queue = QueueProbe(config)
    # A vote asks the job queue for trending to be precomputed soon (docs/jobs.md).
    nudge = TrendingNudge(config, hub)
    hub.community.on_vote(nudge)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # For you's term counts (a read of every stored term bag) start off the requests.
        await run_in_threadpool(hub.recommend.count_terms, wait=False)
        hub.search.warm_soon()  # similar papers' bags and the vector index, likewise
        if settle:
            settle_heap()
        yield
        nudge.close()
        queue.close()
        hub.close()

    app = FastAPI(
        title="paperroute",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.hub = hub
    app.state.trending_nudge = nudge
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    configure_templates(templates, config)
    app.state.templates = templates
    app.state.page_cache = PageCache(hub.reading.data_version)
    app.state.paper_sections = []
    app.state.me_sections = []
    problems.install_error_handlers(app)
    app.add_middleware(StateDefaults)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from . import api, community_setup, feeds, hf_compat, pages

    app.include_router(hf_compat.router)
    app.include_router(feeds.router)
    # Other parts: one include_router / install line each, here: above api and pages, whose
    # GET /api/v1/papers/{id:path} and /papers/{id:path} catch every longer path.
    community_setup.install(app)
    from . import foryou_setup

    foryou_setup.install(app)  # after the community's: its session middleware runs first
    from . import digest_routes

    digest_routes.install(app)  # after the community's: its one-click route runs before CSRF
    from . import search_routes

    search_routes.install(app)  # /api/v1/papers/{id}/similar: above api's catch-all
    app.include_router(api.router)
    app.include_router(pages.router)
    from . import openapi

    openapi.install(app)
    # /healthz, /readyz, /metrics and the request metrics: outside everything but FrontDoor.
    app.state.ready_checks = ops.default_checks(hub)
    app.state.metrics = Metrics(hub, multiprocess_dir=os.environ.get(MULTIPROC_ENV))
    # The background jobs (jobs/): their totals, the queue's depth and whether it answers.
    app.state.ready_checks["queue"] = queue.check
    app.state.metrics.jobs = lambda: _job_totals(hub)
    app.state.metrics.queue = queue.pending
    app.add_middleware(
        ops.Operations, config=config, metrics=app.state.metrics, checks=app.state.ready_checks
    )
    app.add_middleware(FrontDoor, config=config)  # last added: the outermost
    return app


def _job_totals(hub: Hub) -> list[JobTotals]:
    return [
        JobTotals(
            job=stats.job,
            runs=stats.runs,
            failures=stats.failures,
            seconds=stats.seconds,
            last_success=stats.last_success_at.timestamp() if stats.last_success_at else None,
        )
        for stats in hub.job_runs.totals()
    ]


def app_from_env() -> FastAPI:
    """Factory for uvicorn (``--factory``): configuration from the environment. A served
    process runs BLAS on one thread: its requests are its parallelism, and the small
    matrix products of a request (For you, similar papers) split over threads wait for
    cores the other requests hold (For you's p50 at 200k papers: 298 ms with two BLAS
    threads on a busy two-core machine, 214 ms with one)."""
    threadpool_limits(limits=1, user_api="blas")
    return create_app(load_config(), settle=True)
