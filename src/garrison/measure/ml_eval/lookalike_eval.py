"""``garrison eval lookalike``: false positives on benign domain lists, precision and recall
on phishing-URL host names, with the bundled brand list and the fixed thresholds.

- Benign lists (``benign-domains``: Alexa 1k, OpenDNS top and random, Moz top 500): every
  domain flagged is a false positive (these are popular or random real sites; a real
  lookalike among them would be counted as a false positive too, so the rate is an upper
  bound). Reported per list with the transformations that fired and examples.
- Phishing URLs (``phishing-urls``): the host name of each URL, deduplicated per list;
  phishing hosts flagged are true positives, legitimate hosts flagged false positives.
  Recall is partial by nature: most phishing hosts imitate nobody (compromised sites, free
  hosting, random names); the detector only claims the lookalikes.

The organisation is not protected here (the corpus has no organisation); only brands.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from garrison.detect.ml.domains import parse_domain
from garrison.detect.ml.lookalike.match import Matcher, load_brands

BENIGN_LISTS = (
    "alexa_1000.txt",
    "opendns-top-domains.txt",
    "opendns-random-domains.txt",
    "top-sites-500.json",
)
EXAMPLES = 15


def _matcher(brands: str = "") -> Matcher:
    loaded = load_brands(brands)
    return Matcher(loaded.brands, loaded.keywords)


def _read_list(path: Path) -> list[str]:
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return [str(row.get("rootDomain", "")) for row in data if isinstance(row, dict)]
    return [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()]


def _host(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    try:
        host = urlsplit(text if "://" in text[:16] else f"http://{text}").hostname
    except ValueError:
        return ""
    return host or ""


def _score(matcher: Matcher, names: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """(names that parse, flagged names with why)."""
    valid = 0
    flagged: list[dict[str, Any]] = []
    for name in names:
        parsed = parse_domain(name)
        if not parsed.ok or not parsed.name:
            continue
        valid += 1
        m = matcher.match(parsed)
        if m is not None:
            flagged.append(
                {
                    "name": parsed.text,
                    "protected": m.protected.party,
                    "transformation": m.transformation,
                    "distance": m.distance,
                    "detail": m.detail,
                }
            )
    return valid, flagged


def evaluate_benign(folder: Path, matcher: Matcher) -> dict[str, Any]:
    out: dict[str, Any] = {}
    total = flagged_total = 0
    for name in BENIGN_LISTS:
        path = folder / name
        if not path.is_file():
            continue
        names = [_host(n) for n in _read_list(path)]
        valid, flagged = _score(matcher, [n for n in names if n])
        total += valid
        flagged_total += len(flagged)
        out[name] = {
            "domains": valid,
            "flagged": len(flagged),
            "fp_rate": round(len(flagged) / valid, 5) if valid else 0.0,
            "by_transformation": dict(Counter(f["transformation"] for f in flagged)),
            "examples": flagged[:EXAMPLES],
        }
    out["all"] = {
        "domains": total,
        "flagged": flagged_total,
        "fp_rate": round(flagged_total / total, 5) if total else 0.0,
    }
    return out


def evaluate_phishing(folder: Path, matcher: Matcher) -> dict[str, Any]:
    hosts: dict[str, set[str]] = {}
    for label, name in (
        ("phishing", "data_phishing_37175.json"),
        ("legitimate", "data_legitimate_36400.json"),
    ):
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        hosts[label] = {h for h in (_host(str(u)) for u in data) if h}
    valid_p, flagged_p = _score(matcher, sorted(hosts["phishing"]))
    valid_l, flagged_l = _score(matcher, sorted(hosts["legitimate"]))
    tp, fp = len(flagged_p), len(flagged_l)
    per: dict[str, dict[str, Any]] = {}
    for flagged, key in ((flagged_p, "tp"), (flagged_l, "fp")):
        for f in flagged:
            row = per.setdefault(f["transformation"], {"tp": 0, "fp": 0})
            row[key] += 1
    for row in per.values():
        row["precision"] = round(row["tp"] / (row["tp"] + row["fp"]), 4)
    brands = Counter(f["protected"] for f in flagged_p)
    return {
        "unit": "distinct host names",
        "phishing_hosts": valid_p,
        "legitimate_hosts": valid_l,
        "true_positives": tp,
        "false_positives": fp,
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / valid_p, 4) if valid_p else 0.0,
        "legitimate_fp_rate": round(fp / valid_l, 5) if valid_l else 0.0,
        "by_transformation": per,
        "top_brands": dict(brands.most_common(15)),
        "examples_tp": flagged_p[:EXAMPLES],
        "examples_fp": flagged_l[:EXAMPLES],
    }


def evaluate(corpus: Path, brands: str = "") -> dict[str, Any]:
    """The whole report; needs ``benign-domains`` and ``phishing-urls`` under ``corpus``."""
    started = time.perf_counter()
    matcher = _matcher(brands)
    report: dict[str, Any] = {
        "protected": f"{len(matcher.protected)} brand labels (bundled list)",
        "benign": evaluate_benign(corpus / "benign-domains", matcher),
        "phishing_urls": evaluate_phishing(corpus / "phishing-urls", matcher),
    }
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report
