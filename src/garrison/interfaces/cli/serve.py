"""``garrison serve``: the REST API (and, later, the console) on one port.

Thin: reads the configuration (``[serve]`` with ``GARRISON_SERVE_*`` overrides; the options
given here win), builds the app and runs it under uvicorn. Access logs are the API's own
JSON lines (``garrison.api.access``: method, route template, status, duration, principal),
so uvicorn's, which quote raw paths and query strings, are off.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Annotated

import typer

from garrison.interfaces.cli.common import ConfigOption, HomeOption, config_for, err_console

#: What each worker process imports when ``[serve] workers`` > 1.
WORKER_APP = "garrison.interfaces.api.worker:app_from_environment"


def serve(
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to bind (default: serve table, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: port in the serve table, 8600).")
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the REST API (OpenAPI at /openapi.json); /healthz needs no credentials."""
    import uvicorn

    from garrison.core.errors import UsageError
    from garrison.core.serveconfig import load_serve_config
    from garrison.interfaces.api.app import create_app
    from garrison.interfaces.api.logs import setup_logging
    from garrison.interfaces.api.worker import (
        METRICS_ENV,
        WORKER_ENV,
        WorkerSpec,
        prepare_metrics,
    )

    cfg = config_for(home, config)
    settings = load_serve_config(cfg.raw, cfg.path)
    if port is not None and not 1 <= port <= 65535:
        raise UsageError("--port must be between 1 and 65535")
    settings = dataclasses.replace(settings, host=host or settings.host, port=port or settings.port)
    app = create_app(cfg, settings)  # checks the home and configuration before listening
    setup_logging()
    err_console.print(
        f"garrison serve: http://{settings.host}:{settings.port} (home {cfg.home}, "
        f"{settings.workers} worker{'s' if settings.workers > 1 else ''})",
        highlight=False,
        markup=False,
    )
    run = functools.partial(
        uvicorn.run,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
    )
    if settings.workers == 1:
        run(app)
        return
    spec = WorkerSpec(str(cfg.home), str(config) if config else None, settings.host, settings.port)
    os.environ[WORKER_ENV] = spec.to_env()
    os.environ[METRICS_ENV] = str(prepare_metrics(cfg.home))
    run(WORKER_APP, factory=True, workers=settings.workers)
