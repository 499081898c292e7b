"""API tokens: shown once, stored as a digest, scoped to one held role, expiring (injected
clock), revocable, dead with their user or role; one error for every failure after the same
constant-time comparison."""

from __future__ import annotations

import hmac
import json
from datetime import timedelta

import pytest

from garrison.core.errors import AccessDenied, Unauthenticated, UsageError
from garrison.govern.access import BAD_TOKEN, allowed, parse_ttl
from garrison.govern.access import tokens as token_text
from garrison.govern.access.tokenstore import LAST_USED_GRANULARITY

DAY = 86_400_000


def test_issue_and_authenticate(world):
    root = world.cli("root")
    issued = root.issue_token("ann", "responder", "2d")
    assert issued.secret.startswith(f"gar_{issued.id}_") and len(issued.secret) == 81
    assert issued.expires_at == world.clock.now + 2 * DAY
    assert issued.secret not in repr(issued)
    who = world.as_(None).authenticate_token(issued.secret)
    assert (who.name, who.roles, who.via) == ("ann", {"responder"}, "token")
    assert allowed(who, "approvals.decide") and not allowed(who, "hunt.run")  # scoped


def test_only_the_digest_is_stored(world):
    issued = world.cli("root").issue_token("ann", "analyst")
    dump = "\n".join(world.state._conn.iterdump())
    assert issued.secret not in dump and issued.secret.split("_")[2] not in dump


def test_expiry_follows_the_clock(world):
    issued = world.cli("root").issue_token("ann", "analyst", timedelta(hours=1))
    store = world.as_(None)
    world.clock.now += 3_600_000 - 1
    store.authenticate_token(issued.secret)
    world.clock.now += 1
    with pytest.raises(Unauthenticated):
        store.authenticate_token(issued.secret)
    [info] = world.cli("root").list_tokens()
    assert info.state(world.clock.now) == "expired"


def test_revocation_disabled_user_and_lost_role_each_end_a_token(world):
    root = world.cli("root")
    store = world.as_(None)
    revoked = root.issue_token("ann", "analyst")
    disabled = root.issue_token("vic", "viewer")
    lost = root.issue_token("ann", "responder")
    kept = root.issue_token("ann", "analyst")
    root.revoke_token(revoked.id)
    root.disable("vic")
    root.set_roles("ann", ["analyst"])
    for token in (revoked, disabled, lost):
        with pytest.raises(Unauthenticated) as caught:
            store.authenticate_token(token.secret)
        assert str(caught.value) == BAD_TOKEN
    assert store.authenticate_token(kept.secret).name == "ann"
    root.enable("vic")
    assert store.authenticate_token(disabled.secret).name == "vic"  # disable is not revoke
    first = root.revoke_token(revoked.id).revoked_at
    world.clock.now += 5
    assert root.revoke_token(revoked.id).revoked_at == first  # idempotent


def test_a_token_for_a_role_the_user_lacks_is_refused(world):
    root = world.cli("root")
    with pytest.raises(UsageError, match="does not hold role admin"):
        root.issue_token("ann", "admin")
    with pytest.raises(UsageError, match="unknown role"):
        root.issue_token("ann", "root")
    for ttl in ("0d", "367d", "1y", "", "-1d"):
        with pytest.raises(UsageError):
            root.issue_token("ann", "analyst", ttl)
    with pytest.raises(UsageError):
        root.issue_token("ann", "analyst", timedelta(0))


def test_users_issue_and_revoke_their_own_tokens_only(world):
    ann = world.cli("ann")
    own = ann.issue_token("ann", "analyst")
    with pytest.raises(AccessDenied, match=r"users\.manage"):
        ann.issue_token("vic", "viewer")
    theirs = world.cli("root").issue_token("vic", "viewer")
    with pytest.raises(AccessDenied):
        ann.revoke_token(theirs.id)
    assert [t.id for t in ann.list_tokens()] == [own.id]  # only one's own
    with pytest.raises(AccessDenied):
        ann.list_tokens("vic")
    ann.revoke_token(own.id)
    assert {t.id for t in world.cli("root").list_tokens()} == {own.id, theirs.id}


def test_a_token_cannot_mint_a_wider_one(world):
    scoped = world.as_(None).authenticate_token(
        world.cli("ann").issue_token("ann", "analyst").secret
    )
    via_token = world.as_(scoped)
    via_token.issue_token("ann", "analyst")
    with pytest.raises(AccessDenied):
        via_token.issue_token("ann", "responder")  # ann holds it, this token does not


def test_no_identity_cannot_touch_tokens(world):
    with pytest.raises(AccessDenied):
        world.as_(None).issue_token("ann", "analyst")
    with pytest.raises(AccessDenied):
        world.as_(None).list_tokens()


def test_unknown_id_and_wrong_secret_both_compare_in_constant_time(world, monkeypatch):
    issued = world.cli("root").issue_token("ann", "analyst")
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(token_text.hmac, "compare_digest", spy)
    store = world.as_(None)
    wrong_secret = issued.secret[:-1] + ("0" if issued.secret[-1] != "0" else "1")
    unknown_id = "gar_" + "0" * 12 + issued.secret[16:]
    for text in (wrong_secret, unknown_id):
        with pytest.raises(Unauthenticated):
            store.authenticate_token(text)
    assert len(seen) == 2 and all(len(a) == len(b) == 64 for a, b in seen)


def test_last_used_is_written_at_most_once_a_minute(world):
    issued = world.cli("root").issue_token("ann", "analyst")
    store = world.as_(None)
    store.authenticate_token(issued.secret)
    start = world.clock.now
    world.clock.now += LAST_USED_GRANULARITY - 1
    store.authenticate_token(issued.secret)
    [info] = world.cli("root").list_tokens()
    assert info.last_used_at == start
    world.clock.now += 1
    store.authenticate_token(issued.secret)
    [info] = world.cli("root").list_tokens()
    assert info.last_used_at == world.clock.now


def test_token_changes_are_audited_without_the_secret(world):
    root = world.cli("root")
    issued = root.issue_token("ann", "analyst", "1d")
    root.revoke_token(issued.id)
    issue, revoke = (e for e in reversed(world.audit.entries()) if e.action.startswith("tokens."))
    assert (issue.actor, issue.target, revoke.target) == ("root", "ann", issued.id)
    assert json.loads(issue.details)["id"] == issued.id
    assert issued.secret.split("_")[2] not in world.audit_text()
    listed = json.dumps([t.to_json(world.clock.now) for t in root.list_tokens()])
    assert issued.secret.split("_")[2] not in listed and "digest" not in listed


def test_ttl_text():
    assert parse_ttl("90m") == 90 * 60_000
    assert parse_ttl("2w") == 14 * DAY
    for bad in ("30", "d", "1.5d", "30 days", "0d", "999999w"):
        with pytest.raises(UsageError):
            parse_ttl(bad)
