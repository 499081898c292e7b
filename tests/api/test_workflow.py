"""The API does the analyst's and the responder's work on a seeded home, through the same
services as the CLI: filtered queues, a finding's verdict, an incident's story, workflow,
merge and split, approvals decided, and every decision audited as the signed-in user."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.correlate.service import INDEX_FILE
from garrison.correlate.synthetic import generate
from garrison.govern.access import Principal
from garrison.govern.audit import open_audit
from garrison.triage.store import FindingStore
from tests.api.conftest import Api, make_api
from tests.support import store_alerts

APPROVE = """
id: gate
name: Gate
mode: live
trigger: {on: incident, min_risk: 1}
steps:
  - id: hold
    action: block.ip
    params: {ip: "203.0.113.9", reason: "test {{incident.id}}"}
    approval: {required: true, quorum: 1, expires: 1h, fallback: reject}
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Api:
    api = make_api(Path(tmp_path_factory.mktemp("wf")) / "home")
    findings = generate(300, n_users=12, n_chains=3, seed=7).findings
    store_alerts(api.state, api.home / INDEX_FILE, findings)
    return api


def _get(api: Api, role: str, url: str) -> object:
    res = api.client.get(url, headers=api.auth(role))
    assert res.status_code == 200, res.text
    return res.json()


def _post(api: Api, role: str, url: str, body: dict) -> dict:
    res = api.client.post(url, json=body, headers=api.auth(role))
    assert res.status_code in (200, 201), res.text
    return res.json()


def test_the_finding_queue_filters_by_status_band_detector_entity_and_time(seeded: Api) -> None:
    rows = _get(seeded, "viewer", "/api/findings?status=all&limit=1000")
    assert rows and [r["risk_score"] for r in rows] == sorted(
        (r["risk_score"] for r in rows), reverse=True
    )
    high = _get(seeded, "viewer", "/api/findings?status=all&band=High&limit=1000")
    assert all(60 <= r["risk_score"] < 80 for r in high)
    assert len(high) == sum(1 for r in rows if 60 <= r["risk_score"] < 80)
    detector = rows[0]["analytic_uid"]
    same = _get(seeded, "viewer", f"/api/findings?status=all&detector={detector}&limit=1000")
    assert same and {r["analytic_uid"] for r in same} == {detector}
    t = sorted(r["time"] for r in rows)[len(rows) // 2]
    later = _get(seeded, "viewer", f"/api/findings?status=all&since={t}&limit=1000")
    assert later and all(r["time"] >= t for r in later)
    assert len(later) == sum(1 for r in rows if r["time"] >= t)
    doc = _get(seeded, "viewer", f"/api/findings/{rows[0]['uid']}")
    assert doc["finding_info"]["uid"] == rows[0]["uid"] and doc["evidences"]
    entity = FindingStore(seeded.state).load([rows[0]["uid"]])[0].entities[0].value
    hits = _get(seeded, "viewer", f"/api/findings?status=all&entity={entity}&limit=1000")
    assert rows[0]["uid"] in {r["uid"] for r in hits} and len(hits) < len(rows)
    page = _get(seeded, "viewer", "/api/findings?status=all&limit=2&offset=1")
    assert [r["uid"] for r in page] == [r["uid"] for r in rows[1:3]]


def test_a_verdict_rescores_the_finding_and_is_audited_as_the_user(seeded: Api) -> None:
    uid = _get(seeded, "analyst", "/api/findings?limit=1")[0]["uid"]
    result = _post(seeded, "analyst", f"/api/findings/{uid}/disposition", {"verdict": "fp"})
    assert result["finding"] == uid and result["risk_score"] == 0
    entry = open_audit(seeded.home).entries(1, "finding.disposition")[0]
    assert (entry.actor, entry.target, entry.outcome) == ("u-analyst", uid, "ok")
    res = seeded.client.post(
        f"/api/findings/{uid}/disposition", json={"verdict": "tp"}, headers=seeded.auth("viewer")
    )
    assert res.status_code == 403


def test_an_incident_has_its_story_and_moves_through_the_workflow(seeded: Api) -> None:
    rows = _get(seeded, "responder", "/api/incidents?status=all&limit=100")
    assert len(rows) >= 2
    uid = rows[0]["uid"]
    detail = _get(seeded, "responder", f"/api/incidents/{uid}")
    assert detail["incident"]["finding_info"]["uid"] == uid
    assert detail["incident"]["unmapped"]["timeline"]
    _post(seeded, "responder", f"/api/incidents/{uid}/ack", {"note": "looking"})
    _post(seeded, "responder", f"/api/incidents/{uid}/assign", {"assignee": "u-analyst"})
    detail = _get(seeded, "responder", f"/api/incidents/{uid}")
    assert detail["assignee"] == "u-analyst"
    assert [e["action"] for e in detail["history"]][-2:] == ["status:acknowledged", "assign"]
    assert detail["history"][-1]["analyst"] == "u-responder"
    band = rows[0]["band"]
    banded = _get(seeded, "viewer", f"/api/incidents?status=all&band={band}&limit=100")
    assert uid in {r["uid"] for r in banded} and {r["band"] for r in banded} == {band}
    similar = _get(seeded, "viewer", f"/api/incidents/{uid}/similar?k=3")
    assert all(s["uid"] != uid for s in similar)
    done = _post(seeded, "responder", f"/api/incidents/{uid}/resolve", {"verdict": "tp"})
    assert done["status"] == "resolved"
    assert uid in {r["uid"] for r in _get(seeded, "viewer", "/api/incidents?status=resolved")}


def test_merge_and_split_through_the_api(seeded: Api) -> None:
    rows = _get(seeded, "analyst", "/api/incidents?status=open&limit=100")
    a, b = rows[0]["uid"], rows[1]["uid"]
    merged = _post(seeded, "analyst", "/api/incidents/merge", {"target": a, "others": [b]})
    assert merged["incident"] == a
    timeline = _get(seeded, "analyst", f"/api/incidents/{a}")["incident"]["unmapped"]["timeline"]
    take = [timeline[0]["finding_uid"]]
    split = _post(seeded, "analyst", f"/api/incidents/{a}/split", {"findings": take})
    assert split["kept"]["incident"] == a and split["new"]["findings"] == 1
    assert split["new"]["incident"] != a


def test_approvals_are_listed_and_decided_by_a_responder_only(seeded: Api) -> None:
    from garrison.respond.service import ResponseService

    folder = seeded.home / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / "gate.yml").write_text(APPROVE, encoding="utf-8")
    runner = Principal("u-responder", frozenset({"responder"}), "cli")
    service = ResponseService.open(seeded.config, lambda _s: runner)
    try:
        service.respond([folder])
    finally:
        service.close()
    pending = _get(seeded, "viewer", "/api/approvals")
    assert len(pending) >= 2 and {p["action"] for p in pending} == {"block.ip"}
    first, second = pending[0]["id"], pending[1]["id"]
    res = seeded.client.post(
        f"/api/approvals/{first}/approve", json={}, headers=seeded.auth("analyst")
    )
    assert res.status_code == 403
    edited = _post(
        seeded, "responder", f"/api/approvals/{first}/approve", {"edits": {"reason": "checked"}}
    )
    assert edited["id"] == first and edited["params"]["reason"] == "checked"
    assert edited["status"] != "pending"
    rejected = _post(seeded, "responder", f"/api/approvals/{second}/reject", {"reason": "no"})
    assert rejected["status"] == "rejected"
    again = seeded.client.post(
        f"/api/approvals/{second}/reject", json={"reason": "no"}, headers=seeded.auth("responder")
    )
    assert again.status_code == 409
    every = _get(seeded, "viewer", "/api/approvals?every=true")
    assert {first, second} <= {p["id"] for p in every}
    actors = {e.actor for e in open_audit(seeded.home).entries(20, "approval.*")}
    assert "u-responder" in actors
