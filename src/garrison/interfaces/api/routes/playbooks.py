"""``/api/playbooks``: the configured playbooks (``[serve] playbooks``, default the shipped
ones), check an uploaded playbook's text, simulate the configured ones on stored data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from garrison.core import safeyaml
from garrison.interfaces.api.deps import Respond, context, route
from garrison.interfaces.api.schemas import Body

router = APIRouter(tags=["playbooks"])


def _folders(request: Request) -> list[Path]:
    return [Path(p) for p in context(request).serve.playbooks]


def _playbook(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "mode": p.mode,
        "file": Path(p.source).name if p.source else "",
        "steps": [{"id": s.id, "action": s.action} for s in p.steps],
    }


@route(router, "GET", "/api/playbooks", "playbooks.read")
def list_playbooks(request: Request, service: Respond) -> list[dict[str, Any]]:
    return [_playbook(p) for p in service.playbooks(_folders(request))]


class CheckIn(Body):
    text: str = Field(min_length=1, max_length=safeyaml.MAX_BYTES, description="playbook YAML")


@route(router, "POST", "/api/playbooks/check", "playbooks.check")
def check(body: CheckIn, service: Respond) -> dict[str, Any]:
    """A valid playbook is echoed as parsed; an invalid one is a 400 naming line and reason."""
    return {"valid": True, "playbook": _playbook(service.check_text(body.text))}


@route(router, "POST", "/api/playbooks/simulate", "playbooks.check")
def simulate(request: Request, service: Respond) -> dict[str, Any]:
    """What the configured playbooks would have done on the stored findings and incidents
    (shadow: nothing acts)."""
    report: dict[str, Any] = service.simulate(_folders(request)).to_json()
    return report
