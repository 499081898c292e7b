"""``/api/kpis``: MTTD, MTTA, MTTR, alert-to-incident reduction and detector quality of the
whole home (read only: nothing is written, unlike ``garrison kpi``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from garrison.interfaces.api.deps import Authorize, context, route

router = APIRouter(tags=["kpis"])


@route(router, "GET", "/api/kpis", "kpi.read")
def kpis(request: Request, check: Authorize) -> dict[str, Any]:
    from garrison.measure.kpi.service import read_kpis

    figures = read_kpis(context(request).config, check)
    figures.pop("source", None)  # the state file's path: not the caller's business
    return figures
