"""Synthetic finding streams with labelled attack chains, for tests and benchmarks.

A small organisation: users each with a workstation, a few servers and domain controllers
(which every user authenticates against: hubs), a proxy. Background findings are the
noise real rule sets produce (mostly low/medium, on one user and their host, sometimes on
the domain controller too); each attack chain walks a victim through the kill chain
(phishing, execution, persistence, credential dumping, lateral movement to a server, C2,
exfiltration) within a few hours. The labels say which entities and findings are the
attack's, so recall at the incident level can be measured.

Deterministic for a seed. Not a model of any real network: it exists to exercise the
correlation code at scale and to give tests a ground truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity
from garrison.core.findings import Attack, Evidence, Finding

HOUR = 3_600_000
DAY = 24 * HOUR
START = 1_700_000_000_000

#: (technique, severity, confidence, title) of one attack stage.
CHAIN = (
    ("T1566.001", 3, 70, "Office spawned a script host"),
    ("T1059.001", 4, 80, "Encoded PowerShell command"),
    ("T1547.001", 3, 75, "Run key persistence"),
    ("T1003.001", 5, 90, "LSASS memory access"),
    ("T1021.002", 4, 80, "Remote service over SMB"),
    ("T1071.001", 4, 70, "Beaconing to rare domain"),
    ("T1041", 4, 70, "Large upload to C2"),
)
NOISE_TECHNIQUES = ("T1059.003", "T1082", "T1016", "T1053.005", "T1218.011", "T1087.002", "")


@dataclass(slots=True)
class Scenario:
    findings: list[Finding]
    #: entity keys that belong to an attack (victim user and hosts, C2 domain).
    attack_entities: set[str] = field(default_factory=set)
    attack_findings: set[str] = field(default_factory=set)
    #: chain index -> its entity keys and first event time.
    chains: list[dict[str, Any]] = field(default_factory=list)


class _Attacks:
    """ATT&CK lookups cached per technique: the generator makes millions of findings."""

    def __init__(self) -> None:
        self._cache: dict[str, list[Attack]] = {}

    def __call__(self, technique: str) -> list[Attack]:
        if technique not in self._cache:
            self._cache[technique] = [attack_of(technique)] if technique else []
        return self._cache[technique]


def generate(
    n_findings: int,
    n_users: int = 200,
    n_chains: int = 3,
    days: int = 7,
    seed: int = 7,
    n_rules: int = 150,
) -> Scenario:
    """About ``n_findings`` findings (background + chains) over ``days`` days."""
    rng = random.Random(seed)  # noqa: S311 - seeded synthetic data, reproducible on purpose; never a secret
    attacks = _Attacks()
    users = [f"user{i:05d}" for i in range(n_users)]
    hosts = [f"ws{i:05d}" for i in range(n_users)]
    servers = [f"srv{i:03d}" for i in range(max(2, n_users // 50))]
    dcs = ["dc01", "dc02"]
    rules = [
        (
            f"noise-{r:03d}",
            rng.choice(NOISE_TECHNIQUES),
            rng.choices((1, 2, 3, 4), weights=(30, 40, 25, 5))[0],
            rng.randint(30, 80),
        )
        for r in range(n_rules)
    ]
    findings: list[Finding] = []
    span = days * DAY
    chain_findings = n_chains * len(CHAIN)
    # Benign activity is habitual: each user trips a few rules again and again, and now
    # and then one of the others; some users are much noisier than the rest.
    weights = [1.0 / (r + 1) for r in range(n_rules)]
    habits = [rng.choices(range(n_rules), weights=weights, k=3) for _ in range(n_users)]
    activity = list(accumulate(rng.paretovariate(1.5) for _ in range(n_users)))
    people = range(n_users)
    for i in range(max(0, n_findings - chain_findings)):
        uid_n = rng.choices(people, cum_weights=activity)[0] if i % 4 else rng.randrange(n_users)
        r = rng.choice(habits[uid_n]) if rng.random() < 0.9 else rng.randrange(n_rules)
        rule, tech, sev, conf = rules[r]
        entities = [Entity("user", users[uid_n]), Entity("host", hosts[uid_n])]
        if rng.random() < 0.15:
            entities.append(Entity("host", rng.choice(dcs)))
        t = START + rng.randrange(span)
        findings.append(
            Finding(
                analytic_uid=rule,
                analytic_name=f"Noisy rule {rule}",
                title=f"Noisy rule {rule}",
                time=t,
                severity_id=sev,
                confidence=conf,
                evidences=[Evidence("synthetic.log", i + 1, f"bg-{seed}-{i}", t)],
                attacks=attacks(tech),
                entities=entities,
                uid=f"bg-{seed}-{i:08d}",
            )
        )
    scenario = Scenario(findings)
    for c in range(n_chains):
        _chain(rng, scenario, c, users, hosts, servers, span, attacks)
    scenario.findings.sort(key=lambda f: f.time)
    return scenario


def _chain(
    rng: random.Random,
    scenario: Scenario,
    c: int,
    users: list[str],
    hosts: list[str],
    servers: list[str],
    span: int,
    attacks: _Attacks,
) -> None:
    victim = rng.randrange(len(users))
    user, host, server = users[victim], hosts[victim], rng.choice(servers)
    c2 = f"c2-{c}-{rng.randrange(10**6)}.example"
    t = START + rng.randrange(max(1, span - DAY))
    keys = {f"user:{user}", f"host:{host}", f"host:{server}", f"domain:{c2}"}
    scenario.chains.append({"chain": c, "entities": sorted(keys), "first_time": t})
    scenario.attack_entities |= keys
    for stage, (tech, sev, conf, title) in enumerate(CHAIN):
        t += rng.randrange(5 * 60_000, 40 * 60_000)
        entities = [Entity("user", user), Entity("host", host)]
        if tech == "T1021.002":
            entities.append(Entity("host", server))
        if tech in ("T1071.001", "T1041"):
            entities.append(Entity("domain", c2))
        uid = f"atk-{c}-{stage}"
        scenario.findings.append(
            Finding(
                analytic_uid=f"attack-rule-{stage}",
                analytic_name=title,
                title=title,
                time=t,
                severity_id=sev,
                confidence=conf,
                evidences=[Evidence("synthetic-attack.log", stage + 1, uid, t)],
                attacks=attacks(tech),
                entities=entities,
                uid=uid,
            )
        )
        scenario.attack_findings.add(uid)
