"""Fuzz: hostile Sigma rule files through the loader, the rule set and the engine.

Bundled rules are mutated with YAML structure (brackets, anchors, aliases, tags, block
indicators) and hostile values (catastrophic regexes, lookarounds, long wildcards). For
every case, loading never raises: each file ends up as rules or as ``rules_failed`` entries
with a reason; the rules that load evaluate an event (long, adversarial field values) in
bounded time. One hypothesis-drawn seed per case (a failure prints the seed).
"""

from __future__ import annotations

import os
import random
import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from garrison.content import bundled_rules_dir
from garrison.detect.sigma.detector import detector_from_yaml
from tests.fuzz._shared import insert_or_delete

CASES = int(os.environ.get("GARRISON_FUZZ_RULE_CASES", "1000"))
SETTINGS = settings(
    max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)
RULES = [p.read_bytes() for p in sorted(bundled_rules_dir().rglob("*.yml"))]
JUNK = [
    b"[",
    b"]",
    b"{",
    b"}",
    b"- ",
    b"\n  ",
    b"\n- ",
    b": ",
    b"&a ",
    b"*a",
    b"!!python/object/apply:os.system ['id'] ",
    b"|",
    b">",
    b"'",
    b'"',
    b"*",
    b"\\",
    b"#",
    b"\x00",
    b"\xff",
    b"|re: '(a+)+$'",
    b"|re: '(?<=x)y'",
    b"|re: '(a)\\1'",
    b"|contains: '*a*a*a*a*a*a*b'",
    b"|re|i: '(\\w+\\s?)+$'",
    b"\nid: 5f2d4c3b-0000-4000-8000-00000000beef\n",
    b"[" * 200,
]
EVENT = {
    "Channel": "Microsoft-Windows-Sysmon/Operational",
    "EventID": 1,
    "CommandLine": "a" * 5000 + "b",
    "Image": "C:\\" + "a\\" * 2000 + "x.exe",
    "ParentImage": "aaaa aaaa " * 500,
}


@SETTINGS
@given(seed=SEEDS)
@example(seed=121851)  # a correlation naming a mapping as a rule: TypeError, now a failed rule
def test_mutated_rules_load_or_fail_with_a_reason(seed: int) -> None:
    rng = random.Random(seed)
    texts = []
    for _ in range(rng.choice([1, 2, 3])):
        data = insert_or_delete(rng, rng.choice(RULES), [1, 2, 4, 8], JUNK)
        texts.append(data.decode("utf-8", "replace"))
    det = detector_from_yaml(*texts, options={"cache": False})
    for label, reason in det.ruleset.errors.items():
        assert label and isinstance(reason, str) and reason.strip(), (seed, label)
    started = time.perf_counter()
    det.observe([])  # nothing to do, must not fail
    det.engine.match(EVENT, "evtx")
    assert time.perf_counter() - started < 5.0, seed
