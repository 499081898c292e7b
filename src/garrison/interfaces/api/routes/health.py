"""``/healthz`` (the one route needing no credentials: it says only that the server is up
and its state answers) and ``/metrics`` (Prometheus text, ``metrics.read``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from garrison.interfaces.api.deps import context, route

router = APIRouter(tags=["operations"])


@router.get("/healthz", responses={503: {"description": "state unavailable"}})
def healthz(request: Request) -> dict[str, str]:
    context(request).users().has_users()  # the state answers
    return {"status": "ok"}


@route(router, "GET", "/metrics", "metrics.read", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    text = request.app.state.metrics.text()
    return PlainTextResponse(text, media_type=CONTENT_TYPE_LATEST)
