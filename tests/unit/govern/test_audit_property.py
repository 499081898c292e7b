"""Property: after any sequence of appends, any one tampering is detected at the right seq."""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.govern.audit import MemoryAuditLog
from garrison.govern.audit.chain import SEQUENCE_GAP, TRUNCATED, UNKNOWN_KEY

text = st.text(max_size=20)
details = st.dictionaries(
    st.text(max_size=8),
    st.one_of(st.none(), st.booleans(), st.integers(), text, st.lists(text, max_size=3)),
    max_size=4,
)
appends = st.lists(st.tuples(text, text, text, details), min_size=1, max_size=12)
TEXT_FIELDS = ("actor", "action", "target", "outcome", "details", "key_id", "prev_mac", "mac")


def _build(rows):
    log = MemoryAuditLog()
    for action, target, actor, info in rows:
        log.append(action, target, details=info, actor=actor)
    return log


@settings(max_examples=150, deadline=None)
@given(appends)
def test_untouched_chains_verify(rows):
    log = _build(rows)
    verdict = log.verify()
    assert verdict.ok and verdict.entries == len(rows)


@settings(max_examples=300, deadline=None)
@given(appends, st.data())
def test_any_single_tamper_is_detected(rows, data):
    log = _build(rows)
    n = len(log.rows)
    kind = data.draw(st.sampled_from(["edit", "time", "seq", "delete", "swap", "cut", "key"]))
    expected_kind = None
    if kind in ("edit", "time", "seq"):
        i = data.draw(st.integers(0, n - 1))
        old = log.rows[i]
        if kind == "edit":
            field = data.draw(st.sampled_from(TEXT_FIELDS))
            new = replace(old, **{field: getattr(old, field) + data.draw(st.text(min_size=1))})
        elif kind == "time":
            new = replace(old, time=old.time + data.draw(st.integers(1, 10**9)))
        else:
            new = replace(old, seq=data.draw(st.integers(-5, 100).filter(lambda s: s != old.seq)))
            expected_kind = SEQUENCE_GAP
        log.rows[i] = new
        expected = i + 1
    elif kind == "delete":
        i = data.draw(st.integers(0, n - 1))
        del log.rows[i]
        expected = i + 1
        expected_kind = TRUNCATED if i == n - 1 else SEQUENCE_GAP
    elif kind == "swap":
        if n < 2:
            return
        i = data.draw(st.integers(0, n - 2))
        j = data.draw(st.integers(i + 1, n - 1))
        log.rows[i], log.rows[j] = log.rows[j], log.rows[i]
        expected, expected_kind = i + 1, SEQUENCE_GAP
    elif kind == "cut":
        k = data.draw(st.integers(1, n))
        del log.rows[n - k :]
        expected, expected_kind = n - k + 1, TRUNCATED
    else:
        log.key = bytes(b ^ 1 for b in log.key)
        expected, expected_kind = 1, UNKNOWN_KEY
    verdict = log.verify()
    assert not verdict.ok
    assert verdict.seq == expected, verdict
    if expected_kind is not None:
        assert verdict.kind == expected_kind, verdict
