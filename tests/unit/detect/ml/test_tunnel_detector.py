"""DNS tunnelling detector on generated iodine-like and dnscat2-like traffic over benign DNS."""

from __future__ import annotations

import base64
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.events import Event, Provenance
from garrison.detect.ml.tunnel import DnsTunnelDetector, TunnelOptions, entropy, tunnel_score

T0 = 1_700_000_000_000


def dns_event(
    i: int,
    query: str,
    qtype: str = "A",
    querier: str = "10.0.0.2",
    rcode: str = "NOERROR",
    zeek: bool = False,
) -> Event:
    prov = Provenance("dns.log", "zeek", i, "fp", 0)
    if zeek:
        ocsf: dict = {"class_uid": 4003}
        fields = {"query": query, "qtype_name": qtype, "rcode_name": rcode, "id.orig_h": querier}
    else:
        ocsf = {
            "class_uid": 4003,
            "query": {"hostname": query, "type": qtype},
            "rcode": rcode,
            "src_endpoint": {"ip": querier},
        }
        fields = {}
    return Event(f"e{i}", 4003, T0 + i * 500, ocsf, fields, "", prov)


def iodine_like(rng: random.Random, n: int, start: int) -> list[Event]:
    """Upstream data base32-encoded into ~100-char names under one domain, NULL records."""
    out = []
    for i in range(n):
        payload = base64.b32encode(rng.randbytes(60)).decode().lower().rstrip("=")
        labels = [payload[j : j + 57] for j in range(0, len(payload), 57)]
        name = "p" + rng.choice("abcdef") + ".".join(labels) + ".t.tunnel-example.com"
        out.append(dns_event(start + i, name, "NULL", "10.0.0.66"))
    return out


def dnscat_like(rng: random.Random, n: int, start: int) -> list[Event]:
    """Hex-encoded session data under a C2 domain, TXT/CNAME/MX, Zeek-shaped fields."""
    out = []
    for i in range(n):
        data = rng.randbytes(rng.randint(20, 30)).hex()
        name = (
            f"{data[:60]}.{data[60:]}.c2-example.net"
            if len(data) > 60
            else (f"{data}.c2-example.net")
        )
        qtype = rng.choice(["TXT", "CNAME", "MX"])
        out.append(dns_event(start + i, name, qtype, "10.0.0.77", zeek=True))
    return out


BENIGN_NAMES = [
    "www.google.com",
    "mail.example.org",
    "outlook.office365.com",
    "e1234.a.akamaiedge.net",
    "clients4.google.com",
    "update.microsoft.com",
    "cdn.jsdelivr.net",
    "api.github.com",
    "_dmarc.example.org",
    "time.windows.com",
    "d1a2b3c4d5e6f7.cloudfront.net",
    "wpad.corp.local",
    "4.3.2.1.in-addr.arpa",
]


def benign(rng: random.Random, n: int, start: int) -> list[Event]:
    hosts = [f"10.0.1.{i}" for i in range(1, 20)]
    return [
        dns_event(start + i, rng.choice(BENIGN_NAMES), rng.choice(["A", "AAAA"]), rng.choice(hosts))
        for i in range(n)
    ]


def run(events: list[Event], **opts) -> list:
    det = DnsTunnelDetector(TunnelOptions(**opts))
    for k in range(0, len(events), 97):
        assert det.observe(events[k : k + 97]) == []
    return det.finish()


def test_tunnels_are_found_and_benign_is_not():
    rng = random.Random(4)
    events = benign(rng, 3000, 0) + iodine_like(rng, 300, 5000) + dnscat_like(rng, 200, 9000)
    rng.shuffle(events)
    findings = run(events)
    flagged = {(f.entities[0].value, f.entities[-1].value) for f in findings}
    assert flagged == {("10.0.0.66", "tunnel-example.com"), ("10.0.0.77", "c2-example.net")}
    uids = {e.uid for e in events}
    for f in findings:
        assert f.analytic_uid == "ml.dns_tunnel"
        assert f.confidence >= 55
        assert {a.technique_uid for a in f.attacks} == {"T1071.004", "T1048"}
        assert all(ev.event_uid in uids for ev in f.evidences)
        feats = f.explanation["features"]
        assert (
            feats["unique_subdomains"]["observed"] > feats["unique_subdomains"]["population_median"]
        )
        assert f.model_version


def test_iodine_scores_above_dnscat_and_both_high():
    rng = random.Random(1)
    findings = run(benign(rng, 500, 0) + iodine_like(rng, 300, 1000) + dnscat_like(rng, 300, 2000))
    by_domain = {f.entities[-1].value: f.confidence for f in findings}
    assert by_domain["tunnel-example.com"] >= 80
    assert by_domain["c2-example.net"] >= 55


def test_a_few_long_queries_are_not_a_tunnel():
    rng = random.Random(2)
    assert run(benign(rng, 200, 0) + iodine_like(rng, 5, 1000)) == []


def test_allowlisted_domain_is_skipped():
    rng = random.Random(3)
    findings = run(iodine_like(rng, 100, 0), allowlist=("tunnel-example.com",))
    assert findings == []


def test_score_parts_are_bounded():
    score, parts = tunnel_score(
        {
            "queries": 1e9,
            "unique_subdomains": 1e9,
            "mean_subdomain_length": 1e9,
            "max_label_length": 63,
            "mean_entropy": 9.0,
            "subdomain_bytes": 1e12,
            "unusual_type_share": 1.0,
        }
    )
    assert score == 1.0 and all(0 <= v <= 1 for v in parts.values())
    low, _ = tunnel_score(
        {
            "queries": 1,
            "unique_subdomains": 0,
            "mean_subdomain_length": 0,
            "max_label_length": 0,
            "mean_entropy": 0,
            "subdomain_bytes": 0,
            "unusual_type_share": 0,
        }
    )
    assert low == 0.0


def test_entropy():
    assert entropy("") == 0.0
    assert entropy("abab") == 1.0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(max_size=80), st.integers()),
            st.one_of(st.none(), st.text(max_size=8)),
        ),
        max_size=40,
    )
)
def test_garbage_never_raises(rows):
    events = []
    for i, (query, qtype) in enumerate(rows):
        prov = Provenance("x", "zeek", i, "fp", 0)
        events.append(
            Event(
                f"g{i}",
                4003,
                T0,
                {"query": {"hostname": query, "type": qtype}},
                {"query": query, "qtype_name": qtype},
                "",
                prov,
            )
        )
    det = DnsTunnelDetector(TunnelOptions(min_queries=1, min_unique=1, threshold=0.0))
    det.observe(events)
    for f in det.finish():
        assert 0 <= f.confidence <= 100
