"""The scrub a data-subject deletion applies to records it keeps (the response ledger): the
Matcher's whole-word semantics, no more - a longer identifier that merely contains the
person (``malice``, ``alice.smith``, ``adm-alice``) is another person's and is never
touched - and no value ever reaches the counts that go to the audit log."""

from __future__ import annotations

import re
import sys

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from garrison.correlate.subject_records import (
    ERASED,
    replacement_for,
    safe_counts,
    scrub_leaves,
    scrub_text,
)
from garrison.govern.privacy import Matcher, personal
from garrison.intake_records import ASCII_ALIKE, quick_test
from garrison.respond.ledger import Ledger, Run, StepRow
from garrison.respond.subject_records import LedgerRecords
from garrison.store.state import StateDB

#: A login or an address: ``alice``, ``a.smith``, ``bob@corp``.
subjects = st.from_regex(r"[a-z][a-z0-9]{0,7}([.@][a-z]{1,6})?", fullmatch=True).filter(personal)
word = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=6)
joins = st.sampled_from([".", "@", "-"])
spaces = st.sampled_from([" ", "\t", ", ", "; ", " (", ") ", "\\", "/", "=", '"'])


@st.composite
def longer_words(draw: st.DrawFn, subject: str) -> str:
    """The subject inside a longer identifier: glued to word characters, or joined to a
    word by ``.``, ``@`` or ``-``."""
    kind = draw(st.sampled_from(["prefix", "suffix", "both", "join-before", "join-after"]))
    left, right = draw(word), draw(word)
    return {
        "prefix": left + subject,
        "suffix": subject + right,
        "both": left + subject + right,
        "join-before": left + draw(joins) + subject,
        "join-after": subject + draw(joins) + right,
    }[kind]


@st.composite
def texts_without(draw: st.DrawFn) -> tuple[str, str]:
    """A subject and a text where it only ever appears inside longer identifiers."""
    subject = draw(subjects)
    parts = draw(
        st.lists(st.one_of(longer_words(subject), word.filter(lambda w: w != subject)), max_size=8)
    )
    seps = draw(st.lists(spaces, min_size=len(parts), max_size=len(parts)))
    text = "".join(p + s for p, s in zip(parts, seps, strict=True))
    return subject, text


@settings(max_examples=150, deadline=None)
@given(texts_without())
def test_a_longer_identifier_holding_the_subject_is_never_touched(case: tuple[str, str]) -> None:
    subject, text = case
    matcher = Matcher([subject])
    assume(not matcher.search(text))  # a neighbour never forms it alone; checked, not hoped
    assert scrub_text(text, matcher, ERASED) == text
    doc = {"params": {"user": text, "to": [text, 7]}, "n": 3, "flag": True}
    assert scrub_leaves(doc, matcher, ERASED) == doc


@settings(max_examples=150, deadline=None)
@given(subjects, st.lists(st.one_of(word, subjects), max_size=6), spaces)
def test_a_standalone_subject_is_always_scrubbed(subject: str, others: list[str], sep: str) -> None:
    matcher = Matcher([subject])
    text = sep.join([*others, subject.upper(), *others, subject])
    scrubbed = scrub_text(text, matcher, replacement_for(matcher))
    assert not matcher.search(scrubbed)
    assert scrubbed.count(replacement_for(matcher)) >= 2


def test_the_replacement_never_names_the_subject() -> None:
    assert replacement_for(Matcher(["alice"])) == ERASED
    named = Matcher(["erased"])
    assert not named.search(replacement_for(named))
    assert not named.search(scrub_text("user erased logged on", named, replacement_for(named)))


def test_numbers_and_keys() -> None:
    matcher = Matcher(["4711"])
    doc = {"4711": 4711, "other": 47110, "list": [4711, "id 4711"]}
    assert scrub_leaves(doc, matcher, ERASED) == {
        "4711": ERASED,
        "other": 47110,
        "list": [ERASED, f"id {ERASED}"],
    }


def test_counts_for_the_audit_carry_no_value() -> None:
    matcher = Matcher(["alice"])
    counts = {
        "found": 3,
        "applied": True,
        "kept_why": {"in progress": 1, "alice's run": 2, "x" * 100: 1, "bad": "alice"},
        "alice": 1,
        "note": "alice",
        "list": ["alice"],
    }
    assert safe_counts(counts, matcher) == {
        "found": 3,
        "applied": True,
        "kept_why": {"in progress": 1},
    }


@settings(max_examples=40, deadline=None)
@given(texts_without(), subjects)
def test_the_ledger_scrub_leaves_longer_identifiers_alone(
    case: tuple[str, str], other: str
) -> None:
    """A finished run whose rows hold the subject only inside longer identifiers is found
    by nothing and changed by nothing; one holding it alone is scrubbed to ``[erased]``."""
    subject, text = case
    matcher = Matcher([subject])
    assume(not matcher.search(text) and not matcher.search(other))
    state = StateDB.memory()
    ledger = Ledger(state)
    run = Run("run-1", "pb", "d", "steps: []", "finding", "f-1", {"title": text}, "live", "done")
    ledger.start_run(run, 1)
    params = {"user": text, "to": [text, f"{other} {subject}"]}
    ledger.put_step(
        StepRow(
            "run-1",
            "s",
            "notify.email",
            "read-only",
            "gk-1",
            params,
            "succeeded",
            text,
            1,
            "",
            None,
        ),
        1,
    )
    records = LedgerRecords(state)
    counts = records.forget(matcher, ERASED, apply=True)
    assert counts["found"] == counts["scrubbed"] == 1  # the step, for its second address
    assert ledger.run("run-1") == run
    step = ledger.step_by_key("gk-1")
    assert step is not None and step.reason == text
    assert step.params == {"user": text, "to": [text, f"{other} {ERASED}"]}
    assert records.find(matcher) == []


def test_the_quick_test_knows_every_non_ascii_character_taken_for_ascii() -> None:
    """``ASCII_ALIKE`` is what this Python's ``re`` takes for an ASCII character under
    IGNORECASE: recomputed over every code point, so a new Unicode table cannot make the
    spool's quick test skip a line the matcher would find."""
    ascii_class = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    alike = {
        c: "".join(a for a in map(chr, range(128)) if re.fullmatch(re.escape(a), c, re.I)).lower()
        for c in map(chr, range(0x80, sys.maxunicode + 1))
        if ascii_class.fullmatch(c)
    }
    assert {c: set(v) for c, v in alike.items()} == {c: {v} for c, v in ASCII_ALIKE.items()}


mixed_case = st.text(
    st.sampled_from([*"aliceALICEbobpn:0123 ._-@\\/", *ASCII_ALIKE, "\u00e9", "\u00df"]),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(mixed_case, st.sampled_from(["alice", "bob", "ali.ce", "corp\\alice", "s", "k", "ii"]))
def test_the_quick_test_holds_wherever_the_matcher_finds(text: str, subject: str) -> None:
    matcher = Matcher([subject])
    if matcher.search(text):
        assert quick_test(matcher)(text)
