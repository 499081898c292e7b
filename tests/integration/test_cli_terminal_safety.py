"""Issue 18 item 8: attacker-controlled text never reaches the terminal as control codes.

Titles, rule names, descriptions and entity values of stored findings, file names given to
``hunt`` and ``--intel``, rule files for ``rules check`` and the text of error messages carry
real escape sequences (ESC[2J, OSC 52, OSC 8, bare CR, C1 CSI, U+202E); every command's
output holds no raw C0/C1/format character except newline, and rich markup in the text is
printed, not obeyed.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garrison.core.entities import Entity
from garrison.correlate.service import INDEX_FILE
from garrison.correlate.synthetic import generate
from garrison.govern.audit import open_audit
from garrison.interfaces.cli.app import app
from garrison.store.state import StateDB
from tests.support import store_alerts, write_kv

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import sys; sys.path.insert(0, {root!r}); import tests.support; "
    "from garrison.interfaces.cli.app import main; main()"
)

PAYLOADS = (
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07",  # OSC 52: write the clipboard
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",  # OSC 8: hidden hyperlink
    "benign\rEVIL",  # CR: overwrite the line
    "\u202egnp.exe",  # bidi override
    "\x9b31m",  # C1 CSI
    "[link=https://evil.example]x[/link][bold]",  # rich markup
)
HOSTILE = "".join(PAYLOADS)


def raw_controls(text: str) -> list[str]:
    """What a terminal could act on: C0 but newline, DEL, C1, format, separators."""
    return [
        ch
        for ch in text
        if ch != "\n" and unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
    ]


def _seed_home(home: Path, text: str, n: int = 120) -> None:
    """A state whose findings carry ``text`` in every field a command prints."""
    findings = []
    for f in generate(n, n_users=8, n_chains=1, seed=5).findings:
        f = dataclasses.replace(
            f,
            title=f"{text} {f.title}",
            analytic_name=f"{text} {f.analytic_name}",
            description=f"{text}\nsecond line {text}",
            entities=[*f.entities, Entity("user", f"u{text}")],
        )
        findings.append(f)
    state = StateDB(home / "state.db")
    store_alerts(state, home / INDEX_FILE, findings)
    state.close()


def _cli(home: Path, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--home", str(home)])
    assert result.exit_code == 0, result.output
    return result.output


def _assert_safe(out: str) -> None:
    assert raw_controls(out) == [], out[:400]


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("hostile-home")
    _seed_home(home, HOSTILE)
    return home


def test_incidents_and_findings_commands_show_escapes(hostile_home: Path) -> None:
    rows = json.loads(_cli(hostile_home, "incidents", "list", "--json"))
    top = rows[0]["uid"]
    outputs = {
        "incidents list": _cli(hostile_home, "incidents", "list", "--status", "all"),
        "incidents show": _cli(hostile_home, "incidents", "show", top),
        "incidents similar": _cli(hostile_home, "incidents", "similar", top),
        "findings list": _cli(hostile_home, "findings", "list", "--limit", "50"),
        "findings tuning": _cli(hostile_home, "findings", "tuning"),
        "incidents show --json": _cli(hostile_home, "incidents", "show", top, "--json"),
        "findings list --json": _cli(hostile_home, "findings", "list", "--json"),
    }
    for name, out in outputs.items():
        assert raw_controls(out) == [], name
    # shown, not dropped: the analyst sees that the title carries an escape
    assert "\\x1b[2J" in outputs["incidents show"]
    assert "[link=https://evil.example]" in outputs["incidents show"]
    # the JSON stays exact: escapes decode back to the stored text
    found = json.loads(outputs["findings list --json"])
    assert found and all(row["title"].startswith(HOSTILE) for row in found)
    assert json.loads(outputs["incidents show --json"])["class_uid"] == 2005


def test_audit_entries_of_hostile_decisions_are_escaped(hostile_home: Path) -> None:
    rows = json.loads(_cli(hostile_home, "findings", "list", "--json"))
    CliRunner().invoke(
        app,
        [
            "findings",
            "disposition",
            rows[0]["uid"],
            "fp",
            "--note",
            HOSTILE,
            "--home",
            str(hostile_home),
        ],
    )
    _assert_safe(_cli(hostile_home, "audit", "list"))
    assert open_audit(hostile_home).verify().ok


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(codec="utf-8", exclude_characters="\n"),
            st.sampled_from(["\x1b", "\x9b", "\x07", "\r", "\u202e", "\u2066", "[", "]"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_property_stored_text_never_reaches_the_terminal_raw(tmp_path_factory, text) -> None:
    home = tmp_path_factory.mktemp("prop")
    _seed_home(home, text, n=40)
    rows = json.loads(_cli(home, "incidents", "list", "--json", "--status", "all"))
    for out in (
        _cli(home, "incidents", "list", "--status", "all"),
        _cli(home, "findings", "list", "--status", "all"),
        _cli(home, "incidents", "show", rows[0]["uid"]) if rows else "",
    ):
        _assert_safe(out)


def _garrison(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER.format(root=str(ROOT)), *args],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=300,
        # this tree's sources first (an installed garrison may be another checkout)
        env={"GARRISON_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src")},
    )


def test_hunt_skipped_and_intel_lines_show_escapes(tmp_path: Path, home: Path) -> None:
    data = write_kv(tmp_path / "a.log", ["t=1000 user=a"])
    missing = tmp_path / f"gone{HOSTILE}.evtx"
    bad_intel = tmp_path / f"feed{PAYLOADS[1]}.csv"
    bad_intel.write_bytes(b"\xff\xfe\x00garbage\x1b[2J")
    res = _garrison(
        home,
        "hunt",
        str(missing),
        str(data),
        "--intel",
        str(bad_intel),
        "--out",
        str(tmp_path / "out"),
    )
    assert res.returncode == 0, res.stderr
    _assert_safe(res.stdout)
    _assert_safe(res.stderr)
    lines = res.stderr.splitlines()
    skipped = [line for line in lines if line.startswith("skipped") and "gone" in line]
    assert len(skipped) == 1 and "\\x1b[2J" in skipped[0]
    intel = [line for line in lines if "feed" in line]
    assert intel and all("\\x1b]52;c;" in line for line in intel)


def test_rules_check_failures_show_escapes(tmp_path: Path, home: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / f"evil{PAYLOADS[0]}.yml").write_text(
        f"title: '{PAYLOADS[2]}'\nlogsource: {{product: windows}}\ndetection: nonsense\n",
        encoding="utf-8",
    )
    res = _garrison(home, "rules", "check", str(rules))
    assert res.returncode == 1 and "FAILED" in res.stderr
    _assert_safe(res.stdout)
    _assert_safe(res.stderr)


def test_error_messages_and_usage_errors_show_escapes(tmp_path: Path, home: Path) -> None:
    res = _garrison(home, "kpi", "--run", str(tmp_path / f"no{HOSTILE}"))
    assert res.returncode == 2 and "not a folder" in res.stderr
    _assert_safe(res.stderr)
    res = _garrison(home, f"hunt{PAYLOADS[0]}")
    assert res.returncode == 2
    _assert_safe(res.stderr)
    res = _garrison(home, "incidents", "list", "--status", HOSTILE)
    assert res.returncode == 2 and "incident status must be one of" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    _assert_safe(res.stderr)
