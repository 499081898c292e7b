"""Hostile rule folders in a real hunt: deep YAML, catastrophic regexes, duplicate ids.

Each case ran the whole hunt into the ground before (exit 139 with no outputs, a run past
120 s, a Critical finding silently rewritten as Informational); each now fails one rule with
its reason in ``rules_failed`` while the rest of the hunt goes on.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from garrison.content import bundled_rules_dir
from garrison.core.config import GarrisonConfig, HuntConfig
from garrison.pipeline import HuntReport, HuntService
from garrison.store import MemoryEventStore, StateDB

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    f"import sys; sys.path[:0] = [{str(ROOT / 'src')!r}, {str(ROOT)!r}]; "
    "from garrison.interfaces.cli.app import main; main()"
)
SYSMON = "Microsoft-Windows-Sysmon/Operational"
DUP_ID = "5f2d4c3b-0000-4000-8000-00000000beef"


def _rule(title: str, level: str, rid: str, cond: str, tags: str = "") -> str:
    return f"""title: {title}
id: {rid}
status: test
level: {level}
{tags}logsource: {{category: process_creation, product: windows}}
detection:
  sel:
    {cond}
  condition: sel
"""


WHOAMI = _rule(
    "Whoami Execution",
    "critical",
    DUP_ID,
    "Image|endswith: '\\whoami.exe'",
    "tags: [attack.discovery, attack.t1033]\n",
)
SHADOW = _rule("Benign Process", "informational", DUP_ID, "Image|endswith: '.exe'")


def _events(path: Path, command_line: str = "whoami /all") -> Path:
    line = {
        "EventID": 1,
        "Channel": SYSMON,
        "Computer": "ws01.corp.local",
        "EventRecordID": 1,
        "TimeCreated": "2023-11-14T22:13:20.000Z",
        "Image": "C:\\Windows\\System32\\whoami.exe",
        "CommandLine": command_line,
        "ProcessId": 4000,
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    return path


def _hunt(tmp_path: Path, rules: list[Path], events: Path, bundled: bool = False) -> HuntReport:
    cfg = GarrisonConfig(home=tmp_path / "home", hunt=HuntConfig())
    dirs = [bundled_rules_dir(), *rules] if bundled else rules  # as HuntService.open does
    service = HuntService(cfg, MemoryEventStore(), StateDB.memory(), rules_dirs=dirs)
    return service.run([str(events)])


def _folder(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_duplicate_id_keeps_the_first_rule_and_names_both_files(tmp_path: Path) -> None:
    first = _folder(tmp_path / "team", {"whoami.yml": WHOAMI})
    second = _folder(tmp_path / "mine", {"benign.yml": SHADOW})
    report = _hunt(tmp_path, [first, second], _events(tmp_path / "ev.jsonl"))
    (finding,) = [f for f in report.findings if f.analytic_uid == DUP_ID]
    assert finding.title == "Whoami Execution"
    assert finding.severity_id == 5
    assert [a.technique_uid for a in finding.attacks] == ["T1033"]
    assert report.incidents
    ((label, reason),) = report.rules_failed.items()
    assert label == "mine/benign.yml (Benign Process)"
    assert reason.startswith(f"duplicate rule id {DUP_ID}: already loaded from team/whoami.yml")


def test_two_files_with_one_id_in_one_folder(tmp_path: Path) -> None:
    rules = _folder(tmp_path / "rules", {"a.yml": WHOAMI, "b.yml": SHADOW})
    report = _hunt(tmp_path, [rules], _events(tmp_path / "ev.jsonl"))
    assert list(report.rules_failed) == ["rules/b.yml (Benign Process)"]
    assert "rules/a.yml" in report.rules_failed["rules/b.yml (Benign Process)"]


def test_the_same_folder_twice_is_not_a_duplicate(tmp_path: Path) -> None:
    rules = _folder(tmp_path / "rules", {"a.yml": WHOAMI})
    report = _hunt(tmp_path, [rules, rules, rules / "a.yml"], _events(tmp_path / "ev.jsonl"))
    assert report.rules_failed == {}
    assert report.detector_stats["sigma"]["rules_loaded"] == 1


def test_a_users_rule_replaces_the_bundled_rule_with_its_id(tmp_path: Path) -> None:
    bundled = bundled_rules_dir() / "windows" / "proc_domain_discovery.yml"
    bundled_id = next(
        line.split(":", 1)[1].strip()
        for line in bundled.read_text().splitlines()
        if line.startswith("id:")
    )
    mine = _folder(
        tmp_path / "mine",
        {"override.yml": WHOAMI.replace(DUP_ID, bundled_id).replace("Whoami", "My Whoami")},
    )
    report = _hunt(tmp_path, [mine], _events(tmp_path / "ev.jsonl"), bundled=True)
    assert report.rules_failed == {}
    stats = report.detector_stats["sigma"]
    assert stats["rules_overridden"] == 1
    ((label, note),) = stats["rules_overridden_detail"].items()
    assert (
        label
        == "sigma/windows/proc_domain_discovery.yml (Domain Trust and Privileged Group Discovery)"
    )
    assert note == f"bundled rule replaced by mine/override.yml, which has the same id {bundled_id}"
    (finding,) = [f for f in report.findings if f.analytic_uid == bundled_id]
    assert finding.title == "My Whoami Execution"


def test_catastrophic_regex_rule_runs_in_linear_time(tmp_path: Path) -> None:
    evil = _rule(
        "Evil Regex", "high", "6f2d4c3b-0000-4000-8000-00000000beef", "CommandLine|re: '(a+)+$'"
    )
    rules = _folder(tmp_path / "rules", {"evil.yml": evil, "whoami.yml": WHOAMI})
    events = _events(tmp_path / "ev.jsonl", command_line="a" * 40 + "b")
    started = time.perf_counter()
    report = _hunt(tmp_path, [rules], events)
    assert time.perf_counter() - started < 60
    assert report.rules_failed == {}
    assert {f.title for f in report.findings} == {"Whoami Execution"}


def _cli_hunt(tmp_path: Path, rules: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``garrison hunt`` in a child process (a crash there cannot take the tests down)."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", RUNNER, "hunt", str(_events(tmp_path / "ev.jsonl"))]
    res = subprocess.run(
        [*cmd, "--out", str(out), "--rules", str(rules)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"GARRISON_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
    )
    assert res.returncode == 0, res.stderr
    return res, out


def test_deep_rule_fails_alone_and_the_cli_hunt_completes(tmp_path: Path) -> None:
    """Before: exit 139 inside the YAML loader, no output files at all."""
    deep = "title: Deep\ndetection:\n  sel:\n    x: " + "[" * 50_000 + "]" * 50_000 + "\n"
    rules = _folder(tmp_path / "rules", {"deep.yml": deep, "whoami.yml": WHOAMI})
    res, out = _cli_hunt(tmp_path, rules)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rules_failed_detail"] == {
        "rules/deep.yml": "YAML nested deeper than 64 levels (refused before parsing)"
    }
    assert "1 rule(s) failed to load" in res.stderr
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text().splitlines()]
    assert "Whoami Execution" in {f["finding_info"]["title"] for f in findings}


def test_duplicate_ids_are_named_on_the_terminal(tmp_path: Path) -> None:
    rules = _folder(tmp_path / "rules", {"a.yml": WHOAMI, "b.yml": SHADOW})
    res, _ = _cli_hunt(tmp_path, rules)
    line = next(x for x in res.stderr.splitlines() if "rule not loaded" in x)
    assert "rules/b.yml" in line and "already loaded from rules/a.yml" in line
