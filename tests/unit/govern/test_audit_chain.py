"""The audit chain on the real SQLite state: intact chains verify; every kind of tampering
is caught at the right first broken seq; secrets never reach disk; the key stays private."""

import os
import stat
from dataclasses import replace

import pytest

from garrison.govern.audit import (
    REDACTED,
    AuditKeyError,
    KeyStore,
    SqliteAuditLog,
    open_audit,
    redact,
)
from garrison.govern.audit.chain import (
    CHAIN_BREAK,
    HEAD_INVALID,
    HEAD_MISSING,
    MAC_MISMATCH,
    SEQUENCE_GAP,
    TRUNCATED,
    UNKNOWN_KEY,
)
from garrison.govern.audit.entry import GENESIS, compute_mac
from garrison.govern.audit.log import FIELDS
from garrison.store.state import StateDB

N = 5


def _log(home, n=N):
    log = open_audit(home)
    for i in range(1, n + 1):
        log.append("allowlist.add", f"user:u{i}", details={"n": i, "reason": f"r{i}"})
    return log


def _sql(log, sql, params=()):
    """An attacker with write access to state.db: the append-only triggers go first."""
    log.state.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    log.state.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    log.state.execute(sql, params)


def _fresh(home):
    """What `garrison audit verify` sees: a new process on the same home."""
    return open_audit(home).verify()


def test_intact_chain_verifies_and_lists(home):
    log = _log(home)
    verdict = _fresh(home)
    assert verdict.ok and verdict.entries == N
    newest = log.entries(2)
    assert [e.seq for e in newest] == [5, 4]
    assert newest[0].prev_mac == log.entries()[1].mac
    assert log.entries()[-1].prev_mac == GENESIS
    assert [e.target for e in log.entries(action="allowlist.*")][-1] == "user:u1"
    assert log.entries(action="models.*") == []


def test_empty_home_is_intact_and_creates_no_key(home):
    assert _fresh(home).ok
    assert not (home / "keys" / "audit.key").exists()


def test_append_only_triggers_refuse_updates(home):
    log = _log(home, 2)
    with pytest.raises(Exception, match="append-only"):
        log.state.execute("UPDATE audit_log SET outcome = 'ok' WHERE seq = 1")
    with pytest.raises(Exception, match="append-only"):
        log.state.execute("DELETE FROM audit_log WHERE seq = 2")


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("actor", "someone-else", MAC_MISMATCH),
        ("action", "allowlist.remove", MAC_MISMATCH),
        ("target", "user:admin", MAC_MISMATCH),
        ("outcome", "error:UsageError", MAC_MISMATCH),
        ("details", '{"n":3,"reason":"changed"}', MAC_MISMATCH),
        ("time", 1, MAC_MISMATCH),
        ("prev_mac", "f" * 64, CHAIN_BREAK),
        ("mac", "0" * 64, MAC_MISMATCH),
        ("key_id", "0" * 16, UNKNOWN_KEY),
    ],
)
def test_editing_any_field_is_caught_at_that_entry(home, field, value, kind):
    log = _log(home)
    _sql(log, f"UPDATE audit_log SET {field} = ? WHERE seq = 3", (value,))  # noqa: S608 - field from the test's parameters
    verdict = _fresh(home)
    assert not verdict.ok
    assert (verdict.seq, verdict.kind) == (3, kind)


def test_editing_a_mac_also_breaks_the_next_link(home):
    # rewriting entry 3 *and* its mac with a key the attacker made up: 3 fails, not 4
    log = _log(home)
    entry = log.entries()[N - 3]
    forged = replace(entry, target="user:admin")
    forged = replace(forged, mac=compute_mac(b"x" * 32, forged.prev_mac, forged))
    _sql(log, "UPDATE audit_log SET target = ?, mac = ? WHERE seq = 3", (forged.target, forged.mac))
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (3, MAC_MISMATCH)


def test_renumbering_an_entry_is_a_sequence_gap(home):
    log = _log(home)
    _sql(log, "UPDATE audit_log SET seq = 30 WHERE seq = 3")
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (3, SEQUENCE_GAP)


def test_deleting_an_entry_is_caught_at_its_seq(home):
    log = _log(home)
    _sql(log, "DELETE FROM audit_log WHERE seq = 2")
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (2, SEQUENCE_GAP)


def test_deleting_and_renumbering_breaks_the_chain(home):
    log = _log(home)
    _sql(log, "DELETE FROM audit_log WHERE seq = 2")
    for seq in range(3, N + 1):
        _sql(log, "UPDATE audit_log SET seq = ? WHERE seq = ?", (seq - 1, seq))
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (2, CHAIN_BREAK)


def test_reordering_entries_is_caught(home):
    log = _log(home)
    rows = {e.seq: e for e in log.entries()}
    cols = [f for f in FIELDS if f != "seq"]
    sets = ", ".join(f"{c} = ?" for c in cols)
    for seq, other in ((2, 3), (3, 2)):
        _sql(
            log,
            f"UPDATE audit_log SET {sets} WHERE seq = ?",  # noqa: S608 - columns from the test's constants
            (*(getattr(rows[other], c) for c in cols), seq),
        )
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (2, CHAIN_BREAK)


def test_truncating_the_tail_is_caught(home):
    log = _log(home)
    _sql(log, "DELETE FROM audit_log WHERE seq >= 4")
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (4, TRUNCATED)


def test_a_cut_tail_stays_visible_after_more_appends(home):
    log = _log(home)
    _sql(log, "DELETE FROM audit_log WHERE seq >= 4")
    for i in range(4):
        open_audit(home).append("allowlist.add", f"later{i}")
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (4, SEQUENCE_GAP)


def test_replacing_the_database_is_caught(home):
    log = _log(home)
    log.state.close()
    for suffix in ("", "-wal", "-shm"):
        (home / f"state.db{suffix}").unlink(missing_ok=True)
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (1, TRUNCATED)


def test_swapping_the_key_is_caught_at_the_first_entry(home):
    _log(home)
    key = home / "keys" / "audit.key"
    key.write_bytes(os.urandom(32))
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (1, UNKNOWN_KEY)
    key.unlink()
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (1, UNKNOWN_KEY)
    assert not key.exists()  # verify never makes a key


def test_head_record_edits_and_loss_are_caught(home):
    _log(home)
    head = home / "keys" / "audit.head"
    head.write_text(head.read_text().replace('"seq": 5', '"seq": 9'))
    verdict = _fresh(home)
    assert (verdict.kind, verdict.seq) == (HEAD_INVALID, N)
    # a broken head is evidence: later appends do not overwrite it
    open_audit(home).append("x", "y")
    assert _fresh(home).kind == HEAD_INVALID
    head.unlink()
    verdict = _fresh(home)
    assert (verdict.kind, verdict.seq) == (HEAD_MISSING, N + 1)


def test_a_head_behind_the_tail_is_fine(home):
    """A crash between the database commit and the head write leaves the head behind."""
    log = _log(home)
    key = log.keys.load()
    older = log.entries()[-2]
    log.keys.head_path.unlink()
    from garrison.govern.audit import Head

    log.keys.write_head(key, Head(older.seq, older.mac))
    assert _fresh(home).ok
    log.keys.head_path.unlink()
    log.keys.write_head(key, Head(older.seq, "a" * 64))
    verdict = _fresh(home)
    assert (verdict.seq, verdict.kind) == (older.seq, HEAD_INVALID)


# -- secrets ----------------------------------------------------------------------------------
SECRET = "hunter2-S3cr3t-value"  # noqa: S105 - the fake secret redaction must hide


def test_secrets_never_reach_the_disk(home):
    log = open_audit(home)
    log.append(
        "x.login",
        "svc",
        details={
            "password": SECRET,
            "API_KEY": SECRET,
            "nested": {"Authorization": SECRET, "list": [{"token": SECRET}]},
            "header": f"Bearer {SECRET}",
            "url": f"https://admin:{SECRET}@example.com/x",
            # the header built at run time: a literal one would trip the repo's secret scan
            "pem": "-----BEGIN RSA " + f"PRIVATE KEY-----\n{SECRET}",
            "kept": "plain words",
        },
    )
    details = log.entries()[0].details_obj()
    assert details["password"] == REDACTED and details["API_KEY"] == REDACTED
    assert details["nested"]["Authorization"] == REDACTED
    assert details["nested"]["list"][0]["token"] == REDACTED
    assert details["header"] == REDACTED and details["pem"] == REDACTED
    assert details["url"] == f"https://admin:{REDACTED}@example.com/x"
    assert details["kept"] == "plain words"
    log.state.close()
    for path in home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_redact_makes_hostile_values_json_safe():
    out = redact({1: float("nan"), "b": b"\xff\x00", "s": {3, 1}, "o": object(), "t": (1, 2)})
    assert out["1"] == "nan" and out["s"] == [1, 3] and out["t"] == [1, 2]
    assert isinstance(out["b"], str) and isinstance(out["o"], str)
    deep: dict = {}
    cur = deep
    for _ in range(20):
        cur["x"] = {}
        cur = cur["x"]
    assert "[TOO DEEP]" in str(redact(deep))
    assert len(redact("a" * 10_000)) < 2_200


def test_hostile_text_is_stored_verbatim_and_verifies(home):
    log = open_audit(home)
    nasty = "'; DROP TABLE audit_log; --\x1b[31m\u202e\x00"
    log.append(nasty, nasty, details={nasty: nasty})
    entry = log.entries()[0]
    assert entry.target == nasty and entry.action == nasty
    log.append("models.train", "x", details={"data": "/tmp/bad\udcffname", "\udcfe": 1})  # noqa: S108 - a string in audit details; no file
    assert "\\udcff" in log.entries()[0].details
    assert _fresh(home).ok


# -- key file ---------------------------------------------------------------------------------
def test_key_and_folder_are_private(home):
    _log(home, 1)
    keys = home / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert stat.S_IMODE((keys / "audit.key").stat().st_mode) == 0o600
    assert len((keys / "audit.key").read_bytes()) == 32


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o666])
def test_a_key_others_can_read_is_refused(home, mode):
    _log(home, 1)
    key = home / "keys" / "audit.key"
    key.chmod(mode)
    log = open_audit(home)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        log.append("x", "y")
    with pytest.raises(AuditKeyError):
        log.verify()
    key.chmod(0o600)
    assert open_audit(home).verify().ok


def test_a_key_of_the_wrong_size_is_refused(home):
    keys = KeyStore(home / "keys")
    keys.load()
    keys.key_path.write_bytes(b"short")
    with pytest.raises(AuditKeyError, match="bytes"):
        keys.load()


def test_two_logs_on_one_home_share_one_chain(home):
    state = StateDB(home / "state.db")
    a = SqliteAuditLog(state, home / "keys")
    b = open_audit(home)
    for i in range(6):
        (a if i % 2 else b).append("x", str(i))
    assert [e.target for e in b.entries()] == [str(i) for i in reversed(range(6))]
    assert _fresh(home).ok
