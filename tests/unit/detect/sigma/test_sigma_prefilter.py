"""The candidate prefilter never hides a match: engine results == a naive oracle."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.detect.sigma import detector_from_yaml
from garrison.detect.sigma.prefilter import regex_literals

ALPHABET = "abcAB.-_ "
FIELDS = ("F1", "F2", "F3")
MODS = ("", "contains", "startswith", "endswith", "contains|all", "re")

text = st.text(ALPHABET, min_size=0, max_size=8)
pattern = st.text(ALPHABET + "*?", min_size=1, max_size=6)
regex = st.sampled_from(["ab+c", "^a", "b$", "a.c", "(abc|bca)", "A[Bb]", "c{2}", "-_"])


@st.composite
def items(draw: Any) -> tuple[str, str, list[str]]:
    field = draw(st.sampled_from(FIELDS))
    mod = draw(st.sampled_from(MODS))
    values = draw(st.lists(regex if mod == "re" else pattern, min_size=1, max_size=3))
    return field, mod, values


def _yaml_value(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def rule_yaml(
    sel: list[tuple[str, str, list[str]]], flt: list[tuple[str, str, list[str]]], condition: str
) -> str:
    def block(name: str, its: list[tuple[str, str, list[str]]]) -> str:
        out = f"    {name}:\n"
        seen = set()
        for field, mod, values in its:
            key = f"{field}|{mod}" if mod else field
            if key in seen:
                continue
            seen.add(key)
            out += f"        {key}:\n" + "".join(
                f"            - {_yaml_value(v)}\n" for v in values
            )
        return out

    return (
        "title: Generated\nlogsource:\n    product: windows\ndetection:\n"
        + block("sel", sel)
        + block("flt", flt)
        + f"    condition: {condition}\n"
    )


def _glob_ok(value: str, pat: str, mod: str) -> bool:
    if mod.startswith("contains"):
        pat = f"*{pat}*"
    elif mod == "startswith":
        pat = f"{pat}*"
    elif mod == "endswith":
        pat = f"*{pat}"
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pat.lower())
    return re.fullmatch(rx, value.lower(), re.S) is not None


def oracle_item(fields: dict[str, str], field: str, mod: str, values: list[str]) -> bool:
    if field not in fields:
        return False
    value = fields[field]
    if mod == "re":
        return any(re.search(v, value) for v in values)
    if mod == "contains|all":
        return all(_glob_ok(value, v, "contains") for v in values)
    return any(_glob_ok(value, v, mod) for v in values)


def oracle_block(fields: dict[str, str], its: list[tuple[str, str, list[str]]]) -> bool:
    seen = set()
    ok = True
    for field, mod, values in its:
        key = (field, mod)
        if key in seen:
            continue
        seen.add(key)
        ok = ok and oracle_item(fields, field, mod, values)
    return ok


CONDITIONS = {
    "sel": lambda s, f: s,
    "sel and not flt": lambda s, f: s and not f,
    "sel or flt": lambda s, f: s or f,
    "1 of them": lambda s, f: s or f,
    "all of them": lambda s, f: s and f,
}


@settings(max_examples=300, deadline=None)
@given(
    sel=st.lists(items(), min_size=1, max_size=3),
    flt=st.lists(items(), min_size=1, max_size=2),
    condition=st.sampled_from(sorted(CONDITIONS)),
    values=st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, text)),
    native=st.booleans(),
)
def test_engine_agrees_with_oracle(
    sel: list[Any], flt: list[Any], condition: str, values: dict[str, str], native: bool
) -> None:
    det = detector_from_yaml(rule_yaml(sel, flt, condition), options={"native": native})
    assert not det.ruleset.errors, det.ruleset.errors
    fields = {"Channel": "Test/Operational", "EventID": 1, **values}
    got = bool(det.engine.match(fields, "evtx", 0)[0])
    want = CONDITIONS[condition](oracle_block(values, sel), oracle_block(values, flt))
    assert got == want


hostile_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


HOSTILE_RULES = [
    rule_yaml(
        [("Image", "endswith", ["abc"]), ("CommandLine", "contains", ["a b"])],
        [("F1", "re", ["ab+c"])],
        "sel and not flt",
    ),
    "title: k\nlogsource: {product: windows}\ndetection:\n"
    "    k: ['needle', 'x*y']\n    c:\n        DestinationIp|cidr: '10.0.0.0/8'\n"
    "    condition: k or c\n",
]
HOSTILE_DETECTOR = detector_from_yaml(*HOSTILE_RULES)


@settings(max_examples=200, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["Channel", "EventID", "Provider_Name", "Image", "CommandLine", "F1", "DestinationIp"]
        ),
        hostile_value,
        max_size=7,
    )
)
def test_hostile_field_values_never_raise(fields: dict[str, Any]) -> None:
    HOSTILE_DETECTOR.engine.match(fields, "evtx", 0)


def test_regex_literals() -> None:
    assert regex_literals("foo[0-9]+bar") == {"foo"} or regex_literals("foo[0-9]+bar") == {"bar"}
    assert regex_literals("(alpha|beta)gam") in ({"alpha", "beta"}, {"gam"})
    assert regex_literals("(ab|cde)") is None  # "ab" is too short to be an atom
    assert regex_literals("a|b") is None
    assert regex_literals("\\bInvoke-Expression\\b", "i") == {"invoke-expression"}
    assert regex_literals("x*") is None
