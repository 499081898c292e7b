"""``create_app(config)``: the FastAPI application ``garrison serve`` runs.

Built from the routers of ``routes`` (one module per feature), the error mapping of
``errors`` and the ``guard`` (security headers, authentication, body limits, JSON access
log, metrics) around everything. Nothing heavy is imported here: each service is built
per request by ``deps``, so model code loads only when a route needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from garrison import __version__
from garrison.core.config import GarrisonConfig
from garrison.core.serveconfig import ServeConfig, load_serve_config
from garrison.core.timeutil import now_ms
from garrison.govern.access.sessions import SessionStore
from garrison.govern.access.throttle import LoginThrottle
from garrison.govern.audit import open_audit
from garrison.interfaces.api import errors
from garrison.interfaces.api.deps import Context
from garrison.interfaces.api.guard import Guard
from garrison.interfaces.api.metrics import Metrics
from garrison.interfaces.api.routes import ROUTERS
from garrison.store.state import StateDB


def create_app(
    config: GarrisonConfig,
    serve: ServeConfig | None = None,
    clock: Callable[[], int] = now_ms,
) -> FastAPI:
    """The API over the home of ``config``; ``serve`` defaults to its ``[serve]`` table
    (with ``GARRISON_SERVE_*`` overrides); ``clock`` (ms) moves session expiry and sign-in
    throttling in tests."""
    serve = serve if serve is not None else load_serve_config(config.raw, config.path)
    state = StateDB(config.home / "state.db")
    ctx = Context(
        config,
        serve,
        state,
        open_audit(config.home, state),
        SessionStore(state, serve.session_ttl_ms, clock),
        LoginThrottle(state, clock=clock),
    )
    app = FastAPI(
        title="Garrison",
        version=__version__,
        description="Garrison's REST API. Every route but /healthz needs a Bearer token "
        "(garrison tokens issue) or a console session; x-permission names each route's "
        "permission (docs/access.md).",
        docs_url=None,  # the interactive pages load scripts from a CDN: not offline, not CSP
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.garrison = ctx
    app.state.metrics = Metrics()
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(Guard, ctx=ctx, metrics=app.state.metrics)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At start, in a worker thread: the finding and incident stores' DDL, so the services
    built per request on the event loop find their tables ready (``StateDB.ensure`` returns
    without waiting on the state's lock) and the first request does not pay the imports."""
    await to_thread.run_sync(_create_tables, app.state.garrison)
    yield


def _create_tables(ctx: Context) -> None:
    from garrison.correlate.store import IncidentStore
    from garrison.triage.store import FindingStore

    FindingStore(ctx.state)
    IncidentStore(ctx.state)
