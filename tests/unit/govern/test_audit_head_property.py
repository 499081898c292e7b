"""Property: an exported head catches any re-MAC'd edit of an entry it covers (the key the
attacker used is the log's own), and never objects to entries appended after it."""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.govern.audit import Head, MemoryAuditLog
from garrison.govern.audit.entry import compute_mac
from garrison.govern.audit.head import HEAD_MISMATCH, parse_head

text = st.text(max_size=12)
rows = st.lists(st.tuples(text, text, text), min_size=1, max_size=10)
FIELDS = ("actor", "action", "target", "outcome", "details")


def _remac(log: MemoryAuditLog, index: int, field: str, extra: str) -> None:
    assert log.key is not None
    prev = log.rows[0].prev_mac
    for i, entry in enumerate(log.rows):
        if i == index:
            entry = replace(entry, **{field: getattr(entry, field) + extra})
        entry = replace(entry, prev_mac=prev)
        entry = replace(entry, mac=compute_mac(log.key, prev, entry))
        log.rows[i], prev = entry, entry.mac
    log.head = Head(log.rows[-1].seq, prev)


@settings(max_examples=200, deadline=None)
@given(rows, rows, st.data())
def test_exported_head_pins_what_it_covers(before, after, data):
    log = MemoryAuditLog()
    for action, target, actor in before:
        log.append(action, target, actor=actor)
    verdict, exported = log.export_head()
    assert verdict.ok
    exported = parse_head(exported.text())  # the round trip through the exported text
    for action, target, actor in after:
        log.append(action, target, actor=actor)
    assert log.verify(exported).ok
    index = data.draw(st.integers(0, len(log.rows) - 1))
    field = data.draw(st.sampled_from(FIELDS))
    _remac(log, index, field, data.draw(st.text(min_size=1, max_size=5)))
    assert log.verify().ok  # the home's key alone cannot tell
    checked = log.verify(exported)
    if index < len(before):
        assert not checked.ok and checked.kind == HEAD_MISMATCH
        assert checked.seq == exported.seq
    else:
        assert checked.ok
