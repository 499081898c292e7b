"""A home model's stages over the API: the model-owner promotes and rolls back, each move
audited as the signed-in user; other roles get 403; out-of-order moves 409, unknown 404."""

from __future__ import annotations

from pathlib import Path

from garrison.govern.audit import open_audit
from garrison.measure.ml_eval.tamper_models import registered_version
from tests.api.conftest import make_api, user_for


def test_promote_rollback_and_stages_over_the_api(tmp_path: Path) -> None:
    api = make_api(tmp_path / "home")
    registered_version(api.home, api.home / "models" / "v1", "dga-v1")
    owner = api.auth("model-owner")
    url = "/api/models/dga/promote"
    res = api.client.post(url, json={"version": "dga-v1", "to": "canary"}, headers=owner)
    assert res.status_code == 409 and "must be in shadow first" in res.text
    res = api.client.post(url, json={"version": "nope", "to": "shadow"}, headers=owner)
    assert res.status_code == 404
    for role in ("admin", "analyst"):
        body = {"version": "dga-v1", "to": "shadow"}
        assert api.client.post(url, json=body, headers=api.auth(role)).status_code == 403
    for stage in ("shadow", "canary", "production"):
        res = api.client.post(url, json={"version": "dga-v1", "to": stage}, headers=owner)
        assert res.status_code == 200, res.text
        assert res.json()["stage"] == stage and res.json()["actor"] == user_for("model-owner")
    (view,) = api.client.get("/api/models/stages", headers=api.auth("viewer")).json()
    assert view["production"] == "dga-v1" and view["rollback_target"] == "shipped"
    res = api.client.post("/api/models/dga/rollback", headers=owner)
    assert res.status_code == 200 and res.json()["version"] == "shipped"
    assert api.client.post("/api/models/dga/rollback", headers=owner).status_code == 409
    moves = [
        (e.action, e.actor, e.outcome)
        for e in open_audit(api.home).entries()
        if e.action in ("models.promote", "models.rollback")
    ]
    assert ("models.promote", user_for("model-owner"), "ok") in moves
    assert ("models.rollback", user_for("model-owner"), "ok") in moves
    assert all(actor == user_for("model-owner") for _, actor, _ in moves)  # 403: no move
