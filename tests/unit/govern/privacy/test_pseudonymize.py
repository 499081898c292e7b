"""Pseudonymization of events: configured paths and every other occurrence of their values
replaced by the token, raw text dropped, placeholders left alone, other sources untouched,
new tokens in the vault; hostile values never survive in the output."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from garrison.core.events import Event, Provenance, Quarantined
from garrison.core.options import OptionsError
from garrison.govern.privacy import (
    Matcher,
    PrivacyConfig,
    PrivacyKeys,
    Pseudonymizer,
    Vault,
    load_privacy_config,
    pseudonym,
    retention_days,
)
from garrison.govern.privacy.pseudonymize import WITHHELD
from garrison.store.state import StateDB

KEYS = PrivacyKeys.derive(b"s" * 32)
CONFIG = load_privacy_config(
    {"privacy": {"fields": {"*": ["user.name"], "jsonl": ["actor.user.name", "uid"]}}}
)


def auth_event(user: Any, source: str = "jsonl") -> Event:
    ocsf = {
        "class_uid": 3002,
        "user": {"name": user},
        "actor": {"user": {"name": "svc-backup"}},
        "src_endpoint": {"ip": "10.0.0.5"},
        "message": f"Failed password for {user} from 10.0.0.5",
    }
    fields = {"TargetUserName": user, "message": f"login by {user}", "other": "malice"}
    prov = Provenance("/logs/a.jsonl", source, 1, "f" * 64, 0)
    return Event("u1", 3002, 1, ocsf, fields, f'{{"user": "{user}"}}', prov)


def make(state: StateDB | None = None, config: PrivacyConfig = CONFIG) -> Pseudonymizer:
    vault = Vault(state, KEYS.vault_key) if state is not None else None
    return Pseudonymizer(config, KEYS, vault)


def test_every_occurrence_replaced_and_raw_dropped() -> None:
    state = StateDB.memory()
    (out,) = make(state).apply([auth_event("Alice")], "jsonl")
    token = pseudonym(KEYS.token_key, "alice")
    svc = pseudonym(KEYS.token_key, "svc-backup")
    assert out.ocsf["user"]["name"] == token
    assert out.ocsf["actor"]["user"]["name"] == svc
    assert out.ocsf["message"] == f"Failed password for {token} from 10.0.0.5"
    assert out.fields["TargetUserName"] == token
    assert out.fields["message"] == f"login by {token}"
    assert out.fields["other"] == "malice"  # a whole-word match only
    assert out.ocsf["src_endpoint"]["ip"] == "10.0.0.5"  # not configured: kept
    assert out.raw == ""
    assert Vault(state, KEYS.vault_key).reveal(token) == "Alice"
    assert Vault(state, KEYS.vault_key).reveal(svc) == "svc-backup"


def test_same_person_same_token_across_sources_and_case() -> None:
    p = make()
    (a,) = p.apply([auth_event("ALICE", "syslog")], "syslog")
    (b,) = p.apply([auth_event("alice", "jsonl")], "jsonl")
    assert a.ocsf["user"]["name"] == b.ocsf["user"]["name"]
    # syslog has only the "*" paths: the actor is not pseudonymized there
    assert a.ocsf["actor"]["user"]["name"] == "svc-backup"


def test_unconfigured_source_and_placeholders_untouched() -> None:
    only_jsonl = load_privacy_config({"privacy": {"fields": {"jsonl": ["user.name"]}}})
    ev = auth_event("alice", "zeek")
    assert make(config=only_jsonl).apply([ev], "zeek") == [ev]
    (out,) = make().apply([auth_event("-")], "jsonl")
    assert out.ocsf["user"]["name"] == "-" and out.raw == ""


def test_a_number_at_a_configured_path_is_replaced() -> None:
    ev = auth_event("alice")
    ev.ocsf["uid"] = 1001
    (out,) = make().apply([ev], "jsonl")
    assert out.ocsf["uid"] == pseudonym(KEYS.token_key, "1001")
    assert ev.ocsf["uid"] == 1001 and ev.ocsf["user"]["name"] == "alice"  # input not mutated


def test_a_known_login_is_replaced_wherever_it_appears_later() -> None:
    state = StateDB.memory()
    p = make(state)
    free_text = auth_event("-")
    free_text.fields["message"] = "New session 12 of user Deploy."
    free_text.fields["SourceUser"] = "CORP\\deploy"
    _, later = p.apply([auth_event("deploy"), free_text], "jsonl")
    token = pseudonym(KEYS.token_key, "deploy")
    assert later.fields["message"] == f"New session 12 of user {token}."
    assert later.fields["SourceUser"] == f"CORP\\{token}"
    # a new run (a new pseudonymizer) knows it from the vault, before any configured path
    (again,) = make(state).apply([free_text], "jsonl")
    assert again.fields["message"] == f"New session 12 of user {token}."
    # an unconfigured source is not touched, known or not
    only_jsonl = load_privacy_config({"privacy": {"fields": {"jsonl": ["user.name"]}}})
    assert make(state, only_jsonl).apply([free_text], "zeek") == [free_text]


def test_built_in_and_machine_accounts_are_kept() -> None:
    for kept in ("root", "Administrator", "WS-1317$"):
        (out,) = make().apply([auth_event(kept)], "jsonl")
        assert out.ocsf["user"]["name"] == kept and out.raw == ""
    custom = load_privacy_config(
        {
            "privacy": {
                "fields": {"*": ["user.name"]},
                "keep": ["Svc-Backup"],
                "keep_machine_accounts": False,
            }
        }
    )
    (svc,) = make(config=custom).apply([auth_event("svc-backup")], "jsonl")
    (machine,) = make(config=custom).apply([auth_event("WS-1$")], "jsonl")
    (root,) = make(config=custom).apply([auth_event("root")], "jsonl")
    assert svc.ocsf["user"]["name"] == "svc-backup"
    assert machine.ocsf["user"]["name"] == pseudonym(KEYS.token_key, "WS-1$")
    assert root.ocsf["user"]["name"] == pseudonym(KEYS.token_key, "root")  # keep replaced


def test_quarantine_excerpts_withheld_for_configured_sources() -> None:
    q = [Quarantined("/a", 3, "bad json", "jsonl", '{"user": "alice"')]
    assert make().quarantined(q, "jsonl")[0].excerpt == WITHHELD
    only_jsonl = load_privacy_config({"privacy": {"fields": {"jsonl": ["user.name"]}}})
    assert make(config=only_jsonl).quarantined(q, "zeek") == q


hostile = st.one_of(
    st.text(min_size=1, max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1, max_size=8),
    st.text(min_size=3000, max_size=4000),
    st.sampled_from(["a.b@example.com", "DOMAIN\\user", "o'brien", 'x"y', "ß", "İstanbul", "(x)"]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=hostile)
def test_a_hostile_value_never_survives(value: str) -> None:
    matcher = Matcher([value])
    assume(matcher and not CONFIG.keeps(value))  # placeholders, root, HOST$ are kept
    # values that are part of a token's own text (``pn``) would match inside it
    assume(not matcher.search(pseudonym(KEYS.token_key, "probe")))
    (out,) = make().apply([auth_event(value)], "jsonl")
    assert out.ocsf["user"]["name"] == pseudonym(KEYS.token_key, value)
    assert not matcher.in_leaves(out.ocsf) and not matcher.in_leaves(out.fields)
    assert out.raw == ""


def test_config_checks_paths_and_retention(tmp_path: Path) -> None:
    cfg = load_privacy_config(
        {"privacy": {"fields": {"*": ["user.name", "user.name"]}, "retention": {"zeek": "2w"}}}
    )
    assert cfg.paths_for("zeek") == ("user.name",) and cfg.retention == {"zeek": 14}
    assert cfg.pseudonymizes and not PrivacyConfig().pseudonymizes
    for bad in ({"fields": {"*": ["user..name"]}}, {"fields": {"*": ["a b"]}}):
        with pytest.raises(OptionsError, match=re.escape("[privacy] fields")):
            load_privacy_config({"privacy": bad}, tmp_path / "g.toml")
    for bad_days in ("0d", "forever", -1, 40_000, True, "3h"):
        with pytest.raises(OptionsError, match=re.escape("[privacy] retention")):
            load_privacy_config({"privacy": {"retention": {"zeek": bad_days}}})
    assert retention_days(" 10 d") == 10


def test_matcher_is_whole_word_case_insensitive_and_escaped() -> None:
    m = Matcher(["a.b", "al(ice", "-"])
    assert m.terms == ["al(ice", "a.b"]
    assert m.search("to AL(ICE now") and m.search("x a.b")
    assert not m.search("axb") and not m.search("ca.b2")
    alice = Matcher(["alice"])
    for holds in ("for Alice.", "CORP\\alice", "(alice)", "alice", "user=alice,"):
        assert alice.search(holds), holds
    for other in ("alice.smith", "alice@corp.com", "adm-alice", "malice", "alice2", "x.alice"):
        assert not alice.search(other), other
    assert not Matcher(["", "unknown", "-"])
    assert m.in_leaves({"k": [1, {"x": "A.B"}]})
    assert not m.in_leaves({"a.b": [True, None]})  # keys are field names, not values
