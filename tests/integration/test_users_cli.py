"""``garrison users`` and ``garrison tokens`` as a user runs them (real subprocesses on a
real home): the first-admin bootstrap, refusals as one line and exit 2, a token printed
once that then authenticates, and revocation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from garrison.govern.access import Principal, UserStore, os_account
from garrison.govern.audit import open_audit
from garrison.store.state import StateDB

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import sys; sys.path[:0] = [{src!r}, {root!r}]; "
    "from garrison.interfaces.cli.app import main; main()"
)
ME = os_account()


def garrison(
    home: Path, *args: str, stdin: str = "", user: str = ME
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER.format(src=str(ROOT / "src"), root=str(ROOT)), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        # $USER claims another name: the CLI identity must not believe it
        env={"GARRISON_HOME": str(home), "PATH": "/usr/bin:/bin", "USER": user, "LOGNAME": user},
    )


def refused(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 2, res
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
    for word in words:
        assert word in res.stderr, res.stderr


def store(home: Path, actor: str | None = None) -> UserStore:
    state = StateDB(home / "state.db")
    principal = None if actor is None else UserStore(state).principal_for(actor, "cli")
    return UserStore(state, open_audit(home, state), principal)


def test_bootstrap_then_only_admins_manage(home):
    refused(garrison(home, "users", "list"), "add the first admin")
    refused(
        garrison(home, "users", "add", "ann", "--role", "analyst"), "first user must be an admin"
    )
    res = garrison(
        home,
        "users",
        "add",
        ME,
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert res.returncode == 0, res.stderr
    assert f"added {ME} (admin)" in res.stdout
    assert garrison(home, "users", "add", "boss", "--role", "admin").returncode == 0
    assert garrison(home, "users", "add", "ann", "--role", "analyst").returncode == 0
    listed = json.loads(garrison(home, "users", "list", "--json").stdout)
    assert {u["name"]: u["roles"] for u in listed} == {
        "ann": ["analyst"],
        "boss": ["admin"],
        ME: ["admin"],
    }
    assert store(home).verify_password(ME, "a long enough passphrase").name == ME

    # another admin takes the CLI account's admin role away: now it may not add users
    store(home, "boss").set_roles(ME, ["analyst"])
    refused(garrison(home, "users", "add", "eve", "--role", "viewer"), ME, "users.manage", "admin")
    # and $USER naming an admin changes nothing
    refused(garrison(home, "users", "add", "eve", "--role", "viewer", user="boss"), "users.manage")
    refused(garrison(home, "users", "roles", ME, "--role", "admin"), "users.manage")
    actions = [e.action + ":" + e.outcome for e in open_audit(home).entries(action="users.*")]
    assert actions[0] == "users.roles:error:AccessDenied"


def test_an_unregistered_account_gets_the_command_that_registers_it(home):
    assert garrison(home, "users", "add", "someone-else", "--role", "admin").returncode == 0
    refused(
        garrison(home, "users", "add", "eve", "--role", "viewer"),
        "garrison users add NAME --role ROLE",
    )
    refused(garrison(home, "tokens", "list"), "not a registered user")


def test_token_shown_once_works_and_revokes(home):
    assert garrison(home, "users", "add", ME, "--role", "admin").returncode == 0
    assert (
        garrison(home, "users", "add", "bot", "--role", "analyst", "--role", "viewer").returncode
        == 0
    )
    res = garrison(home, "tokens", "issue", "bot", "--role", "analyst", "--ttl", "1d")
    assert res.returncode == 0, res.stderr
    secret = res.stdout.strip()
    assert res.stdout.count("\n") == 1 and secret.startswith("gar_") and "shown once" in res.stderr
    token_id = secret.split("_")[1]
    assert store(home).authenticate_token(secret) == Principal(
        "bot", frozenset({"analyst"}), "token"
    )

    listed = garrison(home, "tokens", "list", "--json")
    table = garrison(home, "tokens", "list")
    audit = garrison(home, "audit", "list", "--json")
    for out in (
        listed.stdout,
        table.stdout,
        audit.stdout,
        (home / "state.db").read_bytes().decode("latin-1"),
    ):
        assert secret.split("_")[2] not in out
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["user"], row["role"], row["state"]) == (
        token_id,
        "bot",
        "analyst",
        "active",
    )

    refused(
        garrison(home, "tokens", "issue", "bot", "--role", "responder"),
        "does not hold role responder",
    )
    refused(garrison(home, "tokens", "issue", "bot", "--role", "analyst", "--ttl", "10y"), "--ttl")
    assert garrison(home, "tokens", "revoke", token_id).returncode == 0
    assert json.loads(garrison(home, "tokens", "list", "--json").stdout)[0]["state"] == "revoked"
    try:
        store(home).authenticate_token(secret)
    except Exception as exc:
        assert type(exc).__name__ == "Unauthenticated"
    else:
        raise AssertionError("a revoked token authenticated")
    refused(garrison(home, "tokens", "revoke", "ffffffffffff"), "no token")


def test_disable_and_bad_input(home):
    assert garrison(home, "users", "add", ME, "--role", "admin").returncode == 0
    refused(garrison(home, "users", "add", "Bad Name", "--role", "viewer"), "bad user name")
    refused(garrison(home, "users", "add", "x", "--role", "superuser"), "unknown role")
    refused(garrison(home, "users", "disable", ME), "last enabled admin")
    assert garrison(home, "users", "add", "ann", "--role", "viewer").returncode == 0
    assert garrison(home, "users", "disable", "ann").returncode == 0
    assert json.loads(garrison(home, "users", "list", "--json").stdout)[0]["disabled"] is True
    refused(
        garrison(
            home, "users", "add", "short", "--role", "viewer", "--password-stdin", stdin="abc\n"
        ),
        "12 to 1024",
    )
