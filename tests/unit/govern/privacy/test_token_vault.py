"""Tokens and the vault: stable, opaque, case-insensitive tokens; the vault opens only with
the home's key and only under the token it was sealed for; hostile values survive."""

from __future__ import annotations

import os
import re
import stat

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from garrison.govern.privacy import (
    PrivacyKeyError,
    PrivacyKeys,
    Vault,
    VaultError,
    is_token,
    load_keys,
    pseudonym,
    require_keys,
)
from garrison.store.state import StateDB

KEYS = PrivacyKeys.derive(b"k" * 32)
OTHER = PrivacyKeys.derive(b"o" * 32)
hostile = st.one_of(
    st.text(min_size=1, max_size=64),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1),
    st.text(min_size=2000, max_size=5000),
    # lone surrogates: undecodable input smuggled through surrogateescape
    st.lists(st.integers(0xD800, 0xDFFF), min_size=1, max_size=4).map(
        lambda codes: "x" + "".join(map(chr, codes))
    ),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(value=hostile)
def test_token_is_stable_opaque_and_well_formed(value: str) -> None:
    token = pseudonym(KEYS.token_key, value)
    assert token == pseudonym(KEYS.token_key, value)
    assert is_token(token) and re.fullmatch(r"pn:[0-9a-f]{32}", token)
    assert token != value
    # a value could only be inside the token if it is made of the token's own characters
    if len(value) >= 8 or set(value) - set("0123456789abcdefpn:"):
        assert value not in token
    assert pseudonym(OTHER.token_key, value) != token


@FAST
@given(value=st.text(min_size=1, max_size=40))
def test_token_ignores_case(value: str) -> None:
    assert pseudonym(KEYS.token_key, value.upper()) == pseudonym(KEYS.token_key, value.lower()) or (
        value.upper().casefold() != value.lower().casefold()
    )


def test_distinct_values_get_distinct_tokens() -> None:
    names = [f"user{i}" for i in range(2000)]
    assert len({pseudonym(KEYS.token_key, n) for n in names}) == len(names)


@FAST
@given(value=hostile)
def test_vault_round_trips_only_with_the_key(value: str) -> None:
    state = StateDB.memory()
    token = pseudonym(KEYS.token_key, value)
    assert Vault(state, KEYS.vault_key).put({token: value}) == 1
    assert Vault(state, KEYS.vault_key).reveal(token) == value
    with pytest.raises(VaultError):
        Vault(state, OTHER.vault_key).reveal(token)
    # the ciphertext does not hold the value in clear
    (sealed,) = state.query("SELECT sealed FROM privacy_vault")[0]
    encoded = value.encode("utf-8", "surrogatepass")
    assume(len(encoded) >= 4)
    assert encoded not in bytes(sealed)  # type: ignore[arg-type]


def test_vault_refuses_a_row_moved_or_altered() -> None:
    state = StateDB.memory()
    vault = Vault(state, KEYS.vault_key)
    alice, bob = (pseudonym(KEYS.token_key, n) for n in ("alice", "bob"))
    vault.put({alice: "alice", bob: "bob"})
    # swap the sealed values: each row now holds the other token's ciphertext
    rows = dict(state.query("SELECT token, sealed FROM privacy_vault"))  # type: ignore[arg-type]
    nonces = dict(state.query("SELECT token, nonce FROM privacy_vault"))  # type: ignore[arg-type]
    state.execute(
        "UPDATE privacy_vault SET sealed=?, nonce=? WHERE token=?", (rows[bob], nonces[bob], alice)
    )
    with pytest.raises(VaultError):
        vault.reveal(alice)
    flipped = bytearray(rows[bob])  # type: ignore[arg-type]
    flipped[0] ^= 1
    state.execute("UPDATE privacy_vault SET sealed=? WHERE token=?", (bytes(flipped), bob))
    with pytest.raises(VaultError):
        vault.reveal(bob)


def test_vault_first_spelling_wins_and_forget_removes() -> None:
    state = StateDB.memory()
    vault = Vault(state, KEYS.vault_key)
    token = pseudonym(KEYS.token_key, "Alice")
    assert vault.put({token: "Alice"}) == 1
    assert vault.put({token: "ALICE"}) == 0
    assert vault.reveal(token) == "Alice"
    assert vault.known([token, "pn:" + "0" * 32]) == {token}
    assert vault.forget([token]) == 1
    assert vault.reveal(token) is None and vault.count() == 0


def test_key_file_created_private_and_stable(tmp_path) -> None:
    keys_dir = tmp_path / "keys"
    assert load_keys(keys_dir) is None
    with pytest.raises(PrivacyKeyError, match="pseudonymized nothing"):
        require_keys(keys_dir)
    made = load_keys(keys_dir, create=True)
    path = keys_dir / "privacy.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    again = load_keys(keys_dir)
    assert made is not None and again is not None
    assert made.token_key == again.token_key and made.vault_key == again.vault_key
    assert made.token_key != made.vault_key
    assert "<hidden>" in repr(made) and made.token_key.hex() not in repr(made)


def test_loose_or_damaged_key_is_refused(tmp_path) -> None:
    keys_dir = tmp_path / "keys"
    load_keys(keys_dir, create=True)
    path = keys_dir / "privacy.key"
    os.chmod(path, 0o644)
    with pytest.raises(PrivacyKeyError, match="permissions 0644"):
        load_keys(keys_dir)
    os.chmod(path, 0o600)
    path.write_bytes(b"short")
    with pytest.raises(PrivacyKeyError, match="5 bytes"):
        load_keys(keys_dir)
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").write_bytes(b"x" * 32)
    with pytest.raises(PrivacyKeyError, match="not a regular file"):
        load_keys(keys_dir)
