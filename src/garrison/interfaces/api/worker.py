"""The app each worker process of ``garrison serve`` builds (``[serve] workers`` > 1).

uvicorn starts worker processes afresh and imports the app by name, so what the command
line decided (home, configuration file, host and port) reaches them through one
environment variable, ``GARRISON_API_WORKER`` (JSON), set by ``garrison serve`` before it
starts them. Each worker loads and checks the configuration again, as the command did.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

WORKER_ENV = "GARRISON_API_WORKER"
#: Where worker processes keep their Prometheus figures so /metrics adds them all up
#: (prometheus_client's multi-process mode reads this variable).
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    home: str
    config: str | None
    host: str
    port: int

    def to_env(self) -> str:
        return json.dumps({"home": self.home, "config": self.config, "host": self.host,
                           "port": self.port})  # fmt: skip

    @classmethod
    def from_env(cls) -> WorkerSpec:
        raw = json.loads(os.environ[WORKER_ENV])
        return cls(str(raw["home"]), raw.get("config"), str(raw["host"]), int(raw["port"]))


def prepare_metrics(home: Path) -> Path:
    """A fresh folder for this server's per-worker metric files (the last run's removed)."""
    folder = home / "run" / "metrics"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in folder.glob("*.db"):
        old.unlink()
    return folder


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker: the app for the spec in ``GARRISON_API_WORKER``."""
    import dataclasses

    from garrison.core.config import load_config
    from garrison.core.serveconfig import load_serve_config
    from garrison.interfaces.api.app import create_app
    from garrison.interfaces.api.logs import setup_logging

    spec = WorkerSpec.from_env()
    config = load_config(spec.home, spec.config)
    serve = load_serve_config(config.raw, config.path)
    serve = dataclasses.replace(serve, host=spec.host, port=spec.port)
    setup_logging()
    return create_app(config, serve)
