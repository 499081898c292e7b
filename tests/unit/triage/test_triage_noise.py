"""Deduplication, suppression windows, exceptions and allowlists."""

from garrison.core.entities import Entity
from garrison.core.findings import Evidence, Finding
from garrison.triage.config import SuppressWindow
from garrison.triage.marks import is_suppressed, set_disposition
from garrison.triage.noise import NoiseStats, deduplicate, last_seen, suppress_windows
from garrison.triage.rules import RuleError, SuppressionRule, apply_rules

MIN = 60_000
T0 = 1_740_000_000_000


def _f(i, t, analytic="r1", entities=(("host", "ws1"), ("user", "alice")), name=None):
    return Finding(
        analytic_uid=analytic,
        analytic_name=name or analytic,
        title=analytic,
        time=t,
        severity_id=3,
        confidence=70,
        evidences=[Evidence("a.log", i, f"e{i}", t)],
        entities=[Entity(k, v) for k, v in entities],
    )


def test_repeats_fold_into_the_first_with_count_and_capped_evidences():
    findings = [_f(i, T0 + i * MIN) for i in range(1, 11)]
    stats = NoiseStats()
    kept = deduplicate(findings, window_ms=5 * MIN, cap=4, stats=stats)
    assert len(kept) == 1
    head = kept[0]
    assert head.uid == findings[0].uid and head.count == 10
    assert [e.record_id for e in head.evidences] == [1, 2, 3, 10]  # first ones and the latest
    assert last_seen(head) == T0 + 10 * MIN
    assert head.explanation["triage"]["dedup"] == {"merged": 9, "evidences_dropped": 6}
    assert stats.deduplicated == 9 and stats.evidences_dropped == 6


def test_dedup_needs_same_analytic_same_entities_and_the_window():
    findings = [
        _f(1, T0),
        _f(2, T0 + MIN, analytic="r2"),
        _f(3, T0 + 2 * MIN, entities=(("host", "ws1"),)),
        _f(4, T0 + 3 * MIN),
        _f(5, T0 + 60 * MIN),  # gap larger than the window after the last repeat
    ]
    kept = deduplicate(findings, window_ms=10 * MIN, cap=100)
    assert [f.evidences[0].record_id for f in kept] == [1, 2, 3, 5]
    assert kept[0].count == 2


def test_suppression_window_keeps_the_first_and_counts_the_rest():
    window = SuppressWindow(analytic="noisy*", window_ms=30 * MIN, by=("host",))
    findings = [
        _f(1, T0, "noisy-a", (("host", "ws1"), ("user", "a"))),
        _f(2, T0 + 5 * MIN, "noisy-a", (("host", "ws1"), ("user", "b"))),
        _f(3, T0 + 6 * MIN, "noisy-a", (("host", "ws2"),)),
        _f(4, T0 + 40 * MIN, "noisy-a", (("host", "ws1"),)),  # a new window
        _f(5, T0 + 7 * MIN, "quiet", (("host", "ws1"),)),
    ]
    stats = NoiseStats()
    kept = suppress_windows(findings, [window], stats)
    assert [f.evidences[0].record_id for f in kept] == [1, 3, 5, 4]
    assert kept[0].count == 2 and kept[0].explanation["triage"]["suppressed_repeats"] == 1
    assert stats.window_suppressed == 1


def test_allowlist_and_exception_rules_match_as_documented():
    f = _f(1, T0, "rule-x", (("host", "backup01"), ("ip", "10.8.1.2"), ("domain", "a.b.example")))
    assert SuppressionRule.build({"ip": "10.8.0.0/16"}).matches("x", "x", f.entities)
    assert SuppressionRule.build({"domain": "*.b.example"}).matches("x", "x", f.entities)
    assert SuppressionRule.build({"host": "BACKUP01.corp.example"}).matches("x", "x", f.entities)
    assert SuppressionRule.build({"any": "10.8.1.2"}).matches("x", "x", f.entities)
    exc = SuppressionRule.build({"host": "backup01"}, analytic="rule-*")
    assert exc.matches("rule-x", "", f.entities) and not exc.matches("other", "", f.entities)
    both = SuppressionRule.build({"host": "backup01", "user": "bob"})
    assert not both.matches("x", "x", f.entities)  # every condition must hold
    for bad in ({"colour": "red"}, {"ip": "10.0.0.0/99"}, {"host": " "}):
        try:
            SuppressionRule.build(bad)
        except RuleError:
            continue
        raise AssertionError(f"{bad} accepted")


def test_rules_mark_findings_suppressed_but_never_an_analyst_true_positive():
    keep = _f(1, T0, entities=(("host", "ws9"),))
    confirmed = _f(2, T0, entities=(("host", "ws9"),))
    set_disposition(confirmed, "tp")
    other = _f(3, T0, entities=(("host", "ws1"),))
    rule = SuppressionRule.build({"host": "ws9"}, reason="lab machine")
    assert apply_rules([keep, confirmed, other], [rule]) == 1
    assert is_suppressed(keep) and "lab machine" in keep.explanation["triage"]["reason"]
    assert not is_suppressed(confirmed) and not is_suppressed(other)
