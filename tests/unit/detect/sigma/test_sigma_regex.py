"""Sigma regexes and wildcards on RE2: linear time, Python's ``re`` semantics, refusals named."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from garrison.detect.sigma.convert import ConversionError
from garrison.detect.sigma.detector import detector_from_yaml
from garrison.detect.sigma.modifiers import any_of, classify
from garrison.detect.sigma.regex import compile_regex

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # "possible nested set"

EVIL = "a" * 40 + "b"
SYSMON = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}


def ev(**fields: str) -> dict[str, object]:
    return {**SYSMON, **fields}


def _rule(value: str, modifier: str = "re") -> str:
    return f"""
title: T
id: 11111111-1111-1111-1111-111111111111
logsource: {{product: windows}}
detection:
  sel:
    CommandLine|{modifier}: '{value}'
  condition: sel
level: high
"""


def test_catastrophic_regex_runs_in_linear_time() -> None:
    det = detector_from_yaml(_rule("(a+)+$"))
    assert det.ruleset.errors == {}
    started = time.perf_counter()
    assert det.engine.match(ev(CommandLine=EVIL * 1000), "evtx")[0] == []
    assert [m.rule for m in det.engine.match(ev(CommandLine="xaaaa"), "evtx")[0]] == [0]
    assert time.perf_counter() - started < 1.0


def test_wildcards_with_many_stars_run_in_linear_time() -> None:
    det = detector_from_yaml(_rule("*a*a*a*a*a*a*a*a*b", modifier="contains"))
    started = time.perf_counter()
    assert det.engine.match(ev(CommandLine="a" * 20_000), "evtx")[0] == []
    assert time.perf_counter() - started < 1.0
    assert len(det.engine.match(ev(CommandLine="a" * 8 + "b"), "evtx")[0]) == 1


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(a)\1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "backreferences"),
        (r"foo(?=bar)", "lookahead"),
        (r"(?<!x)foo", "lookbehind"),
        (r"(?>a+)b", "atomic groups"),
        (r"a++b", "possessive"),
        (r"(a)?(?(1)b|c)", "conditional"),
        (r"(?x) a b", "flags"),
        (r"a$|b\Z", r"\\Z"),
        (r"((a{100}){100}){100}", "pattern too large"),
    ],
)
def test_constructs_re2_cannot_run_fail_the_rule_with_the_reason(
    pattern: str, construct: str
) -> None:
    det = detector_from_yaml(_rule(pattern.replace("'", "''")))
    assert det.ruleset.rules == []
    ((label, reason),) = det.ruleset.errors.items()
    assert label == "rule1.yml (T)"
    assert re.search(construct, reason), reason
    assert det.stats()["rules_failed"] == 1


def test_invalid_python_regex_keeps_its_python_message() -> None:
    with pytest.raises(ConversionError, match="unterminated character set"):
        compile_regex("[abc")


# ---------------------------------------------------------------- differential vs Python re

_ATOMS = [
    "a",
    "b",
    "A",
    "é",
    "É",
    "k",
    "s",
    "1",
    "٣",
    " ",
    "-",
    r"\n",
    r"\.",
    r"\ ",
    ".",
    r"\d",
    r"\D",
    r"\w",
    r"\W",
    r"\s",
    r"\S",
    "[a-c]",
    "[^ab]",
    r"[\d\s-]",
    r"[\w.]",
    "[]a]",
    r"[\b]",
    "[[:a]",
    r"\x41",
    r"\u00e9",
    r"\N{DIGIT ONE}",
    r"\0",
    r"\101",
    "^",
    "$",
    r"\A",
    r"\Z",
    "{",
    "a{,2}",
    "b{,}",
    "{}",
]
_QUANTS = ["", "", "*", "+", "?", "{1,2}", "*?", "{2}"]


@st.composite
def _patterns(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.integers(0, 5)) == 0:
            inner = draw(_patterns(depth + 1))
            alt = draw(_patterns(depth + 1)) if draw(st.booleans()) else None
            opener = draw(st.sampled_from(["(", "(?:", "(?i:", "(?-i:", "(?s:"]))
            atom = opener + inner + (f"|{alt}" if alt else "") + ")"
        else:
            atom = draw(st.sampled_from(_ATOMS))
        quant = draw(st.sampled_from(_QUANTS))
        if atom in ("^", "$", r"\A", r"\Z", "{") or atom.endswith("}"):
            quant = ""
        parts.append(atom + quant)
    return "".join(parts)


_TEXT = st.text(alphabet="abAkK\u212as\u017fé É1\u0663 \n\t\xa0\x1c-.[]:{}", max_size=12)


@settings(max_examples=1500, deadline=None)
@given(pattern=_patterns(), flags=st.sampled_from(["", "i", "m", "s", "im", "ims"]), text=_TEXT)
@example(pattern="a$", flags="", text="a\n")
@example(pattern="^$", flags="m", text="a\n")
@example(pattern=r"\s", flags="", text="\x1c")
@example(pattern=r"\d", flags="", text="٣")
@example(pattern=r"k", flags="i", text="K")
@example(pattern="[[:a]", flags="", text=":")
def test_re2_agrees_with_python_re(pattern: str, flags: str, text: str) -> None:
    value = 0
    for ch in flags:
        value |= {"i": re.I, "m": re.M, "s": re.S}[ch]
    try:
        expected = re.compile(pattern, value).search(text) is not None
    except re.error:
        return
    try:
        pred = compile_regex(pattern, flags)
    except ConversionError as exc:  # only the documented refusal may happen here
        assert "together with" in str(exc), (pattern, str(exc))
        return
    assert pred(text) is expected, (pattern, flags, text)


def test_word_boundary_agrees_on_ascii_text() -> None:
    for text in ["foo bar", "foobar", "x-foo", "foo_", ""]:
        assert compile_regex(r"\bfoo\b")(text) is (re.search(r"\bfoo\b", text) is not None)


@settings(max_examples=500, deadline=None)
@given(
    parts=st.lists(
        st.one_of(st.just(0), st.just(1), st.text(alphabet="ab.*\\ \n()[]é", min_size=1)),
        min_size=1,
        max_size=6,
    ),
    text=st.text(alphabet="ab.*\\ \n()[]é", max_size=14),
)
def test_wildcards_agree_with_a_python_glob(parts: list[object], text: str) -> None:
    pat = classify(parts, cased=True)
    source = "".join(".*" if p == 0 else "." if p == 1 else re.escape(str(p)) for p in parts)
    expected = re.fullmatch(source, text, re.S) is not None
    assert any_of([pat])(text) is expected, (parts, text)
