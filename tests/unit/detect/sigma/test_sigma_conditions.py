"""Condition forms: and/or/not, parentheses, 1 of / all of (patterns, them), keywords."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from garrison.detect.sigma import detector_from_yaml

SYSMON = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}

DETECTIONS = """
selection_img:
    Image|endswith: '\\\\cmd.exe'
selection_cli:
    CommandLine|contains: '/c whoami'
filter_parent:
    ParentImage|endswith: '\\\\explorer.exe'
"""

A = {"Image": "C:\\Windows\\cmd.exe"}
B = {"CommandLine": "cmd /c whoami"}
F = {"ParentImage": "C:\\Windows\\explorer.exe"}


def run(
    condition: str,
    fields: dict[str, Any],
    detections: str = DETECTIONS,
    logsource: str = "product: windows",
) -> bool:
    text = (
        "title: Conditions\nid: 22222222-2222-3333-4444-555555555555\nlevel: low\n"
        f"logsource:\n    {logsource}\ndetection:\n"
        + textwrap.indent(textwrap.dedent(detections).strip("\n"), "    ")
        + f"\n    condition: {condition}\n"
    )
    det = detector_from_yaml(text)
    assert not det.ruleset.errors, det.ruleset.errors
    found, _ = det.engine.match({**SYSMON, **fields}, "evtx", 0)
    return bool(found)


@pytest.mark.parametrize(
    ("condition", "fields", "expected"),
    [
        ("selection_img and selection_cli", {**A, **B}, True),
        ("selection_img and selection_cli", A, False),
        ("selection_img or selection_cli", B, True),
        ("selection_img and not filter_parent", A, True),
        ("selection_img and not filter_parent", {**A, **F}, False),
        ("not selection_img", B, True),
        ("(selection_img or selection_cli) and not filter_parent", {**B, **F}, False),
        ("selection_img or (selection_cli and not filter_parent)", {**B, **F}, False),
        ("selection_img or selection_cli and filter_parent", A, True),  # and binds tighter
        ("1 of selection_*", B, True),
        ("all of selection_*", B, False),
        ("all of selection_*", {**A, **B}, True),
        ("1 of selection_* and not 1 of filter_*", {**A, **F}, False),
        ("all of them", {**A, **B, **F}, True),
        ("all of them", {**A, **B}, False),
        ("1 of them", F, True),
        ("any of selection*", A, True),
        ("not 1 of filter*", {}, True),
    ],
)
def test_condition(condition: str, fields: dict[str, Any], expected: bool) -> None:
    assert run(condition, fields) is expected


def test_list_of_maps_is_or() -> None:
    detections = """
    selection:
        - Image|endswith: '\\\\a.exe'
          CommandLine|contains: 'x'
        - Image|endswith: '\\\\b.exe'
    """
    assert run("selection", {"Image": "c:\\a.exe", "CommandLine": "-x"}, detections)
    assert not run("selection", {"Image": "c:\\a.exe", "CommandLine": "-y"}, detections)
    assert run("selection", {"Image": "c:\\b.exe"}, detections)


def test_map_is_and() -> None:
    detections = """
    selection:
        Image|endswith: '\\\\a.exe'
        CommandLine|contains: 'x'
    """
    assert not run("selection", {"Image": "c:\\a.exe"}, detections)


def test_several_conditions_are_or() -> None:
    text = (
        "title: Two conditions\nlogsource:\n    product: windows\ndetection:\n"
        "    a:\n        Image: x\n    b:\n        Image: y\n    condition:\n"
        "        - a\n        - b\n"
    )
    det = detector_from_yaml(text)
    assert bool(det.engine.match({**SYSMON, "Image": "Y"})[0])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Data": "Token::Elevate mimikatz"}, True),
        ({"ScriptBlockText": "x"}, False),
        ({"Message": "SEKURLSA::LogonPasswords done"}, True),
        ({"Count": 12345}, False),
    ],
)
def test_keywords_match_any_field_value(fields: dict[str, Any], expected: bool) -> None:
    detections = """
    keywords:
        - 'token::elevate'
        - 'sekurlsa::'
    """
    assert run("keywords", fields, detections) is expected


def test_keywords_with_wildcards_and_and_link() -> None:
    detections = """
    keywords:
        '|all':
            - 'invoke-*shellcode'
            - 'http'
    """
    assert run("keywords", {"ScriptBlockText": "Invoke-SHELLCODE from http://x"}, detections)
    assert not run("keywords", {"ScriptBlockText": "Invoke-SHELLCODE"}, detections)


def test_keyword_never_spans_two_fields() -> None:
    detections = "keywords:\n    - 'alpha beta'\n"
    assert not run("keywords", {"A": "x alpha", "B": "beta y"}, detections)
    assert run("keywords", {"A": "x alpha beta"}, detections)


def test_keywords_and_selection() -> None:
    detections = """
    keywords:
        - 'mimikatz'
    filter:
        Image|endswith: '\\\\defender.exe'
    """
    assert run("keywords and not filter", {"CommandLine": "run mimikatz"}, detections)
    assert not run(
        "keywords and not filter",
        {"CommandLine": "mimikatz", "Image": "c:\\defender.exe"},
        detections,
    )
