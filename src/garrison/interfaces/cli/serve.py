"""``garrison serve``: the REST API (and, later, the console) on one port.

Thin: reads the configuration (``[serve]`` with ``GARRISON_SERVE_*`` overrides; the options
given here win), builds the app and runs it under uvicorn. Access logs are the API's own
JSON lines (``garrison.api.access``: method, route template, status, duration, principal),
so uvicorn's, which quote raw paths and query strings, are off.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import Annotated

import typer

from garrison.interfaces.cli.common import ConfigOption, HomeOption, config_for, err_console


class _JsonLines(logging.Formatter):
    """Access lines are JSON already; anything else is wrapped as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        message = record.getMessage()
        if record.name == "garrison.api.access":
            return message
        out = {"level": record.levelname.lower(), "logger": record.name, "message": message}
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=True)


def _logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    for name in ("garrison.api", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


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

    cfg = config_for(home, config)
    settings = load_serve_config(cfg.raw, cfg.path)
    if port is not None and not 1 <= port <= 65535:
        raise UsageError("--port must be between 1 and 65535")
    settings = dataclasses.replace(settings, host=host or settings.host, port=port or settings.port)
    app = create_app(cfg, settings)
    _logging()
    err_console.print(
        f"garrison serve: http://{settings.host}:{settings.port} (home {cfg.home})",
        highlight=False,
        markup=False,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
    )
