"""The simulated organisation: sizes, roles, addresses, and the intrusion's cast."""

from __future__ import annotations

import ipaddress
from datetime import date

import pytest

from garrison.core.errors import UsageError
from garrison.demo.domains import PROVIDERS
from garrison.demo.scenario import cast_for, dga_domains, encoded_command, lookalike_of
from garrison.demo.world import build_world

START = date(2025, 3, 2)


def test_default_size_world_has_every_role_and_unique_names() -> None:
    world = build_world(7, 40, 30, 3, START)
    assert len(world.users) == 40
    assert len(world.hosts) == 30
    assert len({u.sam for u in world.users}) == 40
    assert len({h.name for h in world.hosts}) == 30
    assert len({h.ip for h in world.hosts}) == 30
    roles = {u.role for u in world.users}
    assert roles == {"staff", "dev", "admin", "nightadmin"}
    assert {h.role for h in world.hosts} >= {"dc", "fs", "sql", "app", "bastion", "build", "ws"}
    assert all(ipaddress.ip_address(h.ip).is_private for h in world.hosts)
    assert all(u.admin_account.startswith("adm-") for u in world.users if u.is_admin)
    assert not any(u.admin_account for u in world.users if not u.is_admin)


@pytest.mark.parametrize(("users", "hosts", "days"), [(7, 30, 3), (40, 9, 3), (40, 30, 1)])
def test_too_small_sizes_are_usage_errors(users: int, hosts: int, days: int) -> None:
    with pytest.raises(UsageError):
        build_world(1, users, hosts, days, START)


def test_world_is_a_function_of_the_seed() -> None:
    a, b = build_world(3, 20, 15, 2, START), build_world(3, 20, 15, 2, START)
    c = build_world(4, 20, 15, 2, START)
    assert [(u.sam, u.workstation) for u in a.users] == [(u.sam, u.workstation) for u in b.users]
    assert [u.sam for u in a.users] != [u.sam for u in c.users]


def test_cast_uses_external_public_addresses_and_a_finance_victim() -> None:
    world = build_world(7, 40, 30, 3, START)
    cast = cast_for(world)
    benign = tuple(p for prefixes in PROVIDERS.values() for p in prefixes)
    for ip in (cast.lookalike_ip, cast.c2_ip, cast.exfil_ip):
        assert ipaddress.ip_address(ip).is_global
        assert not ip.startswith(benign)
    assert len({cast.lookalike_ip, cast.c2_ip, cast.exfil_ip}) == 3
    victim = world.user(cast.victim)
    assert victim.role == "staff"
    assert world.user(cast.admin).role == "admin"
    assert cast.admin_account == f"adm-{cast.admin}"
    assert cast.victim not in cast.sprayed_ok
    assert cast.day_b == cast.day_a + 1 < world.days
    assert not world.is_weekend(cast.day_a)


def test_lookalike_differs_by_one_glyph() -> None:
    assert lookalike_of("kestrel-logistics.com") == "kestrel-loglstics.com"
    assert lookalike_of("brightwaterhealth.com") == "brlghtwaterhealth.com"
    assert lookalike_of("xyz.com") == "xyz-portal.com"


def test_dga_names_look_random_and_repeat_per_day() -> None:
    names = dga_domains(7, 1, 30)
    assert names == dga_domains(7, 1, 30)
    assert names != dga_domains(7, 2, 30)
    assert len(set(names)) == 30
    assert all(11 <= len(n.split(".")[0]) <= 18 for n in names)


def test_encoded_command_is_powershell_utf16_base64() -> None:
    import base64

    enc = encoded_command("Write-Host hi")
    assert base64.b64decode(enc).decode("utf-16-le") == "Write-Host hi"
