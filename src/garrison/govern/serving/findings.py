"""The finding a flagged client raises: ``guard.extraction``, about the client (a user
entity), mapped to ATLAS techniques read from ``techniques.yaml``.

Its evidence names the query log and the client's query at which the test fired; the
finding's id depends on the client and model only, so a client flagged again (after a
restart) is the same finding, folded by triage, not a new one.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from garrison.core import safeyaml
from garrison.core.entities import Entity, normalize_entity
from garrison.core.findings import SEVERITY_HIGH, Attack, Evidence, Finding
from garrison.govern.serving.extraction import Verdict
from garrison.govern.serving.querylog import LOG_FILE

ANALYTIC = "guard.extraction"


@functools.cache
def techniques() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("techniques.yaml").read_text("utf-8")
    data = safeyaml.load(text)
    if not isinstance(data, dict):
        raise ValueError("techniques.yaml: expected a mapping of analytic ids")
    return data


def _attacks(analytic: str) -> list[Attack]:
    entry = techniques().get(analytic, {})
    return [
        Attack(str(a["technique"]), str(a.get("name", "")), tactic_name=str(a.get("tactic", "")))
        for a in entry.get("attacks", [])
    ]


def extraction_finding(
    client: str, model: str, verdict: Verdict, time: int, seq: int, action: str
) -> Finding:
    entry = techniques().get(ANALYTIC, {})
    return Finding(
        analytic_uid=ANALYTIC,
        analytic_name=str(entry.get("name", ANALYTIC)),
        title=f"Model extraction suspected: client {client} querying the {model} model",
        time=time,
        severity_id=SEVERITY_HIGH,
        confidence=80 if len(verdict.reasons) > 1 else 60,
        evidences=[
            Evidence(
                source_path=str(LOG_FILE),
                record_id=seq,
                event_uid=f"guard:{client}:{model}",
                time=time,
                summary=(("client", client), ("model", model)),
            )
        ],
        attacks=_attacks(ANALYTIC),
        entities=[normalize_entity("user", client) or Entity("user", client)],
        analytic_type="ml",
        description=(
            "The client's queries to a served model look like a model-extraction attack: "
            + "; ".join(verdict.reasons)
        ),
        explanation={**verdict.to_json(), "model": model, "action": action},
    )
