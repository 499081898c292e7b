"""``[respond.connectors.NAME]`` through the one options loader: every type builds, and
each mistake (unknown type, unknown or missing key, unset secret variable) is one
``OptionsError`` naming the table, the key and the file, with no secret in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.errors import InputError
from garrison.core.options import OptionsError
from garrison.respond.connectors.base import Connector
from garrison.respond.connectors.config import TYPES, load_connectors
from garrison.respond.connectors.memory import Memory
from garrison.respond.perform import check_bindings

FILE = Path("garrison.toml")
ENV = {"HOOK": "s3cret-value"}
ONE_OF_EACH = {
    "hook": {"type": "webhook", "url": "https://h.example.org/t0ken", "secret_env": "HOOK"},
    "mail": {"type": "smtp", "host": "mail.example.org", "sender": "g@example.org"},
    "edge": {"type": "nftables", "family": "ip6", "table": "edge", "set": "bad"},
    "iso": {"type": "command", "argv": ["/usr/local/bin/isolate", "{host}"]},
    "tk": {"type": "ticket-file", "path": "/tmp/tickets.jsonl"},
    "tkw": {"type": "ticket-webhook", "url": "https://t.example.org/", "secret_env": "HOOK"},
    "twin": {"type": "memory", "fail_first": 2},
}


def test_one_of_each_type_builds() -> None:
    built = load_connectors(ONE_OF_EACH, FILE, ENV)
    assert {c.kind for c in built.values()} == set(TYPES)
    for name, conn in built.items():
        assert isinstance(conn, Connector) and conn.name == name
        assert "s3cret-value" not in repr(conn)
    assert "t0ken" not in repr(built["hook"])


@pytest.mark.parametrize(
    ("table", "key", "reason"),
    [
        ({"type": "carrier-pigeon"}, "type", "unknown connector type 'carrier-pigeon'"),
        ({"url": "https://x.org"}, "type", "missing"),
        ({"type": "webhook", "secret_env": "HOOK"}, "url", "missing"),
        ({"type": "webhook", "url": "https://x.org", "secret_env": "NOPE"}, "secret_env",
         "environment variable NOPE is not set"),
        ({"type": "webhook", "url": "https://x.org", "secret_env": "HOOK", "secret": "x"},
         "secret", "unknown key"),
        ({"type": "webhook", "url": "https://x.org", "secret_env": "HOOK", "timeout": "1s"},
         "timeout", "expected float"),
        ({"type": "nftables", "family": "bridge"}, "family", "not one of"),
        ({"type": "nftables", "set": "bad set; flush"}, "set", "must be a letter"),
        ({"type": "nftables", "protect": ["not-a-net"]}, "protect", "does not appear"),
        ({"type": "ticket-file"}, "path", "missing"),
        ({"type": "memory", "fail": "sometimes"}, "fail", "not one of"),
        ({"type": "command", "argv": ["/bin/x"], "timout": 3}, "timout", "did you mean"),
    ],
)  # fmt: skip
def test_mistakes_name_table_key_and_file(table: dict[str, object], key: str, reason: str) -> None:
    with pytest.raises(OptionsError) as err:
        load_connectors({"edge-1": table}, FILE, ENV)
    exc = err.value
    assert isinstance(exc, InputError)  # the CLI maps it to exit 2
    assert exc.table == "respond.connectors.edge-1" and exc.key == key
    assert reason in exc.reason and str(exc).startswith("garrison.toml: [respond.connectors.")
    assert "s3cret-value" not in str(exc)


def test_an_empty_secret_is_unset() -> None:
    table = {"type": "webhook", "url": "https://x.org", "secret_env": "HOOK"}
    with pytest.raises(OptionsError, match="HOOK is not set"):
        load_connectors({"h": table}, FILE, {"HOOK": ""})


def test_a_dotted_name_is_quoted_in_the_table() -> None:
    with pytest.raises(OptionsError) as err:
        load_connectors({"edge.fw": {"type": "nope"}}, FILE, ENV)
    assert err.value.table == 'respond.connectors."edge.fw"'


def test_memory_type_from_config() -> None:
    twin = load_connectors({"t": {"type": "memory", "fail_first": 2}}, FILE, ENV)["t"]
    assert isinstance(twin, Memory) and twin.fail_first == 2


def test_bindings_are_checked_against_actions_and_connectors() -> None:
    built = load_connectors(ONE_OF_EACH, FILE, ENV)
    check_bindings({"firewall": "edge", "mail": "mail", "tickets": "tk",
                    "isolation": "iso", "disable.account": "hook"}, built, FILE)  # fmt: skip
    cases = [
        ({"firewal": "edge"}, "not a binding slot"),
        ({"firewall": "nope"}, "not under [respond.connectors]"),
        ({"firewall": "mail"}, "block.ip cannot go through smtp"),
        ({"tickets": "hook"}, "ticket.open cannot go through webhook"),
    ]
    for bindings, match in cases:
        with pytest.raises(OptionsError) as err:
            check_bindings(bindings, built, FILE)
        assert match in str(err.value) and err.value.table == "respond.bindings"


def test_from_garrison_toml_through_the_respond_table(tmp_path: Path) -> None:
    import tomllib

    from garrison.respond.config import load_response_config

    text = f"""
[respond]
attempts = 4
[respond.bindings]
firewall = "edge"
tickets = "tk"
[respond.connectors.edge]
type = "nftables"
table = "garrison"
[respond.connectors.tk]
type = "ticket-file"
path = "{tmp_path / "tickets.jsonl"}"
[respond.connectors.oncall]
type = "webhook"
url = "https://hooks.example.org/x"
secret_env = "HOOK"
"""
    cfg = load_response_config(tomllib.loads(text), FILE)
    built = load_connectors(cfg.connectors, FILE, ENV)
    check_bindings(cfg.bindings, built, FILE)
    assert sorted((n, c.kind) for n, c in built.items()) == [
        ("edge", "nftables"), ("oncall", "webhook"), ("tk", "ticket-file")
    ]  # fmt: skip
