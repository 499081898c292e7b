"""``/api/models``: the model registry (shipped and home artefacts, each verified), a
verification summary, scoring lines with a text model (dga, url, email), and a home model's
stages (list, promote, rollback: ``garrison.measure.lifecycle``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query
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


#: A model name as the registry writes it (``dga``, ``beacon-calibration``...).
NAME = r"^[a-z][a-z0-9-]{0,63}$"


def _lifecycle(service: Any) -> Any:
    """The stage service acting as the same principal as ``service``."""
    from garrison.measure.lifecycle import LifecycleService

    return LifecycleService(service.home, service.audit, service.actor, service.authorize)


def _moved(move: Any) -> dict[str, Any]:
    return {
        "name": move.name,
        "action": move.action,
        "version": move.version or "shipped",
        "stage": move.stage,
        "replaced": move.replaced or None,
        "actor": move.actor,
    }


@route(router, "GET", "/api/models/stages", "models.read")
def stages(service: Models) -> list[dict[str, Any]]:
    """Each staged model: ``shadow``, ``canary``, ``production`` (null: empty; production
    null means the shipped model serves), ``rollback_target`` and ``problems``."""
    return [view.as_json() for view in _lifecycle(service).stages()]


class PromoteIn(Body):
    version: str = Field(min_length=1, max_length=200)
    to: Literal["shadow", "canary", "production"]


@route(router, "POST", "/api/models/{name}/promote", "models.promote")
def promote(
    body: PromoteIn, service: Models, name: str = Path(pattern=NAME, max_length=64)
) -> dict[str, Any]:
    """Move a registered version one stage on (shadow -> canary -> production): 404 for a
    version the registry does not hold, 409 for a move out of order."""
    return _moved(_lifecycle(service).promote(name, body.version, body.to))


@route(router, "POST", "/api/models/{name}/rollback", "models.promote")
def rollback(service: Models, name: str = Path(pattern=NAME, max_length=64)) -> dict[str, Any]:
    """Put the previous production version back (409 when there is none)."""
    return _moved(_lifecycle(service).rollback(name))
