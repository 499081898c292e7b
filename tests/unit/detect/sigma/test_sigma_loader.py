"""Rule loading: every failure reported with its reason; the JSON cache; the CLI check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.core.errors import CheckFailed
from garrison.detect.sigma import load_detector
from garrison.detect.sigma.cache import RuleCache
from garrison.detect.sigma.loader import load_rules
from garrison.interfaces.cli.rules import rules_app

GOOD = """
title: Good rule
id: 88888888-0000-0000-0000-000000000001
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        CommandLine|contains: 'vssadmin delete shadows'
    condition: selection
level: high
"""

BROKEN = {
    "yaml.yml": "title: [unclosed\n",
    "no_condition.yml": "title: No condition\nlogsource: {product: windows}\n"
    "detection:\n  sel:\n    a: b\n",
    "bad_modifier.yml": "title: Bad modifier\nlogsource: {product: windows}\n"
    "detection:\n  sel:\n    a|frobnicate: b\n  condition: sel\n",
    "bad_regex.yml": "title: Bad regex\nlogsource: {product: windows}\n"
    "detection:\n  sel:\n    a|re: '(unclosed'\n  condition: sel\n",
    "undefined.yml": "title: Undefined selection\nlogsource: {product: windows}\n"
    "detection:\n  sel:\n    a: b\n  condition: sel and other\n",
    "not_a_rule.yml": "- just\n- a list\n",
    "placeholder.yml": "title: Placeholder\nlogsource: {product: windows}\n"
    "detection:\n  sel:\n    a|expand: '%unset%'\n  condition: sel\n",
    "empty.yml": "",
}


@pytest.fixture()
def rules_dir(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    root.mkdir()
    (root / "good.yml").write_text(GOOD)
    for name, text in BROKEN.items():
        (root / name).write_text(text)
    (root / "README.md").write_text("not a rule")
    return root


def test_every_failure_is_reported_by_file(rules_dir: Path, tmp_path: Path) -> None:
    det = load_detector([rules_dir], tmp_path / "home")
    errors = det.ruleset.errors
    assert det.ruleset.loaded == 1
    for name in BROKEN:
        assert any(label.startswith(f"rules/{name}") for label in errors), (name, errors)
    assert len(errors) == len(BROKEN)
    assert any("Bad regex" in label for label in errors)  # title shown when known
    assert det.stats()["rules_failed"] == len(BROKEN)
    assert all(reason for reason in errors.values())


def test_cache_is_json_and_gives_the_same_rules(rules_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    cold = load_detector([rules_dir], home)
    assert cold.cache_hits == 0
    entries = list((home / "cache" / "sigma").rglob("*.json"))
    assert len(entries) == 1 + len(BROKEN)  # failures are cached too
    for entry in entries:
        json.loads(entry.read_text())  # plain JSON, nothing executable
    warm = load_detector([rules_dir], home)
    assert warm.cache_hits == len(entries)
    assert warm.ruleset.errors == cold.ruleset.errors
    ev = {"Channel": "Security", "EventID": 4688, "CommandLine": "vssadmin Delete Shadows /all"}
    assert warm.engine.match(ev, "evtx", 0)[0] and cold.engine.match(ev, "evtx", 0)[0]


def test_changed_rule_is_parsed_again(rules_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    load_detector([rules_dir], home)
    (rules_dir / "good.yml").write_text(GOOD.replace("vssadmin", "wbadmin"))
    det = load_detector([rules_dir], home)
    assert det.cache_hits == len(BROKEN)
    ev = {"Channel": "Security", "EventID": 4688, "CommandLine": "wbadmin delete shadows"}
    assert det.engine.match(ev, "evtx", 0)[0]


def test_corrupt_cache_entry_is_ignored(rules_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    load_detector([rules_dir], home)
    for entry in (home / "cache" / "sigma").rglob("*.json"):
        entry.write_text("{not json")
    det = load_detector([rules_dir], home)
    assert det.ruleset.loaded == 1 and det.cache_hits == 0


def test_cache_disabled(rules_dir: Path) -> None:
    result = load_rules([rules_dir], RuleCache(None))
    assert result.cache_hits == 0
    # the placeholder rule parses; it fails later, when its values are compiled
    assert sorted(d.ir["title"] for d in result.docs) == ["Good rule", "Placeholder"]


def test_rules_check_command(rules_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "only_good"
    good.mkdir()
    (good / "good.yml").write_text(GOOD)
    home = str(tmp_path / "home")
    ok = runner.invoke(rules_app, ["check", str(good), "--home", home])
    assert ok.exit_code == 0, ok.output
    assert "1 rules loaded" in ok.output and "0 failed" in ok.output
    bad = runner.invoke(rules_app, ["check", str(rules_dir), "--home", home])
    assert isinstance(bad.exception, CheckFailed) and bad.exception.exit_code == 1
    assert f"{len(BROKEN)} failed" in bad.output
    assert "bad_regex.yml" in bad.output
