"""The authorization matrix: every route x every role, through real tokens against the real
app, gets exactly what the permission table grants; without credentials every route but
/healthz is a 401 (the sign-in itself: a 401 for credentials that prove nothing).

The routes come from the app's OpenAPI document (``x-permission`` on each operation), so a
route added without a permission, or without a sample request here, fails this test."""

from __future__ import annotations

from typing import Any

import pytest

from garrison.govern.access import ROLES, permission
from tests.api.conftest import Api

#: A well-formed request body for each unsafe route (the ids name nothing: an allowed role
#: gets past authorization and meets a 400/404, a refused one a 403 first).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/ingest"): {"time": "2024-03-02T10:00:00Z", "src_ip": "10.0.0.1", "user": "bob"},
    ("POST", "/api/findings/{uid}/disposition"): {"verdict": "fp", "note": "n"},
    ("POST", "/api/incidents/{uid}/assign"): {"assignee": "u-analyst"},
    ("POST", "/api/incidents/{uid}/disposition"): {"verdict": "tp"},
    ("POST", "/api/incidents/{uid}/ack"): {"note": ""},
    ("POST", "/api/incidents/{uid}/resolve"): {},
    ("POST", "/api/incidents/merge"): {"target": "inc-x", "others": ["inc-y"]},
    ("POST", "/api/incidents/{uid}/split"): {"findings": ["f"]},
    ("POST", "/api/approvals/{approval_id}/approve"): {"edits": {}},
    ("POST", "/api/approvals/{approval_id}/reject"): {"reason": "no"},
    ("POST", "/api/playbooks/check"): {"text": "id: x\n"},
    ("POST", "/api/playbooks/simulate"): {},
    ("POST", "/api/models/{name}/score"): {"lines": ["example.com"]},
    ("POST", "/api/models/{name}/promote"): {"version": "zz", "to": "shadow"},
    ("POST", "/api/models/{name}/rollback"): {},
    ("POST", "/api/tokens"): {"user": "u-viewer", "role": "viewer", "ttl": "1h"},
    ("POST", "/api/session"): {"name": "nobody", "password": "not a password"},
    ("DELETE", "/api/tokens/{token_id}"): {},
    ("DELETE", "/api/session"): {},
}
PATH_VALUES = {"uid": "zz", "approval_id": "zz", "name": "dga", "token_id": "000000000000"}
#: Routes any signed-in identity may call (they concern only the caller's own session).
ANY_IDENTITY = {("GET", "/api/session"), ("DELETE", "/api/session")}
PUBLIC = {("GET", "/healthz")}
CREDENTIALS_IN_BODY = {("POST", "/api/session")}


def _operations(api: Api) -> list[tuple[str, str, str | None]]:
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    return [
        (method.upper(), path, op.get("x-permission"))
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def _call(api: Api, method: str, path: str, headers: dict[str, str]) -> int:
    url = path.format(**PATH_VALUES)
    body = BODIES.get((method, path))
    if method in ("GET", "DELETE") and not body:
        return api.client.request(method, url, headers=headers).status_code
    return api.client.request(method, url, json=body, headers=headers).status_code


def test_every_route_declares_a_permission_or_is_a_known_exception(api: Api) -> None:
    ops = _operations(api)
    assert len(ops) >= 30
    for method, path, name in ops:
        key = (method, path)
        if name is None:
            assert key in ANY_IDENTITY | PUBLIC | CREDENTIALS_IN_BODY, key
        else:
            permission(name)  # KeyError for a permission the table does not have
        if method in ("POST", "PUT", "PATCH"):
            assert key in BODIES, f"add a sample body for {key}"


def test_the_matrix_is_exactly_the_permission_table(api: Api) -> None:
    checked = 0
    for method, path, name in _operations(api):
        if name is None:
            continue
        granted = permission(name).roles
        for role in ROLES:
            status = _call(api, method, path, api.auth(role))
            if role in granted:
                assert status not in (401, 403), (method, path, role, status)
            else:
                assert status == 403, (method, path, role, status)
            checked += 1
    assert checked >= 30 * len(ROLES)


def test_any_identity_routes_admit_every_role(api: Api) -> None:
    for role in ROLES:
        assert api.client.get("/api/session", headers=api.auth(role)).json()["roles"] == [role]
        assert api.client.delete("/api/session", headers=api.auth(role)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer gar_000000000000_" + "0" * 64},
        {"Authorization": "Basic cm9vdDpyb290"},
        {"Authorization": "Bearer "},
        {"Cookie": "garrison_session=forged"},
    ],
    ids=["none", "unknown-token", "basic", "empty-bearer", "forged-cookie"],
)
def test_without_valid_credentials_every_route_but_healthz_is_401(
    api: Api, headers: dict[str, str]
) -> None:
    api.client.cookies.clear()
    for method, path, _ in _operations(api):
        status = _call(api, method, path, headers)
        if (method, path) in PUBLIC:
            assert status == 200
        else:
            assert status == 401, (method, path, status)
    for method, path in (("GET", "/openapi.json"), ("GET", "/no/such/route"), ("PUT", "/x")):
        assert api.client.request(method, path, headers=headers).status_code == 401


def test_a_revoked_token_stops_at_once(api: Api) -> None:
    headers = api.auth("viewer")
    assert api.client.get("/api/findings", headers=headers).status_code == 200
    token_id = api.tokens["viewer"].split("_")[1]
    res = api.client.delete(f"/api/tokens/{token_id}", headers=api.auth("admin"))
    assert res.status_code == 200 and res.json()["state"] == "revoked"
    assert api.client.get("/api/findings", headers=headers).status_code == 401
