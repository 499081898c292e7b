"""Detector ``ml.dga`` with the shipped model: per-host findings, NXDOMAIN bursts, evidence."""

from __future__ import annotations

import random
import string

import pytest

from garrison.core.events import Event, Provenance
from garrison.detect.ml.dga.detector import DgaDetector, DgaOptions
from garrison.detect.ml.dga.model import load_model

T0 = 1_700_000_000_000
POPULAR = [
    "www.google.com",
    "mail.google.com",
    "www.wikipedia.org",
    "github.com",
    "www.microsoft.com",
    "login.microsoftonline.com",
    "www.amazon.com",
    "www.bbc.co.uk",
    "www.nytimes.com",
    "stackoverflow.com",
    "www.youtube.com",
    "www.apple.com",
    "www.paypal.com",
    "www.linkedin.com",
    "www.reddit.com",
]


def random_dga(rng: random.Random) -> str:
    label = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(14, 20)))
    return f"{label}.{rng.choice(['com', 'net', 'biz', 'info', 'ru'])}"


def event(
    i: int,
    query: str,
    querier: str,
    rcode: str = "NOERROR",
    zeek: bool = False,
    t: int | None = None,
) -> Event:
    prov = Provenance("dns.log", "zeek", i, "fp", 0)
    when = T0 + i * 1000 if t is None else t
    if zeek:
        return Event(
            f"u{i}",
            4003,
            when,
            {"class_uid": 4003},
            {"query": query, "rcode_name": rcode, "id.orig_h": querier},
            "",
            prov,
        )
    ocsf = {
        "class_uid": 4003,
        "query": {"hostname": query, "type": "A"},
        "rcode": rcode,
        "rcode_id": 3 if rcode == "NXDOMAIN" else 0,
        "src_endpoint": {"ip": querier},
    }
    return Event(f"u{i}", 4003, when, ocsf, {}, "", prov)


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_infected_host_is_reported_with_burst_context(model):
    rng = random.Random(7)
    events: list[Event] = []
    i = 0
    for _ in range(40):  # infected host walks a DGA list: mostly NXDOMAIN
        events.append(
            event(i, random_dga(rng), "10.0.0.66", "NXDOMAIN", zeek=i % 2 == 0, t=T0 + i * 2000)
        )
        i += 1
    for _ in range(300):
        events.append(event(i, rng.choice(POPULAR), f"10.0.0.{rng.randint(2, 30)}"))
        i += 1
    det = DgaDetector(model, DgaOptions(burst_min=20, burst_window_s=300))
    for k in range(0, len(events), 50):
        assert det.observe(events[k : k + 50]) == []
    findings = det.finish()
    by_id = {f.analytic_uid: f for f in findings}
    assert set(by_id) == {"ml.dga", "ml.dga.nxdomain_burst"}
    dga = by_id["ml.dga"]
    assert dga.entities[0].key() == "ip:10.0.0.66"
    domains = {e.value for e in dga.entities if e.kind == "domain"}
    assert len(domains) == 25  # max_domains_per_finding
    assert dga.explanation["domains_flagged"] >= 30
    assert dga.attacks[0].technique_uid == "T1568.002"
    assert dga.attacks[0].tactic_name == "Command and Control"
    assert dga.model_version == model.version
    assert dga.explanation["nxdomain_burst"]["nxdomain_in_window"] >= 20
    top = dga.explanation["domains"][0]
    assert top["score"] >= model.threshold and top["top_features"]
    uids = {e.uid for e in events}
    assert all(ev.event_uid in uids for f in findings for ev in f.evidences)
    burst = by_id["ml.dga.nxdomain_burst"]
    assert burst.explanation["observed"]["dga_share"] >= 0.5
    stats = det.stats()
    assert stats["hosts_with_findings"] == 1 and stats["scored"] >= 40


def test_popular_names_and_internal_names_do_not_fire(model):
    rng = random.Random(3)
    names = [*POPULAR, "wpad.corp.local", "printer", "1.0.0.10.in-addr.arpa"]
    events = [event(i, rng.choice(names), f"10.1.0.{i % 9}") for i in range(500)]
    det = DgaDetector(model)
    det.observe(events)
    assert det.finish() == []
    assert det.stats()["skipped_no_suffix"] > 0


def test_burst_without_dga_is_low_severity(model):
    events = [event(i, f"host{i}.example.com", "10.2.0.1", "NXDOMAIN") for i in range(30)]
    det = DgaDetector(model, DgaOptions(burst_min=20))
    det.observe(events)
    findings = det.finish()
    assert [f.analytic_uid for f in findings] == ["ml.dga.nxdomain_burst"]
    assert findings[0].explanation["observed"]["dga_share"] == 0.0
    assert findings[0].confidence < 60


def test_allowlist_and_threshold_options(model):
    rng = random.Random(11)
    name = random_dga(rng)
    det = DgaDetector(model, DgaOptions(allowlist=(name,)))
    det.observe([event(0, name, "10.0.0.1")])
    assert det.finish() == [] and det.stats()["skipped_allowlist"] == 1
    strict = DgaDetector(model, DgaOptions(threshold=1.0))
    strict.observe([event(0, name, "10.0.0.1")])
    assert strict.finish() == []


def test_options_from_dict(tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text("# ours\nExample.COM.\n\nfoo.net  # lab\n", encoding="utf-8")
    from garrison.core.options import OptionsError, load_options

    opts = load_options(DgaOptions, {"allowlist": str(allow), "burst_min": 5}, where="t")
    assert opts.allowlist == ("example.com", "foo.net") and opts.burst_min == 5
    with pytest.raises(OptionsError, match="burst_min"):  # a string is no longer coerced
        load_options(DgaOptions, {"burst_min": "5"}, where="t")


def test_burst_context_lowers_the_reporting_threshold(model):
    rng = random.Random(5)
    names = [random_dga(rng) for _ in range(30)]
    p, _ = model.score([n.split(".")[0] for n in names], [n.split(".")[1] for n in names])
    strict = float(p.max()) + 1e-3  # above every score: nothing passes the strict threshold
    quiet = [event(i, n, "10.3.0.1", "NOERROR", t=T0 + i * 3_600_000) for i, n in enumerate(names)]
    det = DgaDetector(model, DgaOptions(threshold=min(strict, 1.0), burst_min=20))
    det.observe(quiet)
    assert det.finish() == []  # spread over hours, answered: no burst, nothing reported
    bursty = [event(i, n, "10.3.0.2", "NXDOMAIN") for i, n in enumerate(names)]
    det = DgaDetector(model, DgaOptions(threshold=min(strict, 1.0), burst_min=20))
    det.observe(bursty)
    found = {f.analytic_uid: f for f in det.finish()}
    assert set(found) == {"ml.dga", "ml.dga.nxdomain_burst"}
    assert found["ml.dga"].explanation["threshold"] == 0.5
    assert found["ml.dga"].explanation["above_model_threshold"] == 0
