"""``POST /api/ingest``: an upload goes the way of a hunted file, conservation holds over
the API as over files, bad input is a 4xx, and the upload is audited as its sender."""

from __future__ import annotations

import json

from garrison.core.serveconfig import ServeConfig
from garrison.govern.audit import open_audit
from tests.api.conftest import Api, make_api, user_for

GOOD = [
    {"time": f"2024-03-02T10:00:0{i}Z", "src_ip": f"10.0.0.{i}", "user": "bob", "action": "x"}
    for i in range(3)
]
BODY = ("\n".join(json.dumps(e) for e in GOOD) + "\n{not json\n[1, 2\n").encode()
NDJSON = {"Content-Type": "application/x-ndjson"}


def _post(api: Api, role: str, body: bytes, headers: dict[str, str] | None = None, name="a.jsonl"):
    return api.client.post(
        f"/api/ingest?name={name}", content=body, headers={**api.auth(role), **(headers or NDJSON)}
    )


def test_an_upload_is_hunted_and_conserved(api: Api) -> None:
    res = _post(api, "analyst", BODY)
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["conserved"] and report["records_read"] == 5
    assert report["events_stored"] == 3 and report["records_quarantined"] == 2
    assert all(q["reason"] for q in report["quarantine_sample"])
    results = api.home / "spool" / report["upload"] / "results"
    kept = (results / "quarantine.jsonl").read_text().splitlines()
    assert len(kept) == 2  # every quarantined line kept with its reason, not only counted
    again = _post(api, "analyst", BODY).json()
    assert again["upload"] == report["upload"] and again["events_new"] == 0
    (entry, _) = open_audit(api.home).entries(action="ingest.upload")
    details = json.loads(entry.details)
    assert entry.actor == user_for("analyst") and details["records_quarantined"] == 2
    assert "bob" not in entry.details  # counts and digest, never the content


def test_only_ingest_writers_may_upload(api: Api) -> None:
    assert _post(api, "viewer", BODY).status_code == 403
    res = api.client.post("/api/ingest", content=BODY, headers=NDJSON)
    assert res.status_code == 401
    assert not (api.home / "spool").exists()


def test_bad_uploads_are_4xx_with_a_message(tmp_path) -> None:
    api = make_api(tmp_path / "h", ServeConfig(max_ingest=2048))
    wrong = _post(api, "analyst", BODY, {"Content-Type": "application/xml"})
    assert wrong.status_code == 415 and "Content-Type" in wrong.json()["error"]
    big = _post(api, "analyst", b"{}\n" * 2000)
    assert big.status_code == 413
    empty = _post(api, "analyst", b"")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    hostile = _post(api, "analyst", BODY, name="../../etc/passwd")
    assert hostile.status_code == 200
    spooled = [p.name for p in (api.home / "spool").rglob("*") if p.is_file()]
    assert "passwd" not in spooled and all(".." not in name for name in spooled)


def test_concurrent_uploads_are_each_conserved(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    bodies = [BODY.replace(b"bob", f"user{i}".encode()) for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda b: _post(api, "analyst", b), bodies))
    assert [a.status_code for a in answers] == [200] * 4
    assert all(a.json()["conserved"] and a.json()["events_stored"] == 3 for a in answers)
