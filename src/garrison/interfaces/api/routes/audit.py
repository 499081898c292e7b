"""``/api/audit``: entries with filters (newest first), verification of the chain, and
its head to keep outside the home (``garrison audit verify --head`` checks it later)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from garrison.govern.audit.reader import AuditFilter
from garrison.interfaces.api.deps import Reader, route

router = APIRouter(tags=["audit"])


@route(router, "GET", "/api/audit", "audit.read")
def entries(
    *,
    action: str = Query("", max_length=100, description="glob, e.g. allowlist.*"),
    actor: str = Query("", max_length=64),
    since: int | None = Query(None, ge=0, description="time >= (ms epoch)"),
    until: int | None = Query(None, ge=0, description="time <= (ms epoch)"),
    before: int | None = Query(None, ge=1, description="seq < (paging back)"),
    limit: int = Query(50, ge=1, le=1000),
    reader: Reader,
) -> list[dict[str, Any]]:
    found = reader.entries(AuditFilter(action, actor, since, until, before, limit))
    return [e.to_json() for e in found]


def _verdict(v: Any) -> dict[str, Any]:
    return {
        "ok": v.ok,
        "entries": v.entries,
        "broken_seq": v.seq,
        "kind": v.kind,
        "reason": v.reason,
        "description": v.describe(),
    }


@route(router, "GET", "/api/audit/verify", "audit.verify")
def verify(reader: Reader) -> dict[str, Any]:
    """``ok`` false names the first broken entry (its seq and why)."""
    return _verdict(reader.verify())


@route(router, "GET", "/api/audit/head", "audit.verify")
def head(reader: Reader) -> dict[str, Any]:
    """The head of an intact chain (409 when the chain is broken: export only what holds)."""
    from garrison.core.errors import Conflict

    verdict, exported = reader.export_head()
    if not verdict.ok:
        raise Conflict(f"audit chain broken: {verdict.describe()}")
    head_json: dict[str, Any] = exported.to_json()
    return head_json
