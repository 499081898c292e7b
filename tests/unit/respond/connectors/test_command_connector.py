"""The command connector runs a real script from an argv template: values are checked
before substitution (no shell, no option injection), the undo and check templates are used,
a non-zero exit is an error whose retryability is configured, and stderr comes back safe."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.options import OptionsError
from garrison.respond.connectors.base import ConnectorError, Delivery
from garrison.respond.connectors.command import fill
from garrison.respond.connectors.config import load_connectors
from garrison.respond.perform import perform

SCRIPT = """#!/bin/sh
# records its argv (one per line) and stdin, then behaves as $1 asks
log="$(dirname "$0")/calls.jsonl"
printf '%s\\n' "$@" > "$(dirname "$0")/argv.$$"
cat > "$(dirname "$0")/stdin.$$"
echo "$$" >> "$(dirname "$0")/pids"
case "$1" in
  fail) printf 'boom\\033[2J\\nsecond line\\n' >&2; exit 3 ;;
  tempfail) echo 'busy, try later' >&2; exit 75 ;;
  sleep) (sleep 30; echo late) ; sleep 30 ;;
esac
echo "isolated $2"
"""


@pytest.fixture()
def tool(tmp_path: Path) -> Path:
    path = tmp_path / "isolate"
    path.write_text(SCRIPT, encoding="utf-8")
    path.chmod(0o755)
    return path


def _calls(tool: Path) -> list[tuple[list[str], dict[str, object]]]:
    folder = tool.parent
    pids = (folder / "pids").read_text().split() if (folder / "pids").exists() else []
    return [
        ((folder / f"argv.{p}").read_text().splitlines(),
         json.loads((folder / f"stdin.{p}").read_text()))
        for p in pids
    ]  # fmt: skip


def _connector(tool: Path, **extra: object):
    table = {
        "type": "command",
        "argv": [str(tool), "run", "{host}", "--key", "{key}"],
        "undo_argv": [str(tool), "release", "{host}"],
        **extra,
    }
    return load_connectors({"iso": table}, env={})["iso"]


def _isolate(host: str = "web01", undo: bool = False) -> Delivery:
    params = {"host": host, "reason": "Critical; $(rm -rf /)"}
    return Delivery("isolate.host", params, "key-1", "pb", "isolate", undo=undo)


def test_send_runs_the_argv_and_passes_details_on_stdin(tool: Path) -> None:
    receipt = perform(_isolate(), {"iso": _connector(tool)}, {"isolation": "iso"}, live=True)
    assert receipt.detail == "isolated web01"
    ((argv, stdin),) = _calls(tool)
    assert argv == ["run", "web01", "--key", "key-1"]
    assert stdin["params"]["reason"] == "Critical; $(rm -rf /)" and stdin["undo"] is False


def test_undo_uses_undo_argv(tool: Path) -> None:
    perform(_isolate(undo=True), {"iso": _connector(tool)}, {"isolation": "iso"}, live=True)
    ((argv, stdin),) = _calls(tool)
    assert argv == ["release", "web01"] and stdin["undo"] is True


def test_check_without_check_argv_runs_nothing(tool: Path) -> None:
    receipt = _connector(tool).check(_isolate())
    assert receipt.reference == "dry-run" and "web01" in receipt.detail
    assert _calls(tool) == []


def test_check_argv_is_run_in_a_dry_run(tool: Path) -> None:
    conn = _connector(tool, check_argv=[str(tool), "probe", "{host}"])
    conn.check(_isolate())
    assert [argv for argv, _ in _calls(tool)] == [["probe", "web01"]]


def test_missing_program_is_refused_in_check(tmp_path: Path) -> None:
    conn = _connector(tmp_path / "absent")
    with pytest.raises(ConnectorError, match="not executable"):
        conn.check(_isolate())


def test_non_zero_exit_is_an_error_with_safe_stderr(tool: Path) -> None:
    conn = _connector(tool, argv=[str(tool), "fail", "{host}"])
    with pytest.raises(ConnectorError) as err:
        conn.send(_isolate())
    reason = err.value.reason
    assert "exit 3" in reason and "\x1b" not in reason and "\n" not in reason
    assert "boom\\x1b[2J | second line" in reason and not err.value.retryable


def test_retry_exit_codes_make_it_retryable(tool: Path) -> None:
    conn = _connector(tool, argv=[str(tool), "tempfail", "{host}"])
    with pytest.raises(ConnectorError) as err:
        conn.send(_isolate())
    assert err.value.retryable and "busy" in err.value.reason


def test_timeout_is_retryable(tool: Path) -> None:
    conn = _connector(tool, argv=[str(tool), "sleep", "{host}"], timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ConnectorError) as err:
        conn.send(_isolate())
    assert time.monotonic() - started < 10  # the sleeping grandchild was killed too
    assert err.value.retryable and "timed out" in err.value.reason


def test_environment_is_not_inherited(tool: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_SMTP_PASSWORD", "hunter2")
    env_tool = tool.parent / "env-tool"
    env_tool.write_text("#!/bin/sh\nenv\n", encoding="utf-8")
    env_tool.chmod(0o755)
    conn = _connector(tool, argv=[str(env_tool), "{host}"])
    receipt = conn.send(_isolate())
    assert "hunter2" not in receipt.detail and "PATH=" in receipt.detail


def test_a_user_placeholder_for_disable_account(tool: Path) -> None:
    conn = _connector(tool, argv=[str(tool), "disable", "{user}"])
    delivery = Delivery("disable.account", {"user": "CORP\\alice"}, "k")
    perform(delivery, {"iso": conn}, {"accounts": "iso"}, live=True)
    assert _calls(tool)[0][0] == ["disable", "CORP\\alice"]
    with pytest.raises(ConnectorError, match=r"needs \{host\}"):
        _connector(tool).send(delivery)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["/bin/x", "{host.__class__}"], "unknown placeholder"),
        (["/bin/x", "{reason}"], "unknown placeholder"),
        (["/bin/x", "{host!r}"], "unknown placeholder"),
        (["{host}"], "program"),
        ([], "program"),
    ],
)
def test_bad_templates_are_refused_at_load(argv: list[str], match: str) -> None:
    with pytest.raises(OptionsError, match=match) as err:
        load_connectors({"iso": {"type": "command", "argv": argv}}, env={})
    assert "[respond.connectors.iso] argv" in str(err.value)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(
    st.one_of(
        st.text(),
        st.tuples(st.sampled_from(["web01", "-", ""]),
                  st.sampled_from([";", "|", "$(", "`", "\n", " ", "--", "&&", "'", ">"]),
                  st.text()).map("".join),
    )
)  # fmt: skip
def test_hostile_hosts_never_reach_the_argv(tool: Path, host: str) -> None:
    template = (str(tool), "run", "{host}")
    try:
        argv = fill(template, {"host": host})
    except ValueError:
        return
    value = argv[2]
    assert value == host or value == str(__import__("ipaddress").ip_address(host))
    assert not value.startswith("-") and not set(value) & set(";|$`\n '&><()\\\"")
    assert os.sep not in value
