"""Console sessions: sign-in with a password, HttpOnly SameSite=Strict cookie, CSRF on
every unsafe request, sign-out, expiry, and a disabled user losing access at once. No
default credentials: an empty home refuses every sign-in."""

from __future__ import annotations

from garrison.core.serveconfig import ServeConfig
from tests.api.conftest import PASSWORD, Api, make_api, user_for

UNSAFE = ("/api/playbooks/check", {"text": "id: x\n"})


def _login(api: Api, name: str, password: str = PASSWORD) -> dict:
    res = api.client.post("/api/session", json={"name": name, "password": password})
    assert res.status_code == 200, res.text
    return res.json()


def test_sign_in_sets_a_strict_http_only_cookie_and_reads_work(api: Api) -> None:
    res = api.client.post("/api/session", json={"name": "u-analyst", "password": PASSWORD})
    assert res.status_code == 200
    cookie = res.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # bound to loopback over http ("auto")
    body = res.json()
    assert body["roles"] == ["analyst"] and body["via"] == "session" and body["csrf_token"]
    assert api.client.get("/api/findings").status_code == 200
    assert api.client.get("/api/session").json()["name"] == "u-analyst"


def test_cookies_are_secure_off_loopback(tmp_path) -> None:
    api = make_api(tmp_path / "h", ServeConfig(host="0.0.0.0"))  # noqa: S104 - the case under test
    res = api.client.post("/api/session", json={"name": "u-viewer", "password": PASSWORD})
    assert "secure" in res.headers["set-cookie"].lower()


def test_unsafe_requests_need_the_sessions_csrf_token(api: Api) -> None:
    token = _login(api, "u-analyst")["csrf_token"]
    path, body = UNSAFE
    assert api.client.post(path, json=body).status_code == 403
    wrong = api.client.post(path, json=body, headers={"X-CSRF-Token": "x" + token[1:]})
    assert wrong.status_code == 403 and "CSRF" in wrong.json()["error"]
    ok = api.client.post(path, json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 400  # past the guard: the playbook itself is invalid
    assert api.client.delete("/api/session").status_code == 403  # sign-out is unsafe too


def test_a_csrf_token_belongs_to_its_own_session(api: Api) -> None:
    other = _login(api, "u-responder")["csrf_token"]
    api.client.cookies.clear()
    _login(api, "u-analyst")
    res = api.client.post(UNSAFE[0], json=UNSAFE[1], headers={"X-CSRF-Token": other})
    assert res.status_code == 403


def test_token_requests_need_no_csrf(api: Api) -> None:
    res = api.client.post(UNSAFE[0], json=UNSAFE[1], headers=api.auth("analyst"))
    assert res.status_code == 400


def test_sign_out_ends_the_session(api: Api) -> None:
    token = _login(api, "u-viewer")["csrf_token"]
    cookie = api.client.cookies.get("garrison_session")
    assert api.client.delete("/api/session", headers={"X-CSRF-Token": token}).status_code == 200
    api.client.cookies.set("garrison_session", cookie)  # a copy kept by an attacker
    assert api.client.get("/api/findings").status_code == 401


def test_sessions_expire(api: Api) -> None:
    _login(api, "u-viewer")
    api.clock[0] += ServeConfig().session_ttl_ms - 1
    assert api.client.get("/api/findings").status_code == 200
    api.clock[0] += 1
    assert api.client.get("/api/findings").status_code == 401


def test_a_disabled_user_loses_access_at_once(api: Api) -> None:
    _login(api, "u-analyst")
    assert api.client.get("/api/findings").status_code == 200
    api.admin().disable(user_for("analyst"))
    assert api.client.get("/api/findings").status_code == 401
    token_res = api.client.get("/api/findings", headers=api.auth("analyst"))
    assert token_res.status_code == 401


def test_wrong_passwords_and_unknown_users_get_one_answer(api: Api) -> None:
    answers = set()
    for name, password in (("u-viewer", "wrong password!!"), ("nobody", PASSWORD), ("", "x")):
        res = api.client.post("/api/session", json={"name": name, "password": password})
        answers.add((res.status_code, res.text if res.status_code == 401 else "422"))
    assert answers - {(422, "422")} == {(401, '{"error":"invalid user name or password"}')}


def test_an_empty_home_refuses_every_sign_in(tmp_path) -> None:
    api = make_api(tmp_path / "empty", users=False)
    for name in ("admin", "root", "garrison"):
        for password in ("admin", "password", "", PASSWORD):
            res = api.client.post("/api/session", json={"name": name, "password": password})
            assert res.status_code in (401, 422)
    assert api.client.get("/api/findings").status_code == 401


def test_sign_in_is_throttled_with_retry_after(api) -> None:
    for _ in range(5):
        res = api.client.post("/api/session", json={"name": "u-viewer", "password": "nope" * 4})
        assert res.status_code == 401
    res = api.client.post("/api/session", json={"name": "u-viewer", "password": PASSWORD})
    assert res.status_code == 429 and int(res.headers["retry-after"]) > 0
    assert "too many" in res.json()["error"]
    api.clock[0] += 15 * 60_000 + 1
    res = api.client.post("/api/session", json={"name": "u-viewer", "password": PASSWORD})
    assert res.status_code == 200
