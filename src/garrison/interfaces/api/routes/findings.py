"""``/api/findings``: list with filters, one finding, an analyst's verdict."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from garrison.core.incidents import RISK_BANDS
from garrison.interfaces.api.deps import Bench, Who, route
from garrison.interfaces.api.schemas import Body, Note

router = APIRouter(tags=["findings"])

Band = Literal["Critical", "High", "Moderate", "Low", "Unknown"]
Verdict = Literal["tp", "btp", "fp"]


def band_range(band: str | None) -> tuple[int | None, int | None]:
    """The risk scores of a band (``RISK_BANDS``: lowest score of each band, descending)."""
    if band is None:
        return None, None
    floors = [floor for floor, _ in RISK_BANDS]
    names = [name for _, name in RISK_BANDS]
    i = names.index(band)
    return floors[i], (floors[i - 1] - 1 if i else None)


@route(router, "GET", "/api/findings", "findings.read")
def list_findings(
    *,
    status: Literal["active", "suppressed", "all"] = "active",
    band: Band | None = None,
    detector: str = Query("", max_length=200, description="analytic uid (rule id, detector)"),
    entity: str = Query("", max_length=500, description="an entity value (host, user, ip...)"),
    since: int | None = Query(None, ge=0, description="first event time >= (ms epoch)"),
    until: int | None = Query(None, ge=0, description="first event time <= (ms epoch)"),
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
    bench: Bench,
) -> list[dict[str, Any]]:
    from garrison.triage.store import FindingQuery

    low, high = band_range(band)
    query = FindingQuery(status, low, high, detector, entity, since, until, limit, offset)
    rows: list[dict[str, Any]] = bench.search_findings(query)
    return rows


@route(router, "GET", "/api/findings/{uid}", "findings.read")
def get_finding(uid: str, bench: Bench) -> dict[str, Any]:
    doc: dict[str, Any] = bench.finding(uid)
    return doc


class DispositionIn(Body):
    verdict: Verdict
    note: str = Note


@route(router, "POST", "/api/findings/{uid}/disposition", "findings.write")
def dispose_finding(
    uid: str,
    body: DispositionIn,
    bench: Bench,
    who: Who,
) -> dict[str, Any]:
    result: dict[str, Any] = bench.dispose_finding(uid, body.verdict, body.note, who.name)
    return result
