"""The nftables connector's rule text: golden files for block and unblock, and hostile
addresses (text appended to an IP, IPv6 zones, options, separators) never reaching it."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garrison.respond.connectors.base import ConnectorError, Delivery
from garrison.respond.connectors.nftables import (
    Nftables,
    NftablesOptions,
    element,
    render,
)

GOLDEN = Path(__file__).parent / "golden"
DEFAULT = NftablesOptions()
ELEMENT_LINE = re.compile(
    r"^(add|delete) element inet garrison blocklist6? \{ [0-9a-f.:]+( timeout [0-9]+s)? \}$"
)


@pytest.mark.parametrize(
    ("golden", "options", "ip", "duration", "undo"),
    [
        ("block-inet-v4.nft", DEFAULT, "192.0.2.7", "1d", False),
        ("unblock-inet-v6.nft", DEFAULT, "2001:DB8:0::1", None, True),
        (
            "block-ip-set-only.nft",
            NftablesOptions(family="ip", table="edge", set="bad_hosts", chains=False),
            "::ffff:198.51.100.9",
            "30m",
            False,
        ),
    ],
)
def test_rendered_text_matches_golden(
    golden: str, options: NftablesOptions, ip: str, duration: str | None, undo: bool
) -> None:
    text = render(options, element(options, ip, duration), undo=undo)
    assert text == (GOLDEN / golden).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "bad",
    [
        "10.0.0.1; flush ruleset",
        "10.0.0.1 }\nflush ruleset",
        "fe80::1%; flush ruleset",
        "fe80::1%eth0",
        "10.0.0.0/8",
        "-f",
        "127.0.0.1",
        "::1",
        "0.0.0.0",
        "224.0.0.1",
        "",
        "1.2.3.4 ",
    ],
)
def test_unsafe_or_protected_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        element(DEFAULT, bad, "1h")
    conn = Nftables("edge", DEFAULT)
    with pytest.raises(ConnectorError) as err:
        conn.script(Delivery("block.ip", {"ip": bad}, "k"))
    assert not err.value.retryable and "\n" not in err.value.reason


def test_protect_and_family_limits() -> None:
    opts = NftablesOptions(protect=("10.1.0.0/16",))
    with pytest.raises(ValueError, match="never blocked"):
        element(opts, "10.1.2.3")
    with pytest.raises(ValueError, match="no set for IPv6"):
        element(NftablesOptions(family="ip"), "2001:db8::5")
    with pytest.raises(ValueError, match="duration"):
        element(DEFAULT, "192.0.2.1", "1 day")


_ip_text = st.ip_addresses().map(str)
_hostile = st.one_of(
    _ip_text,
    st.tuples(_ip_text, st.text(min_size=1)).map("".join),
    st.tuples(_ip_text, st.sampled_from(["%", " ", ";", "\n", "}", "/"]), st.text()).map("".join),
    st.text(),
)


@given(_hostile, st.sampled_from([None, "90s", "4h", "1d"]), st.booleans())
def test_only_canonical_addresses_reach_the_rules(
    text: str, duration: str | None, undo: bool
) -> None:
    try:
        elem = element(DEFAULT, text, duration)
    except ValueError:
        return
    canonical = ipaddress.ip_address(text)
    mapped = getattr(canonical, "ipv4_mapped", None)
    assert str(elem.addr) == str(mapped or canonical)
    rendered = render(DEFAULT, elem, undo=undo)
    fixed, _, tail = rendered.rpartition("drop\n")
    reference = render(DEFAULT, element(DEFAULT, "192.0.2.1"), undo=undo)
    assert fixed == reference.rpartition("drop\n")[0]  # declarations and chains: fixed text
    for line in tail.splitlines():
        assert ELEMENT_LINE.match(line), line
