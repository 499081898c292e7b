"""Warning lists: indicators too broad to mean anything are refused when feeds are loaded.

An IOC list that names ``cloudfront.net`` turns every CloudFront customer into a finding
(a listed domain matches its subdomains), and one that names ``8.8.8.8`` fires on every DNS
query of the network. MISP keeps curated "warning lists" of such values; Garrison applies
them, offline, to every indicator any reader (IOC lists, STIX, MISP) produces, before it is
indexed, so a refused indicator can never match. Each refusal is counted per list in the
intel stats (``summary.json`` → ``detectors.intel.suppressed``) with examples.

What is refused, and by which list:

- ``public-suffix-list``: a public suffix, ICANN or private (``co.uk``, ``cloudfront.net``,
  ``s3.amazonaws.com``, ``x.elb.amazonaws.com`` under a wildcard rule); tldextract's
  bundled snapshot, no download;
- ``shared-hosting``: a parent domain under which customers get names (``amazonaws.com``,
  ``windows.net``): a parent of a public suffix, or an entry of Garrison's bundled list
  (``content/intel/shared_hosting.txt``) or one of its parents. A customer's own name below
  it (``evil.cloudfront.net``) is not refused and still matches exactly;
- ``tranco10k`` (MISP): the 10,000 most used sites, the name itself or with ``www.``;
- ``public-dns-hostname``, ``public-dns-v4``, ``public-dns-v6`` (MISP): public resolvers;
- ``rfc1918``, ``rfc6598``, ``ipv6-linklocal`` (MISP) and ``special-use``
  (loopback, unspecified, link-local, multicast and broadcast addresses, by ``ipaddress``);
- ``empty-hashes``, ``common-ioc-false-positive``, ``ti-falsepositives`` (MISP): hashes of
  empty files and of benign files that IOC lists often carry by mistake;
- URLs: a URL with no path or query whose host is refused above (``https://google.com/``);
  a URL with a path on such a host is specific and kept.

The MISP lists come from the PyPI package ``pymispwarninglists``, which ships them as data;
only the list files named above are read (the package's loader reads all 119, two of them
with a million entries each). ``skip`` names lists not to apply: an organisation that lists
its own RFC 1918 hosts on purpose sets ``warninglists_skip = ["rfc1918"]`` under
``[detectors.intel]`` in garrison.toml.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tldextract

PSL = "public-suffix-list"
SHARED = "shared-hosting"
SPECIAL = "special-use"
MISP_IP = ("public-dns-v4", "public-dns-v6", "rfc1918", "rfc6598", "ipv6-linklocal")
MISP_DOMAIN = ("tranco10k", "public-dns-hostname")
MISP_HASH = ("empty-hashes", "common-ioc-false-positive", "ti-falsepositives")
ALL_LISTS = (PSL, SHARED, SPECIAL, *MISP_IP, *MISP_DOMAIN, *MISP_HASH)

#: Special-use ranges (RFC 5735 / RFC 4291) checked under the ``special-use`` name.
_SPECIAL_RANGES = (
    "127.0.0.0/8",
    "0.0.0.0/32",
    "169.254.0.0/16",
    "224.0.0.0/4",
    "255.255.255.255/32",
    "::1/128",
    "::/128",
    "fe80::/10",
    "ff00::/8",
)
_DOTTED = frozenset("0123456789.")


@dataclass(slots=True, frozen=True)
class Refusal:
    """Why an indicator is not used: the list that names it and what it says."""

    list: str
    reason: str


def _misp_dir() -> Path:
    import pymispwarninglists

    return Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"


@cache
def _misp_list(name: str) -> tuple[str, tuple[str, ...]]:
    """(description, values) of one MISP list from the package's data."""
    with (_misp_dir() / name / "list.json").open("rb") as fh:
        data: dict[str, Any] = json.load(fh)
    return str(data.get("name", name)), tuple(str(v).strip().lower() for v in data["list"])


@cache
def _suffixes() -> frozenset[str]:
    extractor = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )
    return frozenset(extractor.tlds)


@cache
def _bundled_shared() -> frozenset[str]:
    from garrison.govern.registry.gate import read_shipped_text

    text = read_shipped_text("garrison.content", "intel/shared_hosting.txt")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _parents(name: str) -> Iterable[str]:
    """Proper parent domains with at least two labels: a.b.c.d -> b.c.d, c.d."""
    labels = name.split(".")
    for i in range(1, len(labels) - 1):
        yield ".".join(labels[i:])


@cache
def _shared_parents() -> dict[str, str]:
    """Shared-hosting parent -> an example of what lies below it."""
    out: dict[str, str] = {}
    for entry in sorted(_bundled_shared()):
        out.setdefault(entry, entry)
        for parent in _parents(entry):
            out.setdefault(parent, entry)
    for suffix in sorted(_suffixes()):
        clean = suffix.lstrip("*!.")
        for parent in _parents(clean):
            out.setdefault(parent, suffix)
    return out


class WarningLists:
    """The lists above, loaded once per process; ``check`` says whether to refuse a value."""

    def __init__(self, skip: Iterable[str] = ()) -> None:
        self.skip = frozenset(skip)
        unknown = self.skip - set(ALL_LISTS)
        if unknown:
            raise ValueError(
                f"intel warninglists_skip: unknown lists {sorted(unknown)} (known: {ALL_LISTS})"
            )
        self._exact: dict[str, dict[str, str]] = {}  # kind -> value -> list
        # (version, first, last, list, range text): a handful, checked in order
        self._ranges: list[tuple[int, int, int, str, str]] = []
        for name in MISP_IP:
            if name not in self.skip:
                self._load_ips(name)
        if SPECIAL not in self.skip:
            for text in _SPECIAL_RANGES:
                self._add_range(ipaddress.ip_network(text), SPECIAL)
        for name in MISP_DOMAIN:
            if name not in self.skip:
                self._load_exact("domain", name)
        for name in MISP_HASH:
            if name not in self.skip:
                self._load_exact("hash", name)

    def _load_ips(self, name: str) -> None:
        exact = self._exact.setdefault("ip", {})
        for value in _misp_list(name)[1]:
            if "/" not in value and _DOTTED.issuperset(value) and value.count(".") == 3:
                exact.setdefault(value, name)  # a dotted quad is canonical already (fast path)
                continue
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                continue
            if net.num_addresses == 1:
                exact.setdefault(str(net.network_address), name)
            else:
                self._add_range(net, name)

    def _add_range(self, net: ipaddress.IPv4Network | ipaddress.IPv6Network, name: str) -> None:
        first, last = int(net.network_address), int(net.broadcast_address)
        self._ranges.append((net.version, first, last, name, str(net)))

    def _load_exact(self, kind: str, name: str) -> None:
        exact = self._exact.setdefault(kind, {})
        for value in _misp_list(name)[1]:
            if value and "/" not in value:
                exact.setdefault(value.rstrip("."), name)

    def describe(self, name: str) -> str:
        """The list's own title (MISP), for reports."""
        if name in (*MISP_IP, *MISP_DOMAIN, *MISP_HASH):
            return _misp_list(name)[0]
        return {
            PSL: "Public Suffix List (tldextract's bundled snapshot, private section included)",
            SHARED: "shared-hosting parent domains (PSL parents + Garrison's bundled list)",
            SPECIAL: "special-use addresses: loopback, unspecified, link-local, multicast",
        }[name]

    def check(self, kind: str, value: str) -> Refusal | None:
        """The refusal for one canonical indicator value, or None to use it."""
        if kind == "ip":
            return self._ip(value)
        if kind == "domain":
            return self._domain(value)
        if kind == "url":
            return self._url(value)
        if kind == "hash":
            name = self._exact.get("hash", {}).get(value)
            return Refusal(name, "hash of an empty or known-benign file") if name else None
        return None

    def _ip(self, value: str) -> Refusal | None:
        name = self._exact.get("ip", {}).get(value)
        if name:
            return Refusal(name, "well-known address (public DNS resolver)")
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return None
        number, version = int(ip), ip.version
        for ver, first, last, list_name, text in self._ranges:
            if ver == version and first <= number <= last:
                what = "special-use" if list_name == SPECIAL else "private or reserved"
                return Refusal(list_name, f"{what} range {text}: never a remote attacker")
        return None

    def _domain(self, value: str) -> Refusal | None:
        if PSL not in self.skip and _is_suffix(value):
            return Refusal(PSL, "a public suffix: it would match every domain registered under it")
        if SHARED not in self.skip:
            below = _shared_parents().get(value)
            if below is not None:
                return Refusal(
                    SHARED,
                    f"a shared-hosting parent domain (customers' names lie below it, e.g. "
                    f"{below}): it would match all of them",
                )
        exact = self._exact.get("domain", {})
        name = exact.get(value) or (exact.get(value[4:]) if value.startswith("www.") else None)
        if name:
            return Refusal(name, "a top site or public resolver: matches everyone's traffic")
        return None

    def _url(self, value: str) -> Refusal | None:
        rest = value.split("://", 1)[-1]
        host, sep, _ = rest.partition("/")
        if sep or "?" in host:
            return None  # a path or query makes the URL specific
        host = host.rsplit(":", 1)[0] if not host.startswith("[") else host.strip("[]")
        refusal = self._ip(host) if ":" in host or host.replace(".", "").isdigit() else None
        refusal = refusal or self._domain(host)
        if refusal is None:
            return None
        return Refusal(refusal.list, f"URL of a whole site: {refusal.reason}")


def _is_suffix(name: str) -> bool:
    suffixes = _suffixes()
    if name in suffixes:
        return True
    _, _, parent = name.partition(".")
    return bool(parent) and f"*.{parent}" in suffixes and f"!{name}" not in suffixes


@cache
def default_lists() -> WarningLists:
    """All lists, shared by every load in the process (they are read-only)."""
    return WarningLists()
