"""Hostile and malformed requests get a 4xx with one line of JSON, never a traceback, a
path or a 5xx; every response carries the security headers; the access log holds one JSON
object per request with no token, cookie, query string or body in it."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.serveconfig import ServeConfig
from tests.api.conftest import Api, make_api

CHECK = "/api/playbooks/check"


def _one_line_error(res) -> str:
    body = res.json()
    assert set(body) == {"error"} and "\n" not in body["error"]
    assert "Traceback" not in res.text and "/src/garrison" not in res.text
    return str(body["error"])


def test_oversized_bodies_are_413_by_header_and_by_stream(tmp_path) -> None:
    api = make_api(tmp_path / "h", ServeConfig(max_body=2048))
    big = {"text": "a" * 4096}
    res = api.client.post(CHECK, json=big, headers=api.auth("analyst"))
    assert res.status_code == 413 and "2048" in _one_line_error(res)

    def chunks():
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    headers = {**api.auth("analyst"), "Content-Type": "application/json"}
    res = api.client.post(CHECK, content=chunks(), headers=headers)
    assert res.status_code == 413


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_bodies_must_be_json(api: Api, ctype: str) -> None:
    headers = {**api.auth("analyst"), "Content-Type": ctype}
    res = api.client.post(CHECK, content=b'{"text": "id: x"}', headers=headers)
    assert res.status_code == 415 and "JSON" in _one_line_error(res)


def test_unknown_fields_are_422_naming_them(api: Api) -> None:
    res = api.client.post(CHECK, json={"text": "x", "admin": True}, headers=api.auth("analyst"))
    assert res.status_code == 422 and "'admin'" in _one_line_error(res)
    res = api.client.post(
        "/api/tokens",
        json={"user": "u-viewer", "role": "viewer", "scope": "all"},
        headers=api.auth("admin"),
    )
    assert res.status_code == 422 and "scope" in _one_line_error(res)


@pytest.mark.parametrize("raw", [b"{", b'{"text": }', b"\xff\xfe", b"[1,2", b"null", b'"x"'])
def test_malformed_json_is_a_clear_4xx(api: Api, raw: bytes) -> None:
    headers = {**api.auth("analyst"), "Content-Type": "application/json"}
    res = api.client.post(CHECK, content=raw, headers=headers)
    assert res.status_code == 422
    _one_line_error(res)


def test_bad_query_values_are_422(api: Api) -> None:
    for query in ("limit=0", "limit=abc", "status=active' OR 1=1 --", "band=Mega", "since=-1"):
        res = api.client.get(f"/api/findings?{query}", headers=api.auth("viewer"))
        assert res.status_code == 422, query
        _one_line_error(res)


def test_every_response_carries_the_security_headers(api: Api) -> None:
    for res in (
        api.client.get("/healthz"),
        api.client.get("/api/findings"),
        api.client.get("/api/findings", headers=api.auth("viewer")),
        api.client.get("/api/users", headers=api.auth("viewer")),
        api.client.post(CHECK, content=b"x", headers=api.auth("analyst")),
    ):
        csp = res.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert res.headers["x-content-type-options"] == "nosniff"
        assert res.headers["cache-control"] == "no-store"


def test_the_access_log_is_one_json_object_per_request_without_secrets(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    token = api.tokens["analyst"]
    with caplog.at_level(logging.INFO, logger="garrison.api.access"):
        api.client.get("/api/findings?entity=secret-query", headers=api.auth("analyst"))
        api.client.post(CHECK, json={"text": "secret-body"}, headers=api.auth("analyst"))
        wrong = token[:-1] + ("1" if token.endswith("0") else "0")  # never the token itself
        api.client.get("/api/findings", headers={"Authorization": "Bearer " + wrong})
    lines = [r.getMessage() for r in caplog.records if r.name == "garrison.api.access"]
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert records[0] == {**records[0], "method": "GET", "route": "/api/findings", "status": 200}
    assert records[0]["principal"] == "u-analyst" and records[0]["ms"] >= 0
    assert records[1]["route"] == "/api/playbooks/check" and records[1]["status"] == 400
    assert records[2]["status"] == 401 and records[2]["principal"] is None
    text = "\n".join(lines)
    for secret in (token, token[4:20], "secret-query", "secret-body", "Bearer"):
        assert secret not in text


def test_metrics_count_route_templates_not_raw_paths(api: Api) -> None:
    for uid in ("a1", "b2", "c3"):
        api.client.get(f"/api/findings/{uid}", headers=api.auth("viewer"))
    text = api.client.get("/metrics", headers=api.auth("admin")).text
    assert 'route="/api/findings/{uid}"' in text and "a1" not in text
    assert "garrison_api_request_seconds_bucket" in text


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.text(min_size=1, max_size=40).map(lambda s: "/api/incidents/" + s),
    body=st.binary(max_size=300),
    ctype=st.sampled_from(["application/json", "text/plain", "application/json; charset=x"]),
)
def test_hostile_requests_never_5xx(api: Api, path: str, body: bytes, ctype: str) -> None:
    headers = {**api.auth("responder"), "Content-Type": ctype}
    for method in ("GET", "POST"):
        try:
            res = api.client.request(method, path + "/ack", content=body, headers=headers)
        except Exception as exc:  # an URL the client itself cannot send
            assert "URL" in type(exc).__name__ or "Invalid" in str(exc)
            return
        assert res.status_code < 500, (path, res.text)
        _one_line_error(res) if res.status_code >= 400 else None


def test_a_state_that_fails_under_authentication_is_a_503_not_a_traceback(api: Api) -> None:
    from garrison.core.errors import StorageError

    ctx = api.client.app.state.garrison  # type: ignore[attr-defined]
    users = ctx.users()

    def broken(_text: str) -> None:
        raise StorageError("cannot use the state database: disk I/O error")

    users.authenticate_token = broken
    res = api.client.get("/api/findings", headers=api.auth("viewer"))
    assert res.status_code == 503 and "disk I/O" in _one_line_error(res)
