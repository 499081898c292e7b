"""nftables connector: ``block.ip`` as an element of a named set, with a timeout.

``[respond.connectors.NAME]`` with ``type = "nftables"``::

    family = "inet"          # inet (IPv4 and IPv6 sets), ip (IPv4 only) or ip6
    table = "garrison"
    set = "blocklist"        # the IPv6 set is this name + "6" in the inet family
    chains = true            # also drop traffic from/to the sets (false: set only, for
                             # a ruleset that references @blocklist itself)
    nft = "nft"              # the nft binary

Every change is one ``nft -f -`` transaction of the full text (``render``): the table and
set declarations (idempotent: declaring what exists changes nothing), the drop chains
flushed and refilled (so repeated runs never stack duplicate rules), then the element
``add`` (with ``timeout`` from the action's ``duration``) or, for the undo, ``add`` then
``delete``, which lifts a block whether or not it is still there (an expired element is not
an error). The address is checked by ``safe.ip`` and written as ``ipaddress`` prints it:
never the parameter's text. ``check`` runs ``nft -c -f -`` on the same text (the kernel
validates it, nothing changes); without nft installed it fails saying so.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from garrison.core.options import option
from garrison.core.text import visible
from garrison.respond.connectors import safe
from garrison.respond.connectors.base import ConnectorError, Delivery, Receipt

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
Family = Literal["inet", "ip", "ip6"]
#: Addresses never blocked whatever a playbook asks: cutting these cuts the host itself.
NEVER = ("0.0.0.0/8", "127.0.0.0/8", "::/127", "ff00::/8", "224.0.0.0/4", "255.255.255.255/32")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("must be a letter then letters, digits or '_' (at most 31)")
    return value


def _networks(
    values: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


@dataclass(slots=True)
class NftablesOptions:
    family: Family = "inet"
    table: str = option("garrison", convert=_name)
    set: str = option("blocklist", convert=_name)
    chains: bool = True
    nft: str = option("nft", nonempty=True)
    timeout: float = option(20.0, min=0.5, max=300)
    #: Networks never blocked, besides loopback, multicast and the unspecified address.
    protect: tuple[str, ...] = option((), convert=lambda v: tuple(map(str, _networks(v))))


@dataclass(frozen=True, slots=True)
class Element:
    """One checked address with the set it goes to and its timeout in seconds."""

    addr: ipaddress.IPv4Address | ipaddress.IPv6Address
    seconds: int | None


def set_names(opts: NftablesOptions) -> dict[int, str]:
    """IP version -> set name for the configured family."""
    if opts.family == "ip":
        return {4: opts.set}
    if opts.family == "ip6":
        return {6: opts.set}
    return {4: opts.set, 6: opts.set + "6"}


def element(opts: NftablesOptions, ip: object, duration: object = None) -> Element:
    """The checked element for ``ip``; ``ValueError`` on anything else."""
    addr = safe.ip(ip)
    if addr.version not in set_names(opts):
        raise ValueError(f"family {opts.family} has no set for IPv{addr.version} {addr}")
    for net in _networks(NEVER + opts.protect):
        if addr.version == net.version and addr in net:
            raise ValueError(f"{addr} is in {net}, which is never blocked")
    seconds = None if duration in (None, "") else safe.duration(duration)
    return Element(addr, seconds)


def render(opts: NftablesOptions, elem: Element, *, undo: bool = False) -> str:
    """The full nft script that adds (or removes) ``elem``: declarations, chains, element."""
    fam, table, sets = opts.family, opts.table, set_names(opts)
    out = ["# garrison block list: one transaction", f"table {fam} {table} {{"]
    for version, name in sets.items():
        out += [f"\tset {name} {{", f"\t\ttype ipv{version}_addr", "\t\tflags timeout", "\t}"]
    hooks = ("input", "forward", "output") if opts.chains else ()
    for hook in hooks:
        out += [f"\tchain {hook} {{", f"\t\ttype filter hook {hook} priority -10; policy accept;"]
        out += ["\t}"]
    out.append("}")
    for hook in hooks:
        out.append(f"flush chain {fam} {table} {hook}")
        for version, name in sets.items():
            match = "ip" if version == 4 else "ip6"
            dirs = {"input": ("saddr",), "output": ("daddr",)}.get(hook, ("saddr", "daddr"))
            out += [f"add rule {fam} {table} {hook} {match} {d} @{name} drop" for d in dirs]
    target = f"{fam} {table} {sets[elem.addr.version]}"
    if undo:
        out += [
            f"add element {target} {{ {elem.addr} }}",
            f"delete element {target} {{ {elem.addr} }}",
        ]
    else:
        timeout = f" timeout {elem.seconds}s" if elem.seconds else ""
        out.append(f"add element {target} {{ {elem.addr}{timeout} }}")
    return "\n".join(out) + "\n"


@dataclass(slots=True)
class Nftables:
    name: str
    options: NftablesOptions
    kind: str = "nftables"

    def script(self, delivery: Delivery) -> tuple[Element, str]:
        params = delivery.params
        try:
            elem = element(self.options, params.get("ip"), params.get("duration"))
        except ValueError as exc:
            raise ConnectorError(f"nftables {self.name}: {exc}") from None
        return elem, render(self.options, elem, undo=delivery.undo)

    def check(self, delivery: Delivery) -> Receipt:
        elem, text = self.script(delivery)
        self._run(["-c", "-f", "-"], text)
        verb = "unblock" if delivery.undo else "block"
        return Receipt(f"nft:{self.options.table}:{elem.addr}", f"nft -c accepted the {verb}")

    def send(self, delivery: Delivery) -> Receipt:
        elem, text = self.script(delivery)
        self._run(["-f", "-"], text)
        verb = "unblocked" if delivery.undo else "blocked"
        until = f" for {elem.seconds}s" if elem.seconds and not delivery.undo else ""
        return Receipt(f"nft:{self.options.table}:{elem.addr}", f"{verb} {elem.addr}{until}")

    def _run(self, args: list[str], text: str) -> None:
        binary = shutil.which(self.options.nft)
        if binary is None:
            raise ConnectorError(f"nftables {self.name}: {self.options.nft} is not installed")
        try:
            done = subprocess.run(
                [binary, *args],
                input=text,
                capture_output=True,
                text=True,
                timeout=self.options.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ConnectorError(f"nftables {self.name}: nft timed out", retryable=True) from None
        except OSError as exc:
            raise ConnectorError(f"nftables {self.name}: cannot run nft: {exc.strerror}") from None
        if done.returncode != 0:
            tail = visible(" | ".join(done.stderr.strip().splitlines()[-3:]), 300)
            raise ConnectorError(f"nftables {self.name}: nft refused the rules: {tail}")


def build(name: str, options: NftablesOptions) -> Nftables:
    return Nftables(name, options)
