"""Lexical features of a parsed URL: what a phishing URL's shape gives away.

Host shape (length, labels, digits, hyphens, IP or punycode host, a port, the kind of
top-level domain), path and query shape (length, depth, parameters, escapes, ``//``),
credential-phishing words (a fixed list of generic words written here, not learnt from
data), a brand from the bundled lookalike list named in the subdomain, path or registered
label of a domain the brand does not own, user-info (``@``) and e-mail addresses in the
URL. Counts and lengths enter as ``log1p`` so a linear model sees diminishing returns.

``ARTEFACT`` features (scheme is https, a ``www.`` prefix, a trailing slash) are computed
only for the ablation in ``garrison eval url``: they separate the corpus's two files but
describe how the URLs were collected, not whether they are phishing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from garrison.detect.ml.url.parse import ParsedUrl

F32 = NDArray[np.float32]

HOST_FEATURES = (
    "host_length",
    "host_labels",
    "subdomain_depth",
    "host_digits",
    "host_hyphens",
    "longest_host_label",
    "ip_host",
    "punycode_host",
    "nonstandard_port",
    "tld_legacy",
    "tld_country",
    "tld_new",
    "tld_free",
    "no_public_suffix",
    "brand_in_subdomain",
    "brand_in_domain_label",
    "host_suspicious_words",
)
PATH_FEATURES = (
    "path_length",
    "path_depth",
    "query_length",
    "query_params",
    "path_digit_share",
    "percent_escapes",
    "double_slash_in_path",
    "path_suspicious_words",
    "brand_in_path",
    "userinfo_at",
    "email_in_url",
    "url_length",
)
LEXICAL = HOST_FEATURES + PATH_FEATURES
ARTEFACT = ("scheme_https", "www_prefix", "trailing_slash")

#: Generic words of credential phishing (sign-in, verification, account recovery, payment).
_WORD_TEXT = """login logon signin sign-in signon log-in verify verification validate confirm secure
    security account accounts update unlock suspended suspend locked recover recovery
    restore password passwd credential credentials auth authenticate authentication banking
    bank billing payment invoice wallet webscr session token reset support helpdesk alert
    notice limited unusual activity reactivate webmail mailbox owa portal customer
    """
SUSPICIOUS_WORDS = frozenset(_WORD_TEXT.split())
_LEGACY = frozenset({"com", "net", "org", "edu", "gov", "mil", "int", "info", "biz"})
#: Top-level domains once given away free of charge (Freenom): long a phishing favourite.
_FREE = frozenset({"tk", "ml", "ga", "cf", "gq"})
_TOKEN = re.compile(r"[a-z]+")
_ALNUM = re.compile(r"[a-z0-9]+")
_DIGIT = re.compile(r"[0-9]")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


@dataclass(slots=True, frozen=True)
class Brands:
    """Brand labels to look for: distinctive ones (``paypal``) anywhere in the text,
    dictionary-word ones (``live``, ``apple``, ``office``) only as whole tokens, so
    ``delivery`` does not name Microsoft Live."""

    pattern: re.Pattern[str] | None
    words: frozenset[str]
    owned: dict[str, frozenset[str]]
    #: Every domain any listed brand owns: a brand's own hosts name other brands freely.
    any_owned: frozenset[str]

    def named(self, text: str, registered: str) -> bool:
        """A brand label occurs in ``text`` and ``registered`` is none of its domains."""
        if not text or registered in self.any_owned:
            return False
        if self.pattern is not None:
            for m in self.pattern.finditer(text):
                if registered not in self.owned[m.group(0)]:
                    return True
        if self.words:
            for token in _ALNUM.findall(text):
                if token in self.words and registered not in self.owned[token]:
                    return True
        return False


@cache
def brands() -> Brands:
    """Brand labels (>= 4 letters) and owned domains from the bundled lookalike list."""
    from garrison.detect.ml.lookalike.match import load_brands

    owned: dict[str, set[str]] = {}
    words: set[str] = set()
    for b in load_brands().brands:
        if len(b.label) >= 4:
            owned.setdefault(b.label, set()).update(b.owned)
            if b.word:
                words.add(b.label)
    glued = sorted(set(owned) - words)
    pattern = re.compile(_trie_pattern(glued)) if glued else None
    frozen = {k: frozenset(v) for k, v in owned.items()}
    every = frozenset(d for v in owned.values() for d in v)
    return Brands(pattern, frozenset(words), frozen, every)


def _trie_pattern(words: list[str]) -> str:
    """One regular expression matching any of ``words``, factored by common prefixes so
    the engine tries one branch per next character instead of every word everywhere
    (longest match first within a branch).

    >>> re.findall(_trie_pattern(["pay", "paypal", "apple"]), "xpaypal apple pay")
    ['paypal', 'apple', 'pay']
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _log(x: float) -> float:
    return math.log1p(x)


def _words(text: str) -> int:
    return sum(map(SUSPICIOUS_WORDS.__contains__, _TOKEN.findall(text)))


@lru_cache(maxsize=131_072)
def host_features(host: str, registered: str, subdomain: str, suffix: str, ip: bool,
                  idn: bool, port: int | None) -> tuple[float, ...]:  # fmt: skip
    """HOST_FEATURES for one host (cached: hosts repeat far more than URLs)."""
    labels = host.split(".") if not ip else [host]
    tld = suffix.rsplit(".", 1)[-1] if suffix else ""
    sub_depth = len(subdomain.split(".")) if subdomain else 0
    name = registered[: -len(suffix) - 1] if suffix and registered.endswith(suffix) else ""
    b = brands()
    return (
        _log(len(host)),
        float(len(labels)),
        float(sub_depth),
        _log(len(_DIGIT.findall(host))),
        _log(host.count("-")),
        _log(max(len(x) for x in labels)),
        float(ip),
        float(idn or "xn--" in host),
        float(port is not None and port not in (80, 443)),
        float(tld in _LEGACY),
        float(len(tld) == 2 and tld not in _FREE),
        float(bool(tld) and len(tld) > 2 and tld not in _LEGACY),
        float(tld in _FREE),
        float(not suffix and not ip),
        float(b.named(subdomain, registered)),
        float(b.named(name, registered)),
        _log(_words(host)),
    )


def path_features(p: ParsedUrl) -> tuple[float, ...]:
    rest = p.rest.lower()
    path, _, query = rest.partition("?")
    digits = len(_DIGIT.findall(path))
    return (
        _log(len(path)),
        float(min(path.count("/"), 30)),
        _log(len(query)),
        float(min(query.count("&") + 1 if query else 0, 50)),
        digits / len(path) if path else 0.0,
        _log(len(_ESCAPE.findall(rest))),
        float("//" in path),
        _log(_words(rest)),
        float(brands().named(rest, p.registered)),
        float(p.userinfo),
        float(p.email_in_url),
        _log(len(p.key)),
    )


def artefact_features(p: ParsedUrl) -> tuple[float, ...]:
    raw = p.text.split("#", 1)[0].split("?", 1)[0]
    return (float(p.scheme == "https"), float(p.www), float(raw.endswith("/")))


def lexical_matrix(urls: Sequence[ParsedUrl], artefacts: bool = False) -> F32:
    """(N, len(LEXICAL) [+ len(ARTEFACT)]) features of parsed, valid URLs."""
    width = len(LEXICAL) + (len(ARTEFACT) if artefacts else 0)
    rows: list[tuple[float, ...]] = []
    for p in urls:
        row = host_features(p.host, p.registered, p.subdomain, p.suffix, p.ip, p.idn, p.port)
        row = row + path_features(p)
        if artefacts:
            row = row + artefact_features(p)
        rows.append(row)
    if not rows:
        return np.zeros((0, width), dtype=np.float32)
    return np.asarray(rows, dtype=np.float32)
