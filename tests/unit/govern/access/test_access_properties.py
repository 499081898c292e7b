"""Hostile input: no string but an issued token authenticates, and no password or token
secret ever reaches an audit entry, a listing or an error message, whatever the input."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.errors import Unauthenticated, UsageError
from garrison.govern.access import tokens as token_text
from tests.unit.govern.access.conftest import PASSWORD, Home

HEX = "0123456789abcdef"


@pytest.fixture(scope="module")
def issued_world():
    h = Home()
    h.as_(None).add_user("root", ["admin"], PASSWORD)
    root = h.cli("root")
    root.add_user("ann", ["analyst"])
    return h, [root.issue_token("ann", "analyst").secret for _ in range(3)]


def near_misses(real: list[str]) -> st.SearchStrategy[str]:
    """A real token with one character changed, cut, extended or re-cased."""

    def mutate(data: tuple[int, int, str]) -> str:
        index, where, char = data
        text = real[index % len(real)]
        where %= len(text)
        return [
            text[:where] + char + text[where + 1 :],
            text[:where],
            text + char,
            text.upper(),
            " " + text,
        ][data[1] % 5]

    return st.tuples(st.integers(0, 2), st.integers(0, 200), st.sampled_from(HEX + "_gG ")).map(
        mutate
    )


well_formed = st.builds(
    lambda i, s: f"gar_{i}_{s}",
    st.text(HEX, min_size=12, max_size=12),
    st.text(HEX, min_size=64, max_size=64),
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.one_of(st.text(max_size=120), well_formed, st.binary(max_size=90).map(repr)))
def test_random_strings_never_authenticate(issued_world, data):
    h, real = issued_world
    if data in real:
        return
    with pytest.raises(Unauthenticated):
        h.as_(None).authenticate_token(data)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_near_misses_of_real_tokens_never_authenticate(issued_world, data):
    h, real = issued_world
    text = data.draw(near_misses(real))
    if text in real:
        return
    with pytest.raises(Unauthenticated):
        h.as_(None).authenticate_token(text)


@settings(max_examples=25, deadline=None)
@given(
    password=st.text(min_size=16, max_size=60).filter(
        lambda p: p == p.strip() and "\x00" not in p and len(set(p)) > 6
    ),
    guess=st.text(min_size=16, max_size=60).filter(lambda p: len(set(p)) > 6),
    ttl=st.sampled_from(["1h", "3d", "2w"]),
)
def test_secrets_never_reach_audit_listings_or_errors(password, guess, ttl):
    h = Home()
    h.as_(None).add_user("root", ["admin"], password)
    root = h.cli("root")
    root.add_user("ann", ["analyst", "responder"], password)
    root.set_password("ann", password)
    token = root.issue_token("ann", "responder", ttl)
    messages = []
    for attempt in (
        lambda: h.as_(None).verify_password("ann", guess),
        lambda: h.as_(None).verify_password("P@" + guess, password),
        lambda: root.set_password("ann", " " + guess),
        lambda: h.as_(None).authenticate_token(token.secret + guess),
    ):
        try:
            attempt()
        except (Unauthenticated, UsageError) as exc:
            messages.append(str(exc))
    root.revoke_token(token.id)
    shown = "\n".join(
        [
            h.audit_text(),
            json.dumps([u.to_json() for u in root.list_users()]),
            json.dumps([t.to_json(0) for t in root.list_tokens()]),
            repr(root.list_tokens()),
            repr(token),
            *messages,
        ]
    )
    for secret in (password, guess, token.secret, token.secret.split("_")[2]):
        assert secret not in shown


def test_parse_refuses_everything_but_the_format():
    assert token_text.parse("gar_" + "a" * 12 + "_" + "b" * 64) == ("a" * 12, "b" * 64)
    for bad in (
        "",
        "gar_",
        "gar_" + "A" * 12 + "_" + "b" * 64,
        "gar_" + "a" * 12 + "-" + "b" * 64,
        "gar_" + "a" * 12 + "_" + "b" * 64 + "\n",
        None,
        5,
    ):
        assert token_text.parse(bad) is None  # type: ignore[arg-type]
