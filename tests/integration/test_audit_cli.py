"""`garrison audit verify|list` exit codes, and privileged CLI actions leaving entries that
`audit verify` accepts."""

import json

from typer.testing import CliRunner

from garrison.core.errors import CheckFailed
from garrison.govern.audit import open_audit
from garrison.interfaces.cli.app import app


def _run(home, *args):
    return CliRunner().invoke(app, [*args, "--home", str(home)])


def _entries(home, *extra):
    result = _run(home, "audit", "list", "--json", *extra)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def test_verify_exit_codes(home):
    assert _run(home, "audit", "verify").exit_code == 0  # empty log
    log = open_audit(home)
    for i in range(3):
        log.append("allowlist.add", f"user:u{i}")
    ok = _run(home, "audit", "verify")
    assert ok.exit_code == 0 and "intact: 3 entries" in ok.output
    log.state.execute("DROP TRIGGER audit_log_no_update")
    log.state.execute("UPDATE audit_log SET target = 'user:x' WHERE seq = 2")
    bad = _run(home, "audit", "verify")
    assert bad.exit_code == 1
    assert isinstance(bad.exception, CheckFailed)
    assert "seq 2" in bad.output and "mac mismatch" in bad.output
    assert "user:x" in bad.output  # the broken entry is shown


def test_verify_names_a_truncated_tail(home):
    log = open_audit(home)
    for i in range(4):
        log.append("incident.merge", f"inc{i}")
    log.state.execute("DROP TRIGGER audit_log_no_delete")
    log.state.execute("DELETE FROM audit_log WHERE seq = 4")
    bad = _run(home, "audit", "verify")
    assert bad.exit_code == 1 and "seq 4" in bad.output and "truncated tail" in bad.output


def test_list_filters_and_limits(home):
    log = open_audit(home)
    for i in range(5):
        log.append("allowlist.add" if i % 2 else "models.train", f"t{i}")
    rows = _entries(home, "--action", "allowlist.*")
    assert [r["target"] for r in rows] == ["t3", "t1"]
    assert len(_entries(home, "--limit", "2")) == 2
    table = _run(home, "audit", "list")
    assert table.exit_code == 0 and "models.train" in table.output
    assert "no audit entries" in _run(home, "audit", "list", "--action", "nope").output


def test_list_shows_hostile_text_escaped(home):
    open_audit(home).append("x", "[red]evil\x1b[2J")
    out = _run(home, "audit", "list").output
    assert "\x1b" not in out and "[red]evil" in out


def test_privileged_cli_actions_are_audited(home):
    added = _run(home, "allowlist", "add", "user", "svc-backup", "--reason", "backup job")
    assert added.exit_code == 0, added.output
    removed = _run(home, "allowlist", "remove", "1")
    assert removed.exit_code == 0 and "removed" in removed.output
    missing = _run(home, "findings", "disposition", "nosuchfinding", "fp")
    assert missing.exit_code != 0
    rows = _entries(home)
    assert [r["action"] for r in rows] == [
        "finding.disposition",
        "allowlist.remove",
        "allowlist.add",
    ]
    disp, rem, add = rows
    assert add["target"] == "user:svc-backup" and add["outcome"] == "ok"
    assert add["details"]["reason"] == "backup job" and add["details"]["id"] == 1
    assert rem["target"] == "#1" and rem["details"]["removed"] is True
    assert "svc-backup" in rem["details"]["rule"]
    assert disp["outcome"] == "error:UsageError" and disp["target"] == "nosuchfinding"
    verify = _run(home, "audit", "verify")
    assert verify.exit_code == 0 and "intact: 3 entries" in verify.output


def test_models_train_is_audited_with_its_digests(home, tmp_path):
    # a failing run is audited too (no artefact): the data folder does not exist
    result = _run(home, "models", "train", "dga", "--data", str(tmp_path / "none"))
    assert result.exit_code != 0
    (entry,) = _entries(home, "--action", "models.*")
    assert entry["target"] == "dga" and entry["outcome"] == "error:InputError"
    assert _run(home, "audit", "verify").exit_code == 0
