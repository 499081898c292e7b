"""Data-subject export and deletion reach the response ledger and the API's upload spool:
a real home with response runs made by the engine (finished, rejected, approved and still
awaiting approval) and an upload hunted by ``IntakeService``, searched and deleted through
``privacy_service`` (the wiring the CLI uses)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from garrison.core.config import load_config
from garrison.correlate.privacy import PrivacyService
from garrison.govern.access import Principal
from garrison.govern.audit import MemoryAuditLog
from garrison.govern.privacy import Matcher, Vault
from garrison.intake import IntakeService
from garrison.intake_records import SpoolRecords, privacy_service
from garrison.respond.config import ResponseConfig
from garrison.respond.subject_records import IN_EFFECT, IN_PROGRESS
from garrison.store.state import StateDB
from tests.integration.test_privacy_cli import garrison, ok
from tests.unit.respond.conftest import Clock, Home, Twin, make_finding, write_playbook

ADMIN = Principal("ada", frozenset({"admin"}), "token")
ALICE = Matcher(["alice"])

TELL = """
id: tell
name: Tell
mode: live
trigger: {on: finding, analytic: auth.brute, entity_type: user}
steps:
  - id: tell
    action: notify.email
    params: {to: [soc@example.org], subject: "sign-ins of {{entity}}"}
"""
DISABLE = """
id: disable
name: Disable
mode: live
trigger: {on: finding, analytic: auth.brute, entity_type: user}
steps:
  - id: disable
    action: disable.account
    params: {user: "{{entity}}", reason: "brute force on {{entity}}"}
    approval: {required: true, quorum: 1, expires: 1h, fallback: reject}
"""
UPLOAD = (
    "\n".join(
        [
            *(
                f"Dec  5 10:{i:02d}:01 web1 sshd[12{i:02d}]: Failed password for alice from "
                f"203.0.113.7 port {40000 + i} ssh2"
                for i in range(3)
            ),
            "Dec  5 11:05:01 web1 sshd[1301]: Accepted password for bob from 10.0.0.9 port 41 ssh2",
            "Dec  5 11:06:01 web1 sshd[1302]: Accepted password for malice from 10.0.0.8 port 42"
            " ssh2",
        ]
    )
    + "\n"
)


def _responded(home: Path, tmp_path: Path) -> dict[str, str]:
    """Three findings on alice through two playbooks: ``tell`` runs finish at once; the
    ``disable`` approvals are left pending (ws-1), rejected with a reason naming her (ws-2)
    and approved (ws-3, the account now disabled). Returns approval id by host."""
    state = StateDB(home / "state.db")
    rh = Home(state, MemoryAuditLog(b"k" * 32), Twin(), Clock(), ResponseConfig())
    findings = [
        make_finding("auth.brute", (("user", "alice"), ("host", f"ws-{n}")), record=n)
        for n in (1, 2, 3)
    ]
    rh.store(findings)
    folder = write_playbook(tmp_path / "playbooks", "tell", TELL)
    write_playbook(folder, "disable", DISABLE)
    rh.service("bob").respond([folder])
    by_host = {
        _host_of(rh, view.approval.run_id): view.approval.id
        for view in rh.service("bob").list_approvals()
    }
    rh.service("carol").reject(by_host["ws-2"], "alice is travelling, not an attack")
    rh.service("carol").approve(by_host["ws-3"])
    state.close()
    return by_host


def _host_of(rh: Home, run_id: str) -> str:
    rows = rh.state.query("SELECT subject FROM respond_runs WHERE id = ?", (run_id,))
    entities = json.loads(str(rows[0][0]))["entities"]
    return next(e["value"] for e in entities if e["type"] == "host")


def _ledger(home: Path) -> dict[str, list[tuple[object, ...]]]:
    state = StateDB(home / "state.db")
    try:
        return {
            table: sorted(state.query(f"SELECT * FROM {table}"), key=repr)  # noqa: S608 - constant names
            for table in ("respond_runs", "respond_steps", "respond_approvals", "respond_votes")
        }
    finally:
        state.close()


def _spool_bytes(home: Path) -> dict[str, bytes]:
    root = home / "spool"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _service(home: Path, audit: MemoryAuditLog) -> PrivacyService:
    return privacy_service(load_config(home), StateDB(home / "state.db"), audit, ADMIN)


def _export(service: PrivacyService, who: str = "alice") -> list[dict[str, object]]:
    out = io.StringIO()
    service.export(who, out.write)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def seeded(home: Path, tmp_path: Path) -> dict[str, str]:
    report = IntakeService(load_config(home), lambda _p: None, actor="ann").ingest(
        "auth.log", UPLOAD.encode()
    )
    assert report.conserved and report.events_stored == 5
    return _responded(home, tmp_path)


def test_export_lists_ledger_rows_and_spooled_lines(home: Path, seeded: dict[str, str]) -> None:
    records = _export(_service(home, MemoryAuditLog()))
    ledger = [r for r in records if r["kind"] == "respond_ledger"]
    spool = [r for r in records if r["kind"] == "intake_spool"]
    # 6 runs (3 tell, 3 disable) with alice as their subject, each with its step and the
    # disable ones with their approval; carol's reject vote names her
    assert sorted(r["record"] for r in ledger if r["record"] == "run") == ["run"] * 6
    assert len([r for r in ledger if r["record"] == "step"]) == 6
    assert len([r for r in ledger if r["record"] == "approval"]) == 3
    (vote,) = [r for r in ledger if r["record"] == "vote"]
    assert vote["identity"] == "carol" and "alice" in str(vote["reason"])
    upload = [r for r in spool if r["path"] == f"{r['upload']}/auth.log"]
    assert [r["line"] for r in upload] == [1, 2, 3]
    assert all("alice" in str(r["text"]) for r in upload)
    assert not any("malice" in str(r.get("text", "")) for r in spool)  # a longer word


def test_delete_dry_run_counts_and_changes_nothing(home: Path, seeded: dict[str, str]) -> None:
    ledger, spool = _ledger(home), _spool_bytes(home)
    audit = MemoryAuditLog()
    report = _service(home, audit).delete("alice", apply=False).to_json()
    led, spo = report["records"]["respond_ledger"], report["records"]["intake_spool"]
    assert not led["applied"] and led["found"] == led["scrubbed"] + led["kept"] > 0
    assert led["kept_why"] == {IN_EFFECT: 1, IN_PROGRESS: 3}
    assert spo["found"] == spo["removed"] >= 3
    assert _ledger(home) == ledger and _spool_bytes(home) == spool
    assert len(_export(_service(home, MemoryAuditLog()))) > 0


def test_delete_scrubs_finished_runs_keeps_the_rest_and_cuts_spool_lines(
    home: Path, seeded: dict[str, str]
) -> None:
    before = {r["key"]: r for r in _export(_service(home, MemoryAuditLog())) if "key" in r}
    audit = MemoryAuditLog()
    report = _service(home, audit).delete("alice", apply=True).to_json()
    assert report["records"]["respond_ledger"]["applied"]
    assert report["records"]["respond_ledger"]["kept_why"] == {IN_EFFECT: 1, IN_PROGRESS: 3}

    # the pending approval's run is untouched: still asks to disable alice
    state = StateDB(home / "state.db")
    pending = state.query(
        "SELECT params, status FROM respond_approvals WHERE id = ?", (seeded["ws-1"],)
    )
    assert json.loads(str(pending[0][0]))["user"] == "alice" and pending[0][1] == "pending"
    # the rejected run is scrubbed, its keys and statuses intact
    rejected = state.query(
        "SELECT a.params, a.status, v.reason FROM respond_approvals a JOIN respond_votes v"
        " ON v.approval_id = a.id WHERE a.id = ?",
        (seeded["ws-2"],),
    )
    params, status, reason = rejected[0]
    assert json.loads(str(params)) == {"reason": "brute force on [erased]", "user": "[erased]"}
    assert status == "rejected" and reason == "[erased] is travelling, not an attack"
    keys_after = {str(k) for (k,) in state.query("SELECT key FROM respond_steps")}
    assert keys_after == {k for k in before if str(k).startswith("gk-")}
    state.close()

    # a second export finds only what was kept: the in-progress run and the account in effect
    again = _export(_service(home, MemoryAuditLog()))
    assert {r["kind"] for r in again} == {"respond_ledger"}
    waiting_run = {r["run_id"] for r in again if r["record"] == "approval"}
    assert len(waiting_run) == 1
    for record in again:
        in_effect = record["record"] == "step" and record["status"] == "succeeded"
        assert record["run_id"] in waiting_run or in_effect, record

    # the spool: alice's lines gone from the upload, bob's and malice's kept; nothing else
    # in the spool still names her
    files = _spool_bytes(home)
    upload = next(v for k, v in files.items() if k.endswith("/auth.log"))
    assert upload.decode().splitlines() == UPLOAD.splitlines()[3:]
    assert not any(ALICE.search(v.decode("utf-8", "replace")) for v in files.values())
    assert not any(".privacy.tmp" in k for k in files)

    # the audit entry: counts, never the name
    text = json.dumps([e.to_json() for e in audit.entries()])
    assert "alice" not in text.lower()
    (entry,) = audit.entries(action="privacy.delete")
    details = json.loads(entry.details)
    assert details["records"]["intake_spool"]["removed"] >= 3


def test_a_token_named_subject_is_found_by_its_value_until_the_vault_forgets(
    home: Path, seeded: dict[str, str]
) -> None:
    """Deleting by token searches the value the vault holds; the providers run before the
    vault entry goes, so a pseudonymized home's ledger is scrubbed by ``privacy delete pn:``."""
    service = _service(home, MemoryAuditLog())
    token = service.subject("alice").token
    Vault(service.state, service._keys().vault_key).put({token: "alice"})
    report = service.delete(token, apply=True).to_json()
    assert report["records"]["respond_ledger"]["scrubbed"] > 0
    assert report["vault_entries"] == 1


def test_binary_spool_files_are_named_and_removed(tmp_path: Path) -> None:
    folder = tmp_path / "spool" / ("a" * 24)
    folder.mkdir(parents=True)
    (folder / "sec.evtx").write_bytes(b"ElfFile\0" + "user alice logon".encode("utf-16-le"))
    (folder / "other.bin").write_bytes(b"\0\x01bob\xff")
    (folder / "summary.json").write_text('{\n  "who": "alice",\n  "n": 1\n}', encoding="utf-8")
    os.symlink(folder / "sec.evtx", folder / "link.evtx")  # links are not followed
    records = SpoolRecords(tmp_path / "spool")
    found = records.find(ALICE)
    assert [(r["path"], r.get("binary"), r.get("document")) for r in found] == [
        (f"{'a' * 24}/sec.evtx", True, None),
        (f"{'a' * 24}/summary.json", None, True),
    ]
    assert found[1]["lines"] == [{"line": 2, "text": '  "who": "alice",'}]
    dry = records.forget(ALICE, "[erased]", apply=False)
    assert dry["found"] == dry["removed"] == 2 and (folder / "sec.evtx").exists()
    done = records.forget(ALICE, "[erased]", apply=True)
    assert done["applied"] and done["files"] == 2
    assert sorted(p.name for p in folder.iterdir()) == ["link.evtx", "other.bin"]
    assert records.find(ALICE) == []


def test_an_escaped_name_in_a_json_line_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "spool" / ("b" * 24)
    folder.mkdir(parents=True)
    lines = ['{"user": "\\u0061lice"}', '{"user": "bob"}', ""]
    (folder / "push.jsonl").write_text("\n".join(lines), encoding="utf-8")
    records = SpoolRecords(tmp_path / "spool")
    assert [r["line"] for r in records.find(ALICE)] == [1]
    records.forget(ALICE, "[erased]", apply=True)
    assert (folder / "push.jsonl").read_text(encoding="utf-8") == '{"user": "bob"}\n'


def test_the_cli_searches_the_ledger_and_the_spool(home: Path, seeded: dict[str, str]) -> None:
    """``garrison privacy delete`` builds its service through ``privacy_service``."""
    done = json.loads(ok(garrison(home, "privacy", "delete", "alice", "--yes")))
    assert set(done["records"]) == {"intake_spool", "respond_ledger"}
    assert done["records"]["respond_ledger"]["scrubbed"] > 0
    assert done["records"]["intake_spool"]["removed"] >= 3
    left = [json.loads(x) for x in ok(garrison(home, "privacy", "export", "alice")).splitlines()]
    assert {x["kind"] for x in left} == {"respond_ledger"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_a_binary_file_is_read_in_windows_that_never_cut_a_name(
    tmp_path: Path, encoding: str
) -> None:
    """Blocks of 208 bytes, windows overlapping by 104 (``alice``: 8 x 5 + 64): the name is
    put across every offset of a block end and of a window start, and is found whole
    (`` alice ``), never made up from a cut (``xalice``, ``alice.x``)."""
    folder = tmp_path / "spool" / ("c" * 24)
    folder.mkdir(parents=True)
    records = SpoolRecords(tmp_path / "spool", chunk=16)  # raised to 2 x the overlap
    step = 2 if encoding == "utf-16-le" else 1
    for word, found in ((" alice ", True), ("xalice ", False), (" alice.x", False)):
        name = word.encode(encoding)
        for start in (
            edge + shift
            for edge in (208 * 3, 208 * 3 - 104)
            for shift in range(-len(name) - 2, 8, step)
        ):
            data = b"\0" * start + name + b"\0" * 800
            (folder / "blob.bin").write_bytes(data)
            hits = [r["path"] for r in records.find(ALICE)]
            assert bool(hits) is found, (word, start)


def test_a_text_file_that_is_not_utf8_loses_only_its_matching_lines(tmp_path: Path) -> None:
    folder = tmp_path / "spool" / ("d" * 24)
    folder.mkdir(parents=True)
    body = "login ren\xe9 ok\nlogin alice ok\r\nlogin bob ok".encode("latin-1")
    (folder / "auth.log").write_bytes(body)
    (folder / "auth.log").chmod(0o640)
    records = SpoolRecords(tmp_path / "spool")
    assert [(r["line"], r["text"]) for r in records.find(ALICE)] == [(2, "login alice ok")]
    assert records.forget(ALICE, "[erased]", apply=True)["removed"] == 1
    assert (folder / "auth.log").read_bytes() == "login ren\xe9 ok\nlogin bob ok".encode("latin-1")
    assert (folder / "auth.log").stat().st_mode & 0o777 == 0o640


def test_a_domain_login_escaped_in_json_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "spool" / ("f" * 24)
    folder.mkdir(parents=True)
    lines = ['{"user": "CORP\\\\alice"}', '{"user": "CORP\\\\bob", "n": 1}']
    (folder / "push.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = SpoolRecords(tmp_path / "spool").find(Matcher(["corp\\alice"]))
    assert [r["line"] for r in found] == [1]
    # a dotted capital I is an i to the matcher: the quick test lets the line through
    (folder / "auth.log").write_text("login AL\u0130CE ok\nlogin bob ok\n", encoding="utf-8")
    found = SpoolRecords(tmp_path / "spool").find(ALICE)
    assert [(r["path"].split("/")[1], r["line"]) for r in found] == [
        ("auth.log", 1),
        ("push.jsonl", 1),
    ]
