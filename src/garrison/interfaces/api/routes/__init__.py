"""One module per feature: a router and its schemas; ``ROUTERS`` lists them in order."""

from __future__ import annotations

from fastapi import APIRouter

from garrison.interfaces.api.routes import (
    approvals,
    audit,
    findings,
    health,
    incidents,
    ingest,
    kpi,
    models,
    playbooks,
    session,
    users,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    session.router,
    ingest.router,
    findings.router,
    incidents.router,
    approvals.router,
    playbooks.router,
    models.router,
    kpi.router,
    audit.router,
    users.router,
)
