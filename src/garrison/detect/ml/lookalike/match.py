"""Does a domain imitate a protected name, and how? The matching half of ``ml.lookalike``.

A *protected* name is a registered domain (``paypal.com``, the organisation's
``contoso.com``) or, for an internal name without a public suffix (``contoso.local``), just
its label. A candidate domain is compared on its registered-domain label (``paypa1`` in
``www.paypa1.com``), decoded from punycode, against each protected label. The
transformations, in the order they are tried (the first that holds is reported, with the
others that also hold as extras):

- ``homoglyph``: different characters, same visual skeleton (``paypal`` with a Cyrillic
  ``a``, U+0430, in punycode ``xn--pypal-4ve``; ``rnicrosoft``; ``g00gle``);
- ``hyphenation``: the same label with hyphens added or removed (``pay-pal``);
- ``typo``: Damerau-Levenshtein distance (optimal string alignment: insert, delete,
  substitute, swap neighbours) of 1 or 2, by label length, on the labels or their skeletons;
- ``combo``: the protected label plus words (``contoso-login``, ``paypalverify``); for
  the organisation also a near miss plus words (``c0ntoso-hr``, ``brlghtwaterhealth`` for
  ``brightwater``: within the typo distance at the start or the end of the label);
- ``subdomain``: the protected registered domain inside the subdomain of another domain
  (``paypal.com.account-check.net``);
- ``tld-swap``: the same label under another suffix (``contoso.net``).

Thresholds are fixed here, before any evaluation, and differ by who is protected:

=====================  =======================================  ==========================
                       organisation (configured or learnt)      bundled brand
=====================  =======================================  ==========================
typo distance          1 for 5-8 letters, 2 from 9              0 below 6 letters or for a
                                                                 dictionary word, 1 for
                                                                 6-9, 2 from 10
combo                  any added word, label of 5+ letters      a phishing keyword among
                                                                 the added words (any word
                                                                 when hyphenated and the
                                                                 brand is 5+ letters and no
                                                                 dictionary word)
tld-swap               any other suffix                         only a suffix that is not a
                                                                 country code (brands own
                                                                 their ccTLDs)
=====================  =======================================  ==========================

Never reported: a domain the protected party owns (its own registered domains, and for a
brand its label under a country-code suffix), and a candidate whose label is itself one of
the protected labels of another party (``live.com`` is not a typo of ``line``).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from garrison.core import safeyaml
from garrison.detect.ml.domains import ParsedDomain, parse_domain
from garrison.detect.ml.lookalike.confusables import mixed_script, skeleton

ORG = "organisation"
BRAND = "brand"
#: Labels shorter than this are never matched by typo or combo (too many real words).
MIN_LABEL = 3


@dataclass(slots=True, frozen=True)
class Protected:
    """One protected label and who it belongs to."""

    label: str
    party: str  # display name: "PayPal", "organisation: contoso.com"
    kind: str  # ORG or BRAND
    #: The protected registered domain (empty for a label-only internal name).
    domain: str = ""
    suffix: str = ""
    word: bool = False
    owned: frozenset[str] = frozenset()
    source: str = ""  # "configured", "learnt from N hosts", "bundled brand list"

    @property
    def skeleton(self) -> str:
        return skeleton(self.label)

    def typo_limit(self) -> int:
        n = len(self.label)
        if self.kind == ORG:
            return 0 if n < 5 else 1 if n <= 8 else 2
        if self.word or n < 6:
            return 0
        return 1 if n <= 9 else 2

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.party, "label": self.label, "kind": self.kind}
        if self.domain:
            out["domain"] = self.domain
        if self.source:
            out["source"] = self.source
        return out


@dataclass(slots=True)
class Match:
    """Why a candidate imitates a protected name."""

    protected: Protected
    transformation: str
    distance: int
    detail: str
    extras: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "protected": self.protected.to_json(),
            "transformation": self.transformation,
            "distance": self.distance,
            "detail": self.detail,
            "also": self.extras,
        }


def osa_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment), or ``limit + 1`` beyond it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, prev2[j - 2] + 1)
            cur[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def describe_edit(seen: str, real: str) -> str:
    """A one-edit difference in words (``'l' for 'i' at position 3``), else a summary."""
    if len(seen) == len(real):
        diffs = [i for i, (x, y) in enumerate(zip(seen, real, strict=True)) if x != y]
        if len(diffs) == 1:
            i = diffs[0]
            return f"'{seen[i]}' for '{real[i]}' at position {i + 1}"
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            i = diffs[0]
            if seen[i] == real[i + 1] and seen[i + 1] == real[i]:
                return f"'{real[i]}{real[i + 1]}' swapped at position {i + 1}"
    if len(seen) == len(real) + 1:
        for i in range(len(seen)):
            if seen[:i] + seen[i + 1 :] == real:
                return f"'{seen[i]}' added at position {i + 1}"
    if len(seen) + 1 == len(real):
        for i in range(len(real)):
            if real[:i] + real[i + 1 :] == seen:
                return f"'{real[i]}' left out at position {i + 1}"
    return f"{seen!r} vs {real!r}"


def _is_country_suffix(suffix: str) -> bool:
    """``de``, ``co.uk``, ``com.br``: a suffix whose last label is a two-letter country code."""
    last = suffix.rsplit(".", 1)[-1]
    return len(last) == 2 and last.isascii() and last.isalpha()


class Matcher:
    """Compares registered domains with a set of protected names; caches per label."""

    def __init__(self, protected: list[Protected], keywords: frozenset[str]) -> None:
        self.protected = protected
        self.keywords = keywords
        self.labels = frozenset(p.label for p in protected)
        self.owned = frozenset(d for p in protected for d in p.owned)
        self._cache: dict[tuple[str, str], Match | None] = {}

    def match(self, parsed: ParsedDomain) -> Match | None:
        """The strongest imitation ``parsed`` makes of a protected name, or None."""
        if not parsed.ok or not parsed.name or parsed.registered in self.owned:
            return None
        key = (parsed.registered, parsed.subdomain)
        if key not in self._cache:
            if len(self._cache) > 500_000:
                self._cache.clear()
            self._cache[key] = self._match(parsed)
        return self._cache[key]

    def _match(self, parsed: ParsedDomain) -> Match | None:
        label = _label_text(parsed)
        found: list[Match] = []
        for prot in self.protected:
            m = self._against(prot, parsed, label)
            if m is not None:
                found.append(m)
        if not found:
            return None
        found.sort(key=_strength)
        best = found[0]
        best.extras = [
            f"{m.transformation} of {m.protected.party}" for m in found[1:4] if m is not best
        ]
        return best

    def _against(self, prot: Protected, parsed: ParsedDomain, label: str) -> Match | None:
        if label == prot.label:
            return self._same_label(prot, parsed)
        if label in self.labels:
            return None  # another protected party's own name
        sub = _subdomain_hit(prot, parsed)
        if sub is not None:
            return sub
        if len(label) < MIN_LABEL:
            return None
        skel, pskel = skeleton(label), prot.skeleton
        if skel == pskel:
            how = "mixed scripts" if mixed_script(label) else f"{label!r} looks like {prot.label!r}"
            return Match(prot, "homoglyph", osa_distance(label, prot.label, 9), how)
        if "-" in label and label.replace("-", "") == prot.label:
            return Match(prot, "hyphenation", label.count("-"), f"{label!r}: hyphens added")
        if "-" not in label and "-" in prot.label and prot.label.replace("-", "") == label:
            return Match(prot, "hyphenation", prot.label.count("-"), "hyphens removed")
        limit = prot.typo_limit()
        if limit:
            d = min(osa_distance(label, prot.label, limit), osa_distance(skel, pskel, limit))
            if d <= limit:
                return Match(prot, "typo", d, describe_edit(label, prot.label))
        return self._combo(prot, label, skel)

    def _same_label(self, prot: Protected, parsed: ParsedDomain) -> Match | None:
        if not prot.suffix or parsed.suffix == prot.suffix:
            return None
        if parsed.registered in prot.owned:
            return None
        if prot.kind == BRAND and (not parsed.suffix or _is_country_suffix(parsed.suffix)):
            return None
        return Match(
            prot,
            "tld-swap",
            0,
            f"'.{parsed.suffix}' instead of '.{prot.suffix}'"
            if parsed.suffix
            else "no public suffix",
        )

    def _combo(self, prot: Protected, label: str, skel: str) -> Match | None:
        if len(prot.label) < MIN_LABEL:
            return None
        tokens = [t for t in label.split("-") if t]
        skel_tokens = [skeleton(t) for t in tokens]
        if len(tokens) > 1 and prot.skeleton in skel_tokens:
            added = [t for t, s in zip(tokens, skel_tokens, strict=True) if s != prot.skeleton]
            if self._combo_allowed(prot, added, hyphenated=True):
                return Match(prot, "combo", len(added), f"words added: {', '.join(added)}")
        if prot.kind == BRAND and (prot.word or len(prot.label) < 5):
            return None
        if prot.kind == ORG and len(prot.label) < 5:
            return None
        flat = skel.replace("-", "")
        at = flat.find(prot.skeleton)
        if at < 0 and prot.kind == ORG:
            return _fuzzy_combo(prot, label.replace("-", ""))
        if at < 0 or flat == prot.skeleton:
            return None
        rest = [flat[:at], flat[at + len(prot.skeleton) :]]
        rest = [r for r in rest if r]
        if self._combo_allowed(prot, rest, hyphenated=False):
            return Match(prot, "combo", len(rest), f"joined with: {', '.join(rest)}")
        return None

    def _combo_allowed(self, prot: Protected, added: list[str], hyphenated: bool) -> bool:
        if not added:
            return False
        if prot.kind == ORG:
            return True
        if hyphenated and not prot.word and len(prot.label) >= 5:
            return True
        return any(_has_keyword(word, self.keywords) for word in added)


def _fuzzy_combo(prot: Protected, flat: str) -> Match | None:
    """The organisation's label, within the typo distance, at either end of a longer label."""
    limit = prot.typo_limit()
    n = len(prot.label)
    if not limit or len(flat) <= n + 1:
        return None
    for size in (n, n - 1, n + 1):
        for head, rest in ((flat[:size], flat[size:]), (flat[-size:], flat[:-size])):
            d = osa_distance(head, prot.label, limit)
            if 0 < d <= limit and len(rest) >= 2:
                return Match(
                    prot,
                    "combo",
                    d,
                    f"{head!r} ({describe_edit(head, prot.label)}) joined with {rest!r}",
                )
    return None


def _has_keyword(word: str, keywords: frozenset[str]) -> bool:
    if word in keywords:
        return True
    return any(len(k) >= 4 and k in word for k in keywords)


def _subdomain_hit(prot: Protected, parsed: ParsedDomain) -> Match | None:
    if not prot.domain or not parsed.subdomain:
        return None
    inside = f".{parsed.subdomain}."
    for domain in (prot.domain, *sorted(prot.owned)):
        if f".{domain}." in inside or inside.endswith(f".{domain}."):
            return Match(
                prot, "subdomain", 0, f"'{domain}' placed in front of '{parsed.registered}'"
            )
    return None


def _label_text(parsed: ParsedDomain) -> str:
    """The registered label as a person reads it: punycode decoded."""
    if parsed.name.startswith("xn--"):
        try:
            return parsed.name.encode("ascii").decode("idna")
        except (UnicodeError, ValueError):
            return parsed.name
    return parsed.name


_ORDER = {"homoglyph": 0, "subdomain": 1, "hyphenation": 2, "typo": 3, "combo": 4, "tld-swap": 5}


def _strength(m: Match) -> tuple[int, int, int, int]:
    return (0 if m.protected.kind == ORG else 1, _ORDER[m.transformation], m.distance, 0)


# -- protected names ------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class BrandList:
    brands: list[Protected]
    keywords: frozenset[str]


def bundled_brands_path() -> Path:
    return Path(str(importlib.resources.files("garrison.content").joinpath("lookalike/brands.yml")))


def load_brands(path: str = "") -> BrandList:
    """Brands from the bundled YAML (or ``path``): one ``Protected`` per brand label.

    The bundled list goes through the registry gate (its SHA-256 must be the one
    ``content/lookalike/MANIFEST.json`` lists; InputError otherwise): an edited list would
    silently change what ``ml.lookalike`` and the URL model's brand features report."""
    if path:
        return _brands(Path(path).read_bytes(), path)
    from garrison.govern.registry.gate import read_verified

    data, _digest = read_verified(bundled_brands_path())
    return _brands(data, "")


@lru_cache(maxsize=4)
def _brands(blob: bytes, path: str) -> BrandList:
    data = safeyaml.load(blob) or {}
    brands: list[Protected] = []
    for item in data.get("brands", []):
        labels = [str(x).lower() for x in item.get("labels", [])]
        owned = {str(x).lower() for x in item.get("owned", [])}
        for label in labels:
            primary = next((d for d in owned if parse_domain(d).name == label), f"{label}.com")
            brands.append(
                Protected(
                    label=label,
                    party=str(item.get("name", label)),
                    kind=BRAND,
                    domain=primary,
                    suffix=parse_domain(primary).suffix,
                    word=bool(item.get("word", False)),
                    owned=frozenset(owned | {primary}),
                    source="bundled brand list" if not path else str(path),
                )
            )
    keywords = frozenset(str(k).lower() for k in data.get("keywords", []))
    return BrandList(brands, keywords)


def org_protected(domain: str, source: str) -> Protected | None:
    """The organisation's name ``domain`` as protected (label only for internal suffixes)."""
    parsed = parse_domain(domain)
    if not parsed.ok:
        return None
    if parsed.suffix:
        label, registered, suffix = parsed.name, parsed.registered, parsed.suffix
    else:  # contoso.local, corp.contoso.internal: the label before the private suffix
        labels = parsed.text.split(".")
        if len(labels) < 2:
            return None
        label, registered, suffix = labels[-2], "", ""
    if len(label) < MIN_LABEL:
        return None
    return Protected(
        label=label,
        party=f"organisation: {registered or parsed.text}",
        kind=ORG,
        domain=registered,
        suffix=suffix,
        owned=frozenset({registered} if registered else ()),
        source=source,
    )
