"""`garrison audit head` and `audit verify --head`: a head exported outside the home proves a
rewrite made with the home's own key (issue 10: a verdict changed from tp to fp, re-MAC'd)."""

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace

from typer.testing import CliRunner

from garrison.core.errors import CheckFailed, InputError
from garrison.govern.audit import open_audit
from garrison.govern.audit.entry import compute_mac
from garrison.govern.audit.keys import _head_seal
from garrison.govern.audit.log import _row
from garrison.interfaces.cli.app import app

FIELDS = "seq, time, actor, action, target, outcome, details, key_id, prev_mac, mac"


def _run(home, *args):
    return CliRunner().invoke(app, [*args, "--home", str(home)])


def _write_entries(home, n):
    log = open_audit(home)
    for i in range(n):
        log.append("finding.disposition", f"f{i}", details={"verdict": "tp", "n": i})


def _export(home, tmp_path):
    out = tmp_path / "head.json"
    result = _run(home, "audit", "head", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _remac_edit(home, seq):
    """What an attacker who can read the home does: edit one entry's details in state.db and
    recompute its MAC and every later one with the home's key and the module's MAC function."""
    key = (home / "keys" / "audit.key").read_bytes()
    db = sqlite3.connect(home / "state.db")
    db.execute("DROP TRIGGER audit_log_no_update")
    rows = [_row(r) for r in db.execute(f"SELECT {FIELDS} FROM audit_log ORDER BY seq")]  # noqa: S608 - the column list is the module's constant
    prev = rows[0].prev_mac
    for entry in rows:
        if entry.seq == seq:
            entry = replace(entry, details=entry.details.replace('"tp"', '"fp"'))
        entry = replace(entry, prev_mac=prev)
        entry = replace(entry, mac=compute_mac(key, prev, entry))
        db.execute(
            "UPDATE audit_log SET details = ?, prev_mac = ?, mac = ? WHERE seq = ?",
            (entry.details, entry.prev_mac, entry.mac, entry.seq),
        )
        prev = entry.mac
    db.commit()
    db.close()
    # the head record beside the key follows the new last MAC, as the attacker would make it
    last = rows[-1].seq
    record = {"seq": last, "mac": prev, "seal": _head_seal(key, last, prev)}
    (home / "keys" / "audit.head").write_text(json.dumps(record))


def test_head_prints_one_json_object(home):
    _write_entries(home, 3)
    result = _run(home, "audit", "head")
    assert result.exit_code == 0, result.output
    head = json.loads(result.output)
    last = open_audit(home).entries(1)[0]
    assert head["format"] == "garrison-audit-head/1"
    assert head["seq"] == head["entries"] == 3
    assert head["mac"] == last.mac and head["time"] == last.time
    assert len(head["digest"]) == 64


def test_verify_head_detects_a_remaced_edit(home, tmp_path):
    _write_entries(home, 5)
    exported = _export(home, tmp_path)
    assert _run(home, "audit", "verify", "--head", str(exported)).exit_code == 0
    _remac_edit(home, 2)
    assert '"fp"' in open_audit(home).entries(5)[3].details  # the edit is in place
    plain = _run(home, "audit", "verify")
    assert plain.exit_code == 0 and "intact: 5 entries" in plain.output  # the key is fooled
    bad = _run(home, "audit", "verify", "--head", str(exported))
    assert bad.exit_code == 1 and isinstance(bad.exception, CheckFailed)
    assert "seq 5" in bad.output and "exported head mismatch" in bad.output


def test_entries_appended_after_export_still_pass(home, tmp_path):
    _write_entries(home, 3)
    exported = _export(home, tmp_path)
    _write_entries(home, 4)
    ok = _run(home, "audit", "verify", "--head", str(exported))
    assert ok.exit_code == 0 and "intact: 7 entries" in ok.output
    _remac_edit(home, 6)  # after the head: only the home's own checks cover it
    assert _run(home, "audit", "verify", "--head", str(exported)).exit_code == 0
    _remac_edit(home, 3)  # the head's own entry
    bad = _run(home, "audit", "verify", "--head", str(exported))
    assert bad.exit_code == 1 and "seq 3" in bad.output


def test_a_log_shorter_than_the_head_fails(home, tmp_path):
    _write_entries(home, 2)
    exported = _export(home, tmp_path)
    other = tmp_path / "fresh"  # the whole home replaced by a new one
    _write_entries(other, 1)
    bad = _run(other, "audit", "verify", "--head", str(exported))
    assert bad.exit_code == 1 and "exported head ahead of the log" in bad.output


def test_bad_head_files_exit_2_with_one_line(home, tmp_path):
    _write_entries(home, 1)
    good = json.loads(_export(home, tmp_path).read_text())
    cases = {
        "missing": None,
        "notjson": "{",
        "list": "[]",
        "format": json.dumps({**good, "format": "other/9"}),
        "seq": json.dumps({**good, "seq": True}),
        "digest": json.dumps({**good, "digest": "zz"}),
        "binary": b"\xff\xfe\x00",
        "huge": " " * 70000,
    }
    for name, body in cases.items():
        path = tmp_path / f"{name}.json"
        if isinstance(body, bytes):
            path.write_bytes(body)
        elif body is not None:
            path.write_text(body)
        result = _run(home, "audit", "verify", "--head", str(path))
        # main() maps InputError to exit 2 (checked through the real entry point below)
        assert isinstance(result.exception, InputError), (name, result.output)
        assert result.exception.exit_code == 2
        message = str(result.exception)
        assert "head file" in message and "\n" not in message, (name, message)


def test_head_refuses_a_broken_chain(home):
    _write_entries(home, 2)
    log = open_audit(home)
    log.state.execute("DROP TRIGGER audit_log_no_update")
    log.state.execute("UPDATE audit_log SET target = 'x' WHERE seq = 1")
    result = _run(home, "audit", "head")
    assert result.exit_code == 1 and "mac mismatch" in result.output
    assert "garrison-audit-head" not in result.output


def test_real_entry_point_exit_codes(home, tmp_path):
    _write_entries(home, 2)
    exported = _export(home, tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    ok = _main("audit", "verify", "--head", str(exported), "--home", str(home))
    assert ok.returncode == 0, ok.stderr
    broken = _main("audit", "verify", "--head", str(bad), "--home", str(home))
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1 and "head file" in broken.stderr


def _main(*args):
    """The installed entry point (``main`` maps errors to exit codes) in a real process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = "from garrison.interfaces.cli.app import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
