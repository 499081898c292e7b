"""Playbooks as data (issue 10): the shipped ones load, and every invalid playbook is
refused with its file, the line of the problem and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.errors import InputError
from garrison.respond.actions import ACTIONS
from garrison.respond.check import check_dir
from garrison.respond.playbook import Approval, When

SHIPPED = Path(__file__).resolve().parents[3] / "src" / "garrison" / "content" / "playbooks"

VALID = """\
id: pb-one
name: One
trigger:
  on: incident
  severity: Critical
steps:
  - id: look
    action: enrich
  - id: cut
    action: isolate.host
    when: {step: look}
    params:
      host: "{{entity}}"
    approval:
      required: true
      expires: 2h
"""


def _check(tmp_path: Path, text: str, name: str = "pb.yml"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return check_dir(tmp_path)


def _one_problem(tmp_path: Path, text: str) -> tuple[int, str]:
    report = _check(tmp_path, text)
    assert report.playbooks == []
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert problem.path == tmp_path / "pb.yml"
    assert str(problem).startswith(f"{tmp_path / 'pb.yml'}:{problem.line}: ")
    return problem.line, problem.reason


def test_the_shipped_playbooks_are_valid():
    report = check_dir(SHIPPED)
    assert report.problems == []
    ids = {p.id for p in report.playbooks}
    assert ids == {
        "isolate-host-critical",
        "block-ip-intel-and-detector",
        "disable-account-credential-stuffing",
        "ticket-high-incident",
    }
    actions = {s.action for p in report.playbooks for s in p.steps}
    assert actions <= set(ACTIONS.names())
    gated = [s for p in report.playbooks for s in p.steps if ACTIONS.get(s.action).needs_approval]
    assert len(gated) == 3 and all(s.approval and s.approval.required for s in gated)


def test_a_valid_playbook_reads_into_its_dataclasses(tmp_path):
    (playbook,) = _check(tmp_path, VALID).playbooks
    assert playbook.mode == "shadow" and playbook.trigger.on == "incident"
    assert playbook.trigger.severity == ("Critical",)
    cut = playbook.steps[1]
    assert cut.when == When("look", "succeeded")
    assert cut.approval == Approval(required=True, quorum=1, expires=7200, fallback="reject")
    assert dict(cut.params) == {"host": "{{entity}}"}


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("name: One\n", "name: One\ncolour: red\n", 3, "playbook: unknown key 'colour'"),
        ("name: One\n", "name: [One]\n", 2, "name must be a non-empty string"),
        ("name: One\n", "", 1, "playbook: missing required key 'name'"),
        ("  - id: cut\n", "  - id: look\n", 9, "duplicate step id 'look'"),
        (
            "{step: look}",
            "{step: nope}",
            11,
            "step cut.when.step 'nope' is not a step of this playbook",
        ),
        ("action: enrich", "action: wipe.disk", 8, "step look: unknown action 'wipe.disk'"),
        ('host: "{{entity}}"', "hots: x", 13, "step cut.params: unknown key 'hots'"),
        ("      required: true\n", "      required: false\n", 15, "isolate.host is disruptive"),
        ("  severity: Critical", "  severity: Huge", 5, "trigger.severity must be one of"),
        ("  on: incident", "  on: alert", 4, "trigger.on must be one of finding, incident"),
        ("expires: 2h", "expires: soon", 16, "expires must be a duration"),
        ("name: One", "name: !!python/object:os.system x", 2, "must be a non-empty string"),
        ("name: One", "name: [unclosed", 3, "not valid YAML"),
        ("  on: incident", "  on: incident\n  min_risk: " + "9" * 5000, 5, "trigger.min_risk: not"),
        ("expires: 2h", "quorum: 0", 16, "quorum must be between 1 and 20, not 0"),
    ],
)
def test_each_invalid_playbook_names_line_and_reason(tmp_path, old, new, line, reason):
    assert old in VALID
    got_line, got_reason = _one_problem(tmp_path, VALID.replace(old, new, 1))
    assert reason in got_reason
    assert got_line == line


def test_when_must_not_refer_to_a_later_step(tmp_path):
    text = VALID.replace("    action: enrich\n", "    action: enrich\n    when: {step: cut}\n")
    line, reason = _one_problem(tmp_path, text)
    assert (line, reason) == (9, "step look.when.step 'cut' is a later step: it has not run yet")


def test_a_missing_required_parameter_is_refused_at_its_step(tmp_path):
    text = VALID.replace('    params:\n      host: "{{entity}}"\n', "")
    line, reason = _one_problem(tmp_path, text)
    assert line == 9 and "action isolate.host needs parameter 'host'" in reason


def test_a_gated_step_without_any_approval_is_refused(tmp_path):
    text = VALID.split("    approval:")[0]
    line, reason = _one_problem(tmp_path, text)
    assert line == 9
    assert reason == "step cut: action isolate.host is disruptive and needs approval.required: true"


def test_a_playbook_id_may_appear_in_one_file_only(tmp_path):
    (tmp_path / "a.yml").write_text(VALID, encoding="utf-8")
    report = _check(tmp_path, "# same id\n" + VALID, name="b.yml")
    assert [p.source for p in report.playbooks] == [str(tmp_path / "a.yml")]
    (problem,) = report.problems
    assert (problem.path, problem.line) == (tmp_path / "b.yml", 2)
    assert problem.reason.startswith("duplicate playbook id 'pb-one' (also in ")


def test_empty_and_hostile_files_are_problems_not_crashes(tmp_path):
    (tmp_path / "empty.yml").write_text("", encoding="utf-8")
    (tmp_path / "deep.yml").write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    report = check_dir(tmp_path)
    reasons = {p.path.name: p.reason for p in report.problems}
    assert reasons["empty.yml"].startswith("empty file")
    assert "nested deeper than" in reasons["deep.yml"]
    assert reasons["list.yaml"] == "playbook must be a mapping"


def test_a_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        check_dir(tmp_path / "absent")


_LINES = VALID.splitlines(keepends=True)
#: Fragments that change a YAML document's shape, types, anchors and keys.
# fmt: off
_PIECES = st.sampled_from([
    "", "x", ":", "- ", "  ", "\t", "[", "{", "}", "&a ", "*a", "!!str ", "!!int ", "#", "'",
    '"', "\n", "0", "-1", "true", "null", "required: true", "step: look", "on: finding",
])
# fmt: on


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(_LINES) - 1), st.integers(0, 40), _PIECES, st.booleans()),
        max_size=4,
    )
)
def test_mutated_playbooks_are_valid_or_refused_with_a_line(tmp_path, edits):
    """Never a traceback: a mutated playbook either loads or is refused with a line."""
    lines = list(_LINES)
    for index, column, piece, delete in edits:
        line = lines[index]
        column = min(column, len(line))
        lines[index] = (
            line[:column] + ("" if delete else piece) + line[column + (1 if delete else 0) :]
        )
    text = "".join(lines)
    report = _check(tmp_path, text)
    assert len(report.playbooks) + len(report.problems) == 1
    for problem in report.problems:
        assert 1 <= problem.line <= text.count("\n") + 2
        assert problem.reason and "\n" not in problem.reason
    for playbook in report.playbooks:
        gated = [s for s in playbook.steps if ACTIONS.get(s.action).needs_approval]
        assert all(s.approval and s.approval.required for s in gated)
