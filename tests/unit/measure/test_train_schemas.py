"""Schema and range validation of training sets (pandera): valid sets pass, invalid rows
are counted and named with examples, and hostile input never crashes the check."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.measure.train_schemas import SchemaLimits, validate


def _dga(domains: list[str], labels: list[object] | None = None) -> pd.DataFrame:
    labels = labels if labels is not None else [i % 2 for i in range(len(domains))]
    groups = ["benign" if lab == 0 else "fam" for lab in labels]
    return pd.DataFrame({"domain": domains, "group": groups, "label": labels})


def test_a_valid_dga_set_passes():
    failed, notes = validate("dga", _dga(["google.com", "xkqjzv.net"] * 50))
    assert failed == [] and notes == []


def test_invalid_rows_over_the_limit_fail_with_counts_and_examples():
    domains = ["google.com"] * 90 + ["bad name!.com"] * 6 + ["x" * 300] * 4
    failed, _ = validate("dga", _dga(domains))
    (line,) = failed
    assert "10 of 100 records (10.00%) fail the schema" in line
    assert "str_matches" in line and "'bad name!.com'" in line
    assert "str_length" in line


def test_a_few_invalid_rows_are_a_note_not_a_failure():
    failed, notes = validate("dga", _dga(["google.com"] * 999 + ["bad name"]))
    assert failed == []
    assert notes and "1 of 1000 records" in notes[0]


def test_labels_outside_0_1_and_one_class_sets_fail():
    failed, _ = validate("dga", _dga(["a.com"] * 10, [0, 1, 2, 0, 1, 0, 1, 0, 1, 7]))
    assert any("isin" in f for f in failed)
    failed, _ = validate("url", pd.DataFrame({"url": ["http://a.com/x"] * 20, "label": [1] * 20}))
    assert any("benign records are 0.0%" in f for f in failed)


def test_email_ids_must_be_unique_within_their_group_and_texts_present():
    """Ids restart in each group (a corpus folder numbers its messages from 00001), so
    only the same id twice in one group is a duplicate."""
    rows = pd.DataFrame(
        {
            "id": ["1", "1", "2", "1"],
            "group": ["ham", "ham", "ham", "spam"],
            "label": [0, 1, 0, 1],
            "text": ["hello", "buy", None, "x"],
        }
    )
    (line,) = validate("email", rows, SchemaLimits(max_invalid=0.0))[0]
    assert "id" in line and "text" in line


def test_an_empty_set_fails():
    assert validate("url", pd.DataFrame({"url": [], "label": []}))[0]


TEXT = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(TEXT, st.one_of(st.integers(-3, 3), st.none(), TEXT, st.floats())),
        max_size=40,
    ),
    model=st.sampled_from(["dga", "url", "email"]),
)
def test_hostile_rows_give_lines_never_exceptions(rows, model):
    """Any text (control characters, surrogates' neighbours, huge or empty strings) and any
    label value: the check answers with lines; a bad row is never waved through."""
    if model == "dga":
        frame = pd.DataFrame(
            {
                "domain": [r[0] for r in rows],
                "group": [r[0][:5] for r in rows],
                "label": [r[1] for r in rows],
            }
        )
    elif model == "url":
        frame = pd.DataFrame({"url": [r[0] for r in rows], "label": [r[1] for r in rows]})
    else:
        frame = pd.DataFrame(
            {
                "id": [str(i) for i in range(len(rows))],
                "group": [r[0][:5] for r in rows],
                "label": [r[1] for r in rows],
                "text": [r[0] for r in rows],
            }
        )
    failed, notes = validate(model, frame, SchemaLimits(max_invalid=0.0))
    assert all(isinstance(line, str) and "\n" not in line for line in failed + notes)
    labels_ok = all(
        isinstance(r[1], int | float) and not isinstance(r[1], bool) and r[1] in (0, 1)
        for r in rows
    )
    if not labels_ok:
        assert failed, "a label outside 0/1 must fail"
