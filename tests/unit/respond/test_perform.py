"""``perform``: every declared action has a performer (and an undo when undoable), the
connector is found by parameter or binding with a fix-it message when it is not, hostile
parameters are refused before any connector sees them, dry run checks and live sends."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garrison.respond.actions import ACTIONS
from garrison.respond.connectors.base import ConnectorError, Delivery
from garrison.respond.connectors.memory import Memory
from garrison.respond.perform import PERFORMERS, perform

GOOD = {
    "enrich": {"sources": ["intel"]},
    "notify.webhook": {"connector": "twin", "message": "hi"},
    "notify.email": {"to": ["soc@example.org"], "subject": "s"},
    "ticket.open": {"queue": "soc", "title": "t", "priority": "high"},
    "block.ip": {"ip": "192.0.2.1", "duration": "1d", "reason": "r"},
    "isolate.host": {"host": "web01", "reason": "r"},
    "disable.account": {"user": "alice", "reason": "r"},
}
BINDINGS = {"mail": "twin", "tickets": "twin", "firewall": "twin", "isolation": "twin",
            "accounts": "twin"}  # fmt: skip


def test_every_action_has_a_performer_and_every_undoable_an_undo() -> None:
    assert set(PERFORMERS) == set(ACTIONS.names())
    for name, spec in ACTIONS.items():
        assert (PERFORMERS[name].undo is not None) == spec.undoable, name
        assert (spec.binding is None) == (not PERFORMERS[name].kinds or name == "notify.webhook")
    assert set(GOOD) == set(ACTIONS.names())


@pytest.mark.parametrize("action", sorted(GOOD))
def test_dry_run_checks_and_live_sends(action: str) -> None:
    twin = Memory("twin")
    delivery = Delivery(action, GOOD[action], f"k-{action}")
    perform(delivery, {"twin": twin}, BINDINGS, live=False)
    perform(delivery, {"twin": twin}, BINDINGS, live=True)
    expected = [] if action == "enrich" else [delivery.key]
    assert [d.key for d in twin.checks] == expected and twin.delivered == expected


@pytest.mark.parametrize("action", sorted(n for n, s in ACTIONS.items() if s.undoable))
def test_undo_reaches_the_connector_flagged(action: str) -> None:
    twin = Memory("twin")
    perform(Delivery(action, GOOD[action], "k", undo=True), {"twin": twin}, BINDINGS, live=True)
    assert twin.sends[0].undo


@pytest.mark.parametrize("action", sorted(n for n, s in ACTIONS.items() if not s.undoable))
def test_undo_of_a_one_way_action_is_refused(action: str) -> None:
    with pytest.raises(ConnectorError, match="cannot be undone") as err:
        perform(Delivery(action, GOOD[action], "k", undo=True), {"twin": Memory("twin")},
                BINDINGS, live=True)  # fmt: skip
    assert not err.value.retryable


def test_missing_binding_says_which_key_to_set() -> None:
    with pytest.raises(ConnectorError) as err:
        perform(Delivery("block.ip", GOOD["block.ip"], "k"), {}, {}, live=False)
    assert '[respond.bindings] firewall = "NAME"' in err.value.reason
    assert not err.value.retryable


def test_action_binding_beats_slot_binding() -> None:
    slot, special = Memory("slot"), Memory("special")
    bindings = {"firewall": "slot", "block.ip": "special"}
    perform(Delivery("block.ip", GOOD["block.ip"], "k"), {"slot": slot, "special": special},
            bindings, live=True)  # fmt: skip
    assert special.delivered == ["k"] and slot.delivered == []


def test_unknown_connector_and_wrong_kind() -> None:
    with pytest.raises(ConnectorError, match=r"not under \[respond.connectors\]"):
        perform(Delivery("notify.webhook", {"connector": "gone"}, "k"), {}, {}, live=False)
    smtp_twin = Memory("mail", stands_for="smtp")
    with pytest.raises(ConnectorError, match="cannot go through memory"):
        perform(Delivery("block.ip", GOOD["block.ip"], "k"), {"twin": smtp_twin},
                {"firewall": "twin"}, live=False)  # fmt: skip


@pytest.mark.parametrize(
    ("action", "params", "match"),
    [
        ("block.ip", {"ip": "10.0.0.1; flush ruleset"}, "parameter ip"),
        ("block.ip", {"ip": "fe80::1%eth0"}, "zone"),
        ("block.ip", {"ip": "192.0.2.1", "duration": "forever"}, "parameter duration"),
        ("block.ip", {}, "missing parameter 'ip'"),
        ("block.ip", {"ip": "192.0.2.1", "port": 22}, "unknown parameter 'port'"),
        ("isolate.host", {"host": "web01 && reboot"}, "parameter host"),
        ("isolate.host", {"host": "--all"}, "parameter host"),
        ("disable.account", {"user": "alice\nroot"}, "parameter user"),
        ("notify.email", {"to": "a@example.org\r\nBcc: b@x.org"}, "parameter to"),
        ("ticket.open", {"queue": "soc; rm"}, "parameter queue"),
        ("no.such", {}, "unknown action"),
    ],
)
def test_bad_parameters_never_reach_the_connector(action: str, params: dict, match: str) -> None:
    twin = Memory("twin")
    with pytest.raises(ConnectorError, match=match) as err:
        perform(Delivery(action, params, "k"), {"twin": twin}, BINDINGS, live=True)
    assert not err.value.retryable and twin.sends == twin.checks == []


def test_checked_params_are_canonical() -> None:
    twin = Memory("twin")
    perform(Delivery("block.ip", {"ip": "::ffff:192.0.2.1", "reason": "a\nb"}, "k"),
            {"twin": twin}, BINDINGS, live=True)  # fmt: skip
    assert dict(twin.sends[0].params) == {"ip": "192.0.2.1", "reason": "a\\nb"}


def test_enrich_summarises_the_subject() -> None:
    subject = {"enrichment": {"intel": {"listed": True}, "inventory": {"owner": "x"}}}
    one = perform(Delivery("enrich", {"sources": ["intel", "identity"]}, "k", subject=subject),
                  {}, {}, live=True)  # fmt: skip
    assert one.detail == "1 source(s): intel; not available: identity"
    none = perform(Delivery("enrich", {}, "k"), {}, {}, live=False)
    assert none.detail == "no enrichment recorded for the subject"


@given(st.text(), st.sampled_from(["ip", "host", "user", "to", "queue"]))
def test_hostile_text_is_refused_or_reaches_the_connector_clean(text: str, param: str) -> None:
    action = {"ip": "block.ip", "host": "isolate.host", "user": "disable.account",
              "to": "notify.email", "queue": "ticket.open"}[param]  # fmt: skip
    twin = Memory("twin")
    try:
        perform(Delivery(action, {param: text}, "k"), {"twin": twin}, BINDINGS, live=True)
    except ConnectorError as exc:
        assert not exc.retryable and exc.reason.isprintable() and twin.sends == []
        return
    sent = twin.sends[0].params[param]
    values = sent if isinstance(sent, tuple) else (sent,)
    for value in values:
        assert value.isprintable() and not set(value) & set(" ;|&$`'\"\r\n<>")
        assert not value.startswith("-")
