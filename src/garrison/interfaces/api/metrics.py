"""Prometheus figures of the running server (``GET /metrics``, ``metrics.read``): requests
by method, route template and status, and their durations. Route templates, never raw
paths, so an attacker cannot grow the label set with made-up URLs."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "garrison_api_requests",
            "API requests by method, route template and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.seconds = Histogram(
            "garrison_api_request_seconds",
            "API request duration by route template",
            ("route",),
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        self.requests.labels(method, route, str(status)).inc()
        self.seconds.labels(route).observe(seconds)

    def text(self) -> bytes:
        """The exposition; with several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set
        by ``garrison serve``), the sum over all of them, whichever worker is asked."""
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not folder:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=folder)
        return generate_latest(registry)
