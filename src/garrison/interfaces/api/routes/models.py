"""``/api/models``: the model registry (shipped and home artefacts, each verified), a
verification summary, and scoring lines with a text model (dga, url, email)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from garrison.interfaces.api.deps import Models, route
from garrison.interfaces.api.schemas import ERRORS, Body

router = APIRouter(tags=["models"])


def _row(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "version": row.version,
        "origin": row.origin,
        "sha256": row.digest,
        "signer": row.signer,
        "status": row.status,
    }


def _problem(p: Any) -> dict[str, Any]:
    return {"kind": p.kind, "origin": p.origin, "name": p.name, "version": p.version}


@route(router, "GET", "/api/models", "models.read")
def list_models(service: Models) -> list[dict[str, Any]]:
    return [_row(r) for r in service.registry().rows]


@route(router, "GET", "/api/models/verify", "models.read")
def verify(*, name: str | None = Query(None, max_length=100), service: Models) -> dict[str, Any]:
    """``ok`` false with each problem's kind when a digest, signature or binding fails."""
    report = service.registry(name)
    return {
        "ok": not report.problems,
        "artefacts": len(report.rows),
        "problems": [_problem(p) for p in report.problems],
    }


class ScoreIn(Body):
    lines: list[str] = Field(min_length=1, max_length=1000)
    threshold: float | None = Field(None, ge=0.0, le=1.0)


_GUARDED = {
    **ERRORS,
    429: {
        **ERRORS[429],
        "description": "the serving guard refused: rate limit, daily quota, or a client "
        "blocked for model extraction; wait Retry-After seconds",
    },
}


@route(router, "POST", "/api/models/{name}/score", "models.read", responses=_GUARDED)
def score(
    name: Literal["dga", "url", "email"], body: ScoreIn, service: Models
) -> list[dict[str, Any]]:
    """One result per line: ``input``, ``score`` (calibrated probability), ``verdict``,
    ``explanation`` (as ``garrison score``), coarsened as the serving guard's ``[guard]``
    settings say for this client (docs/serving-guard.md); every line is logged and the
    client's stream tested for model extraction."""
    results: list[dict[str, Any]] = service.score(name, body.lines, body.threshold)
    return results
