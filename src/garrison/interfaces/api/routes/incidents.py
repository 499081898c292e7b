"""``/api/incidents``: list with filters, one incident with its timeline and history,
similar incidents, and the analyst's workflow (assign, verdict, ack, resolve, merge,
split)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from garrison.interfaces.api.deps import Bench, Who, route
from garrison.interfaces.api.routes.findings import Band, Verdict
from garrison.interfaces.api.schemas import Body, Note

router = APIRouter(tags=["incidents"])
Status = Literal["open", "new", "acknowledged", "resolved", "closed", "suppressed", "all"]
Uids = list[str]


@route(router, "GET", "/api/incidents", "incidents.read")
def list_incidents(
    *,
    status: Status = "open",
    band: Band | None = None,
    entity: str = Query("", max_length=500, description="kind:value or a bare value"),
    since: int | None = Query(None, ge=0, description="first finding time >= (ms epoch)"),
    until: int | None = Query(None, ge=0, description="first finding time <= (ms epoch)"),
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
    bench: Bench,
) -> list[dict[str, Any]]:
    from garrison.correlate.store import IncidentQuery

    query = IncidentQuery(status, band or "", entity, since, until, limit, offset)
    rows: list[dict[str, Any]] = bench.search_incidents(query)
    return rows


@route(router, "GET", "/api/incidents/{uid}", "incidents.read")
def get_incident(uid: str, bench: Bench) -> dict[str, Any]:
    """The incident as OCSF (timeline, kill-chain stages, explanation, enrichment), its
    history of analyst actions and its current assignee."""
    inc = bench.incident(uid)
    history = bench.incident_events(inc.uid)
    assigned = [e["detail"] for e in history if e["action"] == "assign"]
    return {
        "incident": inc.to_ocsf(),
        "history": history,
        "assignee": assigned[-1] if assigned else "",
    }


@route(router, "GET", "/api/incidents/{uid}/similar", "incidents.read")
def similar(*, uid: str, k: int = Query(5, ge=1, le=50), bench: Bench) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = bench.similar(uid, k)
    return rows


class AssignIn(Body):
    assignee: str = Field(
        pattern=r"^([a-z_][a-z0-9_.-]{0,31})?$", description="a user name, or empty to unassign"
    )


@route(router, "POST", "/api/incidents/{uid}/assign", "incidents.write")
def assign(
    uid: str,
    body: AssignIn,
    bench: Bench,
    who: Who,
) -> dict[str, str]:
    return {"incident": bench.assign(uid, body.assignee, who.name), "assignee": body.assignee}


class DispositionIn(Body):
    verdict: Verdict
    note: str = Note
    resolve: bool = False


@route(router, "POST", "/api/incidents/{uid}/disposition", "incidents.write")
def dispose(
    uid: str,
    body: DispositionIn,
    bench: Bench,
    who: Who,
) -> dict[str, str]:
    done = bench.dispose_incident(uid, body.verdict, body.note, who.name, body.resolve)
    return {"incident": done, "verdict": body.verdict}


class NoteIn(Body):
    note: str = Note


@route(router, "POST", "/api/incidents/{uid}/ack", "incidents.write")
def ack(
    uid: str,
    body: NoteIn,
    bench: Bench,
    who: Who,
) -> dict[str, str]:
    return {"incident": bench.set_status(uid, "acknowledged", who.name, body.note)}


class ResolveIn(Body):
    verdict: Verdict | None = None
    note: str = Note


@route(router, "POST", "/api/incidents/{uid}/resolve", "incidents.write")
def resolve(
    uid: str,
    body: ResolveIn,
    bench: Bench,
    who: Who,
) -> dict[str, str]:
    if body.verdict:
        done = bench.dispose_incident(uid, body.verdict, body.note, who.name, resolve=True)
    else:
        done = bench.set_status(uid, "resolved", who.name, body.note)
    return {"incident": done, "status": "resolved"}


class MergeIn(Body):
    target: str = Field(min_length=1, max_length=128)
    others: Uids = Field(min_length=1, max_length=100)


@route(router, "POST", "/api/incidents/merge", "incidents.write")
def merge(
    body: MergeIn,
    bench: Bench,
    who: Who,
) -> dict[str, Any]:
    inc = bench.merge(body.target, body.others, who.name)
    return {"incident": inc.uid, "findings": len(inc.finding_uids), "risk_score": inc.risk_score}


class SplitIn(Body):
    findings: Uids = Field(min_length=1, max_length=1000)


@route(router, "POST", "/api/incidents/{uid}/split", "incidents.write")
def split(
    uid: str,
    body: SplitIn,
    bench: Bench,
    who: Who,
) -> dict[str, Any]:
    kept, new = bench.split(uid, body.findings, who.name)
    return {
        "kept": {"incident": kept.uid, "findings": len(kept.finding_uids)},
        "new": {"incident": new.uid, "findings": len(new.finding_uids)},
    }
