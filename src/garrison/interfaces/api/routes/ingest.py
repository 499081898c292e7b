"""``/api/ingest``: a batch upload or a JSON-lines push, hunted exactly as a file given to
``garrison hunt`` (``garrison.intake``); the answer is the conservation count.

The body is the file itself (``application/x-ndjson``, ``application/json``,
``text/plain`` or ``application/octet-stream``, up to ``[serve] max_ingest`` bytes); its
format is recognised from its content, as in a hunt. ``name`` is kept as the file's name
in evidences and quarantine records.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from garrison.interfaces.api.deps import Intake, route
from garrison.interfaces.api.guard import RAW_TYPES

router = APIRouter(tags=["ingest"])

#: The content types the guard lets through to this route (others: 415).
TYPES = RAW_TYPES
_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in TYPES},
    }
}


@route(router, "POST", "/api/ingest", "ingest.write", openapi_extra=_BODY)
async def ingest(
    request: Request,
    service: Intake,
    name: str = Query("upload.jsonl", min_length=1, max_length=200),
) -> dict[str, Any]:
    body = await request.body()
    report = await run_in_threadpool(service.ingest, name, body)
    result: dict[str, Any] = report.to_json()
    return result
